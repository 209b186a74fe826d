//! Offboarding's OneDrive and Teams Phone steps, with CIPP's texts:
//!
//! - `OnedriveAccess` → [`grant_onedrive_access`] (`Set-CIPPSharePointPerms`, rewritten
//!   2026-08-07): each access user made a site collection admin of the user's OneDrive through
//!   SharePoint REST (`_api/web/ensureuser`, then `getuserbyid(N)` MERGE `IsSiteAdmin`).
//! - `DisableOneDriveSharing` → [`disable_onedrive_sharing`] (`Set-CIPPOneDriveSharing`): the
//!   OneDrive site's `SharingCapability` set to `Disabled` through the SharePoint admin CSOM
//!   `ProcessQuery`.
//! - `RemoveTeamsPhoneDID` → [`remove_teams_phone_numbers`] (`Remove-CIPPUserTeamsPhoneDIDs`):
//!   every Teams phone number assigned to the user unassigned through Graph beta
//!   `numberAssignments` and one `$batch` of `unassignNumber`.
//!
//! Each returns its result lines. A line reporting a failure starts with "Failed" or "Could
//! not"; lines are CIPP's texts without its wrapper's `Failed to execute {Cmdlet} :` prefix.
//!
//! Token modes: the Graph drive and site lookups are app-only (CIPP's `-AsApp`); the site REST,
//! CSOM and Teams calls use the client's mode (delegated in partner mode, the partner's GDAP
//! roles). CIPP makes its site REST calls app-only with a certificate-signed token request;
//! SharePoint refuses app-only tokens got with a client secret, which is all this client has,
//! so the site calls go delegated, as CIPP's CSOM version of this step did before August 2026.
//!
//! Differences from CIPP, on purpose:
//! - Access users given as Entra object ids (the wizard's `value`) are resolved to their UPN
//!   through Graph (`users/{id}?$select=userPrincipalName`) before the
//!   `i:0#.f|membership|{upn}` claim is built; CIPP puts the id itself in the claim, which
//!   SharePoint does not resolve. An id Graph does not know is sent as is (SharePoint then
//!   answers "could not be found"). Lines name the resolved UPN.
//! - No valid access user is the outer failure line (`Failed to process SharePoint
//!   permissions. Error: No valid user …`); CIPP throws that text before its `try`, so its row
//!   carries only the wrapper's prefix.
//! - A user without a OneDrive (Graph's 404 on `drive/root`) reads as CIPP's "Could not
//!   determine the OneDrive site URL …" explanation rather than Graph's 404 text. CIPP's
//!   `Get-SharePointAdminLink` call in this step only chose the token scope; here the scope is
//!   the site's origin, so that call is not made.
//! - [`remove_teams_phone_numbers`] resolves the user's object id itself
//!   (`users/{upn}?$select=id`); CIPP is handed it by the job. When that lookup fails, the
//!   failure line names the UPN in both of CIPP's `'{Username}' - '{UserID}'` places.

use cipp_graph::{BatchRequest, GraphClient, GraphError, GraphVersion, Method};
use serde_json::{Value, json};
use url::Url;

use crate::normalize::normalize_graph_error;
use crate::{ErrorKind, UserError};

/// CSOM's Tenant type id (`Microsoft.Online.SharePoint.TenantAdministration.Tenant`).
const TENANT_TYPE_ID: &str = "{268004ae-ef6b-4e9b-8425-127220d84719}";

/// What `Get-CIPPSharePointErrorMessage` makes of a SharePoint error text.
fn sharepoint_explanation(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if lower.contains("could not be found") || lower.contains("-2146232832") {
        "could not be resolved in SharePoint. This normally means the account has no SharePoint Online licence, which SharePoint reports as the user not existing. Assign a licence that includes SharePoint and try again. Guest accounts do not need one.".to_owned()
    } else if lower.contains("access denied") || lower.contains("not have permission") {
        "access denied. The CIPP application needs the SharePoint application permission consented for this tenant, and the site must not be locked read-only.".to_owned()
    } else if lower.contains("does not exist") {
        "the site or library no longer exists. It may have been deleted or renamed since the list was loaded.".to_owned()
    } else if text.trim().is_empty() {
        "Unknown error.".to_owned()
    } else {
        text.to_owned()
    }
}

/// The SharePoint (or Graph) text behind a failed call, OData wrapper removed.
fn error_text(error: &GraphError) -> String {
    match error {
        GraphError::Api { message, .. } if !message.trim().is_empty() => message.clone(),
        other => normalize_graph_error(other),
    }
}

fn is_guid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}

/// Graph's 404 for a user whose OneDrive is not provisioned (`itemNotFound`,
/// `ResourceNotFound` "User's mysite not found.").
fn no_onedrive(error: &GraphError) -> bool {
    error.status() == Some(404)
}

/// OnedriveAccess: each access user made a site collection admin of `upn`'s OneDrive. One line per access user; an outer failure is one line starting "Failed".
pub async fn grant_onedrive_access(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    access_users: &[String],
) -> Vec<String> {
    let users: Vec<&str> = access_users
        .iter()
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .collect();
    if users.is_empty() {
        return vec![
            "Failed to process SharePoint permissions. Error: No valid user was supplied to grant or remove OneDrive access for.".to_owned(),
        ];
    }
    match grant_each(graph, tenant, upn, &users).await {
        Ok(lines) => lines,
        Err(reason) => {
            tracing::warn!(tenant, upn, %reason, "OneDrive access not granted");
            vec![format!(
                "Failed to process SharePoint permissions. Error: {reason}"
            )]
        }
    }
}

async fn grant_each(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    users: &[&str],
) -> Result<Vec<String>, String> {
    let app = graph.app_only();
    let path = format!("users/{upn}/drive/root?$select=sharepointIds");
    let no_site = || {
        format!(
            "Could not determine the OneDrive site URL for {upn}. The user may not have a provisioned OneDrive."
        )
    };
    let site_url = match app.get(tenant, GraphVersion::V1, &path, &[]).await {
        Ok(root) => root
            .pointer("/sharepointIds/siteUrl")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned(),
        Err(e) if no_onedrive(&e) => String::new(),
        Err(e) => return Err(normalize_graph_error(&e)),
    };
    if site_url.is_empty() {
        return Err(no_site());
    }
    let site = Url::parse(&site_url).map_err(|e| format!("'{site_url}' is not a URL: {e}"))?;
    let mut lines = Vec::with_capacity(users.len());
    for given in users {
        let access_user = resolve_upn(graph, tenant, given).await;
        match make_site_admin(graph, tenant, &site, &access_user).await {
            Ok(()) => lines.push(format!(
                "Successfully added {access_user} as a site collection admin of {site_url}"
            )),
            Err(text) => lines.push(format!(
                "Failed to change access for {access_user} on {site_url} - {}",
                sharepoint_explanation(&text)
            )),
        }
    }
    Ok(lines)
}

/// An object id's UPN through Graph; anything else (or an id Graph does not resolve) as given.
async fn resolve_upn(graph: &GraphClient, tenant: &str, given: &str) -> String {
    if !is_guid(given) {
        return given.to_owned();
    }
    let path = format!("users/{given}?$select=id,userPrincipalName");
    match graph.get(tenant, GraphVersion::V1, &path, &[]).await {
        Ok(user) => user
            .get("userPrincipalName")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .unwrap_or(given)
            .to_owned(),
        Err(error) => {
            tracing::warn!(tenant, user = given, %error, "access user id not resolved; sent as is");
            given.to_owned()
        }
    }
}

/// `ensureuser` then `getuserbyid(N)` MERGE `{"IsSiteAdmin": true}`; `Err` is SharePoint's text.
async fn make_site_admin(
    graph: &GraphClient,
    tenant: &str,
    site: &Url,
    access_user: &str,
) -> Result<(), String> {
    let api = |tail: &str| -> Result<Url, String> {
        let mut url = site.clone();
        url.set_query(None);
        url.path_segments_mut()
            .map_err(|()| format!("'{site}' cannot carry a path"))?
            .pop_if_empty()
            .extend(["_api", "web"])
            .push(tail);
        Ok(url)
    };
    let claim = json!({"logonName": format!("i:0#.f|membership|{access_user}")});
    let ensured = graph
        .sharepoint_rest(
            tenant,
            Method::POST,
            api("ensureuser")?,
            Some(&claim),
            false,
        )
        .await
        .map_err(|e| error_text(&e))?;
    let id = ensured
        .as_ref()
        .and_then(|u| u.get("Id"))
        .and_then(Value::as_i64)
        .ok_or_else(|| "Could not resolve the user on the site.".to_owned())?;
    let body = json!({"IsSiteAdmin": true});
    graph
        .sharepoint_rest(
            tenant,
            Method::POST,
            api(&format!("getuserbyid({id})"))?,
            Some(&body),
            true,
        )
        .await
        .map(|_| ())
        .map_err(|e| error_text(&e))
}

/// DisableOneDriveSharing: the OneDrive site's SharingCapability set to Disabled. One line.
pub async fn disable_onedrive_sharing(graph: &GraphClient, tenant: &str, upn: &str) -> Vec<String> {
    vec![
        match set_onedrive_sharing(graph, tenant, upn, SharingCapability::Disabled).await {
            Ok(line) => line,
            Err(error) => {
                tracing::warn!(tenant, upn, %error, "OneDrive sharing not changed");
                error.to_string()
            }
        },
    ]
}

/// Who a OneDrive may share with (SharePoint's `SharingCapabilities`, in its order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
pub enum SharingCapability {
    Disabled,
    ExternalUserSharingOnly,
    ExternalUserAndGuestSharing,
    ExistingExternalUserSharingOnly,
}

impl SharingCapability {
    fn code(self) -> u8 {
        match self {
            Self::Disabled => 0,
            Self::ExternalUserSharingOnly => 1,
            Self::ExternalUserAndGuestSharing => 2,
            Self::ExistingExternalUserSharingOnly => 3,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Disabled => "Disabled",
            Self::ExternalUserSharingOnly => "ExternalUserSharingOnly",
            Self::ExternalUserAndGuestSharing => "ExternalUserAndGuestSharing",
            Self::ExistingExternalUserSharingOnly => "ExistingExternalUserSharingOnly",
        }
    }
}

/// CIPP's `Set-CIPPOneDriveSharing`: the user's OneDrive site shares as `capability` allows.
/// CSOM's own refusal (`ErrorInfo`) and a failed call are both errors, with CIPP's texts.
pub async fn set_onedrive_sharing(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    capability: SharingCapability,
) -> Result<String, UserError> {
    match set_sharing(graph, tenant, upn, capability.code()).await {
        Ok((site_url, None)) => Ok(format!(
            "Successfully set OneDrive sharing to '{}' for {upn} ({site_url})",
            capability.name()
        )),
        Ok((_, Some(csom_error))) => Err(UserError::Answered {
            kind: ErrorKind::of_failure_texts([csom_error.as_str()]),
            message: format!("Failed to set OneDrive sharing for {upn} : {csom_error}"),
            results: serde_json::json!(format!(
                "Failed to set OneDrive sharing for {upn} : {csom_error}"
            )),
        }),
        Err(reason) => Err(UserError::Failed {
            message: format!("Failed to set OneDrive sharing for {upn}. Error: {reason}"),
            source: None,
        }),
    }
}

/// The site URL and CSOM's `ErrorInfo.ErrorMessage` when it sent one; `Err` for a failed call.
async fn set_sharing(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    capability: u8,
) -> Result<(String, Option<String>), String> {
    let app = graph.app_only();
    let drive = app
        .get(tenant, GraphVersion::V1, &format!("users/{upn}/drive"), &[])
        .await
        .map_err(|e| normalize_graph_error(&e))?;
    let web_url = drive
        .get("webUrl")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let site_url = remove_documents(web_url);
    let admin = app
        .sharepoint_admin_url(tenant)
        .await
        .map_err(|e| normalize_graph_error(&e))?;
    let xml = sharing_request(&site_url, capability);
    let answer = graph
        .sharepoint_process_query(tenant, &admin, &xml)
        .await
        .map_err(|e| normalize_graph_error(&e))?;
    let error = answer
        .first()
        .and_then(|h| h.get("ErrorInfo"))
        .filter(|e| !e.is_null())
        .map(|e| {
            e.get("ErrorMessage")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        });
    Ok((site_url, error))
}

/// `webUrl` with every `/documents` removed, case-insensitively (CIPP's `-replace`).
fn remove_documents(web_url: &str) -> String {
    const NEEDLE: &str = "/documents";
    let mut out = String::with_capacity(web_url.len());
    let mut rest = web_url;
    while let Some(at) = rest.to_ascii_lowercase().find(NEEDLE) {
        out.push_str(&rest[..at]);
        rest = &rest[at + NEEDLE.len()..];
    }
    out.push_str(rest);
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The CSOM request: Tenant → `GetSitePropertiesByUrl(url, false)`, `SharingCapability` set to
/// `capability` (the enum's value), `Update`.
fn sharing_request(site_url: &str, capability: u8) -> String {
    let url = xml_escape(site_url);
    format!(
        concat!(
            r#"<Request xmlns="http://schemas.microsoft.com/sharepoint/clientquery/2009" SchemaVersion="15.0.0.0" LibraryVersion="16.0.0.0" ApplicationName="CIPP-Users">"#,
            r#"<Actions>"#,
            r#"<ObjectPath Id="2" ObjectPathId="1" />"#,
            r#"<ObjectPath Id="5" ObjectPathId="4" />"#,
            r#"<SetProperty Id="7" ObjectPathId="4" Name="SharingCapability"><Parameter Type="Enum">{capability}</Parameter></SetProperty>"#,
            r#"<Method Name="Update" Id="9" ObjectPathId="4" />"#,
            r#"</Actions>"#,
            r#"<ObjectPaths>"#,
            r#"<Constructor Id="1" TypeId="{type_id}" />"#,
            r#"<Method Id="4" ParentId="1" Name="GetSitePropertiesByUrl"><Parameters><Parameter Type="String">{url}</Parameter><Parameter Type="Boolean">false</Parameter></Parameters></Method>"#,
            r#"</ObjectPaths>"#,
            r#"</Request>"#,
        ),
        capability = capability,
        type_id = TENANT_TYPE_ID,
        url = url,
    )
}

/// RemoveTeamsPhoneDID: every Teams phone number assigned to the user unassigned (Graph beta numberAssignments + $batch unassignNumber). Lines as upstream incl. the summary line.
pub async fn remove_teams_phone_numbers(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
) -> Vec<String> {
    let user_id = match graph
        .get(
            tenant,
            GraphVersion::V1,
            &format!("users/{upn}?$select=id"),
            &[],
        )
        .await
    {
        Ok(user) => user
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Err(e) => {
            return vec![format!(
                "Failed to process Teams Phone DIDs removal for: '{upn}' - '{upn}'. Error: {}",
                normalize_graph_error(&e)
            )];
        }
    };
    match unassign_numbers(graph, tenant, upn, &user_id).await {
        Ok(lines) => lines,
        Err(reason) => {
            tracing::warn!(tenant, upn, %reason, "Teams phone numbers not removed");
            vec![format!(
                "Failed to process Teams Phone DIDs removal for: '{upn}' - '{user_id}'. Error: {reason}"
            )]
        }
    }
}

async fn unassign_numbers(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    user_id: &str,
) -> Result<Vec<String>, String> {
    let numbers = graph
        .get_all(
            tenant,
            GraphVersion::Beta,
            "admin/teams/telephoneNumberManagement/numberAssignments",
            &[],
        )
        .await
        .map_err(|e| normalize_graph_error(&e))?;
    if numbers.is_empty() {
        return Ok(vec!["No Teams Phone DIDs found in tenant".to_owned()]);
    }
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mine: Vec<(String, String)> = numbers
        .iter()
        .filter(|n| text(n, "assignmentTargetId").eq_ignore_ascii_case(user_id))
        .filter(|n| !text(n, "assignmentStatus").eq_ignore_ascii_case("unassigned"))
        .map(|n| (text(n, "telephoneNumber"), text(n, "numberType")))
        .collect();
    if mine.is_empty() {
        return Ok(vec![format!(
            "No Teams Phone DIDs found assigned to user: '{upn}' - '{user_id}'"
        )]);
    }
    let requests: Vec<BatchRequest> = mine
        .iter()
        .map(|(number, number_type)| {
            BatchRequest::new(
                Method::POST,
                "admin/teams/telephoneNumberManagement/numberAssignments/unassignNumber",
            )
            .with_id(number.clone())
            .with_header("Content-Type", "application/json")
            .with_body(json!({"telephoneNumber": number, "numberType": number_type}))
        })
        .collect();
    let answers = graph
        .batch(tenant, GraphVersion::Beta, requests)
        .await
        .map_err(|e| normalize_graph_error(&e))?;
    let mut lines = Vec::with_capacity(mine.len() + 1);
    let (mut ok, mut failed) = (0usize, 0usize);
    for ((number, _), answer) in mine.iter().zip(&answers) {
        if matches!(answer.status, 202 | 204) {
            ok += 1;
            lines.push(format!(
                "Successfully removed Teams Phone DID: '{number}' from: '{upn}' - '{user_id}'"
            ));
        } else {
            failed += 1;
            let reason = answer
                .error_message()
                .map_or_else(|| format!("HTTP Status: {}", answer.status), str::to_owned);
            lines.push(format!(
                "Failed to remove Teams Phone DID: '{number}' from: '{upn}' - '{user_id}'. Error: {reason}"
            ));
        }
    }
    lines.push(format!(
        "Completed processing {} DIDs for user '{upn}': {ok} successful, {failed} failed",
        mine.len()
    ));
    Ok(lines)
}

/// CIPP's `Request-CIPPSPOPersonalSite`: asks SharePoint's admin CSOM (Tenant →
/// `RequestPersonalSites`) to create the users' OneDrive sites. CSOM's own refusal
/// (`ErrorInfo`), an answer without a completed operation and a failed call are all errors,
/// with CIPP's text.
pub async fn request_personal_sites(
    graph: &GraphClient,
    tenant: &str,
    upns: &[String],
) -> Result<String, UserError> {
    let names = upns.join(", ");
    let fail = |reason: String| UserError::Failed {
        message: format!("Failed to request personal site for {names}. Error: {reason}"),
        source: None,
    };
    let admin = graph
        .app_only()
        .sharepoint_admin_url(tenant)
        .await
        .map_err(|e| fail(normalize_graph_error(&e)))?;
    let users: String = upns
        .iter()
        .map(|u| format!("<Object Type='String'>{}</Object>", xml_escape(u)))
        .collect();
    let xml = format!(
        concat!(
            r#"<Request xmlns="http://schemas.microsoft.com/sharepoint/clientquery/2009" AddExpandoFieldTypeSuffix="true" SchemaVersion="15.0.0.0" LibraryVersion="16.0.0.0" ApplicationName=".NET Library">"#,
            r#"<Actions><ObjectPath Id="4" ObjectPathId="3" /><ObjectPath Id="6" ObjectPathId="5" />"#,
            r#"<Query Id="7" ObjectPathId="5"><Query SelectAllProperties="true"><Properties /></Query></Query></Actions>"#,
            r#"<ObjectPaths><Constructor Id="3" TypeId="{type_id}" />"#,
            r#"<Method Id="5" ParentId="3" Name="RequestPersonalSites"><Parameters><Parameter Type="Array">{users}</Parameter></Parameters></Method>"#,
            r#"</ObjectPaths></Request>"#,
        ),
        type_id = TENANT_TYPE_ID,
        users = users,
    );
    let answer = graph
        .sharepoint_process_query(tenant, &admin, &xml)
        .await
        .map_err(|e| fail(normalize_graph_error(&e)))?;
    if let Some(error) = answer
        .first()
        .and_then(|h| h.get("ErrorInfo"))
        .filter(|e| !e.is_null())
    {
        let text = error
            .get("ErrorMessage")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(fail(text.to_owned()));
    }
    // CIPP throws (with an empty reason) unless the answer reports a completed operation.
    let complete = answer
        .iter()
        .any(|v| v.get("IsComplete") == Some(&Value::Bool(true)));
    if !complete {
        return Err(fail(String::new()));
    }
    Ok(format!("Successfully requested personal site for {names}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn documents_is_removed_whatever_its_case() {
        assert_eq!(
            remove_documents("https://t-my.sharepoint.com/personal/u_t_com/Documents"),
            "https://t-my.sharepoint.com/personal/u_t_com"
        );
        assert_eq!(
            remove_documents("https://x/a/DOCUMENTS/b/documents"),
            "https://x/a/b"
        );
    }

    #[test]
    fn sharepoint_errors_get_cipps_explanations() {
        assert!(
            sharepoint_explanation("The specified user i:0#.f|membership|x could not be found.")
                .starts_with("could not be resolved in SharePoint.")
        );
        assert!(sharepoint_explanation("Access denied.").starts_with("access denied."));
        assert!(sharepoint_explanation("List does not exist").starts_with("the site or library"));
        assert_eq!(sharepoint_explanation(" "), "Unknown error.");
        assert_eq!(sharepoint_explanation("Other"), "Other");
    }

    #[test]
    fn the_csom_request_escapes_the_site_url() {
        let xml = sharing_request("https://h/personal/a&b", 0);
        assert!(xml.contains(r#"<Parameter Type="String">https://h/personal/a&amp;b</Parameter>"#));
        assert!(xml.contains(r#"Name="SharingCapability"><Parameter Type="Enum">0</Parameter>"#));
    }
}
