//! `ExecOneDriveShortCut` (CIPP-API `Invoke-ExecOneDriveShortCut.ps1` →
//! `New-CIPPOneDriveShortCut.ps1`): adds a shortcut to a SharePoint site's default library, to a
//! library or to a folder in it, at the root of a user's OneDrive ("Add shortcut to My files").
//! The user actions menu and the user's OneDrive shortcuts page offer it.

use cipp_graph::{GraphClient, GraphError, GraphVersion};
use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::onedrive_shortcuts::SiteUrl;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{UserError, path_segment};

pub struct ExecOneDriveShortCut;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose OneDrive gets the shortcut (CIPP sends the user principal name).
    pub username: UserId,
    /// The user's object id; CIPP passes it along and never uses it.
    pub userid: Option<String>,
    /// The site, library or folder, as `{label, value}` with the URL as `value` (a plain string
    /// is accepted too).
    #[serde(rename = "siteUrl")]
    pub site_url: SiteUrl,
}

impl Operation for ExecOneDriveShortCut {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecOneDriveShortCut";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecOneDriveShortCut.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing or malformed `username` or `siteUrl` (not an absolute http(s) URL) is a 400 \
         naming it; `siteUrl` may also be a plain string (CIPP reads only `siteUrl.value`). A \
         browser link's `?id=` path keeps the link's port when it has one (CIPP keeps the host \
         only). A failure has CIPP's text `Could not add OneDrive shortcut to <username> : …`; \
         its status is Graph's when Graph refused (404, 400, 409), 404 when no site matches the \
         URL, else 500 (CIPP: 500 for all). The \
         shortcuts tab's `destination` is not read (nor by upstream's entrypoint at adf32422): \
         the shortcut always goes to the OneDrive root.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "username": crate::demo::USER,
            "userid": crate::demo::USER_ID,
            "siteUrl": {"label": "https://contoso.sharepoint.com/Shared%20Documents/General",
                        "value": "https://contoso.sharepoint.com/Shared%20Documents/General"}})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let upn = params.username.as_str().to_owned();
        let text = new_shortcut(
            &ctx.graph,
            &tenant.customer_id,
            &params.username,
            params.site_url.as_str(),
        )
        .await
        .map_err(|failure| {
            let message = format!(
                "Could not add OneDrive shortcut to {upn} : {}",
                failure.normalized()
            );
            tracing::warn!(tenant = %tenant.default_domain_name, "{message}");
            UserError::Failed {
                message,
                source: failure.graph().map(Box::new),
            }
        })?;
        tracing::info!(tenant = %tenant.default_domain_name, "{text}");
        Ok(Outcome::json(TextResults::new(text)).audit_target(upn))
    }
}

/// Why a shortcut was not made: a Graph call failed, or CIPP's own check did.
#[derive(Debug)]
enum Failure {
    Graph(GraphError),
    Text(String),
}

impl Failure {
    fn normalized(&self) -> String {
        match self {
            Self::Graph(error) => normalize_graph_error(error),
            Self::Text(text) => text.clone(),
        }
    }

    fn graph(self) -> Option<GraphError> {
        match self {
            Self::Graph(error) => Some(error),
            Self::Text(_) => None,
        }
    }
}

impl From<GraphError> for Failure {
    fn from(error: GraphError) -> Self {
        Self::Graph(error)
    }
}

/// A browser link (`…/AllItems.aspx?id=<server-relative path>`) as the folder it shows:
/// `<scheme>://<host>[:port]<decoded path>`; any other URL as it is.
fn unwrap_browser_link(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    let Some(at) = lower.find("?id=").or_else(|| lower.find("&id=")) else {
        return url.to_owned();
    };
    let raw = url[at + 4..].split('&').next().unwrap_or("");
    if raw.is_empty() {
        return url.to_owned();
    }
    let path = percent_decode_str(raw).decode_utf8_lossy().into_owned();
    match url::Url::parse(url) {
        Ok(parsed) => {
            let host = parsed.host_str().unwrap_or("");
            match parsed.port() {
                Some(port) => format!("{}://{host}:{port}{path}", parsed.scheme()),
                None => format!("{}://{host}{path}", parsed.scheme()),
            }
        }
        Err(_) => url.to_owned(),
    }
}

fn text(value: &Value, field: &str) -> String {
    value
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("")
        .to_owned()
}

fn decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// CIPP's `New-CIPPOneDriveShortCut`: finds the site whose web URL is the longest prefix of the
/// URL, then the library (first segment after the site) and folder (the rest), and posts the
/// shortcut to the user's OneDrive root with `conflictBehavior: rename`. All app-only.
async fn new_shortcut(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    url: &str,
) -> Result<String, Failure> {
    let app = graph.app_only();
    let url = unwrap_browser_link(url);
    let lower = url.to_ascii_lowercase();
    let sites = app.get_all(tenant, GraphVersion::Beta, "sites/", &[]).await?;
    let site = sites
        .iter()
        .filter(|s| {
            let web = text(s, "webUrl");
            let web = web.trim_end_matches('/').to_ascii_lowercase();
            !web.is_empty() && (lower == web || lower.starts_with(&format!("{web}/")))
        })
        .max_by_key(|s| text(s, "webUrl").len())
        .ok_or_else(|| {
            Failure::Text(format!(
                "Could not find a SharePoint site matching URL: {url}"
            ))
        })?;
    let site_id = text(site, "id");
    let site_name = text(site, "displayName");
    let web = text(site, "webUrl");
    let relative = url
        .get(web.trim_end_matches('/').len()..)
        .unwrap_or("")
        .trim_start_matches('/');
    let site_segment = path_segment(&site_id).replace("%2C", ",");

    let (body, shown) = if relative.trim().is_empty() {
        let drive = app
            .get(
                tenant,
                GraphVersion::Beta,
                &format!("sites/{site_segment}/drive?$select=SharepointIds"),
                &[],
            )
            .await?;
        let ids = drive
            .as_object()
            .and_then(|m| {
                m.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("sharePointIds"))
            })
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null);
        let body = json!({
            "name": "Documents",
            "remoteItem": {"sharepointIds": {
                "listId": text(&ids, "listId"),
                "listItemUniqueId": "root",
                "siteId": text(&ids, "siteId"),
                "siteUrl": text(&ids, "siteUrl"),
                "webId": text(&ids, "webId"),
            }},
            "@microsoft.graph.conflictBehavior": "rename",
        });
        (body, site_name.clone())
    } else {
        let parts: Vec<&str> = relative.split('/').collect();
        let library = decode(parts[0]);
        let folder = parts[1..]
            .iter()
            .map(|p| decode(p))
            .collect::<Vec<_>>()
            .join("/");
        let drives = app
            .get_all(
                tenant,
                GraphVersion::Beta,
                &format!("sites/{site_segment}/drives?$select=id,name,webUrl"),
                &[],
            )
            .await?;
        let matched = drives.into_iter().find(|d| {
            let last = text(d, "webUrl");
            let last = last.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            text(d, "name").eq_ignore_ascii_case(&library)
                || decode(last).eq_ignore_ascii_case(&library)
        });
        let drive = match matched {
            Some(d) => d,
            None => {
                app.get(
                    tenant,
                    GraphVersion::Beta,
                    &format!("sites/{site_segment}/drive?$select=id,name"),
                    &[],
                )
                .await?
            }
        };
        let drive_id = text(&drive, "id");
        let drive_segment = path_segment(&drive_id);
        let (item, name) = if folder.is_empty() {
            let item = app
                .get(
                    tenant,
                    GraphVersion::Beta,
                    &format!("drives/{drive_segment}/root?$select=id,name"),
                    &[],
                )
                .await?;
            // Graph calls a library's root item `root`; the shortcut takes the library's name.
            (item, text(&drive, "name"))
        } else {
            let encoded = folder
                .split('/')
                .map(path_segment)
                .collect::<Vec<_>>()
                .join("/");
            let item = app
                .get(
                    tenant,
                    GraphVersion::Beta,
                    &format!("drives/{drive_segment}/root:/{encoded}?$select=id,name,parentReference"),
                    &[],
                )
                .await?;
            let name = text(&item, "name");
            (item, name)
        };
        let body = json!({
            "name": name,
            "remoteItem": {"id": text(&item, "id"), "parentReference": {"driveId": drive_id}},
            "@microsoft.graph.conflictBehavior": "rename",
        });
        (body, format!("{site_name} / {name}"))
    };

    app.post(
        tenant,
        GraphVersion::Beta,
        &format!("users/{}/drive/root/children", user.segment()),
        &body,
    )
    .await?;
    Ok(format!(
        "Successfully created OneDrive Shortcut for {} called {shown}",
        user.as_str()
    ))
}

#[cfg(test)]
mod tests {
    use super::unwrap_browser_link;

    #[test]
    fn a_browser_link_becomes_the_folder_its_id_names() {
        assert_eq!(
            unwrap_browser_link(
                "https://contoso.sharepoint.com/sites/Sales/Shared%20Documents/Forms/AllItems.aspx?id=%2Fsites%2FSales%2FShared%20Documents%2FGeneral&viewid=1"
            ),
            "https://contoso.sharepoint.com/sites/Sales/Shared Documents/General"
        );
        assert_eq!(
            unwrap_browser_link("http://127.0.0.1:8080/x/AllItems.aspx?ID=%2Fx%2FDocs"),
            "http://127.0.0.1:8080/x/Docs"
        );
        assert_eq!(
            unwrap_browser_link("https://contoso.sharepoint.com/sites/Sales"),
            "https://contoso.sharepoint.com/sites/Sales"
        );
    }
}
