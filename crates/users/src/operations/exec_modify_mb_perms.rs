//! `ExecModifyMBPerms` (CIPP-API `Invoke-ExecModifyMBPerms.ps1`): gives or takes full access,
//! Send As and Send on Behalf on mailboxes, as the user page's permission dialog, its table rows
//! and "remove access to other mailboxes" post them.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::error::ErrorKind;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecModifyMBPerms;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox whose permissions change (single-mailbox form).
    #[serde(rename = "userID")]
    pub user_id: Option<UserId>,
    /// Its changes (single-mailbox form; a list or an object keyed "0", "1", …).
    #[serde(rename = "permissions", default)]
    pub permissions: Vec<MailboxPermission>,
    /// Several mailboxes at once (bulk form).
    #[serde(rename = "mailboxRequests", default)]
    pub mailbox_requests: Vec<MailboxRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MailboxRequest {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "userID")]
    pub user_id: UserId,
    #[serde(rename = "permissions", default)]
    pub permissions: Vec<MailboxPermission>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MailboxPermission {
    /// Who gets or loses the right: user principal names or addresses (`{label, value}` accepted).
    #[serde(rename = "UserID")]
    pub user_id: Vec<String>,
    /// `FullAccess`, `SendAs` or `SendOnBehalf` (several joined with ", " when removing a row;
    /// removal also takes `ReadPermission`, `ExternalAccount`, `DeleteItem`, `ChangePermission`
    /// and `ChangeOwner`).
    #[serde(rename = "PermissionLevel")]
    pub permission_level: String,
    /// `Add` or `Remove`.
    #[serde(rename = "Modification")]
    pub modification: Modification,
    /// Full access only: map the mailbox in the trustee's Outlook (default true).
    #[serde(rename = "AutoMap")]
    pub auto_map: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum Modification {
    Add,
    Remove,
}

/// Rights that can only be taken away here.
const REMOVE_ONLY: [&str; 5] = [
    "ReadPermission",
    "ExternalAccount",
    "DeleteItem",
    "ChangePermission",
    "ChangeOwner",
];

impl Operation for ExecModifyMBPerms {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecModifyMBPerms";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const PARTIAL: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecModifyMBPerms.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "An unknown `PermissionLevel`, a right that can only be removed sent with `Add`, a permission without `UserID`, or no changes at all is a 400 naming the field, before anything changes (CIPP: 200 \"No valid permission changes to process\" or a skipped line). Some changes failing is a 207 with every line; all failing is Exchange's status with the lines (CIPP: 200 either way). A body that is itself an array is not read: use `mailboxRequests`. The changes run one after another rather than in one Exchange batch.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "userID": crate::demo::USER,
            "permissions": [{"UserID": [{"label": "Xavier Kowalski", "value": "xavier.kowalski@contoso.example"}],
                "PermissionLevel": "FullAccess", "Modification": "Add", "AutoMap": false}]})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let mut requests = params.mailbox_requests;
        if let Some(user) = params.user_id {
            requests.push(MailboxRequest {
                user_id: user,
                permissions: params.permissions,
            });
        }
        let changes: usize = requests.iter().map(|r| r.permissions.len()).sum();
        if changes == 0 {
            return Err(UserError::invalid(
                "permissions",
                "No mailbox requests provided: give userID with permissions, or mailboxRequests",
            ));
        }
        for p in requests.iter().flat_map(|r| &r.permissions) {
            for level in levels(&p.permission_level) {
                let known = matches!(level, "FullAccess" | "SendAs" | "SendOnBehalf")
                    || (p.modification == Modification::Remove && REMOVE_ONLY.contains(&level));
                if !known {
                    return Err(UserError::invalid(
                        "PermissionLevel",
                        format!("'{level}' cannot be {}: use FullAccess, SendAs or SendOnBehalf", match p.modification {
                            Modification::Add => "given",
                            Modification::Remove => "removed",
                        }),
                    ));
                }
            }
            if p.user_id.iter().all(|u| u.trim().is_empty()) {
                return Err(UserError::invalid("UserID", "each permission needs a UserID"));
            }
        }
        let tenant = ctx.tenant()?;
        let (graph, tenant) = (&ctx.graph, tenant.customer_id.as_str());
        let (mut lines, mut failed) = (Vec::new(), 0usize);
        for request in &requests {
            let name = request.user_id.as_str();
            // The mailbox by its UPN, as CIPP addresses it.
            let upn = match graph
                .get(
                    tenant,
                    cipp_graph::GraphVersion::Beta,
                    &format!("users/{}?$select=userPrincipalName", crate::path_segment(name)),
                    &[],
                )
                .await
            {
                Ok(user) => user["userPrincipalName"].as_str().unwrap_or(name).to_owned(),
                Err(error) => {
                    tracing::warn!(%error, "mailbox owner not found");
                    lines.push(format!("Could not find user {name}"));
                    failed += 1;
                    continue;
                }
            };
            for p in &request.permissions {
                for target in p.user_id.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
                    for level in levels(&p.permission_level) {
                        let (cmdlet, parameters, done) =
                            command(level, p.modification, &upn, name, target, p.auto_map.unwrap_or(true));
                        match graph.exchange(tenant, cmdlet, parameters, Some(&upn)).await {
                            Ok(_) => lines.push(done),
                            Err(error) => {
                                failed += 1;
                                lines.push(format!(
                                    "Error processing {level} for {target} on {name}: {}",
                                    normalize_graph_error(&error)
                                ));
                            }
                        }
                    }
                }
            }
        }
        if failed == lines.len() {
            return Err(UserError::Answered {
                kind: ErrorKind::of_failure_texts(lines.iter().map(String::as_str)),
                message: lines.join(" | "),
                results: json!(lines),
            });
        }
        Ok(Outcome::json(TextListResults::new(lines)).partial(failed > 0))
    }
}

/// `"FullAccess, SendAs"` → each right.
fn levels(text: &str) -> Vec<&str> {
    text.split(',').map(str::trim).filter(|l| !l.is_empty()).collect()
}

/// The cmdlet, its parameters and CIPP's text for one right of one trustee.
fn command(
    level: &str,
    modification: Modification,
    mailbox: &str,
    shown: &str,
    target: &str,
    auto_map: bool,
) -> (&'static str, Value, String) {
    let remove = modification == Modification::Remove;
    match level {
        "FullAccess" if !remove => (
            "Add-MailboxPermission",
            json!({"Identity": mailbox, "user": target, "accessRights": ["FullAccess"],
                "automapping": auto_map, "Confirm": false}),
            format!(
                "Granted {target} FullAccess to {shown} with automapping {}",
                crate::mailbox_flags::ps_bool(auto_map)
            ),
        ),
        "SendAs" if !remove => (
            "Add-RecipientPermission",
            json!({"Identity": mailbox, "Trustee": target, "accessRights": ["SendAs"], "Confirm": false}),
            format!("Granted {target} SendAs permissions to {shown}"),
        ),
        "SendAs" => (
            "Remove-RecipientPermission",
            json!({"Identity": mailbox, "Trustee": target, "accessRights": ["SendAs"], "Confirm": false}),
            format!("Removed {target} SendAs permissions from {shown}"),
        ),
        "SendOnBehalf" => {
            let edit = if remove { "remove" } else { "add" };
            (
                "Set-Mailbox",
                json!({"Identity": mailbox, "GrantSendonBehalfTo": {
                    "@odata.type": "#Exchange.GenericHashTable", edit: target}, "Confirm": false}),
                if remove {
                    format!("Removed {target} SendOnBehalf permissions from {shown}")
                } else {
                    format!("Granted {target} SendOnBehalf permissions to {shown}")
                },
            )
        }
        right => (
            "Remove-MailboxPermission",
            json!({"Identity": mailbox, "user": target, "accessRights": [right], "Confirm": false}),
            match right {
                "FullAccess" => format!("Removed {target} from {shown} FullAccess permissions"),
                "ReadPermission" => format!("Removed {target} ReadPermission from {shown}"),
                "ChangePermission" => format!("Removed {target} ChangePermission from {shown}"),
                other => format!("Removed {target} {other} permissions from {shown}"),
            },
        ),
    }
}
