//! `EditUser` (CIPP-API `Invoke-EditUser.ps1` → `Set-CIPPUser.ps1`): the edit-user form. In
//! CIPP's order: the property PATCH (and the password), licences (`Set-CIPPUserLicense`),
//! aliases, the copied user's groups (`Set-CIPPCopyGroupMembers`), group additions and removals
//! (after one `$batch` reading the groups' types; distribution lists and mail-enabled security
//! groups through Exchange), the manager and the sponsor. `Results` is an array of strings, one
//! per step, failures too.
//!
//! Sherweb licences are refused before anything is written rather than skipped as if done.

use std::collections::BTreeMap;

use cipp_graph::{BatchRequest, GraphClient, GraphVersion, Method};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::managers::{Relation, item_error, set_managers, set_sponsors};
use crate::normalize::normalize_graph_error;
use crate::group_membership::{copy_groups, distribution_member, write_aliases};
use crate::op::types::{Guid, TextListResults, UserId, is_mail_address};
use crate::op::{Ctx, Method as HttpMethod, Operation, Outcome, Source, TenantUse};
use crate::user_form::{UserFormAttribute, UserFormPostExecution, ps_truthy};
use crate::{ErrorKind, UserError, path_segment};

pub struct EditUser;

/// The edit-user form as the frontend posts it (the whole user object as edited; fields not
/// listed here are ignored).
#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user to edit.
    #[serde(rename = "id")]
    pub id: Option<UserId>,
    /// The user principal name's local part; with `Domain` it makes the UPN that is sent.
    #[serde(rename = "username")]
    pub username: Option<String>,
    /// The UPN's domain.
    #[serde(rename = "Domain")]
    pub domain: Option<String>,
    /// The UPN's domain, when `Domain` is not given (a `{label, value}` picker).
    #[serde(rename = "primDomain")]
    pub prim_domain: Option<String>,
    /// Not read: the UPN sent is `username`@`Domain`, as in CIPP.
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
    /// The mail nickname, when `username` is not given.
    #[serde(rename = "mailNickname")]
    pub mail_nickname: Option<String>,
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
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
    #[serde(rename = "postalCode")]
    pub postal_code: Option<String>,
    #[serde(rename = "country")]
    pub country: Option<String>,
    #[serde(rename = "companyName")]
    pub company_name: Option<String>,
    /// Two-letter country code (a `{label, value}` picker or plain text).
    #[serde(rename = "usageLocation")]
    pub usage_location: Option<String>,
    /// Business phone numbers; blank ones are dropped.
    #[serde(rename = "businessPhones", default)]
    pub business_phones: Vec<String>,
    /// Other e-mail addresses: a list, each entry possibly comma-separated.
    #[serde(rename = "otherMails", default)]
    pub other_mails: Vec<String>,
    /// Fields the user deliberately blanked; they are cleared (givenName, surname, department,
    /// jobTitle, mobilePhone, streetAddress, city, state, postalCode, country, companyName,
    /// businessPhones, otherMails).
    #[serde(rename = "clearProperties", default)]
    pub clear_properties: Vec<String>,
    /// A new password, set after the properties.
    #[serde(rename = "password")]
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
    /// Whether the user must change the password at next sign-in (default `false`).
    #[serde(rename = "MustChangePass", default)]
    pub must_change_pass: bool,
    /// The SKUs the user should hold (`{label, value}` pickers); held licences not listed are
    /// removed.
    #[serde(rename = "licenses", default)]
    pub licenses: Vec<Guid>,
    /// `true` removes every licence; `false` lets an unchanged licence list be left alone.
    #[serde(rename = "removeLicenses")]
    pub remove_licenses: Option<bool>,
    /// Groups to add the user to.
    #[serde(rename = "AddToGroups", default)]
    pub add_to_groups: Vec<EditUserGroup>,
    /// Groups to remove the user from.
    #[serde(rename = "RemoveFromGroups", default)]
    pub remove_from_groups: Vec<EditUserGroup>,
    /// The user's new manager (a `{label, value}` picker whose value is a UPN or object id).
    #[serde(rename = "setManager")]
    pub set_manager: Option<UserId>,
    /// The user's sponsor (a `{label, value}` picker whose value is a UPN or object id).
    #[serde(rename = "setSponsor")]
    pub set_sponsor: Option<UserId>,
    /// A user whose groups this user joins (a `{label, value}` picker whose value is a UPN or
    /// object id); distribution lists and mail-enabled security groups through Exchange.
    #[serde(rename = "CopyFrom")]
    pub copy_from: Option<UserId>,
    /// Addresses to add as aliases, separated by spaces or line breaks (removal is
    /// EditUserAliases').
    #[serde(rename = "AddedAliases")]
    pub added_aliases: Option<String>,
    /// Refused: buying a Sherweb licence is not built.
    #[serde(rename = "sherwebLicense")]
    pub sherweb_license: Option<String>,
    /// Extra attributes from the user template: `{<attribute>: {value}}`; blank values are skipped.
    #[serde(rename = "defaultAttributes", default)]
    pub default_attributes: BTreeMap<String, UserFormAttribute>,
    /// Custom-data attributes, `{<attribute>: <value>}`, patched as given; blank values are skipped.
    #[serde(rename = "customData", default)]
    pub custom_data: Map<String, Value>,
    /// When enabled, the edit is queued as a job to run at `date` instead of now.
    #[serde(rename = "Scheduled")]
    pub scheduled: Option<EditUserScheduled>,
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

/// A group picker option of `AddToGroups` / `RemoveFromGroups`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EditUserGroup {
    /// The group's display name, for the texts.
    pub label: Option<String>,
    /// The group's object id.
    pub value: Guid,
    /// The group's kind as the form knows it, used when Graph does not say.
    #[serde(rename = "addedFields")]
    pub added_fields: Option<EditUserGroupFields>,
}

/// What the group picker knows of a group's kind.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EditUserGroupFields {
    #[serde(rename = "groupType")]
    pub group_type: Option<String>,
    #[serde(rename = "calculatedGroupType")]
    pub calculated_group_type: Option<String>,
}

/// `Scheduled`: when to run the edit instead of now.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EditUserScheduled {
    /// Whether to schedule the edit.
    #[serde(rename = "enabled", default)]
    pub enabled: bool,
    /// When, in Unix seconds.
    #[serde(rename = "date")]
    pub date: Option<i64>,
}

/// CIPP's 400 text for a missing `id`.
const NO_ID: &str = "Failed to edit user. No user ID provided";

impl Operation for EditUser {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "EditUser";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: HttpMethod = HttpMethod::Post;
    const WRITES: bool = true;
    const PARTIAL: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-EditUser.ps1",
        frontend: Some("src/pages/identity/administration/users/user/edit.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "`Scheduled.enabled` queues the edit as a job (listed by ListScheduledItems as `Set-CIPPUser`; the request is checked now, and a task of the same name still waiting is a 409). `sherwebLicense` is refused with a 400 naming it before anything is written (CIPP buys a Sherweb licence). A missing `username` or domain is a 400 (CIPP sends `@` as the UPN and Graph refuses the whole PATCH). An `id`, `setManager`, `setSponsor` or `CopyFrom` that is neither an object id nor a user principal name, an `AddedAliases` entry that is not an e-mail address, a licence or group id that is not a GUID, and a `MustChangePass` or `removeLicenses` that is not a boolean are a 400 naming the field (CIPP's `[bool]` cast reads the text `\"false\"` as true). Blank entries in `AddedAliases` (two spaces, a trailing newline) are skipped where CIPP writes an empty `mail`. `setManager`, `setSponsor` and `CopyFrom` are read as a `{label, value}`'s value or as plain text (CIPP ignores plain text). A copied Exchange group that Exchange cannot add the user to is a failure line, not retried (CIPP schedules a retry 5 minutes later for a licensed user whose mailbox Exchange does not find yet). When some steps fail the answer is 207 with every line, when every step fails it is an error status with every line (CIPP: 200 either way). The password reaches the caller only, never the audit row.",
    );

    fn example() -> Value {
        let (username, domain) = crate::demo::USER.split_once('@').unwrap_or_default();
        json!({
            "tenantFilter": crate::demo::TENANT,
            "id": crate::demo::USER_ID,
            "username": username,
            "primDomain": {"label": domain, "value": domain},
            "jobTitle": "Account Manager",
            "city": "Utrecht",
        })
    }

    async fn run(ctx: Ctx, mut params: Params) -> Result<Outcome<TextListResults>, UserError> {
        if let Some(scheduled) = params.scheduled.take().filter(|s| s.enabled) {
            let at = crate::operations::add_user::scheduled_time("Scheduled.date", scheduled.date)?;
            let reference = params.reference.clone();
            let webhook = UserFormPostExecution::webhook_for_task(
                params.post_execution.as_ref(),
                ctx.env.webhook_configured,
            )?;
            // Checked now, so a request that cannot run fails here, not at its time.
            let edit = EditUserRequest::from_params(params)?;
            let tenant = ctx.tenant()?.clone();
            let name = format!("Edit user: {}", edit.display_name);
            crate::scheduled_user::schedule(
                &ctx,
                &tenant,
                crate::scheduled_user::EDIT_COMMAND,
                name,
                at,
                reference,
                webhook,
            )
            .await?;
            return Ok(Outcome::json(TextListResults::new(vec![format!(
                "Successfully created scheduled task to edit user {}",
                edit.display_name
            )]))
            .audit_tenant(tenant.default_domain_name, tenant.customer_id));
        }
        let edit = EditUserRequest::from_params(params)?;
        let tenant = ctx.tenant()?;
        let outcome = edit_user(&ctx.graph, &tenant.customer_id, &edit)
            .await
            .map_err(UserError::into_list)?;
        // The audit row gets the lines without the password.
        let audit = outcome.log_lines.join(" ");
        if outcome.failed && outcome.done {
            // Some steps changed the user and some did not: each line says which (207).
            return Ok(Outcome::json(TextListResults::new(outcome.results))
                .partial(true)
                .audit_message(audit));
        }
        if outcome.failed {
            // CIPP answers 200 whatever failed; a failed step is an error status here.
            return Err(UserError::Answered {
                kind: ErrorKind::of_failure_texts(outcome.results.iter().map(String::as_str)),
                message: audit,
                results: json!(outcome.results),
            });
        }
        Ok(Outcome::json(TextListResults::new(outcome.results)).audit_message(audit))
    }
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
pub fn patch_body(form: &Params, upn: &str, must_change: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |name: &str, value: Option<&String>| {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            out.insert(name.to_owned(), json!(value));
        }
    };
    put("givenName", form.given_name.as_ref());
    put("surname", form.surname.as_ref());
    put("displayName", form.display_name.as_ref());
    put("department", form.department.as_ref());
    put(
        "mailNickname",
        form.username.as_ref().or(form.mail_nickname.as_ref()),
    );
    put("userPrincipalName", Some(&upn.to_owned()));
    put("usageLocation", form.usage_location.as_ref());
    for (name, value) in [
        ("jobTitle", &form.job_title),
        ("mobilePhone", &form.mobile_phone),
        ("streetAddress", &form.street_address),
        ("city", &form.city),
        ("state", &form.state),
        ("postalCode", &form.postal_code),
        ("country", &form.country),
        ("companyName", &form.company_name),
    ] {
        put(name, value.as_ref());
    }
    let phones: Vec<&String> = form
        .business_phones
        .iter()
        .filter(|p| !p.trim().is_empty())
        .collect();
    if !phones.is_empty() {
        out.insert("businessPhones".into(), json!(phones));
    }
    let other_mails: Vec<&str> = form
        .other_mails
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if !other_mails.is_empty() {
        out.insert("otherMails".into(), json!(other_mails));
    }
    out.insert(
        "passwordProfile".into(),
        json!({"forceChangePasswordNextSignIn": must_change}),
    );
    for name in &form.clear_properties {
        if let Some(field) = CLEARABLE.iter().find(|c| c.eq_ignore_ascii_case(name)) {
            let empty = if matches!(*field, "businessPhones" | "otherMails") {
                json!([])
            } else {
                Value::Null
            };
            out.insert((*field).to_owned(), empty);
        }
    }
    for (name, attribute) in &form.default_attributes {
        if let Some(v) = attribute
            .value
            .as_ref()
            .filter(|v| ps_truthy(Some(v)) || v.is_boolean())
        {
            out.insert(name.clone(), v.clone());
        }
    }
    for (name, v) in &form.custom_data {
        if ps_truthy(Some(v)) || v.is_boolean() || v.is_number() {
            out.insert(name.clone(), v.clone());
        }
    }
    out
}

/// A group of `AddToGroups` / `RemoveFromGroups`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: String,
    pub label: String,
    pub group_type: Option<String>,
    pub calculated_type: Option<String>,
}

impl From<&EditUserGroup> for GroupRef {
    fn from(group: &EditUserGroup) -> Self {
        let id = group.value.as_str().to_owned();
        let fields = group.added_fields.as_ref();
        Self {
            label: group
                .label
                .clone()
                .filter(|l| !l.trim().is_empty())
                .unwrap_or_else(|| id.clone()),
            id,
            group_type: fields.and_then(|f| f.group_type.clone()),
            calculated_type: fields.and_then(|f| f.calculated_group_type.clone()),
        }
    }
}

/// The edit, validated: everything CIPP would act on.
pub struct EditUserRequest {
    pub id: UserId,
    pub display_name: String,
    pub upn: String,
    pub patch: Map<String, Value>,
    /// Goes to Graph and the caller only.
    pub password: Option<SecretString>,
    pub must_change: bool,
    pub licenses: Vec<String>,
    pub remove_licenses: Option<bool>,
    pub aliases: Vec<String>,
    pub copy_from: Option<UserId>,
    pub add_groups: Vec<GroupRef>,
    pub remove_groups: Vec<GroupRef>,
    pub manager: Option<UserId>,
    pub sponsor: Option<UserId>,
}

impl EditUserRequest {
    /// Reads the form, in CIPP's order. A missing `id` is CIPP's own 400 (`["Failed to edit
    /// user. No user ID provided"]`); the rest are 400s naming the field.
    pub fn from_params(form: Params) -> Result<Self, UserError> {
        let Some(id) = form.id.clone() else {
            return Err(UserError::Answered {
                kind: ErrorKind::InvalidInput,
                message: NO_ID.to_owned(),
                results: json!([NO_ID]),
            });
        };
        if form.sherweb_license.is_some() {
            return Err(UserError::invalid(
                "sherwebLicense",
                "sherwebLicense: buying a Sherweb licence is not supported by this service yet",
            ));
        }
        let aliases: Vec<String> = form
            .added_aliases
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        // CIPP writes each into a JSON text unescaped; Graph would refuse a non-address anyway.
        if let Some(bad) = aliases.iter().find(|a| !is_mail_address(a)) {
            return Err(UserError::invalid(
                "AddedAliases",
                format!("AddedAliases: '{bad}' is not an e-mail address"),
            ));
        }
        // CIPP sends `<username>@<domain>` regardless; without either, Graph refuses the whole
        // PATCH, so the edit would do nothing but report a failure.
        let username = form
            .username
            .clone()
            .ok_or_else(|| UserError::missing("username"))?;
        let domain = form
            .domain
            .clone()
            .or_else(|| form.prim_domain.clone())
            .ok_or_else(|| {
                UserError::invalid(
                    "Domain",
                    "Domain or primDomain is required (the UPN's domain)",
                )
            })?;
        let upn = format!("{username}@{domain}");
        let must_change = form.must_change_pass;
        let patch = patch_body(&form, &upn, must_change);
        Ok(Self {
            display_name: form
                .display_name
                .clone()
                .unwrap_or_else(|| id.as_str().to_owned()),
            id,
            upn,
            patch,
            password: form.password,
            must_change,
            licenses: form
                .licenses
                .iter()
                .map(|sku| sku.as_str().to_owned())
                .collect(),
            remove_licenses: form.remove_licenses,
            aliases,
            copy_from: form.copy_from,
            add_groups: form.add_to_groups.iter().map(GroupRef::from).collect(),
            remove_groups: form.remove_from_groups.iter().map(GroupRef::from).collect(),
            manager: form.set_manager,
            sponsor: form.set_sponsor,
        })
    }
}

/// What the edit did: CIPP's lines, whether any step failed or succeeded, and the lines
/// without the password for the audit row.
pub struct EditOutcome {
    pub results: Vec<String>,
    pub failed: bool,
    /// Some step changed the user (a skipped group is neither a success nor a failure).
    pub done: bool,
    pub log_lines: Vec<String>,
}

impl EditOutcome {
    fn done(&mut self, line: String) {
        self.done = true;
        self.log_lines.push(line.clone());
        self.results.push(line);
    }

    fn skipped(&mut self, line: String) {
        self.log_lines.push(line.clone());
        self.results.push(line);
    }

    fn failed(&mut self, tenant: &str, user: &str, line: String) {
        self.failed = true;
        tracing::warn!(tenant, user, "{line}");
        self.log_lines.push(line.clone());
        self.results.push(line);
    }
}

/// Whether CIPP sends this group's membership through Exchange: from Graph's flags when the
/// group was read, else from the form's `calculatedGroupType`, else its `groupType`.
fn exchange_owned(group: &GroupRef, looked_up: Option<&Value>) -> bool {
    if let Some(kind) = looked_up.and_then(crate::groups::edit_kind) {
        return crate::groups::exchange_kind(kind);
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

/// Step 5: one `$batch` reading every group's type; a group that could not be read is `None`
/// (the form's type decides).
async fn group_types(graph: &GraphClient, tenant: &str, groups: &[&GroupRef]) -> Vec<Option<Value>> {
    let mut types: Vec<Option<Value>> = vec![None; groups.len()];
    if groups.is_empty() {
        return types;
    }
    let requests = groups
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
            for answer in answers {
                let slot = answer.id.parse::<usize>().ok().and_then(|i| types.get_mut(i));
                if let Some(slot) = slot
                    && answer.is_success()
                {
                    *slot = answer.body;
                }
            }
        }
        Err(e) => tracing::warn!(
            tenant,
            "Could not look up group types, falling back to the types supplied by the request: {e}"
        ),
    }
    types
}

/// Performs the edit in CIPP's order. Graph and Exchange refusals become CIPP's failure lines;
/// the caller answers with 207 or an error status when any step failed (CIPP: always 200).
pub async fn edit_user(
    graph: &GraphClient,
    tenant: &str,
    edit: &EditUserRequest,
) -> Result<EditOutcome, UserError> {
    let segment = edit.id.segment();
    let user = edit.id.as_str();
    let mut out = EditOutcome {
        results: Vec::new(),
        failed: false,
        done: false,
        log_lines: Vec::new(),
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
            tracing::info!(
                tenant,
                "Edited user {} with id {}",
                edit.display_name,
                edit.id
            );
            out.done("Success. The user has been edited.".to_owned());
            if let Some(password) = &edit.password {
                let password = password.expose_secret();
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
                        out.done = true;
                        out.results
                            .push(format!("Success. The password has been set to {password}"));
                        out.log_lines
                            .push("Success. The password has been set".to_owned());
                    }
                    Err(e) => out.failed(
                        tenant,
                        user,
                        format!("Failed to edit user. {}", normalize_graph_error(&e)),
                    ),
                }
            }
        }
        Err(e) => out.failed(
            tenant,
            user,
            format!("Failed to edit user. {}", normalize_graph_error(&e)),
        ),
    }

    // 2. Licences.
    if !edit.licenses.is_empty() || edit.remove_licenses == Some(true) {
        match licences(graph, tenant, edit).await {
            Ok(line) if line.starts_with("Failed") => out.failed(tenant, user, line),
            Ok(line) => out.done(line),
            Err(e) => out.failed(
                tenant,
                user,
                format!(
                    "We've failed to assign the license. {}",
                    normalize_graph_error(&e)
                ),
            ),
        }
    }

    // 3. Aliases: `mail` set to each, then back to the computed UPN.
    if !edit.aliases.is_empty() {
        match write_aliases(graph, tenant, user, &edit.aliases, &edit.upn).await {
            Ok(()) => {
                tracing::info!(tenant, "Added Aliases to {}", edit.display_name);
                out.done("Success. Added aliases to user.".to_owned());
            }
            Err(e) => out.failed(
                tenant,
                user,
                format!(
                    "Failed to add aliases to user {}. Error: {}",
                    edit.display_name,
                    normalize_graph_error(&e)
                ),
            ),
        }
    }

    // 4. The source user's groups, for the computed UPN: successes, failures, then skips.
    if let Some(source) = &edit.copy_from {
        // CIPP has no try block here: a failed first `$batch` is the entrypoint's 500.
        let copied = copy_groups(graph, tenant, source, &edit.upn)
            .await
            .map_err(|text| UserError::Failed {
                message: format!("Failed to edit user. {text}"),
                source: None,
            })?;
        for line in copied.success {
            out.done(line);
        }
        for line in copied.error {
            out.failed(tenant, user, line);
        }
        for line in copied.skipped {
            out.skipped(line);
        }
    }

    // 5. The groups' types, then 6./7. the additions and removals, each through Exchange or
    // Graph as its type says.
    let all_groups: Vec<&GroupRef> = edit.add_groups.iter().chain(&edit.remove_groups).collect();
    let types = group_types(graph, tenant, &all_groups).await;
    let (add_types, remove_types) = types.split_at(edit.add_groups.len());
    let directory_object = json!({
        "@odata.id": format!("https://graph.microsoft.com/beta/directoryObjects/{}", edit.id)
    });
    for (g, looked_up) in edit.add_groups.iter().zip(add_types) {
        let added = if exchange_owned(g, looked_up.as_ref()) {
            distribution_member(graph, tenant, true, &g.id, user).await
        } else {
            let url = format!("groups/{}/members/$ref", path_segment(&g.id));
            graph
                .post(tenant, GraphVersion::Beta, &url, &directory_object)
                .await
                .map(|_| ())
        };
        match added {
            Ok(()) => out.done(format!(
                "Success. {} has been added to {}",
                edit.display_name, g.label
            )),
            Err(e) => out.failed(
                tenant,
                user,
                format!(
                    "Failed to add member {} to {}. Error: {}",
                    edit.display_name,
                    g.label,
                    normalize_graph_error(&e)
                ),
            ),
        }
    }
    for (g, looked_up) in edit.remove_groups.iter().zip(remove_types) {
        let removed = if exchange_owned(g, looked_up.as_ref()) {
            distribution_member(graph, tenant, false, &g.id, user).await
        } else {
            let url = format!("groups/{}/members/{segment}/$ref", path_segment(&g.id));
            graph.delete(tenant, GraphVersion::Beta, &url).await
        };
        match removed {
            Ok(()) => out.done(format!(
                "Success. {} has been removed from {}",
                edit.display_name, g.label
            )),
            Err(e) => out.failed(
                tenant,
                user,
                format!(
                    "Failed to remove member {} from {}. Error: {}",
                    edit.display_name,
                    g.label,
                    normalize_graph_error(&e)
                ),
            ),
        }
    }

    // 8. Manager, then 9. sponsor, keyed on the UPN the form computed.
    let relations = [
        (edit.manager.as_ref(), Relation::Manager),
        (edit.sponsor.as_ref(), Relation::Sponsor),
    ];
    for (target, relation) in relations {
        let Some(target) = target else {
            continue;
        };
        let users = std::slice::from_ref(&edit.upn);
        let outcome = match relation {
            Relation::Manager => set_managers(graph, tenant, users, target.as_str()).await,
            Relation::Sponsor => set_sponsors(graph, tenant, users, target.as_str()).await,
        };
        match outcome {
            Ok(list) => {
                for r in list {
                    if r.success {
                        out.done(r.result);
                    } else {
                        out.failed(tenant, user, r.result);
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
    Ok(out)
}

/// Step 2 and `Set-CIPPUserLicense` in single mode: the first result line.
async fn licences(
    graph: &GraphClient,
    tenant: &str,
    edit: &EditUserRequest,
) -> Result<String, cipp_graph::GraphError> {
    let user = graph
        .get(
            tenant,
            GraphVersion::Beta,
            &format!("users/{}", edit.id.segment()),
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
    if current.join(",") == edit.licenses.join(",") && edit.remove_licenses == Some(false) {
        return Ok("Success. User license is already correct.".to_owned());
    }
    let (add, remove): (Vec<String>, Vec<String>) = if edit.remove_licenses == Some(true) {
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
        format!("users/{}/assignLicense", edit.id.segment()),
    )
    .with_id(edit.id.as_str())
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
    use crate::op::params::{ParamsSchema, RawParams, deserialize};

    fn form(v: Value) -> Params {
        let raw = RawParams::new("", v.to_string().as_bytes()).unwrap();
        deserialize(ParamsSchema::of::<Params>().prepare(&raw)).unwrap()
    }

    #[test]
    fn blanks_are_dropped_and_cleared_fields_sent_as_null() {
        let f = form(json!({
            "givenName": "Ada", "surname": " ", "jobTitle": "Eng", "businessPhones": [],
            "otherMails": "a@x.com, b@x.com,", "clearProperties": ["jobTitle", "otherMails", "id"],
            "customData": {"employeeId": "42", "costCenter": ""},
            "defaultAttributes": {"extensionAttribute1": {"Value": "x"}, "extensionAttribute2": {"value": ""}}
        }));
        let p = patch_body(&f, "ada@x.com", false);
        assert_eq!(p["givenName"], json!("Ada"));
        assert!(!p.contains_key("surname"));
        assert_eq!(p["jobTitle"], Value::Null);
        assert_eq!(p["otherMails"], json!([]));
        assert!(!p.contains_key("businessPhones"));
        assert!(!p.contains_key("id"));
        assert_eq!(p["employeeId"], json!("42"));
        assert!(!p.contains_key("costCenter"));
        assert_eq!(p["extensionAttribute1"], json!("x"));
        assert!(!p.contains_key("extensionAttribute2"));
        assert_eq!(
            p["passwordProfile"],
            json!({"forceChangePasswordNextSignIn": false})
        );
    }

    #[test]
    fn other_mails_are_split_at_commas_and_the_upn_is_username_at_domain() {
        let f = form(json!({
            "id": "ada@x.com", "username": "ada", "primDomain": {"label": "x.com", "value": "x.com"},
            "otherMails": ["a@y.com,b@y.com", "c@y.com"], "removeLicenses": "false"
        }));
        let edit = EditUserRequest::from_params(f).unwrap();
        assert_eq!(edit.upn, "ada@x.com");
        assert_eq!(edit.patch["otherMails"], json!(["a@y.com", "b@y.com", "c@y.com"]));
        assert_eq!(edit.remove_licenses, Some(false));
    }

    #[test]
    fn aliases_are_split_at_any_white_space_and_a_non_address_is_refused() {
        let base = json!({"id": "ada@x.com", "username": "ada", "Domain": "x.com"});
        let mut f = base.clone();
        f["AddedAliases"] = json!("a@x.com  b@x.com\n");
        let edit = EditUserRequest::from_params(form(f)).unwrap();
        assert_eq!(edit.aliases, ["a@x.com", "b@x.com"]);
        let mut f = base;
        f["AddedAliases"] = json!("a@x.com \"x\"");
        let Err(e) = EditUserRequest::from_params(form(f)) else {
            panic!("a quoted word is not an address");
        };
        assert!(e.to_string().contains("AddedAliases"), "{e}");
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
