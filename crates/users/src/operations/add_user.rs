//! `AddUser` (CIPP-API `Invoke-AddUser.ps1` → `New-CIPPUserTask.ps1` → `New-CIPPUser.ps1`):
//! create the user with CIPP's body, then licences, aliases, copied groups, chosen groups,
//! manager and sponsor, each step reporting its own line.

use cipp_graph::{BatchRequest, BatchResponse, GraphClient, GraphVersion, Method};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use crate::normalize::{normalize_graph_error, normalize_message};
use crate::{UserError, path_segment};

/// Graph's Exchange-owned group kinds: their membership is changed through Exchange.
const EXCHANGE_KINDS: [&str; 2] = ["Distribution list", "Mail-Enabled Security"];

/// A group from the form's `AddToGroups`.
#[derive(Debug, Clone)]
pub struct GroupChoice {
    pub id: String,
    pub label: String,
    /// The form's `addedFields.groupType`, used only when Graph does not say.
    pub group_type: Option<String>,
}

/// What the caller asked for, already read from CIPP's body fields.
pub struct NewUser {
    pub username: String,
    pub domain: String,
    pub display_name: String,
    /// The create body's plain fields (`givenName`, `department`, …), `null` when not given.
    pub profile: Map<String, Value>,
    pub business_phones: Option<Vec<String>>,
    pub other_mails: Vec<String>,
    pub usage_location: Option<String>,
    /// The caller's password; a generated one when `None`.
    pub password: Option<SecretString>,
    pub must_change: bool,
    /// `defaultAttributes` then `customData`, overwriting the body's fields.
    pub extra: Map<String, Value>,
    pub licenses: Vec<String>,
    pub aliases: Vec<String>,
    pub copy_from: Option<String>,
    pub groups: Vec<GroupChoice>,
    pub manager: Option<String>,
    pub sponsor: Option<String>,
}

/// Copied group memberships, as CIPP reports them.
#[derive(Debug, Default, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyResult {
    pub success: Vec<String>,
    pub error: Vec<String>,
    pub skipped: Vec<String>,
}

pub struct AddUserOutcome {
    pub upn: String,
    /// Goes to the caller only.
    pub password: SecretString,
    /// The lines after the user and password lines.
    pub messages: Vec<String>,
    pub copy_from: Option<CopyResult>,
    /// Graph's answer to the create.
    pub user: Value,
    /// CIPP's log line, without the password.
    pub log_text: String,
    /// A follow-up step whose Graph call failed outright (the steps after it did not run).
    pub failed_after_create: Option<String>,
}

/// Creates the user, then runs every follow-up step; a failed follow-up is one line of the
/// answer, only a failed create is an error (`Failed to create user. Error:<normalised>`).
pub async fn add_user(
    graph: &GraphClient,
    tenant: &str,
    new: NewUser,
    generated: impl FnOnce() -> SecretString,
    default_usage_location: &str,
) -> Result<AddUserOutcome, UserError> {
    let upn = format!("{}@{}", new.username, new.domain);
    let password = new.password.clone().unwrap_or_else(generated);
    let mut body = Map::new();
    body.insert("givenName".into(), field(&new.profile, "givenName"));
    body.insert("surname".into(), field(&new.profile, "surname"));
    body.insert("accountEnabled".into(), json!(true));
    body.insert("displayName".into(), json!(new.display_name));
    body.insert("department".into(), field(&new.profile, "department"));
    body.insert("mailNickname".into(), json!(new.username));
    body.insert("userPrincipalName".into(), json!(upn));
    body.insert("usageLocation".into(), json!(new.usage_location));
    body.insert("otherMails".into(), json!(new.other_mails));
    for name in [
        "jobTitle",
        "mobilePhone",
        "streetAddress",
        "city",
        "state",
        "country",
        "postalCode",
        "companyName",
    ] {
        body.insert(name.into(), field(&new.profile, name));
    }
    body.insert(
        "passwordProfile".into(),
        json!({"forceChangePasswordNextSignIn": new.must_change, "password": password.expose_secret()}),
    );
    if let Some(phones) = &new.business_phones {
        body.insert("businessPhones".into(), json!(phones));
    }
    for (name, value) in &new.extra {
        body.insert(name.clone(), value.clone());
    }
    let user = graph
        .post(tenant, GraphVersion::Beta, "users", &Value::Object(body))
        .await
        .map_err(|error| {
            let message = format!(
                "Failed to create user. Error:{}",
                normalize_graph_error(&error)
            );
            tracing::warn!(tenant, "{message}");
            UserError::Failed {
                message,
                source: Some(Box::new(error)),
            }
        })?
        .unwrap_or(Value::Null);
    let id = user.get("id").and_then(Value::as_str).unwrap_or_default();
    let log_text = format!("Created user {} with id {id}", new.display_name);
    tracing::info!(tenant, "{log_text}");

    let mut messages = Vec::new();
    if !new.licenses.is_empty() {
        messages.push(
            assign_licences(graph, tenant, &upn, &new.licenses, default_usage_location).await,
        );
    }
    if !new.aliases.is_empty() {
        messages.push(match add_aliases(graph, tenant, &upn, &new.aliases).await {
            Ok(text) => text,
            Err(text) => format!("Failed to create the Aliases: {text}"),
        });
    }
    let mut outcome = AddUserOutcome {
        upn,
        password,
        messages,
        copy_from: None,
        user,
        log_text,
        failed_after_create: None,
    };
    // CIPP lets these steps' failed `$batch` calls escape (500); the user exists by then, so
    // the steps stop there and the answer still carries the user and password lines.
    if let Err(text) = follow_up(graph, tenant, &new, &mut outcome).await {
        outcome.failed_after_create = Some(text);
    }
    Ok(outcome)
}

async fn follow_up(
    graph: &GraphClient,
    tenant: &str,
    new: &NewUser,
    outcome: &mut AddUserOutcome,
) -> Result<(), String> {
    let upn = outcome.upn.clone();
    if let Some(source) = &new.copy_from {
        let copied = copy_groups(graph, tenant, source, &upn).await?;
        outcome.messages.extend(copied.success.iter().cloned());
        outcome.messages.extend(copied.error.iter().cloned());
        outcome.messages.extend(copied.skipped.iter().cloned());
        outcome.copy_from = Some(copied);
    }
    for group in &new.groups {
        outcome
            .messages
            .push(match add_to_group(graph, tenant, &upn, group).await {
                Ok(text) => text,
                Err(text) => format!("Failed to add to group {}: {text}", group.label),
            });
    }
    if let Some(manager) = &new.manager {
        let text = set_reference(graph, tenant, &upn, manager, Relation::Manager).await?;
        outcome.messages.push(text);
    }
    if let Some(sponsor) = &new.sponsor {
        let text = set_reference(graph, tenant, &upn, sponsor, Relation::Sponsor).await?;
        outcome.messages.push(text);
    }
    Ok(())
}

fn field(profile: &Map<String, Value>, name: &str) -> Value {
    profile.get(name).cloned().unwrap_or(Value::Null)
}

/// The error text of a failed `$batch` item, or CIPP's stand-in when Graph gave none.
fn item_error(response: &BatchResponse) -> String {
    response
        .error_message()
        .map(normalize_message)
        .unwrap_or_else(|| format!("Unknown error (Status: {})", response.status))
}

fn assign_request(upn: &str, skus: &[String]) -> BatchRequest {
    let add: Vec<Value> = skus
        .iter()
        .map(|sku| json!({"disabledPlans": [], "skuId": sku}))
        .collect();
    BatchRequest::new(
        Method::POST,
        format!("users/{}/assignLicense", path_segment(upn)),
    )
    .with_id(upn)
    .with_body(json!({"addLicenses": add, "removeLicenses": []}))
}

/// `Set-CIPPUserLicense` for one user: one `$batch` item; a refusal for want of a usage location
/// sets the tenant's default one and tries again.
async fn assign_licences(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    skus: &[String],
    default_usage_location: &str,
) -> String {
    const VISIBLE: &str = "It may take 2\u{2013}5 minutes before the changes become visible.";
    let first = graph
        .batch(tenant, GraphVersion::Beta, vec![assign_request(upn, skus)])
        .await;
    let response = match first {
        Ok(mut responses) if !responses.is_empty() => responses.remove(0),
        Ok(_) => return format!("Failed to assign the license. No answer for {upn}"),
        Err(error) => {
            return format!(
                "Failed to assign the license. {}",
                normalize_graph_error(&error)
            );
        }
    };
    if response.is_success() {
        return format!("Successfully set licenses for {upn}. {VISIBLE}");
    }
    let raw = response.error_message().unwrap_or_default().to_owned();
    let lowered = raw.to_ascii_lowercase();
    if !(lowered.contains("invalid usage location") || lowered.contains("usagelocation")) {
        return format!(
            "Failed to assign licenses for user {upn}: {}",
            item_error(&response)
        );
    }
    let retried = async {
        graph
            .patch(
                tenant,
                GraphVersion::Beta,
                &format!("users/{}", path_segment(upn)),
                &json!({"usageLocation": default_usage_location}),
            )
            .await
            .map_err(|e| normalize_graph_error(&e))?;
        let mut again = graph
            .batch(tenant, GraphVersion::Beta, vec![assign_request(upn, skus)])
            .await
            .map_err(|e| normalize_graph_error(&e))?;
        let answer = (!again.is_empty()).then(|| again.remove(0));
        match answer {
            Some(r) if r.is_success() => Ok(()),
            Some(r) => Err(item_error(&r)),
            None => Err(format!("No answer for {upn}")),
        }
    }
    .await;
    match retried {
        Ok(()) => {
            format!("Successfully set licenses for {upn} after setting usage location. {VISIBLE}")
        }
        Err(text) => {
            format!("Failed to assign licenses for user {upn} after setting usage location: {text}")
        }
    }
}

/// `Add-CIPPAlias`: `mail` set to each alias in turn (Exchange keeps each as a proxy address),
/// then back to the UPN.
async fn add_aliases(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    aliases: &[String],
) -> Result<String, String> {
    let path = format!("users/{}", path_segment(upn));
    for mail in aliases.iter().map(String::as_str).chain([upn]) {
        if let Err(error) = graph
            .patch(tenant, GraphVersion::Beta, &path, &json!({"mail": mail}))
            .await
        {
            let text = normalize_graph_error(&error);
            tracing::warn!(tenant, "Failed to set alias. Error:{text}");
            return Err(format!("Failed to set alias: {text}"));
        }
    }
    if let Some(last) = aliases.last() {
        tracing::info!(tenant, "Added alias {last} to {upn}");
    }
    Ok(format!("Added Aliases: {}", aliases.join(",")))
}

fn directory_object(id: &str) -> Value {
    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")})
}

/// Graph's kind of a group, as CIPP names them.
fn group_kind(group: &Value) -> Option<&'static str> {
    let unified = group
        .get("groupTypes")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|t| t == "Unified"));
    let mail = group.get("mailEnabled").and_then(Value::as_bool);
    let security = group.get("securityEnabled").and_then(Value::as_bool);
    if unified {
        return Some("Microsoft 365");
    }
    match (mail, security) {
        (None, None) => None,
        (Some(true), Some(true)) => Some("Mail-Enabled Security"),
        (Some(true), _) => Some("Distribution list"),
        _ => Some("Security"),
    }
}

/// `Add-CIPPGroupMember`: the user and the group are read first, then the membership goes
/// through Exchange for Exchange-owned groups and through Graph for the others.
async fn add_to_group(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    group: &GroupChoice,
) -> Result<String, String> {
    let reads = graph
        .batch(
            tenant,
            GraphVersion::Beta,
            vec![
                BatchRequest::get(format!(
                    "users/{}?$select=id,userPrincipalName",
                    path_segment(upn)
                ))
                .with_id("user"),
                BatchRequest::get(format!(
                    "groups/{}?$select=id,displayName,groupTypes,mailEnabled,securityEnabled",
                    path_segment(&group.id)
                ))
                .with_id("group"),
            ],
        )
        .await
        .map_err(|e| {
            format!(
                "Failed to add user {upn} to group {} - {}",
                group.id,
                normalize_graph_error(&e)
            )
        })?;
    let body = |id: &str| {
        reads
            .iter()
            .find(|r| r.id == id && r.is_success())
            .and_then(|r| r.body.clone())
            .unwrap_or(Value::Null)
    };
    let (user, found) = (body("user"), body("group"));
    let name = found
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or(&group.id)
        .to_owned();
    let kind = group_kind(&found).or(group.group_type.as_deref());
    let failed = |text: String| format!("Failed to add user {upn} to group {name} - {text}");
    let exchange = kind.is_some_and(|k| EXCHANGE_KINDS.iter().any(|e| e.eq_ignore_ascii_case(k)));
    if exchange {
        graph
            .exchange(
                tenant,
                "Add-DistributionGroupMember",
                json!({"Identity": group.id, "Member": upn, "BypassSecurityGroupManagerCheck": true}),
                None,
            )
            .await
            .map_err(|e| failed(normalize_graph_error(&e)))?;
    } else {
        let user_id = user
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| failed(format!("User {upn} was not found")))?;
        let added = graph
            .batch(
                tenant,
                GraphVersion::Beta,
                vec![
                    BatchRequest::new(
                        Method::POST,
                        format!("groups/{}/members/$ref", path_segment(&group.id)),
                    )
                    .with_body(directory_object(user_id)),
                ],
            )
            .await
            .map_err(|e| failed(normalize_graph_error(&e)))?;
        if let Some(refused) = added.iter().find(|r| !r.is_success()) {
            return Err(failed(item_error(refused)));
        }
    }
    tracing::info!(tenant, "Added {upn} to group {name}");
    Ok(format!("Successfully added user {upn} to group {name}."))
}

#[derive(Clone, Copy)]
enum Relation {
    Manager,
    Sponsor,
}

/// `Set-CIPPManager` / `Set-CIPPSponsor`: one `$batch` item; a failed batch call is an error
/// (CIPP lets that exception escape after the user was created).
async fn set_reference(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    target: &str,
    relation: Relation,
) -> Result<String, String> {
    let (segment, word) = match relation {
        Relation::Manager => ("manager", "manager"),
        Relation::Sponsor => ("sponsors", "sponsor"),
    };
    let request = BatchRequest::new(
        Method::PUT,
        format!("users/{}/{segment}/$ref", path_segment(upn)),
    )
    .with_id("0")
    .with_body(json!({"@odata.id": format!("https://graph.microsoft.com/beta/users/{target}")}));
    let responses = graph
        .batch(tenant, GraphVersion::Beta, vec![request])
        .await
        .map_err(|error| normalize_graph_error(&error))?;
    let text = match responses.first() {
        Some(r) if r.status == 200 || r.status == 204 => {
            format!("Set {upn}'s {word} to {target}")
        }
        Some(r) => format!(
            "Failed to set {upn}'s {word}: {}",
            r.error_message()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Unknown error (Status: {})", r.status))
        ),
        None => format!("Failed to set {upn}'s {word}: Unknown error (Status: 0)"),
    };
    tracing::info!(tenant, "{text}");
    Ok(text)
}

/// `Set-CIPPCopyGroupMembers`: the source's groups, minus those that cannot or need not be
/// joined, added to the new user.
async fn copy_groups(
    graph: &GraphClient,
    tenant: &str,
    source: &str,
    target: &str,
) -> Result<CopyResult, String> {
    let reads = graph
        .batch(
            tenant,
            GraphVersion::Beta,
            vec![
                BatchRequest::get(format!("users/{}", path_segment(target))).with_id("user"),
                BatchRequest::get(format!("users/{}/memberOf", path_segment(target)))
                    .with_id("userMembership"),
                BatchRequest::get(format!("users/{}/memberOf", path_segment(source)))
                    .with_id("copyFromMembership"),
            ],
        )
        .await
        .map_err(|error| normalize_graph_error(&error))?;
    let body = |id: &str| {
        reads
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.body.clone())
            .unwrap_or(Value::Null)
    };
    let values = |v: Value| -> Vec<Value> {
        v.get("value")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let user_id = body("user")
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(target)
        .to_owned();
    let current: Vec<String> = values(body("userMembership"))
        .iter()
        .filter_map(|g| g.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut result = CopyResult::default();
    let mut already = Vec::new();
    for group in values(body("copyFromMembership")) {
        if group.get("@odata.type").and_then(Value::as_str) != Some("#microsoft.graph.group") {
            continue;
        }
        let id = group.get("id").and_then(Value::as_str).unwrap_or_default();
        let label = group
            .get("displayName")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(id)
            .to_owned();
        let types: Vec<&str> = group
            .get("groupTypes")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if types.contains(&"DynamicMembership") {
            result.skipped.push(format!("Skipped {label}: its membership is set by a dynamic rule, so members cannot be added directly."));
            continue;
        }
        if group.get("onPremisesSyncEnabled").and_then(Value::as_bool) == Some(true) {
            result.skipped.push(format!("Skipped {label}: it is synced from on-premises Active Directory and has to be changed there."));
            continue;
        }
        if group
            .get("visibility")
            .and_then(Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case("Public"))
        {
            result.skipped.push(format!(
                "Skipped {label}: it is a public group, which users can join themselves."
            ));
            continue;
        }
        if current.iter().any(|c| c.eq_ignore_ascii_case(id)) {
            already.push(label);
            continue;
        }
        let exchange = group.get("mailEnabled").and_then(Value::as_bool) == Some(true)
            && !types.contains(&"Unified");
        let outcome = if exchange {
            graph
                .exchange(
                    tenant,
                    "Add-DistributionGroupMember",
                    json!({"Identity": id, "Member": target, "BypassSecurityGroupManagerCheck": true}),
                    None,
                )
                .await
                .map(|_| ())
        } else {
            graph
                .post(
                    tenant,
                    GraphVersion::Beta,
                    &format!("groups/{}/members/$ref", path_segment(id)),
                    &directory_object(&user_id),
                )
                .await
                .map(|_| ())
        };
        match outcome {
            Ok(()) => {
                tracing::info!(tenant, "Added {target} to group {label}");
                result.success.push(format!("Added user to group: {label}"));
            }
            Err(error) => {
                let text = normalize_graph_error(&error);
                tracing::warn!(tenant, "We've failed to add the group {label}: {text}");
                result
                    .error
                    .push(format!("We've failed to add the group {label}: {text}"));
            }
        }
    }
    if !already.is_empty() {
        let noun = if already.len() == 1 {
            "group"
        } else {
            "groups"
        };
        result.skipped.push(format!(
            "Already a member of {} {noun}, left unchanged: {}.",
            already.len(),
            already.join(", ")
        ));
    }
    Ok(result)
}
