//! Names from demo mode's simulated Microsoft 365 (seed 365, the default), used by the request
//! examples in the OpenAPI document so Swagger UI's "Try it out" works against demo mode. A test
//! runs every example against demo mode and fails when one of these no longer exists. Demo mode
//! also starts its store with a few templates ([`seed_store`]), so the examples that edit or
//! remove one have one to work on.

use cipp_store::{Store, StoreError, Template, TemplateKind};
use serde_json::{Value, json};
use uuid::Uuid;

/// The first demo customer tenant (the demo custom role's only tenant).
pub const TENANT: &str = "contoso.example";
pub const TENANT_ID: &str = "475dc858-a69e-46d3-96ff-74fcc8906550";
/// A second demo tenant.
pub const OTHER_TENANT: &str = "fabrikam.example";
/// A cloud-only, enabled, licensed user of [`TENANT`].
pub const USER: &str = "kenji.robbins@contoso.example";
pub const USER_ID: &str = "5e8dc4ec-274a-4a5f-9c08-e54c84f02ee0";
/// Another cloud-only user, for examples that remove or restore something.
pub const OTHER_USER: &str = "olga.watanabe@contoso.example";
pub const OTHER_USER_ID: &str = "acb5caca-543a-411b-84c8-31b11cdc210c";
/// A user synced from on-premises AD.
pub const SYNCED_USER: &str = "enrico.braun@contoso.example";
/// Deleted users of [`TENANT`] (`former.employee@…`, `temp.contractor@…`), for the examples
/// that restore or purge one.
pub const DELETED_USER_ID: &str = "f89af30b-266a-42fd-ac40-745ed0a73942";
pub const OTHER_DELETED_USER_ID: &str = "04cab4e5-9a51-4211-831e-fd5e7a909664";

/// The shortcut [`USER`]'s OneDrive starts with ("Documents", the root site's library), for the
/// example that removes one.
pub const ONEDRIVE_SHORTCUT_ID: &str = "01E9F0C0B4249A480A87207FC648F92C89";

/// [`TENANT`]'s "Engineering" security group (Graph manages its members).
pub const GROUP_ID: &str = "f095f577-6032-43e3-bf99-c16a53eab083";
/// An Intune-managed device of [`TENANT`].
pub const MANAGED_DEVICE_ID: &str = "6d9db8e0-e51d-442c-9d6a-aa31c9284c4b";

/// The third demo tenant, which no example writes templates for: the templates demo mode
/// starts with are its own, so they stay out of the other tenants' lists.
pub const TEMPLATE_TENANT: &str = "northwindtraders.example";
/// The templates demo mode starts with, so the examples that edit or remove one succeed.
pub const USER_DEFAULT_TEMPLATE_ID: &str = "5eed0001-0000-4000-8000-000000000001";
pub const JIT_ADMIN_TEMPLATE_ID: &str = "5eed0002-0000-4000-8000-000000000002";
pub const OTHER_JIT_ADMIN_TEMPLATE_ID: &str = "5eed0003-0000-4000-8000-000000000003";
pub const JIT_ROLE_TEMPLATE_ID: &str = "5eed0004-0000-4000-8000-000000000004";
pub const OTHER_JIT_ROLE_TEMPLATE_ID: &str = "5eed0005-0000-4000-8000-000000000005";
/// A pending JIT admin request, so the decision example has one to reject.
pub const JIT_ADMIN_REQUEST_ID: &str = "5eed0006-0000-4000-8000-000000000006";

/// Marks a store that has had the demo templates, so removing one is not undone by a restart.
const TEMPLATES_SEEDED: &str = "demo:templates-seeded";

/// The demo templates, as the template operations would have saved them.
fn templates() -> Vec<(TemplateKind, Template)> {
    let template = |id: &str, name: &str, body: Value| {
        Uuid::parse_str(id).ok().map(|id| Template {
            id,
            tenant: TEMPLATE_TENANT.to_owned(),
            name: name.to_owned(),
            body,
        })
    };
    let jit = |name: &str| {
        json!({
            "tenantFilter": TEMPLATE_TENANT,
            "templateName": name,
            "defaultForTenant": false,
            "defaultRoles": [{"label": "User Administrator", "value": "fe930be7-5e62-47db-91af-98c3a49a38b1"}],
            "defaultGroups": null,
            "defaultDuration": {"label": "1 day", "value": "P1D"},
            "defaultExpireAction": {"label": "Delete user", "value": "DeleteUser"},
            "defaultNotificationActions": null,
            "reasonTemplate": null,
            "defaultUseRoles": true,
            "defaultUseGroups": false,
            "generateTAPByDefault": true,
            "defaultUserAction": "create",
            "defaultFirstName": "Jit",
            "createdBy": "demo",
            "createdDate": "2026-01-01T00:00:00Z"
        })
    };
    let role = |id: &str, name: &str| {
        Uuid::parse_str(id).ok().map(|id| Template {
            id,
            tenant: crate::templates::ALL_TENANTS.to_owned(),
            name: name.to_owned(),
            body: json!({
                "templateName": name,
                "roles": [{"label": "Helpdesk Administrator", "value": "729827e3-9c14-49f7-bb1b-9608f156bbb8"}],
                "createdBy": "demo",
                "createdDate": "2026-01-01T00:00:00Z"
            }),
        })
    };
    let request = Uuid::parse_str(JIT_ADMIN_REQUEST_ID).ok().map(|id| Template {
        id,
        tenant: TENANT.to_owned(),
        name: JIT_ADMIN_REQUEST_ID.to_owned(),
        body: json!({
            "RowKey": JIT_ADMIN_REQUEST_ID,
            "State": "Pending",
            "Tenant": TENANT,
            "TargetUser": USER,
            "RoleIds": ["fe930be7-5e62-47db-91af-98c3a49a38b1"],
            "RoleNames": "User Administrator",
            "GroupIds": [],
            "GroupNames": "",
            "Reason": "Demo request",
            "StartDate": 1_900_000_000,
            "EndDate": 1_900_003_600,
            "RequestedBy": "demo",
            "RequestedAt": "2026-01-01T00:00:00Z",
            "RequestBody": {
                "tenantFilter": TENANT,
                "existingUser": {"label": USER, "value": USER},
                "AdminRoles": [{"label": "User Administrator", "value": "fe930be7-5e62-47db-91af-98c3a49a38b1"}],
                "StartDate": 1_900_000_000,
                "EndDate": 1_900_003_600,
                "ExpireAction": {"label": "Remove Roles", "value": "RemoveRoles"},
                "reason": "Demo request"
            },
            "ApproverRoles": ["superadmin", "admin"],
            "RequiredApprovals": 1,
            "Decisions": []
        }),
    });
    [
        (TemplateKind::JitAdminRequest, request),
        (
            TemplateKind::JitRole,
            role(JIT_ROLE_TEMPLATE_ID, "Demo helpdesk"),
        ),
        (
            TemplateKind::JitRole,
            role(OTHER_JIT_ROLE_TEMPLATE_ID, "Demo service desk"),
        ),
        (
            TemplateKind::NewUserDefaults,
            template(
                USER_DEFAULT_TEMPLATE_ID,
                "Demo starter",
                json!({
                    "tenantFilter": TEMPLATE_TENANT,
                    "templateName": "Demo starter",
                    "defaultForTenant": false,
                    "usageLocation": "NL",
                    "department": "Sales",
                    "businessPhones": []
                }),
            ),
        ),
        (
            TemplateKind::JitAdmin,
            template(
                JIT_ADMIN_TEMPLATE_ID,
                "Demo break glass",
                jit("Demo break glass"),
            ),
        ),
        (
            TemplateKind::JitAdmin,
            template(
                OTHER_JIT_ADMIN_TEMPLATE_ID,
                "Demo on call",
                jit("Demo on call"),
            ),
        ),
    ]
    .into_iter()
    .filter_map(|(kind, template)| Some((kind, template?)))
    .collect()
}

/// A BEC run demo mode starts with, so the example that deletes a run has one. It is marked
/// failed with a text saying what it is: it never held a report.
pub const DEMO_BEC_CASE_ID: &str = "BEC-20260101000000-5eed00";
const BEC_SEEDED: &str = "demo:bec-seeded";

async fn seed_bec_case(store: &Store) -> Result<(), StoreError> {
    if store.kv_get(BEC_SEEDED).await?.is_some() {
        return Ok(());
    }
    let at = time::OffsetDateTime::from_unix_timestamp(1_767_225_600)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let message = "Seeded by demo mode so the ExecBECReport example has a run to delete; start a real check with ExecBECCheck";
    store
        .bec_put(&cipp_store::BecCase {
            case_id: DEMO_BEC_CASE_ID.to_owned(),
            tenant: TENANT.to_owned(),
            user_id: USER_ID.to_owned(),
            user_principal_name: USER.to_owned(),
            display_name: "Kenji Robbins".to_owned(),
            status: cipp_store::BecCaseStatus::Error,
            level: None,
            score: None,
            incomplete_count: 0,
            requested_at: at,
            requested_by: "demo".to_owned(),
            extracted_at: Some(at),
            error_message: Some(message.to_owned()),
            results: Some(json!({"Results": message})),
            containment: Vec::new(),
        })
        .await?;
    store.kv_put(BEC_SEEDED, &json!(true), None).await
}

/// Puts the demo templates (and the demo BEC run) into a store that has never had them.
pub async fn seed_store(store: &Store) -> Result<(), StoreError> {
    seed_bec_case(store).await?;
    seed_completed_bec_case(store).await?;
    if store.kv_get(TEMPLATES_SEEDED).await?.is_some() {
        return Ok(());
    }
    for (kind, template) in templates() {
        store.put_template(kind, &template).await?;
    }
    store.kv_put(TEMPLATES_SEEDED, &json!(true), None).await
}

/// A completed BEC case of [`USER`], so the report, evidence and IP review examples have one.
pub const BEC_CASE_ID: &str = "BEC-20260101090000-de0001";
const BEC_CASE_SEEDED: &str = "demo:bec-case-seeded";

/// The completed demo case: a fixed sample of evidence (a foreign sign-in, a rule forwarding
/// outside, a consent to a catalogued mail client) put through the check's own analysis and
/// score, so the report has exactly the shape and judgement a real run gives. A real run
/// needs the simulator up, which the store's seeding does not wait for.
async fn seed_completed_bec_case(store: &Store) -> Result<(), StoreError> {
    use crate::bec::collect::{Evidence, Status, Subject};
    if store.kv_get(BEC_CASE_SEEDED).await?.is_some() {
        return Ok(());
    }
    let requested_at = time::macros::datetime!(2026-01-01 09:00 UTC);
    let subject = Subject {
        tenant: TENANT.to_owned(),
        tenant_id: TENANT_ID.to_owned(),
        user_id: USER_ID.to_owned(),
        upn: USER.to_owned(),
        display_name: "Kenji Robbins".to_owned(),
        usage_location: Some("US".to_owned()),
        start: "2025-12-25T09:00:00Z".to_owned(),
        end: "2026-01-01T09:00:00Z".to_owned(),
    };
    let sign_in = |id: &str, at: &str, ip: &str, city: &str, country: &str| {
        json!({
            "id": id, "createdDateTime": at, "ipAddress": ip, "resourceDisplayName": "Office 365 Exchange Online",
            "appId": "00000002-0000-0ff1-ce00-000000000000", "clientAppUsed": "Browser",
            "conditionalAccessStatus": "notApplied", "status": {"errorCode": 0, "failureReason": null},
            "location": {"city": city, "countryOrRegion": country},
        })
    };
    let complete = |count: usize| Status {
        complete: true,
        count,
        ..Status::default()
    };
    let evidence = Evidence {
        audit_enabled: Some(true),
        extract_result: "Seeded by demo mode from sample evidence".to_owned(),
        sign_ins: vec![
            sign_in(
                "demo-signin-1",
                "2025-12-31T22:14:05Z",
                "203.0.113.77",
                "Bucharest",
                "RO",
            ),
            sign_in(
                "demo-signin-2",
                "2025-12-30T08:01:00Z",
                "198.51.100.20",
                "Seattle",
                "US",
            ),
        ],
        inbox_rules: vec![json!({
            "Name": "Demo: forward invoices", "Enabled": true, "Identity": "kenji.robbins\\Demo: forward invoices",
            "SubjectOrBodyContainsWords": ["invoice"], "ForwardTo": ["\"demo@example.net\" [SMTP:demo@example.net]"],
        })],
        grants: vec![json!({
            "grant": {"id": "demo-grant-1", "clientId": "demo-sp-1", "consentType": "Principal", "scope": "Mail.Read offline_access"},
            "app": {"id": "demo-sp-1", "appId": "e9a7fea1-1cc0-4cd9-a31b-9137ca5deedd", "displayName": "eM Client", "publisherName": "eM Client s.r.o."},
        })],
        completeness: vec![
            ("SignIns".to_owned(), complete(2)),
            ("InboxRules".to_owned(), complete(1)),
            ("UserGrants".to_owned(), complete(1)),
            (
                "IntuneDevices".to_owned(),
                Status {
                    skipped: true,
                    requirement: Some("requires an Intune licence".to_owned()),
                    ..Status::default()
                },
            ),
        ],
        ..Evidence::default()
    };
    let mut report = crate::bec::analyse::report(&subject, &evidence, "2026-01-01T09:02:00Z", 7);
    report.insert("CaseId".into(), json!(BEC_CASE_ID));
    let score = crate::bec::analyse::score(&report, &subject.start);
    let value = score["Value"].as_i64().unwrap_or(0);
    let level = score["Level"].as_str().unwrap_or("Low").to_owned();
    report.insert("Score".into(), score);
    store
        .bec_put(&cipp_store::BecCase {
            case_id: BEC_CASE_ID.to_owned(),
            tenant: TENANT.to_owned(),
            user_id: USER_ID.to_owned(),
            user_principal_name: USER.to_owned(),
            display_name: "Kenji Robbins".to_owned(),
            status: cipp_store::BecCaseStatus::Completed,
            level: Some(level),
            score: Some(value),
            incomplete_count: 1,
            requested_at,
            requested_by: "demo".to_owned(),
            extracted_at: Some(requested_at + time::Duration::minutes(2)),
            error_message: None,
            results: Some(Value::Object(report)),
            containment: Vec::new(),
        })
        .await?;
    store.kv_put(BEC_CASE_SEEDED, &json!(true), None).await
}

/// The demo's scheduled offboarding: far in the future, so it never runs; the scheduler
/// examples list, read and remove it.
pub const DEMO_TASK_ID: &str = "3f0c5b7e-0000-4000-8000-000000000002";
pub const DEMO_DEPLOYMENT_ID: &str = "3f0c5b7e-0000-4000-8000-000000000001";

/// Queues the demo's scheduled offboarding unless it exists.
pub async fn seed_jobs(jobs: &cipp_jobs::Engine) -> Result<(), cipp_jobs::JobError> {
    if jobs.job(DEMO_TASK_ID).await?.is_some() {
        return Ok(());
    }
    let options = crate::offboarding::OffboardOptions {
        tenant_filter: Some(TENANT.to_owned()),
        disable_sign_in: true,
        revoke_sessions: true,
        reference: Some("DEMO-1".to_owned()),
        ..Default::default()
    };
    let payload = crate::offboarding::OffboardPayload {
        username: OTHER_USER.to_owned(),
        tenant_id: TENANT_ID.to_owned(),
        options: serde_json::to_value(&options).unwrap_or_default(),
        deployment_id: DEMO_DEPLOYMENT_ID.to_owned(),
    };
    let run_at = time::macros::datetime!(2099-01-01 09:00 UTC);
    jobs.enqueue(cipp_jobs::NewJob {
        id: Some(DEMO_TASK_ID.to_owned()),
        deployment_id: DEMO_DEPLOYMENT_ID.to_owned(),
        kind: crate::offboarding::KIND.to_owned(),
        tenant: TENANT.to_owned(),
        title: OTHER_USER.to_owned(),
        reference: options.reference.clone(),
        created_by: Some("demo".to_owned()),
        payload: serde_json::to_value(&payload).unwrap_or_default(),
        steps: crate::offboarding::planned_steps(&options, false),
        run_at: Some(run_at),
    })
    .await
    .map(|_| ())
}
