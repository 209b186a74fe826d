//! `EditGroup` (CIPP-API `Invoke-EditGroup.ps1`): a group's properties, members, owners and
//! contacts, from the group edit page and the users list's "Add to Group" action.
//!
//! As CIPP: the group is read first and its kind settles the route (the posted `groupType` only
//! counts when Graph gives no flags). Distribution lists and mail-enabled security groups change
//! through Exchange (`Set-DistributionGroup`, `Add-`/`Remove-DistributionGroupMember`, owners as
//! one `ManagedBy` rewrite); other groups through one beta `$batch` (members by
//! `PATCH groups/{id}` with `members@odata.bind`, `DELETE …/members/{id}/$ref`, owners by
//! `POST …/owners/$ref` and `DELETE …/owners/{id}/$ref`). Each change is one `Results` line,
//! `Success - …` or `Error - …` with what Microsoft 365 said, in CIPP's order.

use cipp_graph::{BatchRequest, GraphClient, GraphError, GraphVersion};
use reqwest::Method as HttpMethod;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::error::ErrorKind;
use crate::groups::{edit_kind, exchange_kind};
use crate::normalize::{normalize_graph_error, normalize_message};
use crate::op::types::TextListResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{UserError, path_segment};

pub struct EditGroup;

/// What a picker adds to a user choice.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ChoiceFields {
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
    #[serde(rename = "groupType")]
    pub group_type: Option<String>,
    #[serde(rename = "groupName")]
    pub group_name: Option<String>,
}

/// A picker choice `{label, value, addedFields}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct Choice {
    pub label: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "addedFields", default)]
    pub added_fields: Option<ChoiceFields>,
}

/// A choice, or the bare value (a user principal name or object id).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ChoiceOrText {
    // The choice comes first: the parameter reader keeps an object's fields for the first
    // variant's schema, and a bare text still falls through to `Text`.
    Choice(Choice),
    Text(String),
}

impl ChoiceOrText {
    fn value(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t.as_str()),
            Self::Choice(c) => c.value.as_deref(),
        }
    }
    fn label(&self) -> Option<&str> {
        match self {
            Self::Text(_) => None,
            Self::Choice(c) => c.label.as_deref(),
        }
    }
    fn upn(&self) -> Option<&str> {
        match self {
            Self::Text(_) => None,
            Self::Choice(c) => c
                .added_fields
                .as_ref()
                .and_then(|f| f.user_principal_name.as_deref()),
        }
    }
    /// CIPP's name for the member: the picker's UPN, else the value.
    fn member(&self) -> &str {
        self.upn().or(self.value()).unwrap_or("")
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The group: its object id, or the picker's `{label, value, addedFields: {groupType, groupName}}`.
    #[serde(rename = "groupId")]
    pub group_id: Option<ChoiceOrText>,
    /// The kind the form names (used only when Graph gives no flags).
    #[serde(rename = "groupType")]
    pub group_type: Option<String>,
    /// The name used in the texts (the Add to Group action).
    #[serde(rename = "groupName")]
    pub group_name: Option<String>,
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "mailNickname")]
    pub mail_nickname: Option<String>,
    /// A dynamic group's rule.
    #[serde(rename = "membershipRules")]
    pub membership_rules: Option<String>,
    #[serde(rename = "securityEnabled")]
    pub security_enabled: Option<bool>,
    /// Microsoft 365 groups: `Public` or `Private`.
    pub visibility: Option<String>,
    #[serde(rename = "AddMember", default)]
    pub add_member: Vec<ChoiceOrText>,
    #[serde(rename = "RemoveMember", default)]
    pub remove_member: Vec<ChoiceOrText>,
    #[serde(rename = "AddOwner", default)]
    pub add_owner: Vec<ChoiceOrText>,
    #[serde(rename = "RemoveOwner", default)]
    pub remove_owner: Vec<ChoiceOrText>,
    #[serde(rename = "AddContact", default)]
    pub add_contact: Vec<ChoiceOrText>,
    #[serde(rename = "RemoveContact", default)]
    pub remove_contact: Vec<ChoiceOrText>,
    /// Not acted on by this service yet (400 when sent).
    #[serde(rename = "AddDevice", default)]
    pub add_device: Vec<Value>,
    /// Not acted on by this service yet (400 when sent).
    #[serde(rename = "AddLicenses", default)]
    pub add_licenses: Vec<Value>,
    /// Not acted on by this service yet (400 when sent).
    #[serde(rename = "RemoveLicenses", default)]
    pub remove_licenses: Vec<Value>,
    /// Whether senders outside the organisation may mail the group (not for security groups;
    /// `mail` names the group in Exchange).
    #[serde(rename = "allowExternal")]
    pub allow_external: Option<bool>,
    /// Not acted on by this service yet (400 when sent).
    #[serde(rename = "sendCopies")]
    pub send_copies: Option<bool>,
    /// The group's address: Exchange's identity for `allowExternal`, and named in its texts.
    pub mail: Option<String>,
    /// The tenant, as an alternative to `tenantFilter` (the dispatcher resolves either).
    #[serde(rename = "tenantId")]
    pub tenant_id: Option<String>,
    /// Not acted on by this service yet (400 when sent).
    #[serde(rename = "hideFromOutlookClients")]
    pub hide_from_outlook_clients: Option<bool>,
}

impl Operation for EditGroup {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "EditGroup";
    const TAG: &'static str = "Identity > Administration > Groups";
    const ROLE: Option<&'static str> = Some("Identity.Group.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const PARTIAL: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-EditGroup.ps1",
        frontend: Some("src/pages/identity/administration/groups/edit.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Inputs this service does not act on yet (`AddDevice`, `AddLicenses`, `RemoveLicenses`, \
         `sendCopies`, `hideFromOutlookClients`) are refused with a 400 naming \
         the field before anything is written. A missing `groupId`, a group id that is not an \
         object id, or a member/owner value that is neither an object id nor a user principal \
         name is a 400 naming the field. The Exchange cmdlets run one by one (CIPP sends them in \
         one Exchange batch); texts and order are CIPP's. When every change failed the answer is \
         an error status with every line, when some failed 207 (CIPP: always 200). A group Graph \
         cannot read is a 404 or 500 with Graph's text (CIPP: an uncaught 500).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "groupId": crate::demo::GROUP_ID,
            "AddMember": [{"label": "Kenji Robbins", "value": crate::demo::USER_ID, "addedFields": {"userPrincipalName": crate::demo::USER}}],
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        for (field, sent) in [
            ("AddDevice", !params.add_device.is_empty()),
            ("AddLicenses", !params.add_licenses.is_empty()),
            ("RemoveLicenses", !params.remove_licenses.is_empty()),
            ("sendCopies", params.send_copies.is_some()),
            ("hideFromOutlookClients", params.hide_from_outlook_clients.is_some()),
        ] {
            if sent {
                return Err(UserError::invalid(
                    field,
                    format!("{field}: not supported by this service yet; nothing was changed"),
                ));
            }
        }
        let group = params
            .group_id
            .as_ref()
            .and_then(ChoiceOrText::value)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| UserError::missing("groupId"))?
            .to_owned();
        if !crate::is_guid(&group) {
            return Err(UserError::invalid(
                "groupId",
                format!("groupId: '{group}' is not a group object id"),
            ));
        }
        for (field, list) in [
            ("AddMember", &params.add_member),
            ("RemoveMember", &params.remove_member),
            ("AddOwner", &params.add_owner),
            ("RemoveOwner", &params.remove_owner),
        ] {
            for item in list {
                let v = item.value().unwrap_or("").trim();
                let ok = !v.is_empty() && (crate::is_guid(v) || crate::op::types::UserId::parse(v).is_ok());
                if !ok {
                    return Err(UserError::invalid(
                        field,
                        format!("{field}: '{v}' is neither an object id nor a user principal name"),
                    ));
                }
            }
        }
        let _ = &params.tenant_id;
        let tenant = ctx.tenant()?;
        let lines = edit_group(&ctx.graph, &tenant.customer_id, &group, &params).await?;
        let audit = lines.join(" ");
        let failed = |l: &String| {
            l.starts_with("Error") || l.starts_with("Failed") || l.starts_with("You cannot")
        };
        let any_failed = lines.iter().any(failed);
        let any_done = lines.iter().any(|l| !failed(l));
        if any_failed && !any_done {
            return Err(UserError::Answered {
                kind: ErrorKind::of_failure_texts(lines.iter().map(String::as_str)),
                message: audit,
                results: json!(lines),
            });
        }
        Ok(Outcome::json(TextListResults::new(lines))
            .partial(any_failed)
            .audit_message(audit)
            .audit_target(group))
    }
}

/// A Graph change waiting for the batch: its request and CIPP's text for it.
struct GraphChange {
    request: BatchRequest,
    message: String,
}

/// An Exchange change: the cmdlet, its parameters and the texts it stands for (owners share one).
struct ExoChange {
    cmdlet: &'static str,
    parameters: Value,
    messages: Vec<String>,
}

fn directory_object(id: &str) -> String {
    format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")
}

fn graph_failure(e: GraphError) -> UserError {
    let message = normalize_graph_error(&e);
    if e.status() == Some(404) {
        UserError::not_found(message)
    } else {
        UserError::Failed {
            message,
            source: Some(Box::new(e)),
        }
    }
}

async fn edit_group(
    graph: &GraphClient,
    tenant: &str,
    group_id: &str,
    p: &Params,
) -> Result<Vec<String>, UserError> {
    let choice_fields = match &p.group_id {
        Some(ChoiceOrText::Choice(c)) => c.added_fields.clone().unwrap_or_default(),
        _ => ChoiceFields::default(),
    };
    let posted_kind = choice_fields.group_type.clone().or(p.group_type.clone());
    let name = p
        .group_name
        .clone()
        .or(p.display_name.clone())
        .or(choice_fields.group_name.clone())
        .unwrap_or_default();
    let segment = path_segment(group_id);
    let org = graph
        .get(tenant, GraphVersion::Beta, &format!("groups/{segment}"), &[])
        .await
        .map_err(graph_failure)?;
    let kind = edit_kind(&org)
        .map(str::to_owned)
        .or(posted_kind)
        .unwrap_or_default();
    let exchange = exchange_kind(&kind);
    let mut results: Vec<String> = Vec::new();
    let mut graph_changes: Vec<GraphChange> = Vec::new();
    let mut exo_changes: Vec<ExoChange> = Vec::new();
    let bypass = |mut params: Map<String, Value>| {
        params.insert("BypassSecurityGroupManagerCheck".into(), json!(true));
        Value::Object(params)
    };

    // Properties.
    if p.display_name.is_some()
        || p.description.is_some()
        || p.mail_nickname.is_some()
        || p.membership_rules.is_some()
    {
        let edited = format!(
            "Edited group properties for {name} group. It might take some time to reflect the changes."
        );
        if exchange {
            let mut params = Map::new();
            params.insert("Identity".into(), json!(group_id));
            params.insert("DisplayName".into(), json!(p.display_name));
            params.insert("Description".into(), json!(p.description));
            params.insert("Name".into(), json!(p.mail_nickname));
            exo_changes.push(ExoChange {
                cmdlet: "Set-DistributionGroup",
                parameters: Value::Object(params),
                messages: vec![edited],
            });
        } else {
            let security = p
                .security_enabled
                .map(Value::Bool)
                .unwrap_or_else(|| org.get("securityEnabled").cloned().unwrap_or(Value::Null));
            let mut body = Map::new();
            body.insert("displayName".into(), json!(p.display_name));
            body.insert("description".into(), json!(p.description));
            body.insert("mailNickname".into(), json!(p.mail_nickname));
            body.insert(
                "mailEnabled".into(),
                org.get("mailEnabled").cloned().unwrap_or(Value::Null),
            );
            body.insert("securityEnabled".into(), security);
            if let Some(rule) = &p.membership_rules {
                body.insert("membershipRule".into(), json!(rule));
            }
            match graph
                .patch(
                    tenant,
                    GraphVersion::Beta,
                    &format!("groups/{segment}"),
                    &Value::Object(body),
                )
                .await
            {
                Ok(_) => {
                    results.push(format!("Success - {edited}"));
                    let before = org.get("securityEnabled").and_then(Value::as_bool);
                    if let Some(new) = p.security_enabled
                        && Some(new) != before
                    {
                        let state = if new { "enabled" } else { "disabled" };
                        results.push(format!("Security capabilities {state} for group {name}"));
                    }
                }
                Err(e) => results.push(format!(
                    "Error - Failed to edit group properties: {}",
                    e.service_message()
                )),
            }
        }
    }

    // Members.
    for item in &p.add_member {
        let member = item.member().to_owned();
        let member_id = match item.value() {
            Some(v) if crate::is_guid(v) => v.to_owned(),
            // CIPP looks the user up when the picker gave no object id (and skips the member,
            // with a warning only, when that fails).
            _ => match graph
                .get(
                    tenant,
                    GraphVersion::Beta,
                    &format!("users/{}", path_segment(&member)),
                    &[],
                )
                .await
            {
                Ok(user) => user
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                Err(e) => {
                    tracing::warn!(tenant, "Error in AddMembers: {}", normalize_graph_error(&e));
                    continue;
                }
            },
        };
        let message = format!("Added member {member} to {name} group");
        if exchange {
            let mut params = Map::new();
            params.insert("Identity".into(), json!(group_id));
            params.insert("Member".into(), json!(member));
            exo_changes.push(ExoChange {
                cmdlet: "Add-DistributionGroupMember",
                parameters: bypass(params),
                messages: vec![message],
            });
        } else {
            graph_changes.push(GraphChange {
                request: BatchRequest::new(HttpMethod::PATCH, format!("groups/{segment}"))
                    .with_body(json!({"members@odata.bind": [directory_object(&member_id)]})),
                message,
            });
        }
    }

    // Contacts: Exchange groups only.
    for item in &p.add_contact {
        if exchange {
            let mut params = Map::new();
            params.insert("Identity".into(), json!(group_id));
            params.insert("Member".into(), json!(item.value()));
            exo_changes.push(ExoChange {
                cmdlet: "Add-DistributionGroupMember",
                parameters: bypass(params),
                messages: vec![format!(
                    "Added contact {} to {name} group",
                    item.label().unwrap_or("")
                )],
            });
        } else {
            results.push("Error - You cannot add a contact to a Security Group or a M365 Group".into());
        }
    }
    for item in &p.remove_contact {
        if exchange {
            let mut params = Map::new();
            params.insert("Identity".into(), json!(group_id));
            params.insert("Member".into(), json!(item.value()));
            exo_changes.push(ExoChange {
                cmdlet: "Remove-DistributionGroupMember",
                parameters: bypass(params),
                messages: vec![format!("Removed contact {} from {name} group", item.member())],
            });
        } else {
            results.push("You cannot remove a contact from a Security Group".into());
        }
    }

    for item in &p.remove_member {
        let member = item.member().to_owned();
        let message = format!("Removed member {member} from {name} group");
        if exchange {
            let mut params = Map::new();
            params.insert("Identity".into(), json!(group_id));
            params.insert("Member".into(), json!(member));
            exo_changes.push(ExoChange {
                cmdlet: "Remove-DistributionGroupMember",
                parameters: bypass(params),
                messages: vec![message],
            });
        } else {
            let id = item.value().unwrap_or("");
            graph_changes.push(GraphChange {
                request: BatchRequest::new(
                    HttpMethod::DELETE,
                    format!("groups/{segment}/members/{}/$ref", path_segment(id)),
                ),
                message,
            });
        }
    }

    // Owners.
    if !exchange {
        for item in &p.add_owner {
            let id = item.value().unwrap_or("");
            graph_changes.push(GraphChange {
                request: BatchRequest::new(HttpMethod::POST, format!("groups/{segment}/owners/$ref"))
                    .with_body(json!({"@odata.id": directory_object(id)})),
                message: format!("Added owner {} to {name} group", item.member()),
            });
        }
        for item in &p.remove_owner {
            let id = item.value().unwrap_or("");
            graph_changes.push(GraphChange {
                request: BatchRequest::new(
                    HttpMethod::DELETE,
                    format!("groups/{segment}/owners/{}/$ref", path_segment(id)),
                ),
                message: format!("Removed owner {} from {name} group", item.member()),
            });
        }
    } else if !p.add_owner.is_empty() || !p.remove_owner.is_empty() {
        // One ManagedBy rewrite carries every owner change, so its lines share one outcome.
        let current: Vec<String> = graph
            .exchange(
                tenant,
                "Get-DistributionGroup",
                json!({"Identity": group_id}),
                None,
            )
            .await
            .map_err(graph_failure)?
            .first()
            .and_then(|g| g.get("ManagedBy"))
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let mut messages = Vec::new();
        let mut managed_by: Vec<String> = Vec::new();
        for owner in current {
            if let Some(removed) = p
                .remove_owner
                .iter()
                .find(|r| r.value().is_some_and(|v| v.eq_ignore_ascii_case(&owner)))
            {
                messages.push(format!(
                    "Removed owner {} from {name} group",
                    removed.label().unwrap_or("")
                ));
                continue;
            }
            managed_by.push(owner);
        }
        for added in &p.add_owner {
            managed_by.push(added.value().unwrap_or("").to_owned());
            messages.push(format!(
                "Added owner {} to {name} group",
                added.label().unwrap_or("")
            ));
        }
        // Sort-Object -Unique: case-insensitive order, case-insensitive duplicates.
        managed_by.sort_by_key(|o| o.to_lowercase());
        managed_by.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let mut params = Map::new();
        params.insert("Identity".into(), json!(group_id));
        params.insert("ManagedBy".into(), json!(managed_by));
        exo_changes.push(ExoChange {
            cmdlet: "Set-DistributionGroup",
            parameters: bypass(params),
            messages,
        });
    }

    // The Graph batch, then the Exchange cmdlets, each line in the order it was queued.
    if !graph_changes.is_empty() {
        let requests: Vec<BatchRequest> = graph_changes
            .iter()
            .enumerate()
            .map(|(i, c)| c.request.clone().with_id(i.to_string()))
            .collect();
        let answers = graph
            .app_only()
            .batch(tenant, GraphVersion::Beta, requests)
            .await
            .map_err(graph_failure)?;
        for (i, change) in graph_changes.iter().enumerate() {
            let id = i.to_string();
            match answers.iter().find(|a| a.id == id) {
                Some(a) if !a.is_success() => {
                    let text = a
                        .error_message()
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("Request failed with status {}", a.status));
                    let line = format!("Error - {}", normalize_message(&text));
                    tracing::warn!(tenant, "{line}");
                    results.push(line);
                }
                _ => {
                    tracing::info!(tenant, "{}", change.message);
                    results.push(format!("Success - {}", change.message));
                }
            }
        }
    }
    for change in exo_changes {
        let outcome = graph
            .exchange(tenant, change.cmdlet, change.parameters, None)
            .await;
        for message in change.messages {
            match &outcome {
                Ok(_) => {
                    tracing::info!(tenant, "{message}");
                    results.push(format!("Success - {message}"));
                }
                Err(e) => {
                    let text = normalize_graph_error(e);
                    tracing::warn!(tenant, "{message} failed: {text}");
                    results.push(format!("Error - {text}"));
                }
            }
        }
    }

    // Sender restriction (`Set-CIPPGroupAuthentication`): not for security groups.
    if let Some(allow) = p.allow_external
        && kind != "Security"
    {
        let mail = p.mail.clone().unwrap_or_default();
        let cmdlet = if exchange {
            Some("Set-DistributionGroup")
        } else if kind == "Microsoft 365" {
            Some("Set-UnifiedGroup")
        } else {
            None
        };
        let outcome = match cmdlet {
            Some(cmdlet) => graph
                .exchange(
                    tenant,
                    cmdlet,
                    json!({"Identity": mail, "RequireSenderAuthenticationEnabled": !allow}),
                    None,
                )
                .await
                .map(|_| ())
                .map_err(|e| normalize_graph_error(&e)),
            None => Ok(()),
        };
        match outcome {
            Ok(()) if allow => results.push(format!("Allowed external senders to send to {mail}.")),
            Ok(()) => results.push(format!("Blocked external senders from sending to {mail}.")),
            Err(text) => {
                tracing::warn!(tenant, "Failed to set Delivery Management: {text}");
                let action = if allow { "allow" } else { "block" };
                results.push(format!("Failed to {action} external senders for {mail}."));
            }
        }
    }

    // Visibility: Microsoft 365 groups only.
    if kind == "Microsoft 365"
        && let Some(visibility) = p.visibility.as_deref().filter(|v| !v.trim().is_empty())
    {
        match graph
            .patch(
                tenant,
                GraphVersion::Beta,
                &format!("groups/{segment}"),
                &json!({"visibility": visibility}),
            )
            .await
        {
            Ok(_) => results.push(format!("Set group visibility to {visibility} for {name}.")),
            Err(e) => results.push(format!(
                "Failed to set group visibility for {name}: {}",
                normalize_graph_error(&e)
            )),
        }
    }
    Ok(results)
}
