//! `ListUsers` (CIPP-API `Invoke-ListUsers.ps1`): one tenant's users from Graph beta with the
//! fields CIPP computes on each row, one user by `UserID` (with the last sign-in from the unified
//! audit log when `IncludeLogonDetails` is set), or every tenant's users with
//! `tenantFilter=AllTenants`. Rows carry `Tenant`, which the CIPP frontend reads.

use cipp_graph::{GraphClient, GraphVersion};
use futures::{Stream, StreamExt};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::ctx::start_rows;
use crate::op::types::UserId;
use crate::op::{Ctx, Method, Operation, Outcome, RowStream, Source, Target, TenantUse};
use crate::read_support::{GraphRows, graph_rows, out_string_date};
use crate::{UserError, licences, query_value};

pub struct ListUsers;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// An OData `$filter` passed to Graph as it is (e.g. `accountEnabled eq false`).
    #[serde(rename = "graphFilter")]
    pub graph_filter: Option<String>,
    /// One user instead of the whole tenant (ignored with `AllTenants`).
    #[serde(rename = "UserID")]
    pub user_id: Option<UserId>,
    /// With `UserID`: add the user's last sign-in (`LastSigninApplication`, `LastSigninDate`,
    /// `LastSigninStatus`, `LastSigninResult`, `LastSigninFailureReason`) from the unified
    /// audit log of the last 7 days.
    #[serde(rename = "IncludeLogonDetails", default)]
    pub include_logon_details: bool,
}

impl Operation for ListUsers {
    type Params = Params;
    /// Graph's users with CIPP's computed fields (`username`, `Aliases`, `LicJoined`,
    /// `primDomain`, `onPremisesSyncEnabled` as a boolean), `manager` and `Tenant`; with
    /// `AllTenants`, a tenant that could not be read is a `{Tenant, CippStatus}` row.
    type Answer = GraphRows;
    const NAME: &'static str = "ListUsers";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::OneOrAll;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUsers.ps1",
        frontend: Some("src/pages/identity/administration/users/user/index.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "`tenantFilter=AllTenants` is answered inline, where CIPP now answers a deprecation \
         message. Rows carry `Tenant` (CIPP's ListUsers omits it; the frontend reads it). With \
         `IncludeLogonDetails`, a user without any sign-in record in the last 7 days gets null \
         fields (CIPP fills them with fragments such as `\" -  \"`), and a failed audit-log \
         search is an error rather than silently missing fields. `IncludeLogonDetails` is a \
         boolean: `false` leaves the fields out (CIPP adds them for any non-empty value).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UserID": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<GraphRows>, UserError> {
        let graph = ctx.graph.clone();
        let graph_filter = params.graph_filter;
        if let Target::All = ctx.target {
            let pages = ctx
                .fan_out(move |tenant| {
                    list_users_pages(
                        &graph,
                        &tenant.customer_id,
                        &tenant.default_domain_name,
                        graph_filter.as_deref(),
                    )
                    .boxed_local()
                })
                .await?;
            return Ok(Outcome::rows(RowStream {
                prefix: String::new(),
                pages,
                suffix: String::new(),
            }));
        }
        let tenant = ctx.tenant()?;
        if let Some(user_id) = &params.user_id {
            let extra = custom_attribute_names(&ctx).await;
            let mut user = one_user(
                &graph,
                &tenant.customer_id,
                user_id,
                graph_filter.as_deref(),
                &extra,
            )
            .await?;
            if params.include_logon_details {
                add_logon_details(&graph, &tenant.customer_id, &mut user).await?;
            }
            let row = with_tenant(user, &tenant.default_domain_name);
            return Ok(Outcome::json(graph_rows(vec![row])));
        }
        // The first page is read before the answer starts, so the common failures (no access,
        // a bad filter) still get their own status.
        let pages = start_rows(list_users_pages(
            &graph,
            &tenant.customer_id,
            &tenant.default_domain_name,
            graph_filter.as_deref(),
        ))
        .await?;
        Ok(Outcome::rows(RowStream {
            prefix: String::new(),
            pages,
            suffix: String::new(),
        }))
    }
}

/// The properties CIPP selects when one user is asked for by id.
const SINGLE_USER_PROPERTIES: &[&str] = &[
    "accountEnabled",
    "ageGroup",
    "assignedLicenses",
    "businessPhones",
    "city",
    "companyName",
    "consentProvidedForMinor",
    "country",
    "createdDateTime",
    "department",
    "displayName",
    "employeeHireDate",
    "employeeId",
    "employeeLeaveDateTime",
    "employeeType",
    "faxNumber",
    "givenName",
    "id",
    "jobTitle",
    "lastPasswordChangeDateTime",
    "legalAgeGroupClassification",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesDistinguishedName",
    "onPremisesImmutableId",
    "onPremisesLastSyncDateTime",
    "onPremisesSyncEnabled",
    "otherMails",
    "postalCode",
    "preferredLanguage",
    "proxyAddresses",
    "showInAddressList",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
];

const MANAGER_EXPAND: &str = "$expand=manager($select=id,userPrincipalName,displayName)";

/// The custom attributes CIPP adds to a single user's `$select`: the labels of
/// `userAttributes` in the shared (`allUsers`) and the caller's own user settings, and the
/// schema extensions of the tenant's manual-entry user data mappings. This service keeps no
/// custom data mappings (there is no `ListCustomDataMappings` configuration here), so that part
/// is empty, as in CIPP with none configured. Only plain property names are kept, and a failure
/// to read the settings leaves the base properties alone, as in CIPP.
async fn custom_attribute_names(ctx: &Ctx) -> Vec<String> {
    let mut names = Vec::new();
    for key in [
        cipp_store::ALL_USERS.to_owned(),
        crate::user_settings::own_key(&ctx.caller.identity()),
    ] {
        let Ok(Some(settings)) = ctx.store.get_user_settings(&key).await else {
            continue;
        };
        let labels = settings
            .get("userAttributes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("label").and_then(Value::as_str));
        names.extend(labels.filter(|l| plain_property(l)).map(str::to_owned));
    }
    names
}

/// `^[A-Za-z][A-Za-z0-9_]*$`: a name safe to put in `$select`.
fn plain_property(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One user (by object id or UPN) with CIPP's computed fields. CIPP passes its `$filter` even
/// here, and retries once without `$select` when the selected read fails. `extra` are the
/// custom attributes to select besides CIPP's base properties.
pub async fn one_user(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    graph_filter: Option<&str>,
    extra: &[String],
) -> Result<Value, UserError> {
    let filter = query_value(graph_filter.unwrap_or_default());
    let consistency = [("ConsistencyLevel", "eventual")];
    let user_id = user.as_str();
    let base = format!(
        "users/{}?$top=999&$filter={filter}&$count=true&{MANAGER_EXPAND}",
        user.segment()
    );
    // The sorted union without repeats, as CIPP builds it.
    let mut select: Vec<&str> = SINGLE_USER_PROPERTIES
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
        .collect();
    select.sort_by_key(|name| name.to_ascii_lowercase());
    select.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let selected = format!("{base}&$select={}", select.join(","));
    let found = match graph
        .get(tenant, GraphVersion::Beta, &selected, &consistency)
        .await
    {
        Ok(found) => found,
        Err(first) if first.status() == Some(404) => {
            return Err(not_found(user_id, &first));
        }
        Err(_) => graph
            .get(tenant, GraphVersion::Beta, &base, &consistency)
            .await
            .map_err(|e| match e.status() {
                Some(404) => not_found(user_id, &e),
                _ => failed(e),
            })?,
    };
    Ok(with_computed_fields(found))
}

/// The users of one tenant page by page, with CIPP's computed fields and `Tenant` set to
/// `tenant_label`: what `ListUsers` streams, for one tenant or for each of many.
pub fn list_users_pages(
    graph: &GraphClient,
    tenant: &str,
    tenant_label: &str,
    graph_filter: Option<&str>,
) -> impl Stream<Item = Result<Vec<Value>, UserError>> + Send + 'static {
    let filter = query_value(graph_filter.unwrap_or_default());
    let label = tenant_label.to_owned();
    graph
        .pages(
            tenant,
            GraphVersion::Beta,
            &format!("users/?$top=999&$filter={filter}&$count=true&{MANAGER_EXPAND}"),
            &[("ConsistencyLevel", "eventual")],
        )
        .map(move |page| match page {
            Ok(page) => Ok(page
                .items
                .into_iter()
                .map(|user| with_tenant(with_computed_fields(user), &label))
                .collect()),
            Err(e) => Err(match e.status() {
                Some(400) => UserError::invalid("graphFilter", normalize_graph_error(&e)),
                _ => failed(e),
            }),
        })
}

/// Adds the `Tenant` field the CIPP frontend reads on rows (CIPP's ListUsers omits it).
pub fn with_tenant(mut row: Value, tenant_label: &str) -> Value {
    if let Value::Object(fields) = &mut row {
        fields.insert("Tenant".into(), Value::String(tenant_label.to_owned()));
    }
    row
}

fn not_found(user_id: &str, error: &cipp_graph::GraphError) -> UserError {
    tracing::debug!(user = user_id, error = %error, "user not found");
    UserError::NotFound {
        message: normalize_graph_error(error),
    }
}

fn failed(error: cipp_graph::GraphError) -> UserError {
    UserError::Failed {
        message: normalize_graph_error(&error),
        source: Some(Box::new(error)),
    }
}

/// Adds CIPP's computed fields: `onPremisesSyncEnabled` as a boolean, `username`, `Aliases`,
/// `LicJoined` and `primDomain`. Every Graph field passes through unchanged.
pub fn with_computed_fields(user: Value) -> Value {
    let Value::Object(mut fields) = user else {
        return user;
    };
    let synced = fields
        .get("onPremisesSyncEnabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    fields.insert("onPremisesSyncEnabled".into(), Value::Bool(synced));

    let upn = string_field(&fields, "userPrincipalName");
    let (username, domain) = match upn.split_once('@') {
        Some((name, domain)) => (name.to_owned(), domain.to_owned()),
        None => (upn.clone(), String::new()),
    };
    fields.insert("username".into(), Value::String(username));

    let aliases: Vec<&str> = fields
        .get("proxyAddresses")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let aliases = aliases.join(", ");
    fields.insert("Aliases".into(), Value::String(aliases));

    let licences: Vec<&str> = fields
        .get("assignedLicenses")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|l| l.get("skuId").and_then(Value::as_str))
                .filter_map(licences::sku_display_name)
                .collect()
        })
        .unwrap_or_default();
    let licences = licences.join(", ");
    fields.insert("LicJoined".into(), Value::String(licences));
    fields.insert(
        "primDomain".into(),
        json!({ "value": domain, "label": domain }),
    );
    Value::Object(fields)
}

fn string_field(fields: &Map<String, Value>, name: &str) -> String {
    fields
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

// The last sign-in for `IncludeLogonDetails`: Exchange `Search-UnifiedAuditLog` over the last 7
// days, as CIPP reads it.

/// CIPP's friendly names for well-known first-party application ids (its hard-coded table; an
/// entry matches only when the whole id equals the record's `ApplicationId`).
const APP_NAMES: &[(&str, &str)] = &[
    ("23523755-3a2b-41ca-9315-f81f3f566a95", "ACOM Azure Website"),
    (
        "7b7531ad-5926-4f2d-8a1d-38495ad33e17",
        "Azure Advanced Threat Protection",
    ),
    ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal"),
    ("00000007-0000-0000-c000-000000000000", "Dataverse"),
    (
        "0000000c-0000-0000-c000-000000000000",
        "Microsoft App Access Panel",
    ),
    (
        "29d9ed98-a469-4536-ade2-f981bc1d605e",
        "Microsoft Authentication Broker",
    ),
    (
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Microsoft Azure CLI",
    ),
    (
        "1950a258-227b-4e31-a9cf-717495945fc2",
        "Microsoft Azure PowerShell",
    ),
    (
        "00000007-0000-0ff1-ce00-000000000000",
        "Microsoft Exchange Online Protection",
    ),
    ("c9a559d2-7aab-4f13-a6ed-e7e9c52aec87", "Microsoft Forms"),
    ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
    (
        "74bcdadc-2fdc-4bb3-8459-76d06952a0e9",
        "Microsoft Intune Web Company Portal",
    ),
    (
        "fc0f3af4-6835-4174-b806-f7db311fd2f3",
        "Microsoft Intune Windows Agent",
    ),
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"),
    (
        "00000006-0000-0ff1-ce00-000000000000",
        "Microsoft Office 365 Portal",
    ),
    (
        "67e3df25-268a-4324-a550-0de1c7f97287",
        "Microsoft Office Web Apps Service",
    ),
    (
        "93625bc8-bfe2-437a-97e0-3d0060024faa",
        "Microsoft password reset service",
    ),
    ("871c010f-5e61-4fb1-83ac-98610a7e9110", "Microsoft Power BI"),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
    (
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
        "Microsoft Teams Services",
    ),
    (
        "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",
        "Microsoft Teams Web Client",
    ),
    ("4345a7b9-9a63-4910-a426-35363201d503", "O365 Suite UX"),
    (
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
    ),
    (
        "00b41c95-dab0-4487-9791-b9d2c32c80f2",
        "Office 365 Management",
    ),
    (
        "66a88757-258c-4c72-893c-3e8bed4d6899",
        "Office 365 Search Service",
    ),
    ("94c63fef-13a3-47bc-8074-75af8c65887a", "Office Delve"),
    ("4b233688-031c-404b-9a80-a4f3f2351f90", "Office.com"),
    (
        "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7",
        "Office365 Shell WCSS-Client",
    ),
    ("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome"),
    (
        "ab9b8c07-8f02-4f72-87fa-80105867a763",
        "OneDrive SyncEngine",
    ),
    ("2d4d3d8e-2be3-4bef-9f87-7875a61c29de", "OneNote"),
    ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile"),
    ("00000009-0000-0000-c000-000000000000", "Power BI Service"),
    (
        "00000004-0000-0ff1-ce00-000000000000",
        "Skype for Business Online",
    ),
    (
        "00000002-0000-0000-c000-000000000000",
        "Windows Azure Active Directory",
    ),
    (
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "Windows Azure Service Management API",
    ),
    ("00000005-0000-0ff1-ce00-000000000000", "Yammer"),
];

/// Adds `LastSigninApplication`, `LastSigninDate`, `LastSigninStatus`, `LastSigninResult` and
/// `LastSigninFailureReason` to one user row.
pub async fn add_logon_details(
    graph: &GraphClient,
    tenant_id: &str,
    user: &mut Value,
) -> Result<(), UserError> {
    let upn = user
        .get("userPrincipalName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let now = time::OffsetDateTime::now_utc();
    let format = time::format_description::well_known::Rfc3339;
    let start = (now - time::Duration::days(7))
        .format(&format)
        .unwrap_or_default();
    let end = now.format(&format).unwrap_or_default();
    let session = rand::rng().random_range(1..1000);
    let records = graph
        .exchange(
            tenant_id,
            "Search-UnifiedAuditLog",
            json!({
                "SessionCommand": "ReturnLargeSet",
                "Operations": ["UserLoggedIn", "UserLoginFailed", "TeamsSessionStarted", "MailboxLogin"],
                "sessionid": session,
                "startDate": start,
                "endDate": end,
                "UserIds": [upn],
            }),
            None,
        )
        .await
        .map_err(|error| UserError::Failed {
            message: format!(
                "Failed to retrieve the last sign-in of {upn}: {}",
                normalize_graph_error(&error)
            ),
            source: Some(Box::new(error)),
        })?;
    let newest = records
        .iter()
        .max_by(|a, b| creation(a).cmp(&creation(b)))
        .and_then(|r| r.get("AuditData"))
        .and_then(|d| match d {
            Value::String(text) => serde_json::from_str::<Value>(text).ok(),
            other => Some(other.clone()),
        });
    let Value::Object(fields) = user else {
        return Ok(());
    };
    let details = match newest {
        None => Map::from_iter(
            [
                "LastSigninApplication",
                "LastSigninDate",
                "LastSigninStatus",
                "LastSigninResult",
                "LastSigninFailureReason",
            ]
            .map(|k| (k.to_owned(), Value::Null)),
        ),
        Some(audit) => logon_fields(&audit),
    };
    fields.extend(details);
    Ok(())
}

fn creation(record: &Value) -> String {
    record
        .get("CreationDate")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn field<'a>(audit: &'a Value, name: &str) -> Option<&'a Value> {
    audit
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn text(audit: &Value, name: &str) -> String {
    match field(audit, name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The five fields, from one audit record, as CIPP computes them.
pub fn logon_fields(audit: &Value) -> Map<String, Value> {
    let app_id = text(audit, "ApplicationId");
    let application = APP_NAMES
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(&app_id))
        .map(|(_, name)| (*name).to_owned())
        // CIPP's fallback keeps its trailing space.
        .unwrap_or_else(|| format!("{} - {} ", text(audit, "Workload"), app_id));
    let created = text(audit, "CreationTime");
    let created_utc = if created.is_empty() || created.ends_with('Z') || created.contains('+') {
        created
    } else {
        format!("{created}Z")
    };
    let error = text(audit, "ErrorNumber");
    let failure = if error.is_empty() || error == "0" {
        json!("Successfully signed in")
    } else {
        json!(error)
    };
    Map::from_iter([
        ("LastSigninApplication".to_owned(), json!(application)),
        (
            "LastSigninDate".to_owned(),
            json!(out_string_date(Some(&json!(created_utc)))),
        ),
        (
            "LastSigninStatus".to_owned(),
            field(audit, "Operation").cloned().unwrap_or(Value::Null),
        ),
        (
            "LastSigninResult".to_owned(),
            field(audit, "ResultStatus").cloned().unwrap_or(Value::Null),
        ),
        ("LastSigninFailureReason".to_owned(), failure),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_fields_follow_cipp() {
        let user = json!({
            "userPrincipalName": "ada@contoso.example",
            "proxyAddresses": ["SMTP:ada@contoso.example", "smtp:a@contoso.example"],
            "assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900"}, {"skuId": "00000000-0000-0000-0000-000000000000"}],
            "onPremisesSyncEnabled": null,
            "manager": {"id": "m"}
        });
        let row = with_computed_fields(user);
        assert_eq!(row["username"], "ada");
        assert_eq!(
            row["Aliases"],
            "SMTP:ada@contoso.example, smtp:a@contoso.example"
        );
        assert_eq!(row["LicJoined"], "Office 365 E3");
        assert_eq!(
            row["primDomain"],
            json!({"value": "contoso.example", "label": "contoso.example"})
        );
        assert_eq!(row["onPremisesSyncEnabled"], false);
        assert_eq!(row["manager"]["id"], "m");
    }

    #[test]
    fn a_known_application_gets_its_name_and_an_unknown_one_cipps_fallback() {
        let known = logon_fields(
            &json!({"ApplicationId": "1fec8e78-bce4-4aaf-ab1b-5451cc387264", "CreationTime": "2025-01-02T15:04:05", "Operation": "UserLoggedIn", "ResultStatus": "Success", "ErrorNumber": "0", "Workload": "AzureActiveDirectory"}),
        );
        assert_eq!(known["LastSigninApplication"], "Microsoft Teams");
        assert_eq!(
            known["LastSigninDate"],
            "\r\nThursday, January 2, 2025 3:04:05 PM\r\n\r\n"
        );
        assert_eq!(known["LastSigninFailureReason"], "Successfully signed in");
        let unknown = logon_fields(
            &json!({"ApplicationId": "abc", "Workload": "AzureActiveDirectory", "ErrorNumber": "50126"}),
        );
        assert_eq!(
            unknown["LastSigninApplication"],
            "AzureActiveDirectory - abc "
        );
        assert_eq!(unknown["LastSigninFailureReason"], "50126");
    }
}
