//! `EditUserAliases` (CIPP-API `Invoke-EditUserAliases.ps1`): adds and removes a mailbox's
//! secondary addresses and changes its primary one, with one Exchange `Get-Mailbox` and one
//! `Set-Mailbox` of the whole `EmailAddresses` list. `Results` is an array of strings, failures
//! too (`["Failed to manage aliases: …"]` with 500).

use cipp_graph::GraphClient;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{ErrorKind, UserError};

pub struct EditUserAliases;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose mailbox addresses change.
    #[serde(rename = "id")]
    pub id: Option<UserId>,
    /// Addresses to add, comma-separated.
    #[serde(rename = "AddedAliases")]
    pub added_aliases: Option<String>,
    /// Addresses to remove, comma-separated.
    #[serde(rename = "RemovedAliases")]
    pub removed_aliases: Option<String>,
    /// An existing address to make the primary one.
    #[serde(rename = "MakePrimary")]
    pub make_primary: Option<String>,
}

/// CIPP's 400 text for a missing `id`.
const NO_ID: &str = "Failed to manage aliases. No user ID provided";

impl Operation for EditUserAliases {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "EditUserAliases";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-EditUserAliases.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "An `id` that is neither an object id nor a user principal name, and an empty entry in `AddedAliases` or `RemovedAliases` (`a,,b`), are a 400 naming the field (CIPP sends the bare address `smtp:`, which Exchange refuses). A failure is answered with 500 (CIPP: 200, after the success lines of steps that never reached Exchange).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "id": crate::demo::USER_ID,
            "AddedAliases": "kenji.alias@contoso.example",
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let Some(user) = params.id else {
            return Err(UserError::Answered {
                kind: ErrorKind::InvalidInput,
                message: NO_ID.to_owned(),
                results: json!([NO_ID]),
            });
        };
        let changes = AliasChanges {
            added: split_list("AddedAliases", params.added_aliases.as_deref())?,
            removed: split_list("RemovedAliases", params.removed_aliases.as_deref())?,
            make_primary: params.make_primary,
        };
        let tenant = ctx.tenant()?;
        let lines = edit_aliases(&ctx.graph, &tenant.customer_id, &user, &changes)
            .await
            .map_err(UserError::into_list)?;
        let audit = lines.join(" ");
        Ok(Outcome::json(TextListResults::new(lines)).audit_message(audit))
    }
}

/// What the caller asked for, as CIPP reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AliasChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub make_primary: Option<String>,
}

/// A comma-separated list, each entry trimmed. An empty entry (`a,,b`) would become the bare
/// address `smtp:` in CIPP, which Exchange refuses after the read; it is a 400 here.
pub fn split_list(field: &'static str, value: Option<&str>) -> Result<Vec<String>, UserError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let items: Vec<String> = value.split(',').map(|s| s.trim().to_owned()).collect();
    if items.iter().any(String::is_empty) {
        return Err(UserError::invalid(
            field,
            format!("{field} has an empty address in '{value}'"),
        ));
    }
    Ok(items)
}

fn has_prefix(address: &str, prefix: &str) -> bool {
    address
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// CIPP's new `EmailAddresses` and its result lines, from the current list.
pub fn plan(
    current: &[String],
    changes: &AliasChanges,
) -> Result<(Vec<String>, Vec<String>), String> {
    let mut list: Vec<String> = current.to_vec();
    let mut results = Vec::new();
    if let Some(primary) = &changes.make_primary {
        // `-notlike 'SMTP:*'` ignores case: a value already prefixed in any case is kept as sent.
        let target = if has_prefix(primary, "smtp:") {
            primary.clone()
        } else {
            format!("SMTP:{primary}")
        };
        let wanted = target.to_lowercase();
        if !current.iter().any(|a| a.to_lowercase() == wanted) {
            let bare = target.get(5..).unwrap_or_default();
            return Err(format!(
                "Cannot set primary address. Address {bare} not found in user's addresses."
            ));
        }
        list = list
            .into_iter()
            .map(|a| {
                if has_prefix(&a, "smtp:") {
                    a.to_lowercase()
                } else {
                    a
                }
            })
            .filter(|a| a.to_lowercase() != wanted)
            .collect();
        list.insert(0, target);
        results.push("Success. Set new primary address.".to_owned());
    }
    if !changes.removed.is_empty() {
        for alias in &changes.removed {
            let alias = with_smtp(alias).to_lowercase();
            list.retain(|a| a.to_lowercase() != alias);
        }
        results.push("Success. Removed specified aliases from user.".to_owned());
    }
    let mut added = false;
    for alias in &changes.added {
        let alias = with_smtp(alias);
        let lower = alias.to_lowercase();
        if !list.iter().any(|a| a.to_lowercase() == lower) {
            list.push(alias);
            added = true;
        }
    }
    if added {
        results.push("Success. Added new aliases to user.".to_owned());
    }
    Ok((list, results))
}

fn with_smtp(alias: &str) -> String {
    if has_prefix(alias, "smtp:") {
        alias.to_owned()
    } else {
        format!("smtp:{alias}")
    }
}

/// Applies the changes. Returns CIPP's `Results` lines; any failure is CIPP's
/// `Failed to manage aliases: <normalised>`.
pub async fn edit_aliases(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    changes: &AliasChanges,
) -> Result<Vec<String>, UserError> {
    let user_id = user.as_str();
    if changes.added.is_empty() && changes.removed.is_empty() && changes.make_primary.is_none() {
        return Ok(vec!["No alias changes specified.".to_owned()]);
    }
    let failed = |detail: String, source: Option<Box<cipp_graph::GraphError>>| {
        tracing::warn!(tenant, user = user_id, "Alias management failed. {detail}");
        UserError::Failed {
            message: format!("Failed to manage aliases: {detail}"),
            source,
        }
    };
    // CIPP runs both cmdlets with the tenant's system mailbox as anchor.
    let mailbox = graph
        .exchange(tenant, "Get-Mailbox", json!({"Identity": user_id}), None)
        .await
        .map_err(|e| failed(normalize_graph_error(&e), Some(Box::new(e))))?;
    let Some(mailbox) = mailbox.into_iter().next() else {
        return Err(failed("Could not find mailbox for user".to_owned(), None));
    };
    let current: Vec<String> = match mailbox.get("EmailAddresses") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let display_name = mailbox
        .get("DisplayName")
        .and_then(Value::as_str)
        .unwrap_or(user_id)
        .to_owned();
    let (list, results) = plan(&current, changes).map_err(|text| failed(text, None))?;
    graph
        .exchange(
            tenant,
            "Set-Mailbox",
            json!({"Identity": user_id, "EmailAddresses": list}),
            None,
        )
        .await
        .map_err(|e| failed(normalize_graph_error(&e), Some(Box::new(e))))?;
    for line in &results {
        tracing::info!(
            tenant,
            user = user_id,
            display_name = display_name.as_str(),
            "{line}"
        );
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn a_new_primary_lowercases_the_old_one_and_goes_first() {
        let current = s(&["SMTP:John.Doe@x.com", "smtp:jd@x.com", "SIP:john@x.com"]);
        let changes = AliasChanges {
            make_primary: Some("JD@x.com".into()),
            ..Default::default()
        };
        let (list, results) = plan(&current, &changes).unwrap();
        assert_eq!(
            list,
            s(&["SMTP:JD@x.com", "smtp:john.doe@x.com", "SIP:john@x.com"])
        );
        assert_eq!(results, s(&["Success. Set new primary address."]));
    }

    #[test]
    fn an_unknown_primary_is_refused_with_cipps_text() {
        let changes = AliasChanges {
            make_primary: Some("nope@x.com".into()),
            ..Default::default()
        };
        assert_eq!(
            plan(&s(&["SMTP:a@x.com"]), &changes).unwrap_err(),
            "Cannot set primary address. Address nope@x.com not found in user's addresses."
        );
    }

    #[test]
    fn removals_then_additions_ignore_case_and_skip_duplicates() {
        let changes = AliasChanges {
            added: s(&["new@x.com", "A@X.com"]),
            removed: s(&["OLD@x.com"]),
            make_primary: None,
        };
        let (list, results) = plan(&s(&["SMTP:a@x.com", "smtp:old@x.com"]), &changes).unwrap();
        assert_eq!(list, s(&["SMTP:a@x.com", "smtp:new@x.com"]));
        assert_eq!(
            results,
            s(&[
                "Success. Removed specified aliases from user.",
                "Success. Added new aliases to user."
            ])
        );
    }

    #[test]
    fn an_empty_entry_in_a_list_is_refused() {
        assert!(split_list("AddedAliases", Some("a@x.com,,b@x.com")).is_err());
        assert_eq!(
            split_list("AddedAliases", Some(" a@x.com , b@x.com ")).unwrap(),
            s(&["a@x.com", "b@x.com"])
        );
    }
}
