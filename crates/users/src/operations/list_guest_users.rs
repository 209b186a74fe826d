//! `ListGuestUsers` (CIPP-API `Invoke-ListGuestUsers.ps1`): a tenant's guests with a lifecycle
//! status (Active, Pending Acceptance, Stale, Never Signed In, Disabled, Unknown) from their
//! invitation state and sign-in activity. The guest users page lists it.

use cipp_graph::GraphVersion;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::GraphRow;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::read_support::failed;

pub struct ListGuestUsers;

const BASE_FIELDS: &str = "id,displayName,mail,userPrincipalName,createdDateTime,accountEnabled,externalUserState,externalUserStateChangeDateTime";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// Days without any sign-in before an enabled guest counts as stale (default 90).
    #[serde(rename = "staleDays")]
    pub stale_days: Option<u32>,
    /// CIPP reads its reporting database instead; this service keeps none.
    #[serde(rename = "UseReportDB", default)]
    pub use_report_db: bool,
    /// CIPP pages only its cached reads; a live read is one answer either way.
    #[serde(rename = "manualPagination", default)]
    pub manual_pagination: bool,
}

/// One row per guest: `id`, `displayName`, `mail`, `userPrincipalName`, `sourceDomain`,
/// `status`, `accountEnabled`, `externalUserState`, `externalUserStateChangeDateTime`,
/// `createdDateTime`, `lastSignInDateTime`, `lastInteractiveSignInDateTime`,
/// `lastNonInteractiveSignInDateTime`, `lastSuccessfulSignInDateTime`, `daysSinceSignIn`,
/// `sponsors`.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(transparent)]
pub struct GuestRows(pub Vec<GraphRow>);

impl Operation for ListGuestUsers {
    type Params = Params;
    type Answer = GuestRows;
    const NAME: &'static str = "ListGuestUsers";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListGuestUsers.ps1",
        frontend: Some("src/pages/identity/administration/guest-users/index.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Always live: `UseReportDB` is a 400 and `AllTenants` a 400 (CIPP serves both from its \
         reporting database). CIPP decides from the tenant's licences whether to ask for \
         `signInActivity`; here it is asked for, and when Graph refuses it (no Entra ID P1) the \
         list is read again without it and statuses past the invitation are `Unknown`, as in \
         CIPP. A failure is `{\"Results\": \"Failed to list guest users: …\"}` with Graph's \
         status (CIPP: 500 `{Error}`).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<GuestRows>, UserError> {
        if params.use_report_db {
            return Err(UserError::invalid(
                "UseReportDB",
                "this service keeps no reporting database; leave UseReportDB out to read guests live",
            ));
        }
        // Upstream pages only cached reads; this read is live, so it is one bare array.
        let _ = params.manual_pagination;
        let tenant = ctx.tenant()?;
        let stale_days = i64::from(params.stale_days.unwrap_or(90));
        let eventual = [("ConsistencyLevel", "eventual")];
        let with_activity = format!(
            "users?$filter=userType eq 'Guest'&$select={BASE_FIELDS},signInActivity&$count=true&$top=500"
        );
        let prefix = "Failed to list guest users: ";
        let (guests, capable) = match ctx
            .graph
            .get_all(&tenant.customer_id, GraphVersion::Beta, &with_activity, &eventual)
            .await
        {
            Ok(rows) => (rows, true),
            // Graph refuses `signInActivity` without Entra ID P1: list without it.
            Err(e) if matches!(e.status(), Some(400 | 403)) => {
                let plain = format!(
                    "users?$filter=userType eq 'Guest'&$select={BASE_FIELDS}&$count=true&$top=999"
                );
                let rows = ctx
                    .graph
                    .get_all(&tenant.customer_id, GraphVersion::Beta, &plain, &eventual)
                    .await
                    .map_err(|e| failed(prefix, e))?;
                (rows, false)
            }
            Err(e) => return Err(failed(prefix, e)),
        };
        let now = OffsetDateTime::now_utc();
        let rows = guests
            .iter()
            .map(|g| guest_row(g, capable, stale_days, now))
            .collect();
        Ok(Outcome::json(GuestRows(rows)))
    }
}

fn parse(v: &Value) -> Option<OffsetDateTime> {
    v.as_str().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}

/// CIPP's row: the latest of the three sign-in times, and the status from it.
fn guest_row(g: &Value, capable: bool, stale_days: i64, now: OffsetDateTime) -> GraphRow {
    let activity = &g["signInActivity"];
    let times = [
        &activity["lastSignInDateTime"],
        &activity["lastNonInteractiveSignInDateTime"],
        &activity["lastSuccessfulSignInDateTime"],
    ];
    let last = times
        .iter()
        .filter_map(|v| parse(v).map(|t| (t, (*v).clone())))
        .max_by_key(|(t, _)| *t);
    let days = last
        .as_ref()
        .map(|(t, _)| ((now - *t).as_seconds_f64() / 86_400.0).round() as i64);
    let status = if g["accountEnabled"] == Value::Bool(false) {
        "Disabled"
    } else if g["externalUserState"] == "PendingAcceptance" {
        "Pending Acceptance"
    } else if !capable {
        "Unknown"
    } else {
        match days {
            None => "Never Signed In",
            Some(d) if d >= stale_days => "Stale",
            Some(_) => "Active",
        }
    };
    let mail = g["mail"].as_str();
    let mut row = Map::new();
    let mut put = |k: &str, v: Value| {
        row.insert(k.to_owned(), v);
    };
    put("id", g["id"].clone());
    put("displayName", g["displayName"].clone());
    put("mail", g["mail"].clone());
    put("userPrincipalName", g["userPrincipalName"].clone());
    put(
        "sourceDomain",
        mail.and_then(|m| m.split('@').nth(1))
            .map_or(Value::Null, |d| json!(d)),
    );
    put("status", json!(status));
    put("accountEnabled", g["accountEnabled"].clone());
    put("externalUserState", g["externalUserState"].clone());
    put(
        "externalUserStateChangeDateTime",
        g["externalUserStateChangeDateTime"].clone(),
    );
    put("createdDateTime", g["createdDateTime"].clone());
    put(
        "lastSignInDateTime",
        last.map_or(Value::Null, |(_, v)| v),
    );
    put("lastInteractiveSignInDateTime", activity["lastSignInDateTime"].clone());
    put(
        "lastNonInteractiveSignInDateTime",
        activity["lastNonInteractiveSignInDateTime"].clone(),
    );
    put(
        "lastSuccessfulSignInDateTime",
        activity["lastSuccessfulSignInDateTime"].clone(),
    );
    put("daysSinceSignIn", days.map_or(Value::Null, |d| json!(d)));
    put("sponsors", Value::Null);
    GraphRow(row)
}
