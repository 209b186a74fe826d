//! SharePoint Online, as far as CIPP's offboarding uses it: users' OneDrive sites.
//!
//! - Graph: `GET users/{id|upn}/drive` (`webUrl` ends `/Documents`), `GET users/{id|upn}/drive/root`
//!   (`sharepointIds.siteUrl` with `$select=sharepointIds`; a user without a OneDrive → 404
//!   `itemNotFound`), beta/v1.0 `GET sites/root` (`{name}.sharepoint.com,{guid},{guid}`).
//! - Site REST under `{sim origin}/_sp/{name}-my/personal/{upn with @ and . as _}/_api/…`:
//!   `POST web/ensureuser` (`{"logonName": "i:0#.f|membership|{upn}"}`; a claim naming no
//!   licensed member nor guest → 500 SPException "The specified user … could not be found.";
//!   the 500 is from memory of SharePoint Online, not checked against a live tenant),
//!   `POST web/getuserbyid(N)` with `X-HTTP-Method: MERGE` (`IsSiteAdmin`), `GET web/getuserbyid(N)`,
//!   `GET web/siteusers`.
//! - Admin CSOM: `POST {sim origin}/_sp/{name}-admin/_vti_bin/client.svc/ProcessQuery` with
//!   Tenant `GetSitePropertiesByUrl` + `SetProperty SharingCapability` + `Update`; an unknown
//!   site is CSOM's `ErrorInfo` (`SpoNoSiteException`, "Cannot get site {url}.") in a 200.
//!
//! - Graph drive items, as far as BEC containment reads them: `GET drives/{id}/root/children`,
//!   `GET drives/{id}/items/{item}/permissions`, `DELETE drives/{id}/items/{item}/permissions/{perm}`.
//!   Only the planted incident's shared file exists (with its anonymous view link).
//!
//! Tokens: SharePoint ones (audience the simulator's origin) for the tenant owning the site.
//! Sites are built per tenant on first use: about nine in ten licensed members (any SKU beyond
//! Exchange Online alone) have a OneDrive, decided from the seed and the user id.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use rand::Rng;
use serde_json::{Map, Value, json};

use super::{Ctx, GraphError, ok_json};
use crate::http::Inbound;
use crate::seed::{SKU_EXO_PLAN1, guid};
use crate::seed_reads::rng_for_id;
use crate::state::{Sim, Tenant};
use crate::user::{User, idx, prop_index};

type Answer = Result<HttpResponse, GraphError>;

const SHAREPOINT_PURPOSE: u64 = 0x0000_5AE9_0000_0001;

/// The id of every OneDrive's root folder (one drive per site, so it needs no variety).
pub(crate) const ONEDRIVE_ROOT_ID: &str = "01ZKQJ7SF6Y2GOVW7725BZO354PWSELRRZ";

/// CSOM's `SharingCapabilities` enum, by value.
pub(crate) const SHARING: [&str; 4] = [
    "Disabled",
    "ExternalUserSharingOnly",
    "ExternalUserAndGuestSharing",
    "ExistingExternalUserSharingOnly",
];

/// A user known to a site (its `siteusers`).
#[derive(Clone)]
pub(crate) struct SiteUser {
    pub id: u32,
    pub upn: String,
    pub title: String,
    pub is_site_admin: bool,
}

impl SiteUser {
    fn render(&self) -> Value {
        json!({
            "Id": self.id,
            "IsHiddenInUI": false,
            "LoginName": format!("i:0#.f|membership|{}", self.upn.to_ascii_lowercase()),
            "Title": self.title,
            "PrincipalType": 1,
            "Email": self.upn,
            "Expiration": "",
            "IsEmailAuthenticationGuestUser": false,
            "IsShareByEmailGuestUser": false,
            "IsSiteAdmin": self.is_site_admin,
            "UserId": {"NameId": format!("1003{:012x}", self.id), "NameIdIssuer": "urn:federation:microsoftonline"},
            "UserPrincipalName": self.upn,
        })
    }
}

/// One OneDrive site collection.
pub(crate) struct Site {
    /// Under `/_sp/`, e.g. `contoso-my/personal/adele_vance_contoso_example`.
    pub path: String,
    pub owner_id: String,
    pub owner_upn: String,
    pub(crate) site_id: String,
    pub(crate) web_id: String,
    pub(crate) list_id: String,
    pub(crate) created: String,
    /// Index into [`SHARING`].
    pub sharing: usize,
    pub users: Vec<SiteUser>,
    next_user_id: u32,
    /// Files in the OneDrive's Documents library (only the incident's shared file).
    items: Vec<DriveItem>,
    /// Folders and shortcuts ("Add shortcut to My files") made through Graph (`drives.rs`).
    pub(crate) drive_items: Vec<super::drives::OneDriveItem>,
    /// Numbers the items made, so their ids follow from the seed.
    pub(crate) next_item: u64,
}

/// A file and its sharing permissions (`{id, link: {scope, type, webUrl}, roles}`).
struct DriveItem {
    id: String,
    name: String,
    created: String,
    permissions: Vec<Value>,
}

/// A tenant's SharePoint: its name and its users' OneDrive sites.
pub(crate) struct TenantSites {
    /// `contoso` for `contoso.sharepoint.com`: the first label of the initial domain.
    pub name: String,
    pub(crate) root_site_id: String,
    pub(crate) root_web_id: String,
    pub sites: Vec<Site>,
}

impl TenantSites {
    fn build(seed: u64, tenant: &Tenant) -> Self {
        let name = sharepoint_name(tenant);
        let mut rng = rng_for_id(seed, &tenant.id, SHAREPOINT_PURPOSE);
        let root_site_id = guid(&mut rng);
        let root_web_id = guid(&mut rng);
        let store = tenant.users.read();
        let mut sites = Vec::new();
        for (_, user) in store.iter_after(None) {
            if !has_sharepoint_licence(user) {
                continue;
            }
            let mut urng = rng_for_id(seed, user.id(), SHAREPOINT_PURPOSE);
            let incident = tenant.incident.get().filter(|i| i.user_id == user.id());
            // The incident's shared file needs its user to have a OneDrive.
            if !urng.random_bool(0.9) && incident.is_none() {
                continue;
            }
            let owner = SiteUser {
                id: 6,
                upn: user.upn().to_owned(),
                title: display_name(user),
                is_site_admin: true,
            };
            sites.push(Site {
                path: format!("{name}-my/personal/{}", personal_slug(user.upn())),
                owner_id: user.id().to_owned(),
                owner_upn: user.upn().to_owned(),
                site_id: guid(&mut urng),
                web_id: guid(&mut urng),
                list_id: guid(&mut urng),
                created: user
                    .get(prop_index("createdDateTime").unwrap_or(0))
                    .as_str()
                    .unwrap_or("2026-01-01T00:00:00Z")
                    .to_owned(),
                sharing: 2,
                users: vec![owner],
                next_user_id: 7,
                items: incident
                    .map(|inc| vec![shared_file(inc, &mut urng)])
                    .unwrap_or_default(),
                drive_items: Vec::new(),
                next_item: 0,
            });
            // Each seeded OneDrive starts with a shortcut to the root site's Documents, as
            // many organisations' "Add shortcut to My files" leaves one.
            if let Some(site) = sites.last_mut() {
                let item = super::drives::seeded_shortcut(
                    seed,
                    &name,
                    (&root_site_id, &root_web_id),
                    &site.site_id,
                    &site.created,
                );
                site.drive_items.push(item);
            }
        }
        Self {
            name,
            root_site_id,
            root_web_id,
            sites,
        }
    }

    fn site_of_drive(&mut self, drive: &str) -> Option<&mut Site> {
        self.sites.iter_mut().find(|s| drive_id(s) == drive)
    }

    fn site_of_user(&self, user_id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.owner_id == user_id)
    }

    fn site_mut(&mut self, path: &str) -> Option<&mut Site> {
        let path = path.trim_matches('/');
        self.sites
            .iter_mut()
            .find(|s| s.path.eq_ignore_ascii_case(path))
    }
}

/// Every tenant's sites, by tenant id, built on first use.
#[derive(Default)]
pub(crate) struct SharePointState {
    tenants: Mutex<HashMap<String, Arc<Mutex<TenantSites>>>>,
}

impl SharePointState {
    pub fn tenant(&self, seed: u64, tenant: &Tenant) -> Arc<Mutex<TenantSites>> {
        if let Some(found) = self.tenants.lock().get(&tenant.id) {
            return Arc::clone(found);
        }
        let built = Arc::new(Mutex::new(TenantSites::build(seed, tenant)));
        Arc::clone(
            self.tenants
                .lock()
                .entry(tenant.id.clone())
                .or_insert(built),
        )
    }
}

pub(crate) fn sharepoint_name(tenant: &Tenant) -> String {
    tenant
        .initial_domain()
        .split('.')
        .next()
        .unwrap_or("tenant")
        .to_ascii_lowercase()
}

/// SharePoint's personal-site name for a UPN: `@` and `.` become `_`, lower case.
fn personal_slug(upn: &str) -> String {
    upn.to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn display_name(user: &User) -> String {
    prop_index("displayName")
        .and_then(|i| user.get(i).as_str())
        .unwrap_or_default()
        .to_owned()
}

fn licences(user: &User) -> Vec<String> {
    prop_index("assignedLicenses")
        .and_then(|i| user.get(i).as_array())
        .map(|l| {
            l.iter()
                .filter_map(|x| x.get("skuId").and_then(Value::as_str))
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

fn is_guest(user: &User) -> bool {
    user.get(idx::USER_TYPE).as_str() == Some("Guest")
}

/// A member holding a SKU with SharePoint (every seeded SKU except Exchange Online alone).
fn has_sharepoint_licence(user: &User) -> bool {
    !is_guest(user) && licences(user).iter().any(|s| s != SKU_EXO_PLAN1)
}

pub(crate) fn site_url(sim: &Sim, site: &Site) -> String {
    format!("{}/_sp/{}", sim.base_url, site.path)
}

/// Keeps `$select`ed properties (and `@odata.context`) when a `$select` is given.
fn selected(ctx: &Ctx<'_>, full: Map<String, Value>) -> Value {
    let Some(select) = ctx.option("$select") else {
        return Value::Object(full);
    };
    let wanted: Vec<String> = select
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    Value::Object(
        full.into_iter()
            .filter(|(k, _)| k.starts_with('@') || wanted.contains(&k.to_ascii_lowercase()))
            .collect(),
    )
}

/// Answers the Graph routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("GET", ["users", key, "drive"]) => drive(ctx, key),
        ("GET", ["users", key, "drive", "root"]) => drive_root(ctx, key),
        ("GET", ["sites", "root"]) => sites_root(ctx),
        ("GET", ["drives", drive, "root", "children"]) => drive_children(ctx, drive),
        ("GET", ["drives", drive, "items", item, "permissions"]) => {
            item_permissions(ctx, drive, item)
        }
        ("DELETE", ["drives", drive, "items", item, "permissions", perm]) => {
            delete_permission(ctx, drive, item, perm)
        }
        _ => return None,
    };
    Some(answer)
}

/// A drive's owner, copied out of the user store.
struct Owner {
    id: String,
    upn: String,
    name: String,
}

fn owner_site<T>(
    ctx: &Ctx<'_>,
    key: &str,
    then: impl FnOnce(&Owner, &Site) -> T,
) -> Result<T, GraphError> {
    let is_guid = uuid::Uuid::parse_str(key).is_ok() && key.len() == 36;
    if !is_guid && !key.contains('@') {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!("Invalid object identifier '{key}'."),
        ));
    }
    // The user store's lock is released before the sites' is taken: `ensure_user` takes them
    // the other way round.
    let owner = {
        let store = ctx.tenant.users.read();
        let user = store.get(key).ok_or_else(|| GraphError::not_found(key))?;
        Owner {
            id: user.id().to_owned(),
            upn: user.upn().to_owned(),
            name: display_name(user),
        }
    };
    let sites = ctx.sim.sharepoint.tenant(ctx.sim.seed, &ctx.tenant);
    let sites = sites.lock();
    let site = sites
        .site_of_user(&owner.id)
        .ok_or_else(|| GraphError::new(404, "itemNotFound", "Item not found"))?;
    Ok(then(&owner, site))
}

/// The OneDrive site of the user `key` (object id or UPN), under the tenant's sites lock, for a
/// change; errors as [`owner_site`] has them.
pub(super) fn with_user_site<T>(
    ctx: &Ctx<'_>,
    key: &str,
    then: impl FnOnce(&mut Site, &str) -> Result<T, GraphError>,
) -> Result<T, GraphError> {
    let owner_id = owner_site(ctx, key, |owner, _| owner.id.clone())?;
    let sites = ctx.sim.sharepoint.tenant(ctx.sim.seed, &ctx.tenant);
    let mut sites = sites.lock();
    let base = ctx.sim.base_url.clone();
    let site = sites
        .sites
        .iter_mut()
        .find(|s| s.owner_id == owner_id)
        .ok_or_else(|| GraphError::new(404, "itemNotFound", "Item not found"))?;
    let url = format!("{base}/_sp/{}", site.path);
    then(site, &url)
}

fn drive(ctx: &Ctx<'_>, key: &str) -> Answer {
    let body = owner_site(ctx, key, |user, site| {
        let url = site_url(ctx.sim, site);
        let mut full = Map::new();
        full.insert(
            "@odata.context".into(),
            json!(ctx.context("drives/$entity")),
        );
        full.insert("createdDateTime".into(), json!(site.created));
        full.insert("description".into(), json!(""));
        full.insert("id".into(), json!(drive_id(site)));
        full.insert("lastModifiedDateTime".into(), json!(site.created));
        full.insert("name".into(), json!("OneDrive"));
        full.insert("webUrl".into(), json!(format!("{url}/Documents")));
        full.insert("driveType".into(), json!("business"));
        full.insert(
            "createdBy".into(),
            json!({"user": {"displayName": "System Account"}}),
        );
        full.insert(
            "owner".into(),
            json!({"user": {"email": user.upn, "id": user.id, "displayName": user.name}}),
        );
        full.insert(
            "quota".into(),
            json!({"deleted": 0, "remaining": 1_099_511_627_776_u64, "state": "normal", "total": 1_099_511_627_776_u64, "used": 0}),
        );
        selected(ctx, full)
    })?;
    Ok(ok_json(StatusCode::OK, &body))
}

/// `b!` and the site and web ids, as SharePoint drive ids are made.
pub(super) fn drive_id(site: &Site) -> String {
    let mut ids = uuid::Uuid::parse_str(&site.site_id)
        .map(|u| u.as_bytes().to_vec())
        .unwrap_or_default();
    ids.extend(
        uuid::Uuid::parse_str(&site.web_id)
            .map(|u| u.as_bytes().to_vec())
            .unwrap_or_default(),
    );
    format!("b!{}", URL_SAFE_NO_PAD.encode(ids))
}

/// The incident's file with the anonymous view link the attacker made.
fn shared_file(inc: &crate::incident::Incident, rng: &mut rand_chacha::ChaCha8Rng) -> DriveItem {
    let token: String = (0..22)
        .map(|_| {
            char::from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    [rng.random_range(0..62)],
            )
        })
        .collect();
    DriveItem {
        id: format!("01{}", guid(rng).replace('-', "").to_ascii_uppercase()),
        name: crate::incident::SHARED_FILE.to_owned(),
        created: inc.stamp(crate::incident::at::SHARING - 30 * 86_400),
        permissions: vec![json!({
            "id": guid(rng),
            "roles": ["read"],
            "shareId": format!("u!{token}"),
            "hasPassword": false,
            "link": {
                "scope": "anonymous",
                "type": "view",
                "webUrl": format!("{}/:x:/g/personal/{token}", inc.onedrive_url),
                "preventsDownload": false,
            },
        })],
    }
}

/// The site behind a drive id, under the tenant's sites lock.
fn with_drive<T>(
    ctx: &Ctx<'_>,
    drive: &str,
    then: impl FnOnce(&str, &mut Site) -> Result<T, GraphError>,
) -> Result<T, GraphError> {
    let sites = ctx.sim.sharepoint.tenant(ctx.sim.seed, &ctx.tenant);
    let mut sites = sites.lock();
    let base = ctx.sim.base_url.clone();
    let site = sites
        .site_of_drive(drive)
        .ok_or_else(|| GraphError::new(404, "itemNotFound", "Item not found"))?;
    let url = format!("{base}/_sp/{}", site.path);
    then(&url, site)
}

fn drive_children(ctx: &Ctx<'_>, drive: &str) -> Answer {
    let items = with_drive(ctx, drive, |url, site| {
        Ok(site
            .items
            .iter()
            .map(|i| {
                json!({
                    "id": i.id,
                    "name": i.name,
                    "webUrl": format!("{url}/Documents/{}", i.name),
                    "createdDateTime": i.created,
                    "lastModifiedDateTime": i.created,
                    "file": {"mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
                    "shared": {"scope": if i.permissions.is_empty() { "users" } else { "anonymous" }},
                    "parentReference": {"driveId": drive, "driveType": "business"},
                })
            })
            .collect::<Vec<_>>())
    })?;
    Ok(ok_json(
        StatusCode::OK,
        &json!({"@odata.context": ctx.context(&format!("drives('{drive}')/root/children")), "value": items}),
    ))
}

fn item_permissions(ctx: &Ctx<'_>, drive: &str, item: &str) -> Answer {
    let permissions = with_drive(ctx, drive, |_, site| {
        site.items
            .iter()
            .find(|i| i.id == item)
            .map(|i| i.permissions.clone())
            .ok_or_else(|| GraphError::new(404, "itemNotFound", "Item not found"))
    })?;
    Ok(ok_json(
        StatusCode::OK,
        &json!({"@odata.context": ctx.context(&format!("drives('{drive}')/items('{item}')/permissions")), "value": permissions}),
    ))
}

fn delete_permission(ctx: &Ctx<'_>, drive: &str, item: &str, perm: &str) -> Answer {
    with_drive(ctx, drive, |_, site| {
        let found = site
            .items
            .iter_mut()
            .find(|i| i.id == item)
            .ok_or_else(|| GraphError::new(404, "itemNotFound", "Item not found"))?;
        let before = found.permissions.len();
        found.permissions.retain(|p| p["id"].as_str() != Some(perm));
        if found.permissions.len() == before {
            return Err(GraphError::new(404, "itemNotFound", "Item not found"));
        }
        Ok(())
    })?;
    Ok(HttpResponse::NoContent().finish())
}

fn drive_root(ctx: &Ctx<'_>, key: &str) -> Answer {
    let body = owner_site(ctx, key, |_, site| {
        let url = site_url(ctx.sim, site);
        let mut full = Map::new();
        full.insert(
            "@odata.context".into(),
            json!(ctx.context(&format!("users('{key}')/drive/root/$entity"))),
        );
        full.insert("createdDateTime".into(), json!(site.created));
        full.insert("id".into(), json!(ONEDRIVE_ROOT_ID));
        full.insert("lastModifiedDateTime".into(), json!(site.created));
        full.insert("name".into(), json!("root"));
        full.insert("webUrl".into(), json!(format!("{url}/Documents")));
        full.insert("size".into(), json!(0));
        full.insert("folder".into(), json!({"childCount": 0}));
        full.insert("root".into(), json!({}));
        // Graph returns sharepointIds only when selected.
        if ctx.option("$select").is_some() {
            full.insert(
                "sharepointIds".into(),
                json!({
                    "listId": site.list_id,
                    "listItemUniqueId": site.list_id,
                    "siteId": site.site_id,
                    "siteUrl": url,
                    "tenantId": ctx.tenant.id,
                    "webId": site.web_id,
                }),
            );
        }
        selected(ctx, full)
    })?;
    Ok(ok_json(StatusCode::OK, &body))
}

fn sites_root(ctx: &Ctx<'_>) -> Answer {
    let sites = ctx.sim.sharepoint.tenant(ctx.sim.seed, &ctx.tenant);
    let sites = sites.lock();
    let host = format!("{}.sharepoint.com", sites.name);
    let mut full = Map::new();
    full.insert("@odata.context".into(), json!(ctx.context("sites/$entity")));
    full.insert("createdDateTime".into(), json!(ctx.tenant.created));
    full.insert("description".into(), json!(""));
    full.insert(
        "id".into(),
        json!(format!(
            "{host},{},{}",
            sites.root_site_id, sites.root_web_id
        )),
    );
    full.insert("lastModifiedDateTime".into(), json!(ctx.tenant.created));
    full.insert("name".into(), json!(""));
    full.insert(
        "webUrl".into(),
        json!(super::sites::team_site_base(&sites.name)),
    );
    full.insert("displayName".into(), json!("Communication site"));
    full.insert("root".into(), json!({}));
    full.insert(
        "siteCollection".into(),
        json!({"hostname": host, "dataLocationCode": "", "root": {}}),
    );
    Ok(ok_json(StatusCode::OK, &selected(ctx, full)))
}

// ---------------------------------------------------------------------------------------------
// SharePoint hosts: site REST and admin CSOM under `/_sp/`.

const NOMETADATA_CT: &str = "application/json;odata=nometadata;streaming=true;charset=utf-8";

fn odata_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body =
        json!({"odata.error": {"code": code, "message": {"lang": "en-US", "value": message}}});
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type(NOMETADATA_CT)
        .body(body.to_string())
}

fn unauthorized(message: &str) -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((
            "WWW-Authenticate",
            "Bearer realm=\"\",client_id=\"00000003-0000-0ff1-ce00-000000000000\",trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\"",
        ))
        .content_type("application/json")
        .body(json!({"error_description": message}).to_string())
}

/// The tenant a `/_sp/{label}/…` path belongs to: `{name}`, `{name}-my` or `{name}-admin`.
fn tenant_of_label(sim: &Sim, label: &str) -> Option<Arc<Tenant>> {
    let label = label.to_ascii_lowercase();
    let name = label
        .strip_suffix("-my")
        .or_else(|| label.strip_suffix("-admin"))
        .unwrap_or(&label);
    sim.resolve_tenant(&format!("{name}.onmicrosoft.com"))
}

/// The tenant id a `/_sp/…` path is for (stats and faults are keyed by it).
pub(crate) fn stat_tenant(sim: &Sim, rest: &str) -> Option<String> {
    let label = rest.split('/').next().unwrap_or_default();
    tenant_of_label(sim, label).map(|t| t.id.clone())
}

/// Serves one request under `/_sp/` (`rest` is the path after it, still encoded).
pub(crate) fn handle(sim: &Sim, inb: &Inbound<'_>, rest: &str) -> HttpResponse {
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8_lossy()
        .into_owned();
    let label = decoded.split('/').next().unwrap_or_default().to_owned();
    let Some(tenant) = tenant_of_label(sim, &label) else {
        return HttpResponse::NotFound()
            .content_type("text/plain")
            .body("404 FILE NOT FOUND");
    };
    let claims = match crate::tokens::validate_sharepoint(sim, inb.headers.get("authorization")) {
        Ok(c) => c,
        Err(_) => return unauthorized("Invalid issuer or signature."),
    };
    if claims.get("tid").and_then(Value::as_str) != Some(tenant.id.as_str()) {
        return unauthorized("Invalid audience Uri.");
    }
    let lower = decoded.to_ascii_lowercase();
    if label.to_ascii_lowercase().ends_with("-admin")
        && lower
            .trim_end_matches('/')
            .ends_with("/_vti_bin/client.svc/processquery")
    {
        return match inb.method {
            "POST" => process_query(sim, &tenant, inb.body),
            _ => HttpResponse::MethodNotAllowed().finish(),
        };
    }
    let Some(at) = lower.find("/_api/") else {
        return HttpResponse::NotFound()
            .content_type("text/plain")
            .body("404 FILE NOT FOUND");
    };
    let site_path = decoded[..at].to_owned();
    let api = decoded[at + "/_api/".len()..]
        .trim_end_matches('/')
        .to_owned();
    let sites = sim.sharepoint.tenant(sim.seed, &tenant);
    let mut sites = sites.lock();
    let Some(site) = sites.site_mut(&site_path) else {
        return odata_error(
            404,
            "-2147024894, System.IO.FileNotFoundException",
            "File Not Found.",
        );
    };
    let method = match inb.headers.get("x-http-method") {
        Some(m) if inb.method == "POST" => m.to_ascii_uppercase(),
        _ => inb.method.to_owned(),
    };
    let api_lower = api.to_ascii_lowercase();
    if api_lower == "web/ensureuser" {
        return match method.as_str() {
            "POST" => ensure_user(&tenant, site, inb.body),
            _ => not_allowed(),
        };
    }
    if api_lower == "web/siteusers" {
        return match method.as_str() {
            "GET" => {
                let users: Vec<Value> = site.users.iter().map(SiteUser::render).collect();
                json_ok(&json!({"value": users}))
            }
            _ => not_allowed(),
        };
    }
    if let Some(id) = api_lower
        .strip_prefix("web/getuserbyid(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let Some(user) = id
            .trim()
            .parse::<u32>()
            .ok()
            .and_then(|id| site.users.iter_mut().find(|u| u.id == id))
        else {
            return odata_error(
                404,
                "-2146232832, Microsoft.SharePoint.SPException",
                "User cannot be found.",
            );
        };
        return match method.as_str() {
            "GET" => json_ok(&user.render()),
            "MERGE" | "PATCH" => {
                let body: Value = match serde_json::from_slice(inb.body) {
                    Ok(v) => v,
                    Err(_) => {
                        return odata_error(
                            400,
                            "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                            "Invalid JSON. A token was not recognized in the JSON content.",
                        );
                    }
                };
                if let Some(admin) = body.get("IsSiteAdmin").and_then(Value::as_bool) {
                    user.is_site_admin = admin;
                }
                HttpResponse::NoContent().finish()
            }
            _ => not_allowed(),
        };
    }
    odata_error(
        400,
        "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
        &format!("The expression \"{api}\" is not valid."),
    )
}

fn not_allowed() -> HttpResponse {
    odata_error(
        405,
        "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
        "The HTTP method is not allowed for this resource.",
    )
}

fn json_ok(body: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(NOMETADATA_CT)
        .body(body.to_string())
}

/// `web/ensureuser`: adds the user to the site (once) and returns it. SharePoint knows only
/// licensed members and guests; any other claim, a GUID in it included, is "not found".
fn ensure_user(tenant: &Tenant, site: &mut Site, body: &[u8]) -> HttpResponse {
    let logon = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v.get("logonName")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let Some(logon) = logon else {
        return odata_error(
            400,
            "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
            "The parameter logonName does not exist in method EnsureUser.",
        );
    };
    let key = logon
        .rsplit('|')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let found = {
        let store = tenant.users.read();
        store
            .get(&key)
            .filter(|_| key.contains('@'))
            .filter(|u| is_guest(u) || has_sharepoint_licence(u))
            .map(|u| (u.upn().to_owned(), display_name(u)))
    };
    let Some((upn, title)) = found else {
        return odata_error(
            500,
            "-2146232832, Microsoft.SharePoint.SPException",
            &format!("The specified user {logon} could not be found."),
        );
    };
    if let Some(existing) = site.users.iter().find(|u| u.upn.eq_ignore_ascii_case(&upn)) {
        return json_ok(&existing.render());
    }
    let user = SiteUser {
        id: site.next_user_id,
        upn,
        title,
        is_site_admin: false,
    };
    site.next_user_id += 1;
    let rendered = user.render();
    site.users.push(user);
    json_ok(&rendered)
}

/// The text of the first `<Parameter …>…</Parameter>` inside `element`, XML-unescaped.
fn first_parameter(element: &str) -> Option<String> {
    // `<Parameter ` with its space, so `<Parameters>` is skipped.
    let start = element.find("<Parameter ")?;
    let rest = &element[start..];
    let open_end = rest.find('>')?;
    if rest[..open_end].ends_with('/') {
        return Some(String::new());
    }
    let body = &rest[open_end + 1..];
    let close = body.find("</Parameter>")?;
    Some(xml_unescape(&body[..close]))
}

fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The element (from its `<` to its closing tag) whose start tag is `<{tag} …` with
/// `Name="{name}"`.
fn element<'a>(xml: &'a str, tag: &str, name: &str) -> Option<&'a str> {
    let open = format!("<{tag} ");
    let close = format!("</{tag}>");
    let needle = format!("Name=\"{name}\"");
    let mut from = 0;
    while let Some(pos) = xml[from..].find(&open) {
        let start = from + pos;
        let head_end = start + xml[start..].find('>')?;
        let head = &xml[start..=head_end];
        if head.contains(&needle) {
            let end = if head.ends_with("/>") {
                head_end + 1
            } else {
                head_end + xml[head_end..].find(&close)? + close.len()
            };
            return Some(&xml[start..end]);
        }
        from = head_end;
    }
    None
}

fn attribute(head: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let start = head.find(&needle)? + needle.len();
    let end = head[start..].find('"')?;
    Some(head[start..start + end].to_owned())
}

fn csom_header(error: Option<Value>) -> Value {
    json!({
        "SchemaVersion": "15.0.0.0",
        "LibraryVersion": "16.0.25919.12007",
        "ErrorInfo": error,
        "TraceCorrelationId": uuid::Uuid::new_v4().to_string(),
    })
}

fn csom_error(message: &str, code: i64, type_name: &str) -> HttpResponse {
    let info = json!({
        "ErrorMessage": message,
        "ErrorValue": null,
        "TraceCorrelationId": uuid::Uuid::new_v4().to_string(),
        "ErrorCode": code,
        "ErrorTypeName": type_name,
    });
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(json!([csom_header(Some(info))]).to_string())
}

/// The site path under `/_sp/` a CSOM site URL names: the simulator's own URLs, or
/// `https://{label}.sharepoint.com/{path}` as `{label}/{path}`.
fn site_path_of(sim: &Sim, url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let own = format!("{}/_sp/", sim.base_url);
    if url.len() > own.len() && url[..own.len()].eq_ignore_ascii_case(&own) {
        return Some(url[own.len()..].to_owned());
    }
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let label = host.strip_suffix(".sharepoint.com")?;
    Some(
        format!("{label}{}", parsed.path())
            .trim_end_matches('/')
            .to_owned(),
    )
}

/// Tenant `RequestPersonalSites([upn, …])` (CIPP's `Request-CIPPSPOPersonalSite`): each named
/// member with a SharePoint licence and no OneDrive gets one at once (SharePoint queues it);
/// others are left as they are. Answers a completed operation, as SharePoint does once queued.
fn request_personal_sites(sim: &Sim, tenant: &Tenant, method: &str) -> HttpResponse {
    let upns: Vec<String> = method
        .split("<Object")
        .skip(1)
        .filter_map(|o| {
            let start = o.find('>')? + 1;
            let end = o.find("</Object>")?;
            (start <= end).then(|| xml_unescape(o[start..end].trim()))
        })
        .collect();
    let sites = sim.sharepoint.tenant(sim.seed, tenant);
    let mut sites = sites.lock();
    let store = tenant.users.read();
    for upn in &upns {
        let Some(user) = store.get(upn) else { continue };
        if !has_sharepoint_licence(user) || sites.site_of_user(user.id()).is_some() {
            continue;
        }
        let mut urng = rng_for_id(sim.seed, user.id(), SHAREPOINT_PURPOSE ^ 0x0D);
        let path = format!("{}-my/personal/{}", sites.name, personal_slug(user.upn()));
        sites.sites.push(Site {
            path,
            owner_id: user.id().to_owned(),
            owner_upn: user.upn().to_owned(),
            site_id: guid(&mut urng),
            web_id: guid(&mut urng),
            list_id: guid(&mut urng),
            created: crate::seed::timestamp(time::OffsetDateTime::now_utc().unix_timestamp()),
            sharing: 2,
            users: vec![SiteUser {
                id: 6,
                upn: user.upn().to_owned(),
                title: display_name(user),
                is_site_admin: true,
            }],
            next_user_id: 7,
            items: Vec::new(),
            drive_items: Vec::new(),
            next_item: 0,
        });
    }
    let answer = json!([
        csom_header(None),
        4,
        {"IsNull": false},
        6,
        {"IsNull": false},
        7,
        {
            "_ObjectType_": "Microsoft.Online.SharePoint.TenantAdministration.SpoOperation",
            "HasTimedout": false,
            "IsComplete": true,
            "PollingInterval": 15000,
        },
    ]);
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(answer.to_string())
}

/// Tenant `GetSitePropertiesByUrl(url)` then `SetProperty SharingCapability` and `Update`, or
/// `RequestPersonalSites`.
fn process_query(sim: &Sim, tenant: &Tenant, body: &[u8]) -> HttpResponse {
    let xml = String::from_utf8_lossy(body);
    if let Some(request) = element(&xml, "Method", "RequestPersonalSites") {
        return request_personal_sites(sim, tenant, request);
    }
    let Some(get_site) = element(&xml, "Method", "GetSitePropertiesByUrl") else {
        return csom_error(
            "The request is not supported by the simulator: no GetSitePropertiesByUrl.",
            -2_146_233_088,
            "Microsoft.SharePoint.Client.InvalidClientQueryException",
        );
    };
    let url = first_parameter(get_site).unwrap_or_default();
    let sites = sim.sharepoint.tenant(sim.seed, tenant);
    let mut sites = sites.lock();
    let Some(site) = site_path_of(sim, &url).and_then(|p| sites.site_mut(&p)) else {
        return csom_error(
            &format!("Cannot get site {url}."),
            -1,
            "Microsoft.Online.SharePoint.Common.SpoNoSiteException",
        );
    };
    let set = element(&xml, "SetProperty", "SharingCapability");
    let update = element(&xml, "Method", "Update");
    let mut answer = vec![csom_header(None)];
    if let Some(set) = set {
        let raw = first_parameter(set).unwrap_or_default();
        let value = raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|v| *v < SHARING.len())
            .or_else(|| {
                SHARING
                    .iter()
                    .position(|s| s.eq_ignore_ascii_case(raw.trim()))
            });
        let Some(value) = value else {
            return csom_error(
                &format!("Cannot convert '{raw}' to SharingCapabilities."),
                -1,
                "System.ArgumentException",
            );
        };
        // Properties only change on Update, as CSOM's site properties do.
        if update.is_some() {
            site.sharing = value;
        }
    }
    if let Some(update) = update {
        let id = attribute(update, "Id")
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0);
        answer.push(json!(id));
        answer.push(json!({
            "_ObjectType_": "Microsoft.Online.SharePoint.TenantAdministration.SpoOperation",
            "_ObjectIdentity_": format!("{}|908bed80-a04a-4433-b4a0-883d9847d110:{}\nSpoOperation\nSetSite\n{}", uuid::Uuid::new_v4(), tenant.id, site.site_id),
            "HasTimedout": false,
            "IsComplete": true,
            "PollingInterval": 15000,
        }));
    }
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(Value::Array(answer).to_string())
}

/// `GET /_sim/sharepoint/{tenant}/sites`: every OneDrive site with its sharing capability,
/// site collection admins and shortcuts (`{id, name, location, siteUrl, remoteItemId,
/// remoteDriveId}`), read without a token.
pub(crate) fn admin_sites(sim: &Sim, tenant: &Tenant) -> Value {
    let sites = sim.sharepoint.tenant(sim.seed, tenant);
    let sites = sites.lock();
    let rows: Vec<Value> = sites
        .sites
        .iter()
        .map(|s| {
            json!({
                "url": site_url(sim, s),
                "owner": s.owner_upn,
                "ownerId": s.owner_id,
                "sharingCapability": SHARING.get(s.sharing).copied().unwrap_or("Disabled"),
                "siteAdmins": s.users.iter().filter(|u| u.is_site_admin).map(|u| u.upn.clone()).collect::<Vec<_>>(),
                "shortcuts": super::drives::admin_shortcuts(s),
            })
        })
        .collect();
    json!({"name": sites.name, "sites": rows})
}
