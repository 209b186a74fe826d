//! `AddUser` (CIPP-API `Invoke-AddUser.ps1` → `New-CIPPUserTask.ps1` → `New-CIPPUser.ps1`):
//! reads CIPP's form, creates the user now, then licences, aliases, copied groups, chosen groups,
//! manager and sponsor, each step reporting its own line. The password goes to the caller only.

use std::collections::BTreeMap;

use cipp_graph::{BatchRequest, BatchResponse, GraphClient, GraphVersion, Method};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::group_membership::{
    CopyResult, copy_groups, directory_object, distribution_member, write_aliases,
};
use crate::managers::{Relation, set_relation};
use crate::normalize::{normalize_graph_error, normalize_message};
use crate::op::types::{GraphRow, Guid, ItemState, ResultItem, UserId};
use crate::op::{Ctx, Method as HttpMethod, Operation, Outcome, Source, TenantUse};
use crate::password::generate_password;
use crate::user_form::{UserFormAttribute, UserFormPostExecution};
use crate::{ErrorKind, UserError, path_segment};

pub struct AddUser;

/// The add-user form as the frontend posts it (fields not listed here are ignored, among them a
/// copied user's `id`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user principal name's local part and mail nickname: letters, digits and
    /// `' . - _ ! # ^ ~`.
    #[serde(rename = "username")]
    pub username: String,
    /// The UPN's domain.
    #[serde(rename = "Domain")]
    pub domain: Option<String>,
    /// The UPN's domain, when `Domain` is not given (a `{label, value}` picker).
    #[serde(rename = "primDomain")]
    pub prim_domain: Option<String>,
    #[serde(rename = "displayName")]
    pub display_name: String,
    #[serde(rename = "givenName")]
    pub given_name: Option<String>,
    #[serde(rename = "surname")]
    pub surname: Option<String>,
    #[serde(rename = "department")]
    pub department: Option<String>,
    #[serde(rename = "jobTitle")]
    pub job_title: Option<String>,
    #[serde(rename = "mobilePhone")]
    pub mobile_phone: Option<String>,
    #[serde(rename = "streetAddress")]
    pub street_address: Option<String>,
    #[serde(rename = "city")]
    pub city: Option<String>,
    #[serde(rename = "state")]
    pub state: Option<String>,
    #[serde(rename = "country")]
    pub country: Option<String>,
    #[serde(rename = "postalCode")]
    pub postal_code: Option<String>,
    #[serde(rename = "companyName")]
    pub company_name: Option<String>,
    /// Business phone numbers (the form sends one, as a list).
    #[serde(rename = "businessPhones", default)]
    pub business_phones: Vec<String>,
    /// Other e-mail addresses: a list, each entry possibly comma-separated.
    #[serde(rename = "otherMails", default)]
    pub other_mails: Vec<String>,
    /// Two-letter country code (a `{label, value}` picker or plain text).
    #[serde(rename = "usageLocation")]
    pub usage_location: Option<String>,
    /// Not read: the mail nickname is `username` (a form copied from another user carries that
    /// user's nickname).
    #[serde(rename = "mailNickname")]
    pub mail_nickname: Option<String>,
    /// The password; one is generated from CIPP's password settings when absent.
    #[serde(rename = "password")]
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
    /// Whether the user must change the password at first sign-in (default `false`).
    #[serde(rename = "MustChangePass", default)]
    pub must_change_pass: bool,
    /// SKUs to assign (`{label, value}` pickers whose value is the SKU id).
    #[serde(rename = "licenses", default)]
    pub licenses: Vec<Guid>,
    /// Not acted on: buying a Sherweb licence is not built.
    #[serde(rename = "sherwebLicense")]
    pub sherweb_license: Option<String>,
    /// Extra addresses, one per line (or separated by spaces).
    #[serde(rename = "AddedAliases")]
    pub added_aliases: Option<String>,
    /// A user whose group memberships the new user gets (a `{label, value}` picker).
    #[serde(rename = "copyFrom")]
    pub copy_from: Option<UserId>,
    /// Groups to add the new user to.
    #[serde(rename = "AddToGroups", default)]
    pub add_to_groups: Vec<AddUserGroup>,
    /// The new user's manager (a `{label, value}` picker whose value is a UPN or object id).
    #[serde(rename = "setManager")]
    pub set_manager: Option<UserId>,
    /// The new user's sponsor (a `{label, value}` picker whose value is a UPN or object id).
    #[serde(rename = "setSponsor")]
    pub set_sponsor: Option<UserId>,
    /// Shared mailboxes to grant access to: reported as not granted (CIPP schedules the grant;
    /// this service has no scheduler).
    #[serde(rename = "sharedMailboxes", default)]
    pub shared_mailboxes: Vec<AddUserShared>,
    /// The access levels for `sharedMailboxes` (FullAccess, SendAs, SendOnBehalf).
    #[serde(rename = "sharedMailboxPermission", default)]
    pub shared_mailbox_permission: Vec<String>,
    /// Shared calendars to grant access to: reported as not granted, like `sharedMailboxes`.
    #[serde(rename = "sharedCalendars", default)]
    pub shared_calendars: Vec<AddUserShared>,
    /// The access level for `sharedCalendars`.
    #[serde(rename = "sharedCalendarPermission")]
    pub shared_calendar_permission: Option<String>,
    /// Extra attributes from the user template: `{<attribute>: {value}}`; blank values are skipped.
    #[serde(rename = "defaultAttributes", default)]
    pub default_attributes: BTreeMap<String, UserFormAttribute>,
    /// Custom-data attributes, `{<attribute>: <value>}`, sent in the create as given; null and
    /// blank values are skipped.
    #[serde(rename = "customData", default)]
    pub custom_data: Map<String, Value>,
    /// Refused with 501 when enabled: this service has no scheduler.
    #[serde(rename = "Scheduled")]
    pub scheduled: Option<AddUserScheduled>,
    /// Who hears of a scheduled call's outcome: `Webhook` ends its task with the signed
    /// webhook; e-mail and PSA are not available here (a 400). An immediate call ignores it,
    /// as CIPP does.
    #[serde(rename = "PostExecution")]
    pub post_execution: Option<UserFormPostExecution>,
    /// A ticket reference, kept on a scheduled call's task (ListScheduledItems' `Reference`)
    /// and sent with its webhook.
    #[serde(rename = "reference")]
    pub reference: Option<String>,
}

/// An entry of `AddToGroups`: a group picker option or the group's id alone.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AddUserGroup {
    Option(AddUserGroupOption),
    Id(Guid),
}

/// A group picker option.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AddUserGroupOption {
    /// The group's display name, for the texts.
    pub label: Option<String>,
    /// The group's object id.
    pub value: Option<Guid>,
    /// The group's kind as the form knows it, used when Graph does not say.
    #[serde(rename = "addedFields")]
    pub added_fields: Option<AddUserGroupFields>,
}

/// What the group picker knows of a group's kind.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AddUserGroupFields {
    #[serde(rename = "groupType")]
    pub group_type: Option<String>,
}

/// An entry of `sharedMailboxes` / `sharedCalendars`: a picker option or plain text.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AddUserShared {
    Option(AddUserSharedOption),
    Text(String),
}

/// A mailbox or calendar picker option.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AddUserSharedOption {
    /// The name shown in the answer.
    pub label: Option<String>,
    /// The mailbox's address.
    pub value: Option<String>,
}

/// `Scheduled`: when to create the user instead of now.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AddUserScheduled {
    /// Whether to schedule the creation (refused with 501: this service has no scheduler).
    #[serde(rename = "enabled", default)]
    pub enabled: bool,
    /// When, in Unix seconds.
    #[serde(rename = "date")]
    pub date: Option<i64>,
}

/// `{"Results": [...], "CopyFrom": {...}, "User": {...}}`, as CIPP answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddUserResults {
    /// `"Created New User."`, the username and password items (to copy), then one line per
    /// follow-up step.
    #[serde(rename = "Results")]
    pub results: Vec<AddUserLine>,
    /// The copied group memberships (`null` lists when nothing was copied).
    #[serde(rename = "CopyFrom")]
    pub copy_from: AddUserCopyFrom,
    /// The user as Graph created it (an empty object if Graph answered without a body).
    #[serde(rename = "User")]
    pub user: GraphRow,
}

/// A line of the answer: a text, or an item offering a value to copy.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum AddUserLine {
    Text(String),
    Item(ResultItem),
}

/// Copied group memberships, as CIPP reports them.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct AddUserCopyFrom {
    #[serde(rename = "Success")]
    pub success: Option<Vec<String>>,
    #[serde(rename = "Error")]
    pub error: Option<Vec<String>>,
    #[serde(rename = "Skipped")]
    pub skipped: Option<Vec<String>>,
}

impl Operation for AddUser {
    type Params = Params;
    type Answer = AddUserResults;
    const NAME: &'static str = "AddUser";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: HttpMethod = HttpMethod::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-AddUser.ps1",
        frontend: Some("src/pages/identity/administration/users/add.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `username`, domain or `displayName`, a `username` Entra cannot take, a licence or group id that is not a GUID, a `copyFrom`, `setManager` or `setSponsor` that is neither an object id nor a user principal name, and a `MustChangePass` that is not a boolean are a 400 naming the field (CIPP sends the create and answers Graph's failure with 500; its `[bool]` cast reads the text `\"false\"` as true). A missing `tenantFilter` is the common 400 naming it (CIPP: `{\"Results\": {\"resultText\": \"tenantFilter is required to create a user.\", \"state\": \"error\"}}`). `Scheduled.enabled` queues the creation as a job (listed by ListScheduledItems as `New-CIPPUserTask`, the request checked now, a task of the same name still waiting is a 409 where CIPP answers success, the generated password not recorded); shared calendar/mailbox grants are reported as not made (CIPP schedules them); `sherwebLicense` is not acted on. The password is trimmed like every text parameter. When a step after the create fails outright, the answer is 500 with every line, the password item included (the user exists), but without `CopyFrom` and `User`. The password reaches the caller only, never the audit row.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "username": "new.starter",
            "primDomain": {"label": crate::demo::TENANT, "value": crate::demo::TENANT},
            "givenName": "New",
            "surname": "Starter",
            "displayName": "New Starter",
            "jobTitle": "Analyst",
            "usageLocation": {"label": "Netherlands", "value": "NL"},
            "MustChangePass": true,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<AddUserResults>, UserError> {
        if let Some(scheduled) = params.scheduled.as_ref().filter(|s| s.enabled) {
            let at = scheduled_time("Scheduled.date", scheduled.date)?;
            // Checked now, so a request that cannot run fails here, not at its time.
            let display = params.display_name.clone();
            let name = format!(
                "New user creation: {}@{}",
                params.username,
                params.domain.clone().or(params.prim_domain.clone()).unwrap_or_default()
            );
            let reference = params.reference.clone();
            let webhook = UserFormPostExecution::webhook_for_task(
                params.post_execution.as_ref(),
                ctx.env.webhook_configured,
            )?;
            NewUser::from_params(params)?;
            let tenant = ctx.tenant()?.clone();
            crate::scheduled_user::schedule(
                &ctx,
                &tenant,
                crate::scheduled_user::CREATE_COMMAND,
                name,
                at,
                reference,
                webhook,
            )
            .await?;
            return Ok(Outcome::json(AddUserResults {
                results: vec![AddUserLine::Text(format!(
                    "Successfully created scheduled task to create user {display}"
                ))],
                copy_from: AddUserCopyFrom::default(),
                user: GraphRow::default(),
            })
            .audit_tenant(tenant.default_domain_name, tenant.customer_id));
        }
        let unscheduled = shared_grants(&params);
        let new = NewUser::from_params(params)?;
        let tenant = ctx.tenant()?;
        let settings = ctx.password_settings().await;
        let usage = default_usage_location(&ctx.store).await;
        let done = add_user(
            &ctx.graph,
            &tenant.customer_id,
            new,
            || generate_password(&settings),
            &usage,
        )
        .await
        .map_err(UserError::into_list)?;
        let password = done.password.expose_secret();
        let mut results = vec![
            AddUserLine::Text("Created New User.".to_owned()),
            AddUserLine::Item(ResultItem {
                result_text: format!("Username: {}", done.upn),
                state: ItemState::Success,
                copy_field: Some(done.upn.clone()),
            }),
            AddUserLine::Item(ResultItem {
                result_text: format!("Password: {password}"),
                state: ItemState::Success,
                copy_field: Some(password.to_owned()),
            }),
        ];
        results.extend(done.messages.into_iter().map(AddUserLine::Text));
        results.extend(unscheduled.into_iter().map(AddUserLine::Text));
        if let Some(failure) = done.failed_after_create {
            // The user exists: the caller still gets every line, the password included; the
            // audit row gets CIPP's log line and the failure without it.
            let message = format!("{}. {failure}", done.log_text);
            results.push(AddUserLine::Text(failure));
            return Err(UserError::Answered {
                kind: ErrorKind::UpstreamFailed,
                message,
                results: json!(results),
            });
        }
        let copy_from = match done.copy_from {
            Some(copied) => AddUserCopyFrom {
                success: Some(copied.success),
                error: Some(copied.error),
                skipped: Some(copied.skipped),
            },
            None => AddUserCopyFrom::default(),
        };
        let user = match done.user {
            Value::Object(fields) => GraphRow(fields),
            _ => GraphRow::default(),
        };
        // The audit row records CIPP's log line, never the password.
        Ok(Outcome::json(AddUserResults {
            results,
            copy_from,
            user,
        })
        .audit_message(done.log_text))
    }
}

/// `Scheduled.date` (Unix seconds) as a time; absent or not a time is a 400 naming it.
pub fn scheduled_time(field: &str, date: Option<i64>) -> Result<time::OffsetDateTime, UserError> {
    date.filter(|d| *d > 0)
        .and_then(|d| time::OffsetDateTime::from_unix_timestamp(d).ok())
        .ok_or_else(|| {
            UserError::invalid(
                field,
                format!("{field} must be a Unix timestamp (seconds) when Scheduled.enabled is true"),
            )
        })
}

/// `{label, value}` or a bare string as text; blank is absent (how CIPP reads an attribute).
fn text_of(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("value"))?
            .1
            .as_str()?
            .to_owned(),
        _ => return None,
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// CIPP schedules shared calendar and mailbox grants for 15 minutes later; with no scheduler
/// here each one is reported as not made, never as scheduled.
fn shared_grants(params: &Params) -> Vec<String> {
    let mut lines = Vec::new();
    for (items, kind) in [
        (&params.shared_calendars, "calendar"),
        (&params.shared_mailboxes, "mailbox"),
    ] {
        for item in items {
            let label = match item {
                AddUserShared::Option(option) => option
                    .label
                    .clone()
                    .or_else(|| option.value.clone())
                    .unwrap_or_default(),
                AddUserShared::Text(text) => text.trim().to_owned(),
            };
            lines.push(format!(
                "Not granted {kind} access to {label}: the grant is scheduled work and this service has no scheduler."
            ));
        }
    }
    lines
}

/// CIPP's default usage location (the `allUsers` settings), used when a licence needs one.
/// The usage location of CIPP's user defaults, else `US`.
pub async fn default_usage_location(store: &cipp_store::Store) -> String {
    let stored = store.get_user_settings(cipp_store::ALL_USERS).await;
    stored
        .ok()
        .flatten()
        .and_then(|s| s.get("usageLocation").cloned())
        .and_then(|u| text_of(&u))
        .unwrap_or_else(|| "US".to_owned())
}

/// Profile fields CIPP copies into the create body as given (`null` when absent).
const PROFILE: [&str; 11] = [
    "givenName",
    "surname",
    "department",
    "jobTitle",
    "mobilePhone",
    "streetAddress",
    "city",
    "state",
    "country",
    "postalCode",
    "companyName",
];

/// A group from the form's `AddToGroups`.
#[derive(Debug, Clone)]
pub struct GroupChoice {
    pub id: String,
    pub label: String,
    /// The form's `addedFields.groupType`, used only when Graph does not say.
    pub group_type: Option<String>,
}

/// What the caller asked for, checked.
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
    pub copy_from: Option<UserId>,
    pub groups: Vec<GroupChoice>,
    pub manager: Option<UserId>,
    pub sponsor: Option<UserId>,
}

impl NewUser {
    /// Reads the form in CIPP's order; a value Entra cannot take is a 400 naming the field.
    pub fn from_params(form: Params) -> Result<Self, UserError> {
        let username = form.username;
        if !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~".contains(c))
        {
            return Err(UserError::invalid(
                "username",
                format!(
                    "username: '{username}' may only contain letters, digits and ' . - _ ! # ^ ~"
                ),
            ));
        }
        let domain = form
            .domain
            .or(form.prim_domain)
            .ok_or_else(|| UserError::invalid("primDomain", "primDomain (or Domain) is required"))?;
        let profile_values = [
            form.given_name,
            form.surname,
            form.department,
            form.job_title,
            form.mobile_phone,
            form.street_address,
            form.city,
            form.state,
            form.country,
            form.postal_code,
            form.company_name,
        ];
        let profile = PROFILE
            .iter()
            .zip(profile_values)
            .map(|(name, value)| (name.to_string(), json!(value)))
            .collect();
        let business_phones: Vec<String> = form
            .business_phones
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .collect();
        let other_mails = form
            .other_mails
            .iter()
            .flat_map(|m| m.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let mut groups = Vec::new();
        for group in form.add_to_groups {
            groups.push(match group {
                AddUserGroup::Id(id) => GroupChoice {
                    id: id.as_str().to_owned(),
                    label: id.as_str().to_owned(),
                    group_type: None,
                },
                AddUserGroup::Option(option) => {
                    let Some(id) = option.value else {
                        let label = option.label.unwrap_or_default();
                        return Err(UserError::invalid(
                            "AddToGroups",
                            format!("AddToGroups: '{label}' has no group id"),
                        ));
                    };
                    let id = id.as_str().to_owned();
                    GroupChoice {
                        label: option.label.unwrap_or_else(|| id.clone()),
                        id,
                        group_type: option.added_fields.and_then(|f| f.group_type),
                    }
                }
            });
        }
        // `defaultAttributes` ({name: {value}}) then `customData` ({name: value}); blanks skipped.
        let mut extra = Map::new();
        for (name, attribute) in form.default_attributes {
            if let Some(value) = attribute.value.as_ref().and_then(text_of) {
                extra.insert(name, json!(value));
            }
        }
        for (name, value) in form.custom_data {
            let blank = match &value {
                Value::Null => true,
                Value::String(s) => s.trim().is_empty(),
                _ => false,
            };
            if !blank {
                extra.insert(name, value);
            }
        }
        Ok(Self {
            username,
            domain,
            display_name: form.display_name,
            profile,
            business_phones: (!business_phones.is_empty()).then_some(business_phones),
            other_mails,
            usage_location: form.usage_location,
            password: form.password,
            must_change: form.must_change_pass,
            extra,
            licenses: form
                .licenses
                .iter()
                .map(|sku| sku.as_str().to_owned())
                .collect(),
            aliases: form
                .added_aliases
                .map(|a| a.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            copy_from: form.copy_from,
            groups,
            manager: form.set_manager,
            sponsor: form.set_sponsor,
        })
    }
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
pub(crate) async fn assign_licences(
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
    if let Err(error) = write_aliases(graph, tenant, upn, aliases, upn).await {
        let text = normalize_graph_error(&error);
        tracing::warn!(tenant, "Failed to set alias. Error:{text}");
        return Err(format!("Failed to set alias: {text}"));
    }
    if let Some(last) = aliases.last() {
        tracing::info!(tenant, "Added alias {last} to {upn}");
    }
    Ok(format!("Added Aliases: {}", aliases.join(",")))
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
    let kind = crate::groups::edit_kind(&found).or(group.group_type.as_deref());
    let failed = |text: String| format!("Failed to add user {upn} to group {name} - {text}");
    if kind.is_some_and(crate::groups::exchange_kind) {
        distribution_member(graph, tenant, true, &group.id, upn)
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

/// `Set-CIPPManager` / `Set-CIPPSponsor` for the new user: its one result line; a failed batch
/// call is an error (CIPP lets that exception escape after the user was created).
async fn set_reference(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    target: &UserId,
    relation: Relation,
) -> Result<String, String> {
    let results = set_relation(graph, tenant, &[upn.to_owned()], target.as_str(), relation)
        .await
        .map_err(|error| normalize_graph_error(&error))?;
    Ok(results.into_iter().next().map_or_else(
        || format!("Failed to set {upn}'s {}: Unknown error (Status: 0)", relation.noun()),
        |r| r.result,
    ))
}
