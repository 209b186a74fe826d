//! `EditUser` (CIPP-API `Invoke-EditUser.ps1` → `Set-CIPPUser.ps1`): the edit-user form. In
//! CIPP's order: the property PATCH (and the password), licences (`Set-CIPPUserLicense`),
//! group additions and removals (after one `$batch` reading the groups' types), the manager.
//!
//! Inputs this service does not act on yet (scheduling, Sherweb licences, `AddedAliases`,
//! `CopyFrom`, `setSponsor`, Exchange-owned groups) are refused before anything is written,
//! rather than skipped as if done.

use cipp_graph::{BatchRequest, GraphClient, GraphVersion, Method};
use serde_json::{Map, Value, json};

use crate::normalize::normalize_graph_error;
use crate::patch_user::{item_error, set_managers};
use crate::{UserError, path_segment};

/// The form body, read with CIPP's case-insensitive keys.
pub struct EditUserBody<'a>(pub &'a Map<String, Value>);

impl EditUserBody<'_> {
    fn raw(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    /// A string, or a `{label, value}`'s value; blank is absent.
    fn text(&self, name: &str) -> Option<String> {
        text_of(self.raw(name)?)
    }

    /// Only `.value` of a `{label, value}` (CIPP reads `setManager.value`, `CopyFrom.value`, …).
    fn value_of(&self, name: &str) -> Option<String> {
        let v = self.raw(name)?.as_object()?;
        let inner = v.iter().find(|(k, _)| k.eq_ignore_ascii_case("value"))?.1;
        text_of(inner)
    }
}

fn text_of(value: &Value) -> Option<String> {
    let s = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Object(o) => {
            return o
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .and_then(|(_, v)| text_of(v));
        }
        _ => return None,
    };
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// PowerShell's `[bool]` cast: absent, null, `false`, `0` and `""` are false, any other string
/// (`"false"` included) is true.
fn ps_truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(_)) => true,
    }
}

/// PowerShell's `$x -eq $false`: JSON `false`, `0`, and the string `"false"` in any case.
fn equals_false(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => !*b,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("false"),
        _ => false,
    }
}

/// A group of `AddToGroups` / `RemoveFromGroups`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: String,
    pub label: String,
    pub group_type: Option<String>,
    pub calculated_type: Option<String>,
}

fn groups(body: &EditUserBody<'_>, field: &'static str) -> Result<Vec<GroupRef>, UserError> {
    let Some(value) = body.raw(field) else {
        return Ok(Vec::new());
    };
    let items = match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    items
        .iter()
        .map(|item| {
            let obj = item.as_object().ok_or_else(|| {
                UserError::invalid(
                    field,
                    format!("{field} entries must be {{label, value}} objects"),
                )
            })?;
            let get = |name: &str| {
                obj.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| text_of(v))
            };
            let id = get("value").ok_or_else(|| {
                UserError::invalid(
                    field,
                    format!("{field} entries need a value (the group id)"),
                )
            })?;
            let added = obj
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("addedFields"))
                .and_then(|(_, v)| v.as_object());
            let added_text = |name: &str| {
                added
                    .and_then(|a| a.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                    .and_then(|(_, v)| text_of(v))
            };
            Ok(GroupRef {
                label: get("label").unwrap_or_else(|| id.clone()),
                id,
                group_type: added_text("groupType"),
                calculated_type: added_text("calculatedGroupType"),
            })
        })
        .collect()
}

/// Fields CIPP clears when named in `clearProperties`.
const CLEARABLE: &[&str] = &[
    "givenName",
    "surname",
    "department",
    "jobTitle",
    "mobilePhone",
    "streetAddress",
    "city",
    "state",
    "postalCode",
    "country",
    "companyName",
    "businessPhones",
    "otherMails",
];

/// The PATCH body CIPP builds from the form: blanks and empty arrays dropped, `clearProperties`
/// re-added as null (or `[]`), then `defaultAttributes` and `customData` on top.
pub fn patch_body(body: &EditUserBody<'_>, upn: &str, must_change: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |name: &str, value: Option<Value>| {
        let keep = match &value {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(_) => true,
        };
        if let Some(v) = value.filter(|_| keep) {
            out.insert(name.to_owned(), v);
        }
    };
    let plain = |name: &str| body.text(name).map(Value::String);
    put("givenName", plain("givenName"));
    put("surname", plain("surname"));
    put("displayName", plain("displayName"));
    put("department", plain("department"));
    put(
        "mailNickname",
        body.text("username")
            .or_else(|| body.text("mailNickname"))
            .map(Value::String),
    );
    put("userPrincipalName", Some(json!(upn)));
    put("usageLocation", plain("usageLocation"));
    for name in [
        "jobTitle",
        "mobilePhone",
        "streetAddress",
        "city",
        "state",
        "postalCode",
        "country",
        "companyName",
    ] {
        put(name, plain(name));
    }
    let phones = match body.raw("businessPhones") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(text_of)
            .map(Value::String)
            .collect(),
        Some(other) => text_of(other).map(Value::String).into_iter().collect(),
        None => Vec::new(),
    };
    put("businessPhones", Some(Value::Array(phones)));
    let other_mails: Vec<Value> = match body.raw("otherMails") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
    .iter()
    .flat_map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    })
    .map(Value::String)
    .collect();
    put("otherMails", Some(Value::Array(other_mails)));
    out.insert(
        "passwordProfile".into(),
        json!({"forceChangePasswordNextSignIn": must_change}),
    );
    if let Some(Value::Array(clear)) = body.raw("clearProperties") {
        for name in clear.iter().filter_map(Value::as_str) {
            if let Some(field) = CLEARABLE.iter().find(|c| c.eq_ignore_ascii_case(name)) {
                let empty = if matches!(*field, "businessPhones" | "otherMails") {
                    json!([])
                } else {
                    Value::Null
                };
                out.insert((*field).to_owned(), empty);
            }
        }
    }
    if let Some(Value::Object(attrs)) = body.raw("defaultAttributes") {
        for (name, entry) in attrs {
            let value = entry
                .as_object()
                .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("value")))
                .map(|(_, v)| v);
            if let Some(v) = value.filter(|v| ps_truthy(Some(v)) || v.is_boolean()) {
                out.insert(name.clone(), v.clone());
            }
        }
    }
    if let Some(Value::Object(data)) = body.raw("customData") {
        for (name, v) in data {
            if ps_truthy(Some(v)) || v.is_boolean() || v.is_number() {
                out.insert(name.clone(), v.clone());
            }
        }
    }
    out
}

/// The edit, validated: everything CIPP would act on, refused where this service cannot.
pub struct EditUser {
    pub id: String,
    pub display_name: String,
    pub upn: String,
    pub patch: Map<String, Value>,
    pub password: Option<String>,
    pub must_change: bool,
    pub licenses: Vec<String>,
    pub remove_licenses_truthy: bool,
    pub remove_licenses_is_false: bool,
    pub add_groups: Vec<GroupRef>,
    pub remove_groups: Vec<GroupRef>,
    pub manager: Option<String>,
}

impl EditUser {
    /// Reads the form. A missing `id` is CIPP's own 400 text (the caller sends it as
    /// `["Failed to edit user. No user ID provided"]`); the rest are 400s naming the field.
    pub fn from_body(body: &Map<String, Value>) -> Result<Self, UserError> {
        let b = EditUserBody(body);
        let id = b
            .text("id")
            .ok_or_else(|| UserError::invalid("id", "Failed to edit user. No user ID provided"))?;
        let scheduled = b
            .raw("Scheduled")
            .and_then(Value::as_object)
            .and_then(|s| s.iter().find(|(k, _)| k.eq_ignore_ascii_case("enabled")))
            .is_some_and(|(_, v)| ps_truthy(Some(v)));
        if scheduled {
            return Err(UserError::invalid(
                "Scheduled",
                "Scheduled: scheduling an edit is not supported by this service yet; send it without Scheduled.enabled",
            ));
        }
        let refuse = |field: &'static str, what: &str| {
            UserError::invalid(
                field,
                format!("{field}: {what} is not supported by this service yet"),
            )
        };
        if b.value_of("sherwebLicense").is_some() {
            return Err(refuse("sherwebLicense", "buying a Sherweb licence"));
        }
        if b.text("AddedAliases").is_some() {
            return Err(UserError::invalid(
                "AddedAliases",
                "AddedAliases: adding aliases in EditUser is not supported by this service yet; use EditUserAliases",
            ));
        }
        if b.value_of("CopyFrom").is_some() {
            return Err(refuse("CopyFrom", "copying group memberships"));
        }
        if b.value_of("setSponsor").is_some() {
            return Err(refuse("setSponsor", "setting a sponsor"));
        }
        let username = b.text("username");
        let domain = b.text("Domain").or_else(|| b.value_of("primDomain"));
        // CIPP sends `<username>@<domain>` regardless; without either, Graph refuses the whole
        // PATCH, so the edit would do nothing but report a failure.
        let username = username.ok_or_else(|| UserError::missing("username"))?;
        let domain = domain.ok_or_else(|| {
            UserError::invalid(
                "Domain",
                "Domain or primDomain is required (the UPN's domain)",
            )
        })?;
        let upn = format!("{username}@{domain}");
        let must_change = ps_truthy(b.raw("MustChangePass"));
        let patch = patch_body(&b, &upn, must_change);
        let licenses = match b.raw("licenses") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_object())
                .filter_map(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("value")))
                .filter_map(|(_, v)| text_of(v))
                .collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            display_name: b.text("displayName").unwrap_or_else(|| id.clone()),
            id,
            upn,
            patch,
            password: b.text("password"),
            must_change,
            licenses,
            remove_licenses_truthy: ps_truthy(b.raw("removeLicenses")),
            remove_licenses_is_false: equals_false(b.raw("removeLicenses")),
            add_groups: groups(&b, "AddToGroups")?,
            remove_groups: groups(&b, "RemoveFromGroups")?,
            manager: b.value_of("setManager"),
        })
    }
}

/// What the edit did: CIPP's lines, whether any step failed, and the lines without the
/// password for the audit row.
pub struct EditOutcome {
    pub results: Vec<String>,
    pub failed: bool,
    pub log_lines: Vec<String>,
}

/// Whether CIPP would send this group's membership through Exchange.
fn exchange_owned(group: &GroupRef, looked_up: Option<&Value>) -> bool {
    let flag = |v: &Value, name: &str| v.get(name).and_then(Value::as_bool);
    if let Some(g) = looked_up
        && (flag(g, "mailEnabled").is_some() || flag(g, "securityEnabled").is_some())
    {
        let unified = g
            .get("groupTypes")
            .and_then(Value::as_array)
            .is_some_and(|t| {
                t.iter().any(|x| {
                    x.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("Unified"))
                })
            });
        let mail = flag(g, "mailEnabled") == Some(true);
        return !unified && mail;
    }
    let is = |v: &Option<String>, names: &[&str]| {
        v.as_deref()
            .is_some_and(|s| names.iter().any(|n| s.eq_ignore_ascii_case(n)))
    };
    if group.calculated_type.is_some() {
        is(&group.calculated_type, &["distributionList", "security"])
    } else {
        is(
            &group.group_type,
            &[
                "Distribution List",
                "Mail-Enabled Security",
                "distributionList",
            ],
        )
    }
}

/// Performs the edit. Graph refusals become CIPP's failure lines; the caller answers with an
/// error status when any step failed (CIPP: always 200).
pub async fn edit_user(
    graph: &GraphClient,
    tenant: &str,
    edit: &EditUser,
) -> Result<EditOutcome, UserError> {
    let segment = path_segment(&edit.id);
    // CIPP reads the groups' types just before adding and removing; it is read first here so
    // that an Exchange-owned group (whose membership this service cannot change yet) is
    // refused before anything is written.
    let all_groups: Vec<&GroupRef> = edit.add_groups.iter().chain(&edit.remove_groups).collect();
    let mut types: Vec<Option<Value>> = vec![None; all_groups.len()];
    if !all_groups.is_empty() {
        let requests = all_groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                BatchRequest::get(format!(
                    "groups/{}?$select=id,groupTypes,mailEnabled,securityEnabled",
                    path_segment(&g.id)
                ))
                .with_id(i.to_string())
            })
            .collect();
        match graph.batch(tenant, GraphVersion::Beta, requests).await {
            Ok(answers) => {
                for (slot, answer) in types.iter_mut().zip(answers) {
                    if answer.is_success() {
                        *slot = answer.body;
                    }
                }
            }
            Err(e) => tracing::warn!(
                tenant,
                "Could not look up group types, falling back to the types supplied by the request: {e}"
            ),
        }
        if let Some(g) = all_groups
            .iter()
            .zip(&types)
            .find(|(g, t)| exchange_owned(g, t.as_ref()))
            .map(|(g, _)| g)
        {
            return Err(UserError::invalid(
                "AddToGroups",
                format!(
                    "AddToGroups/RemoveFromGroups: {} is a distribution list or mail-enabled security group; changing its members through Exchange is not supported by this service yet",
                    g.label
                ),
            ));
        }
    }

    let mut results: Vec<String> = Vec::new();
    let mut log_lines: Vec<String> = Vec::new();
    let mut failed = false;
    let mut fail = |line: String, results: &mut Vec<String>, log: &mut Vec<String>| {
        failed = true;
        tracing::warn!(tenant, user = edit.id, "{line}");
        log.push(line.clone());
        results.push(line);
    };

    // 1. Properties, then the password in the same try block.
    match graph
        .patch(
            tenant,
            GraphVersion::Beta,
            &format!("users/{segment}"),
            &Value::Object(edit.patch.clone()),
        )
        .await
    {
        Ok(_) => {
            let line = "Success. The user has been edited.".to_owned();
            tracing::info!(
                tenant,
                "Edited user {} with id {}",
                edit.display_name,
                edit.id
            );
            log_lines.push(line.clone());
            results.push(line);
            if let Some(password) = &edit.password {
                let body = json!({"passwordProfile": {"password": password, "forceChangePasswordNextSignIn": edit.must_change}});
                match graph
                    .patch(
                        tenant,
                        GraphVersion::Beta,
                        &format!("users/{segment}"),
                        &body,
                    )
                    .await
                {
                    Ok(_) => {
                        tracing::info!(tenant, "Reset {}'s Password", edit.display_name);
                        results.push(format!("Success. The password has been set to {password}"));
                        log_lines.push("Success. The password has been set".to_owned());
                    }
                    Err(e) => fail(
                        format!("Failed to edit user. {}", normalize_graph_error(&e)),
                        &mut results,
                        &mut log_lines,
                    ),
                }
            }
        }
        Err(e) => fail(
            format!("Failed to edit user. {}", normalize_graph_error(&e)),
            &mut results,
            &mut log_lines,
        ),
    }

    // 2. Licences.
    if !edit.licenses.is_empty() || edit.remove_licenses_truthy {
        match licences(graph, tenant, edit).await {
            Ok(line) if line.starts_with("Failed") => fail(line, &mut results, &mut log_lines),
            Ok(line) => {
                log_lines.push(line.clone());
                results.push(line);
            }
            Err(e) => fail(
                format!(
                    "We've failed to assign the license. {}",
                    normalize_graph_error(&e)
                ),
                &mut results,
                &mut log_lines,
            ),
        }
    }

    // 6./7. Group membership through Graph.
    let directory_object = json!({
        "@odata.id": format!("https://graph.microsoft.com/beta/directoryObjects/{}", edit.id)
    });
    for g in &edit.add_groups {
        let url = format!("groups/{}/members/$ref", path_segment(&g.id));
        match graph
            .post(tenant, GraphVersion::Beta, &url, &directory_object)
            .await
        {
            Ok(_) => {
                let line = format!(
                    "Success. {} has been added to {}",
                    edit.display_name, g.label
                );
                log_lines.push(line.clone());
                results.push(line);
            }
            Err(e) => fail(
                format!(
                    "Failed to add member {} to {}. Error: {}",
                    edit.display_name,
                    g.label,
                    normalize_graph_error(&e)
                ),
                &mut results,
                &mut log_lines,
            ),
        }
    }
    for g in &edit.remove_groups {
        let url = format!("groups/{}/members/{segment}/$ref", path_segment(&g.id));
        match graph.delete(tenant, GraphVersion::Beta, &url).await {
            Ok(_) => {
                let line = format!(
                    "Success. {} has been removed from {}",
                    edit.display_name, g.label
                );
                log_lines.push(line.clone());
                results.push(line);
            }
            Err(e) => fail(
                format!(
                    "Failed to remove member {} from {}. Error: {}",
                    edit.display_name,
                    g.label,
                    normalize_graph_error(&e)
                ),
                &mut results,
                &mut log_lines,
            ),
        }
    }

    // 8. Manager, keyed on the UPN the form computed.
    if let Some(manager) = &edit.manager {
        match set_managers(graph, tenant, std::slice::from_ref(&edit.upn), manager).await {
            Ok(list) => {
                for r in list {
                    if r.success {
                        log_lines.push(r.result.clone());
                        results.push(r.result);
                    } else {
                        fail(r.result, &mut results, &mut log_lines);
                    }
                }
            }
            // CIPP has no try block here: the entrypoint's catch answers this alone.
            Err(e) => {
                return Err(UserError::Failed {
                    message: format!("Failed to edit user. {}", normalize_graph_error(&e)),
                    source: Some(Box::new(e)),
                });
            }
        }
    }
    Ok(EditOutcome {
        results,
        failed,
        log_lines,
    })
}

/// Step 2 and `Set-CIPPUserLicense` in single mode: the first result line.
async fn licences(
    graph: &GraphClient,
    tenant: &str,
    edit: &EditUser,
) -> Result<String, cipp_graph::GraphError> {
    let user = graph
        .get(
            tenant,
            GraphVersion::Beta,
            &format!("users/{}", path_segment(&edit.id)),
            &[],
        )
        .await?;
    let current: Vec<String> = user
        .get("assignedLicenses")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|x| x.get("skuId").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if current.join(",") == edit.licenses.join(",") && edit.remove_licenses_is_false {
        return Ok("Success. User license is already correct.".to_owned());
    }
    let (add, remove): (Vec<String>, Vec<String>) = if edit.remove_licenses_truthy {
        (Vec::new(), current)
    } else {
        let remove = current
            .into_iter()
            .filter(|c| !edit.licenses.iter().any(|l| l.eq_ignore_ascii_case(c)))
            .collect();
        (edit.licenses.clone(), remove)
    };
    let body = json!({
        "addLicenses": add.iter().map(|s| json!({"disabledPlans": [], "skuId": s})).collect::<Vec<_>>(),
        "removeLicenses": remove,
    });
    let request = BatchRequest::new(
        Method::POST,
        format!("users/{}/assignLicense", path_segment(&edit.id)),
    )
    .with_id(edit.id.clone())
    .with_body(body);
    let answers = graph
        .batch(tenant, GraphVersion::Beta, vec![request])
        .await?;
    let upn = &edit.upn;
    Ok(match answers.into_iter().next() {
        Some(a) if a.is_success() => format!(
            "Successfully set licenses for {upn}. It may take 2\u{2013}5 minutes before the changes become visible."
        ),
        Some(a) => format!(
            "Failed to assign licenses for user {upn}: {}",
            item_error(a.status, a.error_message())
        ),
        None => format!("Failed to assign licenses for user {upn}: no answer from Graph"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn blanks_are_dropped_and_cleared_fields_sent_as_null() {
        let b = body(json!({
            "givenName": "Ada", "surname": " ", "jobTitle": "Eng", "businessPhones": [],
            "otherMails": "a@x.com, b@x.com,", "clearProperties": ["jobTitle", "otherMails", "id"],
            "customData": {"employeeId": "42"}
        }));
        let p = patch_body(&EditUserBody(&b), "ada@x.com", false);
        assert_eq!(p["givenName"], json!("Ada"));
        assert!(!p.contains_key("surname"));
        assert_eq!(p["jobTitle"], Value::Null);
        assert_eq!(p["otherMails"], json!([]));
        assert!(!p.contains_key("businessPhones"));
        assert!(!p.contains_key("id"));
        assert_eq!(p["employeeId"], json!("42"));
        assert_eq!(
            p["passwordProfile"],
            json!({"forceChangePasswordNextSignIn": false})
        );
    }

    #[test]
    fn remove_licenses_false_as_text_is_both_truthy_and_equal_to_false() {
        assert!(ps_truthy(Some(&json!("false"))));
        assert!(equals_false(Some(&json!("FALSE"))));
        assert!(!equals_false(None));
    }

    #[test]
    fn exchange_groups_are_recognised_from_graph_or_the_form() {
        let g = GroupRef {
            id: "g".into(),
            label: "DL".into(),
            group_type: Some("Distribution List".into()),
            calculated_type: None,
        };
        assert!(exchange_owned(&g, None));
        assert!(!exchange_owned(
            &g,
            Some(&json!({"mailEnabled": false, "securityEnabled": true}))
        ));
        assert!(exchange_owned(
            &g,
            Some(&json!({"mailEnabled": true, "securityEnabled": true, "groupTypes": []}))
        ));
    }
}
