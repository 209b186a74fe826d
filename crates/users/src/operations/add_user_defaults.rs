//! `AddUserDefaults` (CIPP-API `Invoke-AddUserDefaults.ps1`): saves the add-user form's values
//! as a user default template (or over an existing one, by `GUID`). It reads back through
//! `ListNewUserDefaults` with CIPP's field names.

use cipp_store::{Template, TemplateKind};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::UserError;
use crate::op::types::{Guid, TextResults};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use crate::templates::{
    TemplateFlag, authorize_existing, find, ps_truthy, template_id, template_tenant,
};

pub struct AddUserDefaults;

const FAILED: &str = "Failed to create User Default Template";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The template's name.
    #[serde(rename = "templateName")]
    pub template_name: String,
    /// Saves over this template instead of creating one; it must exist and be the caller's to change.
    #[serde(rename = "GUID")]
    pub guid: Option<Guid>,
    /// Whether the form preselects it for its tenant.
    #[serde(rename = "defaultForTenant", default)]
    pub default_for_tenant: TemplateFlag,
    /// The first name.
    #[serde(rename = "givenName")]
    pub given_name: Option<String>,
    /// The last name.
    #[serde(rename = "surname")]
    pub surname: Option<String>,
    /// The display name (the form uses it as a suffix).
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    /// How the user name is built, e.g. `%FirstName%.%LastName%`.
    #[serde(rename = "usernameFormat")]
    pub username_format: Option<String>,
    /// What happens to spaces in the user name.
    #[serde(rename = "usernameSpaceHandling")]
    pub username_space_handling: Option<String>,
    /// What replaces spaces in the user name.
    #[serde(rename = "usernameSpaceReplacement")]
    pub username_space_replacement: Option<String>,
    /// The user name's domain.
    #[serde(rename = "primDomain")]
    pub prim_domain: Option<String>,
    /// Aliases to add, one a line.
    #[serde(rename = "addedAliases")]
    pub added_aliases: Option<String>,
    /// Whether a password is generated.
    #[serde(rename = "Autopassword")]
    pub autopassword: Option<bool>,
    /// A fixed password (saved as sent, as CIPP does).
    #[serde(rename = "password")]
    pub password: Option<String>,
    /// Whether the user must change the password at the next sign-in.
    #[serde(rename = "MustChangePass")]
    pub must_change_pass: Option<bool>,
    /// The licences to assign, as the form's picker sends them (`[{label, value: skuId}]`).
    #[serde(rename = "licenses")]
    pub licenses: Option<Value>,
    /// The licences to remove, as the form sends them.
    #[serde(rename = "removeLicenses")]
    pub remove_licenses: Option<Value>,
    /// The usage location (ISO country code).
    #[serde(rename = "usageLocation")]
    pub usage_location: Option<String>,
    #[serde(rename = "jobTitle")]
    pub job_title: Option<String>,
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
    #[serde(rename = "department")]
    pub department: Option<String>,
    #[serde(rename = "mobilePhone")]
    pub mobile_phone: Option<String>,
    /// Business phone numbers (blanks are dropped).
    #[serde(rename = "businessPhones")]
    pub business_phones: Option<Vec<String>>,
    /// The first business phone, as the "Create Template from User" action sends it.
    #[serde(rename = "businessPhones[0]")]
    pub business_phone: Option<String>,
    /// Other e-mail addresses, as the form sends them.
    #[serde(rename = "otherMails")]
    pub other_mails: Option<Value>,
    /// The manager, as the form's picker sends it.
    #[serde(rename = "setManager")]
    pub set_manager: Option<Value>,
    /// The sponsor, as the form's picker sends it.
    #[serde(rename = "setSponsor")]
    pub set_sponsor: Option<Value>,
    /// The user to copy groups from, as the form's picker sends it.
    #[serde(rename = "copyFrom")]
    pub copy_from: Option<Value>,
    /// Groups to add the user to, as the form's picker sends them (saved as `groupMemberships`).
    #[serde(rename = "addToGroups")]
    pub add_to_groups: Option<Value>,
    /// Groups to add the user to, when `addToGroups` is not given.
    #[serde(rename = "groupMemberships")]
    pub group_memberships: Option<Value>,
    /// Calendars to share, as the form sends them.
    #[serde(rename = "sharedCalendars")]
    pub shared_calendars: Option<Value>,
    /// The permission on the shared calendars.
    #[serde(rename = "sharedCalendarPermission")]
    pub shared_calendar_permission: Option<String>,
    /// Shared mailboxes to grant, as the form sends them.
    #[serde(rename = "sharedMailboxes")]
    pub shared_mailboxes: Option<Value>,
    /// The permission on the shared mailboxes, as the form sends it.
    #[serde(rename = "sharedMailboxPermission")]
    pub shared_mailbox_permission: Option<Value>,
}

impl Operation for AddUserDefaults {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "AddUserDefaults";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the new-user templates");
    const TENANT: TenantUse = TenantUse::OneOrAll;
    const SOURCE: Source = Source {
        upstream: "Invoke-AddUserDefaults.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing or blank `tenantFilter` or `templateName`, a `GUID` that is not a GUID, or an unknown tenant is a 400 naming the field (CIPP checks nothing). The stored `tenantFilter` is the tenant's default domain (or `AllTenants`), whichever name the caller used. A custom role saves templates only for its own tenants, `AllTenants` only when it may target AllTenants, and may not save over another tenant's template. An unknown `GUID` is a 404 (CIPP creates it and says \"Updated\"). Text fields are saved as text (a `{label, value}` as its value), and blank ones as null.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "templateName": "Sales starter",
            "usageLocation": {"label": "Netherlands", "value": "NL"},
            "department": "Sales",
            "defaultForTenant": false
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let kind = TemplateKind::NewUserDefaults;
        let tenant = template_tenant(&ctx)?;
        // A GUID means "save over this template"; it must exist and be the caller's to change.
        let (existing, audit_tenant) = match &params.guid {
            Some(guid) => {
                let id = template_id("GUID", guid)?;
                let found = find(&ctx, kind, id, FAILED).await?.ok_or_else(|| {
                    UserError::not_found(format!("User Default Template with GUID {guid} not found"))
                })?;
                let audit_tenant = authorize_existing(&ctx, &found.tenant).await?;
                (Some(found), audit_tenant)
            }
            None => (None, None),
        };
        let name = params.template_name.clone();
        let body = body(&tenant, params);
        let id = existing.as_ref().map_or_else(Uuid::new_v4, |t| t.id);
        let template = Template {
            id,
            tenant,
            name: name.clone(),
            body,
        };
        ctx.store
            .put_template(kind, &template)
            .await
            .map_err(|e| UserError::internal(FAILED, e))?;
        let action = if existing.is_some() {
            "Updated"
        } else {
            "Created"
        };
        let outcome = Outcome::json(TextResults::new(format!(
            "{action} User Default Template '{name}' with GUID {id}"
        )));
        Ok(match audit_tenant {
            Some((domain, id)) => outcome.audit_tenant(domain, id),
            None => outcome,
        })
    }
}

/// The fields CIPP's AddUserDefaults keeps, under its names; absent ones are null as there.
fn body(tenant: &str, p: Params) -> Value {
    let text = |value: Option<String>| value.map_or(Value::Null, Value::String);
    let flag = |value: Option<bool>| value.map_or(Value::Null, Value::Bool);
    let sent = |value: Option<Value>| value.unwrap_or(Value::Null);
    let phones: Vec<Value> = p
        .business_phones
        .or_else(|| p.business_phone.map(|phone| vec![phone]))
        .unwrap_or_default()
        .into_iter()
        .map(Value::String)
        .collect();
    let groups = match p.add_to_groups {
        Some(sent) if ps_truthy(&sent) => sent,
        _ => p.group_memberships.unwrap_or(Value::Null),
    };
    let fields = [
        ("tenantFilter", json!(tenant)),
        ("templateName", json!(p.template_name)),
        ("defaultForTenant", json!(p.default_for_tenant.0)),
        ("givenName", text(p.given_name)),
        ("surname", text(p.surname)),
        ("displayName", text(p.display_name)),
        ("usernameFormat", text(p.username_format)),
        ("usernameSpaceHandling", text(p.username_space_handling)),
        ("usernameSpaceReplacement", text(p.username_space_replacement)),
        ("primDomain", text(p.prim_domain)),
        ("addedAliases", text(p.added_aliases)),
        ("Autopassword", flag(p.autopassword)),
        ("password", text(p.password)),
        ("MustChangePass", flag(p.must_change_pass)),
        ("licenses", sent(p.licenses)),
        ("removeLicenses", sent(p.remove_licenses)),
        ("usageLocation", text(p.usage_location)),
        ("jobTitle", text(p.job_title)),
        ("streetAddress", text(p.street_address)),
        ("city", text(p.city)),
        ("state", text(p.state)),
        ("postalCode", text(p.postal_code)),
        ("country", text(p.country)),
        ("companyName", text(p.company_name)),
        ("department", text(p.department)),
        ("mobilePhone", text(p.mobile_phone)),
        ("businessPhones", Value::Array(phones)),
        ("otherMails", sent(p.other_mails)),
        ("setManager", sent(p.set_manager)),
        ("setSponsor", sent(p.set_sponsor)),
        ("copyFrom", sent(p.copy_from)),
        ("groupMemberships", groups),
        ("sharedCalendars", sent(p.shared_calendars)),
        ("sharedCalendarPermission", text(p.shared_calendar_permission)),
        ("sharedMailboxes", sent(p.shared_mailboxes)),
        ("sharedMailboxPermission", sent(p.shared_mailbox_permission)),
    ];
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<String, Value>>(),
    )
}
