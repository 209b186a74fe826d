//! The site list CIPP's `ListSites` reads (beta, app-only): `GET sites/getAllSites` with
//! `$filter=isPersonalSite eq true|false`, the usage reports
//! `GET reports/getSharePointSiteUsageDetail(period='D7')` and
//! `GET reports/getOneDriveUsageAccountDetail(period='D7')` (with `$format=application/json`, as
//! beta answers them), and `GET sites/{siteId}/lists` (each site's Documents library).
//!
//! The OneDrive sites are `sharepoint.rs`' own; the team sites are the root communication site
//! (`https://{name}.sharepoint.com`) and one per Microsoft 365 group (`…/sites/{mailNickname}`),
//! derived from the seed on each read (nothing here changes).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use rand::Rng;
use serde_json::{Value, json};

use super::reads::collection;
use super::{Ctx, GraphError, ok_json};
use crate::seed::guid;
use crate::seed_reads::rng_for_id;

type Answer = Result<HttpResponse, GraphError>;

const SITES_PURPOSE: u64 = 0x0000_5173_0000_0001;

/// One site as the list and the reports describe it.
pub(super) struct SiteRow {
    pub(super) site_id: String,
    pub(super) web_id: String,
    pub(super) display_name: String,
    pub(super) name: String,
    pub(super) url: String,
    pub(super) created: String,
    pub(super) personal: bool,
    owner_name: String,
    owner_upn: String,
    template: &'static str,
    used: u64,
    files: u64,
}

pub(super) fn all_sites(ctx: &Ctx<'_>) -> Vec<SiteRow> {
    let seed = ctx.sim.seed;
    let sp = ctx.sim.sharepoint.tenant(seed, &ctx.tenant);
    let sp = sp.lock();
    // Team sites are only ever named, never called on their host, so they have SharePoint's
    // own URLs; OneDrives are on the simulator's origin because CIPP calls their REST API.
    let team_base = team_site_base(&sp.name);
    let mut rows = vec![SiteRow {
        site_id: sp.root_site_id.clone(),
        web_id: sp.root_web_id.clone(),
        display_name: "Communication site".into(),
        name: String::new(),
        url: team_base.clone(),
        created: ctx.tenant.created.clone(),
        personal: false,
        owner_name: "System Account".into(),
        owner_upn: String::new(),
        template: "SITEPAGEPUBLISHING",
        used: 1_288_490_188,
        files: 214,
    }];
    let data = ctx.sim.reads.tenant(seed, &ctx.tenant);
    let r = data.read();
    let store = ctx.tenant.users.read();
    for g in &r.groups {
        let unified = g.value["groupTypes"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x == "Unified"));
        if !unified {
            continue;
        }
        let mut rng = rng_for_id(seed, g.id(), SITES_PURPOSE);
        let nick = g.value["mailNickname"]
            .as_str()
            .unwrap_or("site")
            .to_owned();
        let owner = g.owners.first().and_then(|o| store.by_id(o));
        rows.push(SiteRow {
            site_id: guid(&mut rng),
            web_id: guid(&mut rng),
            display_name: g.value["displayName"].as_str().unwrap_or("").to_owned(),
            name: nick.clone(),
            url: format!("{team_base}/sites/{nick}"),
            created: g.value["createdDateTime"].as_str().unwrap_or("").to_owned(),
            personal: false,
            owner_name: owner.map_or(String::new(), |u| {
                u.get(crate::user::prop_index("displayName").unwrap_or(0))
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            }),
            owner_upn: owner.map_or(String::new(), |u| u.upn().to_owned()),
            template: "GROUP",
            used: rng.random_range(50_000_000..5_000_000_000),
            files: rng.random_range(10..4000),
        });
    }
    for s in &sp.sites {
        let mut rng = rng_for_id(seed, &s.site_id, SITES_PURPOSE);
        let owner = store.by_id(&s.owner_id);
        rows.push(SiteRow {
            site_id: s.site_id.clone(),
            web_id: s.web_id.clone(),
            display_name: owner.map_or(String::new(), |u| {
                u.get(crate::user::prop_index("displayName").unwrap_or(0))
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            }),
            name: s.path.rsplit('/').next().unwrap_or("").to_owned(),
            url: super::sharepoint::site_url(ctx.sim, s),
            created: s.created.clone(),
            personal: true,
            owner_name: owner.map_or(String::new(), |u| {
                u.get(crate::user::prop_index("displayName").unwrap_or(0))
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            }),
            owner_upn: s.owner_upn.clone(),
            template: "SPSPERS",
            used: rng.random_range(1_000_000..20_000_000_000),
            files: rng.random_range(0..9000),
        });
    }
    rows
}

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    if method != "GET" {
        return None;
    }
    let answer = match s {
        ["sites", "getAllSites"] => list(ctx),
        ["reports", call] if call.starts_with("getSharePointSiteUsageDetail(") => {
            report(ctx, call, false)
        }
        ["reports", call] if call.starts_with("getOneDriveUsageAccountDetail(") => {
            report(ctx, call, true)
        }
        ["sites", id, "lists"] if *id != "root" => lists(ctx, id),
        _ => return None,
    };
    Some(answer)
}

/// `https://{name}.sharepoint.com`: the root team site's URL.
pub(crate) fn team_site_base(name: &str) -> String {
    format!("https://{name}.sharepoint.com")
}

pub(super) fn host(ctx: &Ctx<'_>) -> String {
    format!(
        "{}.sharepoint.com",
        super::sharepoint::sharepoint_name(&ctx.tenant)
    )
}

fn list(ctx: &Ctx<'_>) -> Answer {
    let personal = match ctx.option("$filter").map(str::trim) {
        None | Some("") => None,
        Some(f) => {
            let compact = f.replace(' ', "").to_ascii_lowercase();
            match compact.as_str() {
                "ispersonalsiteeqtrue" => Some(true),
                "ispersonalsiteeqfalse" => Some(false),
                _ => {
                    return Err(GraphError::bad_request(
                        "invalidRequest",
                        format!("Invalid filter clause: {f}"),
                    ));
                }
            }
        }
    };
    let host = host(ctx);
    let items: Vec<Value> = all_sites(ctx)
        .into_iter()
        .filter(|s| personal.is_none_or(|p| p == s.personal))
        .map(|s| {
            let row = json!({
                "id": format!("{host},{},{}", s.site_id, s.web_id),
                "createdDateTime": s.created,
                "description": "",
                "name": s.name,
                "displayName": s.display_name,
                "isPersonalSite": s.personal,
                "lastModifiedDateTime": s.created,
                "webUrl": s.url,
                "siteCollection": {"hostname": host},
                "sharepointIds": {"siteId": s.site_id, "webId": s.web_id, "siteUrl": s.url},
            });
            match row {
                Value::Object(m) => Value::Object(super::reads::select(ctx, m)),
                other => other,
            }
        })
        .collect();
    collection(ctx, "sites", items, 999)
}

fn report(ctx: &Ctx<'_>, call: &str, onedrive: bool) -> Answer {
    let period = call
        .split_once('=')
        .map_or("", |(_, v)| v)
        .trim_end_matches(')')
        .trim_matches('\'');
    if !matches!(period, "D7" | "D30" | "D90" | "D180") {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("Invalid period '{period}'."),
        ));
    }
    let refreshed = &super::inner_date()[..10];
    let items: Vec<Value> = all_sites(ctx)
        .into_iter()
        .filter(|s| s.personal == onedrive)
        .map(|s| {
            json!({
                "reportRefreshDate": refreshed,
                "siteId": s.site_id,
                "siteUrl": s.url,
                "ownerDisplayName": s.owner_name,
                "ownerPrincipalName": s.owner_upn,
                "isDeleted": false,
                "lastActivityDate": refreshed,
                "fileCount": s.files,
                "activeFileCount": s.files / 10,
                "storageUsedInBytes": s.used,
                "storageAllocatedInBytes": 27_487_790_694_400_u64,
                "rootWebTemplate": s.template,
                "reportPeriod": period.trim_start_matches('D'),
            })
        })
        .collect();
    collection(ctx, "reports", items, 999)
}

fn lists(ctx: &Ctx<'_>, id: &str) -> Answer {
    let host = host(ctx);
    let site_id = id.split(',').nth(1).unwrap_or(id);
    let site = all_sites(ctx)
        .into_iter()
        .find(|s| s.site_id.eq_ignore_ascii_case(site_id))
        .ok_or_else(|| GraphError::new(404, "itemNotFound", "Requested site could not be found"))?;
    let mut rng = rng_for_id(ctx.sim.seed, &site.site_id, SITES_PURPOSE ^ 1);
    let parent = json!({"siteId": format!("{host},{},{}", site.site_id, site.web_id)});
    let items = vec![
        json!({"id": guid(&mut rng), "name": "Shared Documents", "list": {"contentTypesEnabled": false, "hidden": false, "template": "documentLibrary"}, "parentReference": parent}),
        json!({"id": guid(&mut rng), "name": "Site Pages", "list": {"contentTypesEnabled": false, "hidden": false, "template": "webPageLibrary"}, "parentReference": parent}),
    ];
    Ok(ok_json(
        StatusCode::OK,
        &json!({"@odata.context": ctx.context("sites/lists"), "value": items}),
    ))
}
