//! `ExecSetCloudManaged` (CIPP-API `Invoke-ExecSetCloudManaged.ps1` → `Set-CIPPCloudManaged.ps1`):
//! switches the source of authority of a user, group or contact between on-premises AD and the
//! cloud.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetCloudManaged;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// `true` makes the object cloud-managed, `false` (the default) hands it back to
    /// on-premises AD.
    #[serde(rename = "isCloudManaged", default)]
    pub is_cloud_managed: bool,
    /// The object's id (a user may also be named by its user principal name).
    #[serde(rename = "ID")]
    pub id: UserId,
    /// The kind of object.
    #[serde(rename = "type")]
    pub kind: ExecSetCloudManagedKind,
    /// The object's display name, only to name it in the answer.
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
}

/// The object kinds CIPP's ValidateSet allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    User,
    Group,
    Contact,
}

impl ObjectKind {
    const ALL: [Self; 3] = [Self::User, Self::Group, Self::Contact];

    fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
            Self::Contact => "Contact",
        }
    }

    /// The Graph collection objects of this kind live in.
    pub fn collection(self) -> &'static str {
        match self {
            Self::User => "users",
            Self::Group => "groups",
            Self::Contact => "contacts",
        }
    }
}

/// `User`, `Group` or `Contact` in any case. CIPP's texts show the kind as the caller spelt it,
/// so the spelling is kept beside the kind; the schema is a pattern rather than an `enum`
/// because the parameter layer would rewrite an `enum` value into its listed spelling.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ExecSetCloudManagedKind {
    pub kind: ObjectKind,
    /// As sent.
    pub spelling: String,
}

impl TryFrom<String> for ExecSetCloudManagedKind {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let spelling = value.trim().to_owned();
        ObjectKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(&spelling))
            .map(|kind| Self {
                kind,
                spelling: spelling.clone(),
            })
            .ok_or_else(|| {
                format!(
                    "must be User, Group or Contact, got '{}'",
                    spelling.chars().take(80).collect::<String>()
                )
            })
    }
}

impl PartialSchema for ExecSetCloudManagedKind {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some("`User`, `Group` or `Contact`, in any case."))
            .pattern(Some(
                "^([Uu][Ss][Ee][Rr]|[Gg][Rr][Oo][Uu][Pp]|[Cc][Oo][Nn][Tt][Aa][Cc][Tt])$",
            ))
            .examples(["User"])
            .into()
    }
}

impl ToSchema for ExecSetCloudManagedKind {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ExecSetCloudManagedKind")
    }
}

impl Operation for ExecSetCloudManaged {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecSetCloudManaged";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.DirSync.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetCloudManaged.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A non-boolean `isCloudManaged`, a missing `ID` or one that is neither an object id nor a user principal name, or a `type` other than User, Group or Contact is a 400 naming the field (CIPP: a plain-text 500, or 500 with PowerShell's binding message).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "ID": crate::demo::USER_ID,
            "displayName": "Kenji Robbins",
            "type": "User",
            "isCloudManaged": true,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = set_cloud_managed(
            &ctx.graph,
            &tenant.customer_id,
            &params.id,
            params.display_name.as_deref().unwrap_or_default(),
            &params.kind,
            params.is_cloud_managed,
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// `PATCH beta/{users|groups|contacts}/{id}/onPremisesSyncBehavior` with `{"isCloudManaged"}`,
/// app-only, as CIPP does. The kind is shown as the caller spelt it.
pub async fn set_cloud_managed(
    graph: &GraphClient,
    tenant: &str,
    object: &UserId,
    display_name: &str,
    kind: &ExecSetCloudManagedKind,
    cloud_managed: bool,
) -> Result<String, UserError> {
    let (object_id, shown_kind) = (object.as_str(), kind.spelling.as_str());
    let status = if cloud_managed {
        "cloud-managed"
    } else {
        "on-premises managed"
    };
    graph
        .app_only()
        .patch(
            tenant,
            GraphVersion::Beta,
            &format!(
                "{}/{}/onPremisesSyncBehavior",
                kind.kind.collection(),
                object.segment()
            ),
            &json!({ "isCloudManaged": cloud_managed }),
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to set {shown_kind} {display_name} ({object_id}) source of authority to {status}: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let message = format!(
        "Successfully set {shown_kind} {display_name} ({object_id}) source of authority to {status}"
    );
    tracing::info!(tenant, "{message}");
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_in_any_case_keeps_the_callers_spelling() {
        let kind = ExecSetCloudManagedKind::try_from("group".to_owned()).unwrap();
        assert_eq!(kind.kind, ObjectKind::Group);
        assert_eq!(kind.spelling, "group");
        assert_eq!(kind.kind.collection(), "groups");
    }

    #[test]
    fn a_kind_outside_the_set_says_what_is_allowed() {
        let error = ExecSetCloudManagedKind::try_from("Printer".to_owned()).unwrap_err();
        assert_eq!(error, "must be User, Group or Contact, got 'Printer'");
    }
}
