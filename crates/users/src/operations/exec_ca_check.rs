//! `ExecCACheck` (CIPP-API `Invoke-ExecCACheck.ps1`): a Conditional Access "what if" for one
//! user signing in to an application under given conditions. Evaluation only: nothing signs in
//! and no policy changes. The user page's Conditional Access tab shows `Results.value`.

use cipp_graph::GraphVersion;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::{GraphRow, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::read_support::failed;

pub struct ExecCACheck;

/// Microsoft's "Office 365" application, which CIPP evaluates when none is chosen.
const OFFICE_365_APP: &str = "67ad5377-2d78-4ac2-a867-6300cda00e85";

/// CIPP's text before the failure.
pub const CHECK_FAILED: &str = "Failed to execute check: ";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user signing in (`{label, value}` in the frontend; the value is the object id).
    #[serde(rename = "userID")]
    pub user_id: UserId,
    /// The application signed in to (default: Office 365).
    #[serde(rename = "includeApplications")]
    pub include_applications: Option<String>,
    /// `low`, `medium`, `high` or `none`.
    #[serde(rename = "UserRiskLevel")]
    pub user_risk_level: Option<String>,
    /// `low`, `medium`, `high` or `none`.
    #[serde(rename = "SignInRiskLevel")]
    pub sign_in_risk_level: Option<String>,
    /// e.g. `browser`, `mobileAppsAndDesktopClients`, `exchangeActiveSync`.
    #[serde(rename = "ClientAppType")]
    pub client_app_type: Option<String>,
    /// e.g. `windows`, `iOS`, `android`, `macOS`, `linux`.
    #[serde(rename = "DevicePlatform")]
    pub device_platform: Option<String>,
    /// A two-letter country code.
    #[serde(rename = "Country")]
    pub country: Option<String>,
    /// The sign-in's IP address.
    #[serde(rename = "IpAddress")]
    pub ip_address: Option<String>,
    /// `deviceCodeFlow` or `authenticationTransfer` (sent as `transferMethod`).
    #[serde(rename = "authenticationFlow")]
    pub authentication_flow: Option<String>,
}

/// `Results` is Graph's answer as it came (`value`: one what-if result per policy, with
/// `displayName`, `state`, `policyApplies`, `analysisReasons`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CaCheckResults {
    #[serde(rename = "Results")]
    pub results: GraphRow,
}

impl Operation for ExecCACheck {
    type Params = Params;
    type Answer = CaCheckResults;
    const NAME: &'static str = "ExecCACheck";
    const TAG: &'static str = "Tenant > Conditional";
    const ROLE: Option<&'static str> = Some("Tenant.ConditionalAccess.Read");
    const METHOD: Method = Method::Post;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecCACheck.ps1",
        frontend: Some("src/pages/identity/administration/users/user/conditional-access.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing or malformed `userID` is a 400 naming it (CIPP sends Graph an empty user id). \
         A failed evaluation keeps Graph's status (CIPP: always 500) with CIPP's text \
         `Failed to execute check: …`.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "userID": {"label": "Kenji Robbins", "value": crate::demo::USER_ID},
            "ClientAppType": {"label": "Browser", "value": "browser"},
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<CaCheckResults>, UserError> {
        let tenant = ctx.tenant()?;
        let body = what_if_body(&params);
        let answer = ctx
            .graph
            .app_only()
            .post(
                &tenant.customer_id,
                GraphVersion::Beta,
                "identity/conditionalAccess/evaluate",
                &body,
            )
            .await
            .map_err(|e| failed(CHECK_FAILED, e))?;
        let results = match answer {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Ok(Outcome::json(CaCheckResults {
            results: GraphRow(results),
        }))
    }
}

/// The evaluation request as CIPP builds it: the user, the application, and only the conditions
/// the caller chose.
fn what_if_body(p: &Params) -> Value {
    let mut conditions = Map::new();
    let mut put = |key: &str, v: &Option<String>| {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            conditions.insert(key.to_owned(), json!(v));
        }
    };
    put("userRiskLevel", &p.user_risk_level);
    put("signInRiskLevel", &p.sign_in_risk_level);
    put("clientAppType", &p.client_app_type);
    put("devicePlatform", &p.device_platform);
    put("country", &p.country);
    put("ipAddress", &p.ip_address);
    if let Some(flow) = p
        .authentication_flow
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        conditions.insert("authenticationFlow".into(), json!({"transferMethod": flow}));
    }
    let app = p
        .include_applications
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(OFFICE_365_APP);
    json!({
        "signInIdentity": {
            "@odata.type": "#microsoft.graph.userSignIn",
            "userId": p.user_id.as_str(),
        },
        "signInContext": {
            "@odata.type": "#microsoft.graph.applicationContext",
            "includeApplications": [app],
        },
        "signInConditions": conditions,
    })
}
