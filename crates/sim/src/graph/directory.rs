//! GDAP relationships, domains, organization and tenant lookup, as CIPP reads them.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use super::filter::Lit;
use super::{Ctx, GraphError, ok_json};
use crate::state::Tenant;

fn relationship_json(t: &Tenant) -> Option<Value> {
    let r = t.relationship.as_ref()?;
    Some(json!({
        "id": r.id,
        "displayName": r.display_name,
        "duration": "P730D",
        "status": r.status,
        "autoExtendDuration": r.auto_extend,
        "createdDateTime": r.created,
        "activatedDateTime": r.activated,
        "lastModifiedDateTime": r.activated,
        "endDateTime": r.end,
        "customer": {"tenantId": t.id, "displayName": t.display_name},
        "accessDetails": {"unifiedRoles": [
            {"roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10"},
            {"roleDefinitionId": "fe930be7-5e62-47db-91af-98c3a49a38b1"}
        ]},
    }))
}

/// Only the simple `status eq '…'` / `displayName`-style equality filters CIPP sends are honoured.
fn relationship_filter(raw: Option<&str>) -> Result<Vec<(String, String)>, GraphError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for clause in raw.split(" and ") {
        let mut parts = clause.trim().splitn(3, ' ');
        let (Some(prop), Some(op), Some(lit)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(GraphError::bad_request(
                "BadRequest",
                format!("Invalid filter clause: {raw}"),
            ));
        };
        if !op.eq_ignore_ascii_case("eq") {
            return Err(GraphError::bad_request(
                "BadRequest",
                format!("The operator '{op}' is not supported for this resource."),
            ));
        }
        let lit = lit.trim().trim_matches('\'').to_owned();
        out.push((prop.to_owned(), lit));
    }
    Ok(out)
}

fn project(obj: &Value, select: Option<&str>) -> Value {
    match (obj, select.filter(|s| !s.trim().is_empty())) {
        (Value::Object(map), Some(sel)) => {
            let mut out = Map::new();
            for name in sel.split(',').map(str::trim) {
                if let Some((k, v)) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::Object(out)
        }
        _ => obj.clone(),
    }
}

pub(super) fn relationships(ctx: &Ctx<'_>) -> Result<HttpResponse, GraphError> {
    let clauses = relationship_filter(ctx.option("$filter"))?;
    let registry = ctx.sim.registry.read();
    let is_partner = registry.partner_id() == ctx.tenant.id;
    let rows: Vec<Value> = if is_partner {
        registry
            .customers
            .iter()
            .filter_map(|t| relationship_json(t))
            .filter(|row| {
                clauses.iter().all(|(prop, want)| {
                    let got = prop
                        .split('/')
                        .try_fold(row, |v, seg| v.get(seg))
                        .and_then(Value::as_str);
                    got.is_some_and(|g| g.eq_ignore_ascii_case(want))
                })
            })
            .map(|row| project(&row, ctx.option("$select")))
            .collect()
    } else {
        Vec::new()
    };
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": ctx.context("tenantRelationships/delegatedAdminRelationships"),
            "value": rows,
        }),
    ))
}

fn domain_json(d: &crate::state::Domain) -> Value {
    json!({
        "authenticationType": "Managed",
        "availabilityStatus": null,
        "id": d.name,
        "isAdminManaged": true,
        "isDefault": d.is_default,
        "isInitial": d.is_initial,
        "isRoot": true,
        "isVerified": d.is_verified,
        "passwordNotificationWindowInDays": 14,
        "passwordValidityPeriodInDays": 2_147_483_647,
        "supportedServices": if d.is_verified { json!(["Email", "OfficeCommunicationsOnline"]) } else { json!([]) },
        "state": null,
    })
}

pub(super) fn domains(ctx: &Ctx<'_>) -> Result<HttpResponse, GraphError> {
    let mut rows: Vec<Value> = ctx.tenant.domains.iter().map(domain_json).collect();
    if let Some(raw) = ctx.option("$filter")
        && let Some(keep) = filter_domains(raw)?
    {
        rows.retain(|row| keep(row));
    }
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| project(r, ctx.option("$select")))
        .collect();
    Ok(ok_json(
        StatusCode::OK,
        &json!({"@odata.context": ctx.context("domains"), "value": rows}),
    ))
}

type RowPredicate = Box<dyn Fn(&Value) -> bool>;

/// Domains accept simple `prop eq literal` filters (isDefault eq true, id eq 'x').
fn filter_domains(raw: &str) -> Result<Option<RowPredicate>, GraphError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let mut parts = raw.trim().splitn(3, ' ');
    let (Some(prop), Some(op), Some(lit)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("Invalid filter clause: {raw}"),
        ));
    };
    if !op.eq_ignore_ascii_case("eq") {
        return Err(GraphError::bad_request(
            "Request_UnsupportedQuery",
            format!("Unsupported filter operator '{op}'."),
        ));
    }
    let want = match lit.trim() {
        "true" => Lit::Bool(true),
        "false" => Lit::Bool(false),
        other => Lit::Str(other.trim_matches('\'').to_owned()),
    };
    let prop = prop.to_owned();
    Ok(Some(Box::new(move |row: &Value| {
        match (&want, row.get(prop.as_str())) {
            (Lit::Bool(b), Some(Value::Bool(v))) => b == v,
            (Lit::Str(s), Some(Value::String(v))) => s.eq_ignore_ascii_case(v),
            _ => false,
        }
    })))
}

pub(super) fn organization(ctx: &Ctx<'_>) -> Result<HttpResponse, GraphError> {
    let t = &ctx.tenant;
    let verified: Vec<Value> = t
        .domains
        .iter()
        .filter(|d| d.is_verified)
        .map(|d| {
            json!({
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": d.is_default,
                "isInitial": d.is_initial,
                "name": d.name,
                "type": "Managed",
            })
        })
        .collect();
    let org = json!({
        "id": t.id,
        "deletedDateTime": null,
        "businessPhones": ["+1 425 555 0100"],
        "city": t.city,
        "country": null,
        "countryLetterCode": t.country_code,
        "createdDateTime": t.created,
        "defaultUsageLocation": null,
        "displayName": t.display_name,
        "marketingNotificationEmails": [],
        "onPremisesLastSyncDateTime": null,
        "onPremisesSyncEnabled": null,
        "partnerTenantType": null,
        "postalCode": null,
        "preferredLanguage": "en",
        "securityComplianceNotificationMails": [],
        "securityComplianceNotificationPhones": [],
        "state": null,
        "street": null,
        "technicalNotificationMails": [format!("admin@{}", t.default_domain())],
        "tenantType": "AAD",
        "directorySizeQuota": {"used": t.users.read().len(), "total": 300_000},
        "assignedPlans": [],
        "privacyProfile": null,
        "provisionedPlans": [],
        "verifiedDomains": verified,
    });
    let row = project(&org, ctx.option("$select"));
    Ok(ok_json(
        StatusCode::OK,
        &json!({"@odata.context": ctx.context("organization"), "value": [row]}),
    ))
}

pub(super) fn find_tenant(ctx: &Ctx<'_>, call: &str) -> Result<HttpResponse, GraphError> {
    let inner = call
        .strip_prefix("findTenantInformationByTenantId(")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or("");
    let id = inner
        .split_once('=')
        .map_or(inner, |(_, v)| v)
        .trim()
        .trim_matches('\'');
    let Some(t) = ctx
        .sim
        .resolve_tenant(id)
        .filter(|t| t.id.eq_ignore_ascii_case(id))
    else {
        return Err(GraphError::not_found(id));
    };
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": ctx.context("microsoft.graph.tenantInformation"),
            "tenantId": t.id,
            "federationBrandName": null,
            "displayName": t.display_name,
            "defaultDomainName": t.default_domain(),
        }),
    ))
}
