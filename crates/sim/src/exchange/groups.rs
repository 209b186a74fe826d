//! Distribution lists and mail-enabled security groups, which Exchange owns (Graph refuses
//! their membership): `Get-DistributionGroup`, `Set-DistributionGroup` (`ManagedBy`,
//! `DisplayName`, `Description`), `Add-DistributionGroupMember` and
//! `Remove-DistributionGroupMember`. They read and write the same groups Graph lists
//! (`seed_reads`), so a change made here is what `GET groups/{id}/members` answers next.
//!
//! `ManagedBy` holds the owners' object ids (CIPP passes it to `directoryObjects/getByIds`).
//! A member must be a mail recipient (a user with a mailbox); adding an existing member or
//! removing a non-member is Exchange's error.

use serde_json::{Value, json};

use super::cmdlets::{Cx, one, paginate, view};
use super::{Answer, ExoError};
use crate::graph::groups::exchange_owned;
use crate::seed_reads::Group;

fn matches(group: &Group, key: &str) -> bool {
    let v = &group.value;
    let text = |name: &str| v.get(name).and_then(Value::as_str).unwrap_or("");
    [
        text("id"),
        text("mail"),
        text("displayName"),
        text("mailNickname"),
    ]
    .iter()
    .any(|t| !t.is_empty() && t.eq_ignore_ascii_case(key.trim()))
}

fn with_group<R>(
    cx: &Cx<'_>,
    key: &str,
    f: impl FnOnce(&mut Group) -> Result<R, ExoError>,
) -> Result<R, ExoError> {
    let data = cx.sim.reads.tenant(cx.sim.seed, cx.tenant);
    let mut r = data.write();
    let group = r
        .groups
        .iter_mut()
        .find(|g| exchange_owned(g) && matches(g, key))
        .ok_or_else(|| ExoError::not_found(key, cx.server))?;
    f(group)
}

fn render(cx: &Cx<'_>, g: &Group) -> Value {
    let v = &g.value;
    let text = |name: &str| v.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
    let security = v.get("securityEnabled").and_then(Value::as_bool) == Some(true);
    json!({
        "Identity": text("displayName"),
        "Name": text("mailNickname"),
        "DisplayName": text("displayName"),
        "Alias": text("mailNickname"),
        "Description": [text("description")],
        "PrimarySmtpAddress": text("mail"),
        "EmailAddresses": [format!("SMTP:{}", text("mail"))],
        "ExternalDirectoryObjectId": g.id(),
        "Guid": g.id(),
        "GroupType": if security { "Universal, SecurityEnabled" } else { "Universal" },
        "RecipientType": if security { "MailUniversalSecurityGroup" } else { "MailUniversalDistributionGroup" },
        "RecipientTypeDetails": if security { "MailUniversalSecurityGroup" } else { "MailUniversalDistributionGroup" },
        "ManagedBy": g.owners,
        "RequireSenderAuthenticationEnabled": g.sender_auth_required,
        "HiddenFromAddressListsEnabled": false,
        "OrganizationalUnit": cx.tenant.initial_domain(),
    })
}

/// `Get-DistributionGroup [-Identity <id|mail|name>]`.
pub(crate) fn get(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "ResultSize", "Filter"])?;
    match cx.params.text("Identity").filter(|s| !s.trim().is_empty()) {
        Some(key) => with_group(cx, &key, |g| Ok(one(render(cx, g)))),
        None => {
            let data = cx.sim.reads.tenant(cx.sim.seed, cx.tenant);
            let r = data.read();
            let items = r
                .groups
                .iter()
                .filter(|g| exchange_owned(g))
                .map(|g| render(cx, g))
                .collect();
            Ok(paginate(items, &cx.page))
        }
    }
}

/// The object id of a mail recipient (a user with a mailbox).
fn recipient_id(cx: &Cx<'_>, key: &str) -> Result<String, ExoError> {
    view(cx, key, |_, user, _| Ok(user.id().to_owned()))
}

/// `Add-DistributionGroupMember` / `Remove-DistributionGroupMember -Identity -Member`.
pub(crate) fn change_member(cx: &Cx<'_>, add: bool) -> Result<Answer, ExoError> {
    cx.params
        .only(&["Identity", "Member", "BypassSecurityGroupManagerCheck"])?;
    let identity = cx.params.required("Identity")?;
    let member = cx.params.required("Member")?;
    let id = recipient_id(cx, &member)?;
    with_group(cx, &identity, |g| {
        let name = g.value["displayName"].as_str().unwrap_or("").to_owned();
        let present = g.members.contains(&id);
        match (add, present) {
            (true, true) => Err(ExoError::task(format!(
                "The recipient \"{member}\" is already a member of the group \"{name}\"."
            ))),
            (false, false) => Err(ExoError::task(format!(
                "Couldn't find object \"{member}\". Please make sure that it was spelled correctly or specify a different object. The recipient \"{member}\" isn't a member of the group \"{name}\"."
            ))),
            (true, false) => {
                g.members.push(id);
                Ok(Answer::default())
            }
            (false, true) => {
                g.members.retain(|m| m != &id);
                Ok(Answer::default())
            }
        }
    })
}

/// `Set-DistributionGroup -Identity [-ManagedBy] [-DisplayName] [-Description] [-Name]`.
pub(crate) fn set(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&[
        "Identity",
        "ManagedBy",
        "DisplayName",
        "Description",
        "Name",
        "BypassSecurityGroupManagerCheck",
        "RequireSenderAuthenticationEnabled",
    ])?;
    let sender_auth = cx.params.flag("RequireSenderAuthenticationEnabled")?;
    let identity = cx.params.required("Identity")?;
    let owners = match cx.params.get("ManagedBy") {
        None => None,
        Some(v) => {
            let keys: Vec<String> = match v {
                Value::Array(list) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                Value::String(s) => vec![s.clone()],
                Value::Null => Vec::new(),
                other => return Err(ExoError::bad_value("ManagedBy", other)),
            };
            let store = cx.tenant.users.read();
            let mut ids = Vec::new();
            for key in keys {
                let user = store
                    .get(&key)
                    .ok_or_else(|| ExoError::not_found(&key, cx.server))?;
                ids.push(user.id().to_owned());
            }
            Some(ids)
        }
    };
    let security_needs_owner = owners.as_ref().is_some_and(Vec::is_empty);
    with_group(cx, &identity, |g| {
        let security = g.value.get("securityEnabled").and_then(Value::as_bool) == Some(true);
        if security && security_needs_owner {
            return Err(ExoError::task(
                "A mail-enabled security group must have at least one owner (ManagedBy).",
            ));
        }
        if let Some(ids) = owners {
            g.owners = ids;
        }
        if let Some(required) = sender_auth {
            g.sender_auth_required = required;
        }
        for (param, field) in [
            ("DisplayName", "displayName"),
            ("Description", "description"),
            ("Name", "mailNickname"),
        ] {
            if let Some(text) = cx.params.text(param) {
                g.value.insert(field.into(), json!(text));
            }
        }
        Ok(Answer::default())
    })
}

fn is_unified(g: &Group) -> bool {
    !exchange_owned(g)
        && g.value["groupTypes"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x == "Unified"))
}

/// `Set-UnifiedGroup -Identity <id|mail|name> -RequireSenderAuthenticationEnabled <bool>`.
pub(crate) fn set_unified(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params
        .only(&["Identity", "RequireSenderAuthenticationEnabled"])?;
    let key = cx.params.required("Identity")?;
    let required = cx.params.flag("RequireSenderAuthenticationEnabled")?;
    let data = cx.sim.reads.tenant(cx.sim.seed, cx.tenant);
    let mut r = data.write();
    let g = r
        .groups
        .iter_mut()
        .find(|g| is_unified(g) && matches(g, &key))
        .ok_or_else(|| ExoError::not_found(&key, cx.server))?;
    if let Some(required) = required {
        g.sender_auth_required = required;
    }
    Ok(Answer::default())
}

/// `Get-UnifiedGroup -Identity <id|mail|name>`: a Microsoft 365 group's Exchange settings (the
/// defaults a new group has, and the sender restriction `Set-UnifiedGroup` changes).
pub(crate) fn get_unified(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "ResultSize"])?;
    let key = cx.params.required("Identity")?;
    let data = cx.sim.reads.tenant(cx.sim.seed, cx.tenant);
    let r = data.read();
    let g = r
        .groups
        .iter()
        .find(|g| is_unified(g) && matches(g, &key))
        .ok_or_else(|| ExoError::not_found(&key, cx.server))?;
    let text = |name: &str| {
        g.value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    Ok(one(json!({
        "Identity": text("displayName"),
        "DisplayName": text("displayName"),
        "Alias": text("mailNickname"),
        "PrimarySmtpAddress": text("mail"),
        "ExternalDirectoryObjectId": g.id(),
        "RequireSenderAuthenticationEnabled": g.sender_auth_required,
        "SubscriptionEnabled": false,
        "AutoSubscribeNewMembers": false,
        "HiddenFromExchangeClientsEnabled": false,
        "AccessType": text("visibility"),
    })))
}
