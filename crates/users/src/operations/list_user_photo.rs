//! `ListUserPhoto` (CIPP-API `Invoke-ListUserPhoto.ps1`): a user's profile photo as bytes with
//! its image content type, for `<img src>` in the user page.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::op::ctx::DENIED_TENANT;
use crate::op::types::UserId;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::read_support::{failed, user_not_found};
use crate::UserError;

pub struct ListUserPhoto;

/// CIPP's text when the user has no photo.
pub const NO_PHOTO: &str = "No photo found for this user";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose photo is read: an object id or a user principal name. The account menu
    /// sends the signed-in caller's `userDetails`, which for an API client is its name.
    #[serde(rename = "UserID")]
    pub user_id: String,
    /// The user's tenant. Without it, as in CIPP, the photo is looked for in the partner's own
    /// tenant (the user page asks that way about 70 times a session).
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
}

impl Operation for ListUserPhoto {
    type Params = Params;
    /// The photo's bytes (the answer is the image itself, not JSON).
    type Answer = Vec<u8>;
    const NAME: &'static str = "ListUserPhoto";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserPhoto.ps1",
        frontend: Some("src/components/CippCards/CippUserInfoCard.jsx"),
    };
    const ANY_TENANT: bool = true;
    const DIFFERENCES: Option<&'static str> = Some(
        "The operation is AnyTenant upstream, and CIPP checks the caller's tenants in the \
         handler; so do we. No photo is a 404 `No photo found for this user` as in CIPP. Unlike \
         CIPP, the photo is read with one GET of `photo/$value` (CIPP wraps that GET in a \
         one-item `$batch`), an unknown user is a 404 with Graph's text, and a failed read is a \
         500 (CIPP: 404). Without `tenantFilter` the partner's own tenant is read, as CIPP's \
         Graph call without a tenant does, and any failure there is CIPP's 404; only callers \
         allowed every tenant read it (others get that 404 without a call), and a `UserID` that \
         is no user id (the account menu sends an API client's name) is that 404 too.",
    );
    const CONTENT_TYPES: &'static [&'static str] =
        &["image/jpeg", "image/png", "image/gif", "image/bmp"];

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UserID": crate::demo::USER_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<u8>>, UserError> {
        let no_photo = || UserError::NotFound {
            message: NO_PHOTO.to_owned(),
        };
        let Some(name) = params.tenant_filter.as_deref() else {
            // CIPP asks Graph whatever it is given and answers a failure without a photo; a
            // name that is no user id (an API client's `userDetails`) is that same answer, not
            // a 400 the account menu would ask again for on every page.
            let Ok(user) = UserId::parse(&params.user_id) else {
                return Err(no_photo());
            };
            if !ctx.caller.sees_every_tenant() {
                return Err(no_photo());
            }
            let partner = ctx.env.tenants.partner_tenant_id().to_owned();
            let photo = user_photo(&ctx.graph, &partner, &user)
                .await
                .map_err(|_| no_photo())?;
            return Ok(Outcome::bytes(photo.content_type, photo.bytes));
        };
        // Upstream skips the dispatcher's tenant check here and checks in the handler.
        let tenant = ctx
            .tenant_named("tenantFilter", name)
            .await
            .map_err(|e| match e {
                UserError::Refused { .. } => UserError::refused(DENIED_TENANT),
                other => other,
            })?;
        let user = UserId::from_field("UserID", &params.user_id)?;
        let photo = user_photo(&ctx.graph, &tenant.customer_id, &user).await?;
        Ok(Outcome::bytes(photo.content_type, photo.bytes))
    }
}

/// The photo's bytes and content type (`image/jpeg` when Graph names none).
pub struct Photo {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// Reads `users/{id}/photo/$value`. No photo is `NotFound` with CIPP's text; an unknown user is
/// `NotFound` with Graph's text.
pub async fn user_photo(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
) -> Result<Photo, UserError> {
    let path = format!("users/{}/photo/$value", user.segment());
    match graph.get_bytes(tenant, GraphVersion::V1, &path, &[]).await {
        Ok((bytes, content_type)) if !bytes.is_empty() => Ok(Photo {
            bytes,
            content_type: content_type
                .filter(|ct| ct.starts_with("image/"))
                .unwrap_or_else(|| "image/jpeg".to_owned()),
        }),
        Ok(_) => Err(UserError::NotFound {
            message: NO_PHOTO.to_owned(),
        }),
        Err(e) if e.graph_code() == Some("ImageNotFound") => Err(UserError::NotFound {
            message: NO_PHOTO.to_owned(),
        }),
        Err(e) if e.status() == Some(404) => Err(user_not_found(&e)),
        Err(e) => Err(failed(
            &format!("Failed to retrieve photo for user {user}: "),
            e,
        )),
    }
}
