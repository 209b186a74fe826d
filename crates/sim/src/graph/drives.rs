//! Document libraries and OneDrive shortcuts, as CIPP's OneDrive shortcut actions use them
//! (beta, app-only):
//!
//! - Team sites: `GET sites` (the root communication site and one per Microsoft 365 group;
//!   OneDrives are left out), `GET sites/{id}/drive` (the default library, with
//!   `sharePointIds`), `GET sites/{id}/drives`.
//! - Their libraries: `GET drives/{id}/root`, `GET drives/{id}/root:/{path}` (a folder by path,
//!   case-insensitive; unknown → 404 `itemNotFound`). Every site has `Documents` (web URL
//!   `…/Shared%20Documents`) with the folders `General`, `General/Reports`, `Projects` and
//!   `Projects/Q4 Plans`; the root site also has `Policies` (web URL `…/Policies`) with `HR`.
//!   Libraries and folders are derived from the seed on each read (nothing changes them).
//! - Users' OneDrives (stored with the OneDrive site, `sharepoint.rs`; each seeded one starts
//!   with a `Documents` shortcut to the root site's default library):
//!   `POST users/{id|upn}/drive/root/children` makes a folder (`folder: {}`) or a shortcut
//!   (`remoteItem` with `sharepointIds` naming a library root, or `id` + `parentReference.driveId`
//!   naming a library's root or folder; a target that does not exist → 404 `itemNotFound`).
//!   `@microsoft.graph.conflictBehavior` `fail` (the default) answers 409 `nameAlreadyExists` on
//!   a name taken, `rename` appends " 1", " 2", …, `replace` replaces.
//!   `GET users/{u}/drive/root/children`, `GET users/{u}/drive/special/shortcuts` (the
//!   `Shortcuts` folder, made on first use as Graph makes special folders),
//!   `GET users/{u}/drive/special/shortcuts/children`, `PATCH users/{u}/drive/items/{id}`
//!   (`parentReference.id` moves, `name` renames; a name taken → 409), and
//!   `DELETE users/{u}/drive/items/{id}` (a folder goes with what is in it).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::reads::{collection, select};
use super::sharepoint::{ONEDRIVE_ROOT_ID, Site, drive_id, with_user_site};
use super::sites::{SiteRow, all_sites, host};
use super::{Ctx, GraphError, ok_json};
use crate::seed::guid;
use crate::seed_reads::rng_for_id;

type Answer = Result<HttpResponse, GraphError>;

const DRIVES_PURPOSE: u64 = 0x0000_D21E_0000_0001;

/// The folders every `Documents` library has.
const DOCUMENTS_FOLDERS: [&str; 4] = [
    "General",
    "General/Reports",
    "Projects",
    "Projects/Q4 Plans",
];
/// The folders of the root site's `Policies` library.
const POLICIES_FOLDERS: [&str; 1] = ["HR"];

/// A folder or shortcut in a user's OneDrive.
#[derive(Clone)]
pub(crate) struct OneDriveItem {
    id: String,
    name: String,
    /// `None`: the drive's root.
    parent: Option<String>,
    /// The shortcut's target, as Graph shows it.
    remote: Option<Value>,
    /// `shortcuts` for the special folder.
    special: Option<&'static str>,
    created: String,
    modified: String,
}

/// A team site's document library, derived from the seed.
struct Library {
    id: String,
    name: &'static str,
    web_url: String,
    list_id: String,
    root_id: String,
    created: String,
    site_id: String,
    web_id: String,
    site_url: String,
    /// (path, id)
    folders: Vec<(String, String)>,
}

impl Library {
    fn folder(&self, path: &str) -> Option<&(String, String)> {
        let path = path.trim_matches('/');
        self.folders
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(path))
    }

    fn folder_by_id(&self, id: &str) -> Option<&(String, String)> {
        self.folders.iter().find(|(_, i)| i == id)
    }

    fn render(&self, ctx: &Ctx<'_>) -> Value {
        let mut full = Map::new();
        full.insert("id".into(), json!(self.id));
        full.insert("name".into(), json!(self.name));
        full.insert("description".into(), json!(""));
        full.insert("driveType".into(), json!("documentLibrary"));
        full.insert("webUrl".into(), json!(self.web_url));
        full.insert("createdDateTime".into(), json!(self.created));
        full.insert("lastModifiedDateTime".into(), json!(self.created));
        full.insert(
            "createdBy".into(),
            json!({"user": {"displayName": "System Account"}}),
        );
        full.insert("owner".into(), json!({"group": {"displayName": "Owners"}}));
        full.insert(
            "sharePointIds".into(),
            json!({"listId": self.list_id, "siteId": self.site_id, "siteUrl": self.site_url,
                   "tenantId": ctx.tenant.id, "webId": self.web_id}),
        );
        Value::Object(select(ctx, full))
    }

    /// A folder (or the root, `path` empty) as a driveItem.
    fn item(&self, ctx: &Ctx<'_>, path: &str, id: &str) -> Value {
        let host = host(ctx);
        let name = if path.is_empty() {
            "root"
        } else {
            path.rsplit('/').next().unwrap_or(path)
        };
        let parent_path = match path.rsplit_once('/') {
            Some((parent, _)) => format!("/drives/{}/root:/{parent}", self.id),
            None => format!("/drives/{}/root:", self.id),
        };
        let parent_id = path
            .rsplit_once('/')
            .and_then(|(parent, _)| self.folder(parent))
            .map_or(self.root_id.clone(), |(_, id)| id.clone());
        let children = self
            .folders
            .iter()
            .filter(|(p, _)| match p.rsplit_once('/') {
                Some((parent, _)) => parent.eq_ignore_ascii_case(path),
                None => path.is_empty(),
            })
            .count();
        let mut full = Map::new();
        full.insert("id".into(), json!(id));
        full.insert("name".into(), json!(name));
        full.insert(
            "webUrl".into(),
            json!(if path.is_empty() {
                self.web_url.clone()
            } else {
                format!("{}/{}", self.web_url, encode_path(path))
            }),
        );
        full.insert("createdDateTime".into(), json!(self.created));
        full.insert("lastModifiedDateTime".into(), json!(self.created));
        full.insert("size".into(), json!(0));
        full.insert("folder".into(), json!({"childCount": children}));
        if path.is_empty() {
            full.insert("root".into(), json!({}));
            full.insert(
                "parentReference".into(),
                json!({"driveId": self.id, "driveType": "documentLibrary", "siteId": format!("{host},{},{}", self.site_id, self.web_id)}),
            );
        } else {
            full.insert(
                "parentReference".into(),
                json!({"driveId": self.id, "driveType": "documentLibrary", "id": parent_id,
                       "path": parent_path, "siteId": format!("{host},{},{}", self.site_id, self.web_id)}),
            );
        }
        Value::Object(select(ctx, full))
    }
}

/// Spaces as `%20`, as SharePoint writes web URLs.
fn encode_path(path: &str) -> String {
    path.replace(' ', "%20")
}

/// `01` and 32 upper-case hex digits, as SharePoint driveItem ids look.
fn item_id(rng: &mut rand_chacha::ChaCha8Rng) -> String {
    format!("01{}", guid(rng).replace('-', "").to_ascii_uppercase())
}

/// A library's list, drive and root item ids, and the generator its folders' ids come from.
struct LibraryIds {
    list_id: String,
    drive_id: String,
    root_id: String,
}

fn library_ids(
    seed: u64,
    site_id: &str,
    web_id: &str,
    name: &str,
) -> (LibraryIds, rand_chacha::ChaCha8Rng) {
    let mut rng = rng_for_id(seed, &format!("{site_id}/{name}"), DRIVES_PURPOSE);
    let list_id = guid(&mut rng);
    let mut bytes = Vec::new();
    for id in [site_id, web_id, list_id.as_str()] {
        bytes.extend(
            uuid::Uuid::parse_str(id)
                .map(|u| u.as_bytes().to_vec())
                .unwrap_or_default(),
        );
    }
    let root_id = item_id(&mut rng);
    (
        LibraryIds {
            list_id,
            drive_id: format!("b!{}", URL_SAFE_NO_PAD.encode(bytes)),
            root_id,
        },
        rng,
    )
}

/// The shortcut every seeded OneDrive starts with: `Documents`, the root team site's default
/// library, at the OneDrive's root.
pub(crate) fn seeded_shortcut(
    seed: u64,
    sharepoint_name: &str,
    (root_site_id, root_web_id): (&str, &str),
    onedrive_site_id: &str,
    created: &str,
) -> OneDriveItem {
    let (ids, _) = library_ids(seed, root_site_id, root_web_id, "Documents");
    let site_url = super::sites::team_site_base(sharepoint_name);
    let host = format!("{sharepoint_name}.sharepoint.com");
    let mut rng = rng_for_id(
        seed,
        &format!("{onedrive_site_id}#seeded"),
        DRIVES_PURPOSE ^ 2,
    );
    OneDriveItem {
        id: item_id(&mut rng),
        name: "Documents".to_owned(),
        parent: None,
        remote: Some(json!({
            "id": ids.root_id,
            "name": "Documents",
            "webUrl": format!("{site_url}/Shared%20Documents"),
            "folder": {"childCount": 2},
            "parentReference": {"driveId": ids.drive_id, "driveType": "documentLibrary",
                                "siteId": format!("{host},{root_site_id},{root_web_id}")},
            "sharepointIds": {"listId": ids.list_id, "listItemUniqueId": "root",
                              "siteId": root_site_id, "siteUrl": site_url, "webId": root_web_id},
        })),
        special: None,
        created: created.to_owned(),
        modified: created.to_owned(),
    }
}

fn libraries(ctx: &Ctx<'_>, site: &SiteRow, root_site: bool) -> Vec<Library> {
    let mut specs: Vec<(&'static str, &'static str, &[&str])> =
        vec![("Documents", "Shared%20Documents", &DOCUMENTS_FOLDERS)];
    if root_site {
        specs.push(("Policies", "Policies", &POLICIES_FOLDERS));
    }
    specs
        .into_iter()
        .map(|(name, url_name, folders)| {
            let (ids, mut rng) = library_ids(ctx.sim.seed, &site.site_id, &site.web_id, name);
            Library {
                id: ids.drive_id,
                name,
                web_url: format!("{}/{url_name}", site.url),
                root_id: ids.root_id,
                folders: folders
                    .iter()
                    .map(|p| ((*p).to_owned(), item_id(&mut rng)))
                    .collect(),
                list_id: ids.list_id,
                created: site.created.clone(),
                site_id: site.site_id.clone(),
                web_id: site.web_id.clone(),
                site_url: site.url.clone(),
            }
        })
        .collect()
}

/// The team sites (not OneDrives), each with its libraries.
fn team_sites(ctx: &Ctx<'_>) -> Vec<(SiteRow, Vec<Library>)> {
    all_sites(ctx)
        .into_iter()
        .filter(|s| !s.personal)
        .enumerate()
        .map(|(i, s)| {
            // The root communication site comes first in `all_sites`.
            let libs = libraries(ctx, &s, i == 0);
            (s, libs)
        })
        .collect()
}

fn site_not_found() -> GraphError {
    GraphError::new(404, "itemNotFound", "Requested site could not be found")
}

fn item_not_found() -> GraphError {
    GraphError::new(404, "itemNotFound", "The resource could not be found.")
}

/// A site by Graph id (`host,siteId,webId`) or bare site id.
fn team_site(ctx: &Ctx<'_>, id: &str) -> Result<(SiteRow, Vec<Library>), GraphError> {
    let site_id = id.split(',').nth(1).unwrap_or(id);
    team_sites(ctx)
        .into_iter()
        .find(|(s, _)| s.site_id.eq_ignore_ascii_case(site_id))
        .ok_or_else(site_not_found)
}

fn library(ctx: &Ctx<'_>, drive: &str) -> Result<Library, GraphError> {
    team_sites(ctx)
        .into_iter()
        .flat_map(|(_, libs)| libs)
        .find(|l| l.id == drive)
        .ok_or_else(|| GraphError::new(404, "itemNotFound", "Item not found"))
}

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("GET", ["sites"]) => list_sites(ctx),
        ("GET", ["sites", id, "drive"]) if *id != "root" => site_drive(ctx, id),
        ("GET", ["sites", id, "drives"]) if *id != "root" => site_drives(ctx, id),
        ("GET", ["drives", drive, "root"]) => library_root(ctx, drive),
        ("GET", ["drives", drive, first, rest @ ..]) if first.starts_with("root:") => {
            library_path(ctx, drive, first, rest)
        }
        ("GET", ["users", key, "drive", "root", "children"]) => children(ctx, key, None),
        ("POST", ["users", key, "drive", "root", "children"]) => create(ctx, key),
        ("GET", ["users", key, "drive", "special", "shortcuts"]) => shortcuts_folder(ctx, key),
        ("GET", ["users", key, "drive", "special", "shortcuts", "children"]) => {
            children(ctx, key, Some("shortcuts"))
        }
        ("PATCH", ["users", key, "drive", "items", item]) => update(ctx, key, item),
        ("DELETE", ["users", key, "drive", "items", item]) => delete(ctx, key, item),
        _ => return None,
    };
    Some(answer)
}

fn list_sites(ctx: &Ctx<'_>) -> Answer {
    let host = host(ctx);
    let items = team_sites(ctx)
        .into_iter()
        .map(|(s, _)| {
            let full = json!({
                "id": format!("{host},{},{}", s.site_id, s.web_id),
                "createdDateTime": s.created,
                "description": "",
                "name": s.name,
                "displayName": s.display_name,
                "lastModifiedDateTime": s.created,
                "webUrl": s.url,
                "siteCollection": {"hostname": host},
            });
            match full {
                Value::Object(m) => Value::Object(select(ctx, m)),
                other => other,
            }
        })
        .collect();
    collection(ctx, "sites", items, 200)
}

fn site_drive(ctx: &Ctx<'_>, id: &str) -> Answer {
    let (_, libs) = team_site(ctx, id)?;
    let lib = libs.first().ok_or_else(site_not_found)?;
    let mut body = lib.render(ctx);
    if let Some(m) = body.as_object_mut() {
        m.insert(
            "@odata.context".into(),
            json!(ctx.context("drives/$entity")),
        );
    }
    Ok(ok_json(StatusCode::OK, &body))
}

fn site_drives(ctx: &Ctx<'_>, id: &str) -> Answer {
    let (_, libs) = team_site(ctx, id)?;
    let items = libs.iter().map(|l| l.render(ctx)).collect();
    collection(ctx, "drives", items, 200)
}

fn library_root(ctx: &Ctx<'_>, drive: &str) -> Answer {
    let lib = library(ctx, drive)?;
    Ok(ok_json(StatusCode::OK, &lib.item(ctx, "", &lib.root_id)))
}

/// `root:/a/b` (segments `root:`, `a`, `b`), with or without the closing `:`.
fn library_path(ctx: &Ctx<'_>, drive: &str, first: &str, rest: &[&str]) -> Answer {
    let lib = library(ctx, drive)?;
    let mut parts: Vec<&str> = Vec::new();
    if let Some(inline) = first.strip_prefix("root:").filter(|p| !p.is_empty()) {
        parts.push(inline);
    }
    parts.extend(rest);
    let path = parts.join("/");
    let path = path.trim_end_matches(':').trim_matches('/');
    if path.is_empty() {
        return Ok(ok_json(StatusCode::OK, &lib.item(ctx, "", &lib.root_id)));
    }
    let (found, id) = lib.folder(path).ok_or_else(item_not_found)?;
    Ok(ok_json(StatusCode::OK, &lib.item(ctx, found, id)))
}

// ---------------------------------------------------------------------------------------------
// Users' OneDrives.

fn now() -> String {
    format!("{}Z", super::inner_date())
}

fn render_item(site: &Site, url: &str, item: &OneDriveItem) -> Value {
    let drive = drive_id(site);
    let (parent_id, parent_path) = match &item.parent {
        None => (ONEDRIVE_ROOT_ID.to_owned(), "/drive/root:".to_owned()),
        Some(p) => {
            let name = site
                .drive_items
                .iter()
                .find(|i| &i.id == p)
                .map_or("", |i| i.name.as_str());
            (p.clone(), format!("/drive/root:/{name}"))
        }
    };
    let location = match &item.parent {
        None => String::new(),
        Some(_) => parent_path.trim_start_matches("/drive/root:").to_owned() + "/",
    };
    let mut full = Map::new();
    full.insert("id".into(), json!(item.id));
    full.insert("name".into(), json!(item.name));
    full.insert("createdDateTime".into(), json!(item.created));
    full.insert("lastModifiedDateTime".into(), json!(item.modified));
    full.insert(
        "webUrl".into(),
        json!(format!(
            "{url}/Documents{}{}",
            if location.is_empty() { "/" } else { &location },
            encode_path(&item.name)
        )),
    );
    full.insert("size".into(), json!(0));
    full.insert(
        "parentReference".into(),
        json!({"driveId": drive, "driveType": "business", "id": parent_id, "path": parent_path}),
    );
    match &item.remote {
        Some(remote) => {
            full.insert("remoteItem".into(), remote.clone());
        }
        None => {
            let count = site
                .drive_items
                .iter()
                .filter(|i| i.parent.as_deref() == Some(item.id.as_str()))
                .count();
            full.insert("folder".into(), json!({"childCount": count}));
        }
    }
    if let Some(special) = item.special {
        full.insert("specialFolder".into(), json!({"name": special}));
    }
    Value::Object(full)
}

fn children(ctx: &Ctx<'_>, key: &str, special: Option<&'static str>) -> Answer {
    let items = with_user_site(ctx, key, |site, url| {
        let parent = special.map(|name| special_folder(ctx, site, name));
        Ok(site
            .drive_items
            .iter()
            .filter(|i| i.parent == parent)
            .map(|i| match render_item(site, url, i) {
                Value::Object(m) => Value::Object(select(ctx, m)),
                other => other,
            })
            .collect::<Vec<_>>())
    })?;
    collection(ctx, "users/drive/root/children", items, 200)
}

/// The special folder's id, made on first use.
fn special_folder(ctx: &Ctx<'_>, site: &mut Site, name: &'static str) -> String {
    if let Some(found) = site.drive_items.iter().find(|i| i.special == Some(name)) {
        return found.id.clone();
    }
    let id = next_id(ctx, site);
    let stamp = now();
    // A folder already called Shortcuts keeps its name; the special one gets the next free one.
    let wanted = "Shortcuts";
    let name_taken = |n: &str| {
        site.drive_items
            .iter()
            .any(|i| i.parent.is_none() && i.name.eq_ignore_ascii_case(n))
    };
    let folder_name = free_name(wanted, name_taken);
    site.drive_items.push(OneDriveItem {
        id: id.clone(),
        name: folder_name,
        parent: None,
        remote: None,
        special: Some(name),
        created: stamp.clone(),
        modified: stamp,
    });
    id
}

fn shortcuts_folder(ctx: &Ctx<'_>, key: &str) -> Answer {
    let body = with_user_site(ctx, key, |site, url| {
        let id = special_folder(ctx, site, "shortcuts");
        let item = site
            .drive_items
            .iter()
            .find(|i| i.id == id)
            .ok_or_else(item_not_found)?;
        Ok(render_item(site, url, item))
    })?;
    let body = match body {
        Value::Object(m) => Value::Object(select(ctx, m)),
        other => other,
    };
    Ok(ok_json(StatusCode::OK, &body))
}

fn next_id(ctx: &Ctx<'_>, site: &mut Site) -> String {
    site.next_item += 1;
    let mut rng = rng_for_id(
        ctx.sim.seed,
        &format!("{}#{}", site.site_id, site.next_item),
        DRIVES_PURPOSE ^ 2,
    );
    item_id(&mut rng)
}

/// `name`, or `name 1`, `name 2`, … when taken (Graph's `rename`).
fn free_name(name: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_owned();
    }
    (1..)
        .map(|n| format!("{name} {n}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| name.to_owned())
}

/// What a shortcut body's `remoteItem` names, resolved against the team sites' libraries.
fn resolve_remote(ctx: &Ctx<'_>, remote: &Value) -> Result<Value, GraphError> {
    let host = host(ctx);
    let describe = |lib: &Library, path: &str, id: &str| {
        let name = if path.is_empty() {
            lib.name.to_owned()
        } else {
            path.rsplit('/').next().unwrap_or(path).to_owned()
        };
        json!({
            "id": id,
            "name": name,
            "webUrl": if path.is_empty() { lib.web_url.clone() } else { format!("{}/{}", lib.web_url, encode_path(path)) },
            "folder": {"childCount": lib.folders.iter().filter(|(p, _)| match p.rsplit_once('/') {
                Some((parent, _)) => parent.eq_ignore_ascii_case(path),
                None => path.is_empty(),
            }).count()},
            "parentReference": {"driveId": lib.id, "driveType": "documentLibrary",
                                "siteId": format!("{host},{},{}", lib.site_id, lib.web_id)},
            "sharepointIds": {"listId": lib.list_id, "listItemUniqueId": if path.is_empty() { "root".to_owned() } else { id.to_owned() },
                              "siteId": lib.site_id, "siteUrl": lib.site_url, "webId": lib.web_id},
        })
    };
    if let Some(ids) = remote.get("sharepointIds").filter(|v| v.is_object()) {
        let field = |name: &str| ids.get(name).and_then(Value::as_str).unwrap_or("");
        let (site_id, list_id, unique) =
            (field("siteId"), field("listId"), field("listItemUniqueId"));
        if site_id.is_empty() || list_id.is_empty() {
            return Err(GraphError::bad_request(
                "invalidRequest",
                "sharepointIds needs siteId and listId.",
            ));
        }
        let (_, libs) = team_site(ctx, site_id).map_err(|_| item_not_found())?;
        let lib = libs
            .iter()
            .find(|l| l.list_id.eq_ignore_ascii_case(list_id))
            .ok_or_else(item_not_found)?;
        if unique.is_empty() || unique.eq_ignore_ascii_case("root") {
            return Ok(describe(lib, "", &lib.root_id));
        }
        let (path, id) = lib.folder_by_id(unique).ok_or_else(item_not_found)?;
        return Ok(describe(lib, path, id));
    }
    let id = remote.get("id").and_then(Value::as_str).unwrap_or("");
    let drive = remote
        .pointer("/parentReference/driveId")
        .and_then(Value::as_str)
        .unwrap_or("");
    if id.is_empty() || drive.is_empty() {
        return Err(GraphError::bad_request(
            "invalidRequest",
            "remoteItem needs sharepointIds, or id and parentReference.driveId.",
        ));
    }
    let lib = library(ctx, drive).map_err(|_| item_not_found())?;
    if id == lib.root_id {
        return Ok(describe(&lib, "", &lib.root_id));
    }
    let (path, id) = lib.folder_by_id(id).ok_or_else(item_not_found)?;
    Ok(describe(&lib, path, id))
}

fn create(ctx: &Ctx<'_>, key: &str) -> Answer {
    let body = ctx.json_body()?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| GraphError::bad_request("invalidRequest", "A name is required."))?
        .to_owned();
    if name.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|']) {
        return Err(GraphError::bad_request(
            "invalidRequest",
            "The provided name contains invalid characters.",
        ));
    }
    let behaviour = body
        .get("@microsoft.graph.conflictBehavior")
        .and_then(Value::as_str)
        .unwrap_or("fail")
        .to_ascii_lowercase();
    if !matches!(behaviour.as_str(), "fail" | "rename" | "replace") {
        return Err(GraphError::bad_request(
            "invalidRequest",
            format!("Invalid conflict behavior '{behaviour}'."),
        ));
    }
    let remote = match (body.get("remoteItem"), body.get("folder")) {
        (Some(remote), _) if remote.is_object() => Some(resolve_remote(ctx, remote)?),
        (None, Some(folder)) if folder.is_object() => None,
        _ => {
            return Err(GraphError::bad_request(
                "invalidRequest",
                "Either 'folder' or 'remoteItem' must be provided, but not both.",
            ));
        }
    };
    let created = with_user_site(ctx, key, |site, url| {
        let taken = |n: &str| {
            site.drive_items
                .iter()
                .any(|i| i.parent.is_none() && i.name.eq_ignore_ascii_case(n))
        };
        let final_name = match behaviour.as_str() {
            "rename" => free_name(&name, taken),
            "fail" if taken(&name) => {
                return Err(GraphError::new(
                    409,
                    "nameAlreadyExists",
                    "The specified item name already exists.",
                ));
            }
            _ => name.clone(),
        };
        if behaviour == "replace" {
            site.drive_items
                .retain(|i| !(i.parent.is_none() && i.name.eq_ignore_ascii_case(&final_name)));
        }
        let stamp = now();
        let item = OneDriveItem {
            id: next_id(ctx, site),
            name: final_name,
            parent: None,
            remote,
            special: None,
            created: stamp.clone(),
            modified: stamp,
        };
        let rendered = render_item(site, url, &item);
        site.drive_items.push(item);
        Ok(rendered)
    })?;
    let mut created = created;
    if let Some(m) = created.as_object_mut() {
        m.insert(
            "@odata.context".into(),
            json!(ctx.context(&format!("users('{key}')/drive/root/children/$entity"))),
        );
    }
    Ok(ok_json(StatusCode::CREATED, &created))
}

fn update(ctx: &Ctx<'_>, key: &str, item: &str) -> Answer {
    let body = ctx.json_body()?;
    let new_parent = body.pointer("/parentReference/id").and_then(Value::as_str);
    let new_name = body.get("name").and_then(Value::as_str).map(str::trim);
    let updated = with_user_site(ctx, key, |site, url| {
        let index = site
            .drive_items
            .iter()
            .position(|i| i.id == item)
            .ok_or_else(item_not_found)?;
        let parent = match new_parent {
            None => site.drive_items[index].parent.clone(),
            Some(p) if p == ONEDRIVE_ROOT_ID || p.eq_ignore_ascii_case("root") => None,
            Some(p) => {
                let target = site
                    .drive_items
                    .iter()
                    .find(|i| i.id == p && i.remote.is_none())
                    .ok_or_else(item_not_found)?;
                if target.id == item {
                    return Err(GraphError::bad_request(
                        "invalidRequest",
                        "An item cannot be moved into itself.",
                    ));
                }
                Some(target.id.clone())
            }
        };
        let name = match new_name {
            Some("") => {
                return Err(GraphError::bad_request(
                    "invalidRequest",
                    "A name is required.",
                ));
            }
            Some(n) => n.to_owned(),
            None => site.drive_items[index].name.clone(),
        };
        if site
            .drive_items
            .iter()
            .any(|i| i.id != item && i.parent == parent && i.name.eq_ignore_ascii_case(&name))
        {
            return Err(GraphError::new(
                409,
                "nameAlreadyExists",
                "The specified item name already exists.",
            ));
        }
        let entry = &mut site.drive_items[index];
        entry.parent = parent;
        entry.name = name;
        entry.modified = now();
        let snapshot = entry.clone();
        Ok(render_item(site, url, &snapshot))
    })?;
    Ok(ok_json(StatusCode::OK, &updated))
}

fn delete(ctx: &Ctx<'_>, key: &str, item: &str) -> Answer {
    with_user_site(ctx, key, |site, _| {
        if !site.drive_items.iter().any(|i| i.id == item) {
            return Err(item_not_found());
        }
        site.drive_items
            .retain(|i| i.id != item && i.parent.as_deref() != Some(item));
        Ok(())
    })?;
    Ok(HttpResponse::NoContent().finish())
}

/// The shortcuts of one OneDrive for `GET /_sim/sharepoint/{tenant}/sites`.
pub(crate) fn admin_shortcuts(site: &Site) -> Vec<Value> {
    site.drive_items
        .iter()
        .filter_map(|i| {
            let remote = i.remote.as_ref()?;
            let in_folder = i.parent.is_some();
            Some(json!({
                "id": i.id,
                "name": i.name,
                "location": if in_folder { "Shortcuts folder" } else { "OneDrive root" },
                "siteUrl": remote.pointer("/sharepointIds/siteUrl"),
                "remoteItemId": remote.get("id"),
                "remoteDriveId": remote.pointer("/parentReference/driveId"),
            }))
        })
        .collect()
}
