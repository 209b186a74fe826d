//! SharePoint Online: REST on a site (`{site}/_api/…`) and the admin CSOM endpoint
//! (`{admin}/_vti_bin/client.svc/ProcessQuery`), as CIPP's `New-GraphPOSTRequest` calls them
//! with a SharePoint scope.
//!
//! Site URLs come from Graph (a drive's `sharepointIds.siteUrl`), so calls take absolute URLs;
//! the admin origin is a setting ([`crate::GraphClientBuilder::sharepoint_admin_url`]) because
//! Graph does not name it. Same token cache, limits, retries and error type as Graph calls.

use reqwest::Method;
use serde_json::Value;
use url::Url;

use crate::client::{Call, GraphClient, decode_body};
use crate::error::GraphError;
use crate::settings::GraphVersion;

/// The admin origin template: `{tenant}` is the SharePoint tenant name (`contoso` for
/// `contoso.sharepoint.com`), as CIPP's `Get-SharePointAdminLink` builds it.
pub const DEFAULT_SHAREPOINT_ADMIN_URL: &str = "https://{tenant}-admin.sharepoint.com";

/// What OData JSON light answers look like without metadata; CIPP asks for the same.
const ODATA_NOMETADATA: &str = "application/json;odata=nometadata";

/// The token scope for a SharePoint URL: `{scheme}://{host[:port]}/.default`.
///
/// Entra issues SharePoint tokens per host (`https://contoso.sharepoint.com`,
/// `https://contoso-my.sharepoint.com` and `…-admin…` are each their own audience), and CIPP
/// asks for exactly the host it calls; deriving it from the URL keeps the token and the target
/// together, also when the host is a simulator's loopback origin.
pub fn sharepoint_scope(url: &Url) -> Result<String, GraphError> {
    match url.scheme() {
        "http" | "https" if url.host().is_some() => {
            Ok(format!("{}/.default", url.origin().ascii_serialization()))
        }
        _ => Err(GraphError::Config {
            setting: "sharepoint url",
            message: format!("'{url}' is not an http(s) URL"),
        }),
    }
}

/// `template` with `{tenant}` replaced, parsed; what [`crate::GraphClientBuilder`] validates.
pub(crate) fn admin_url_from_template(template: &str, tenant: &str) -> Result<Url, GraphError> {
    let text = template.trim().replace("{tenant}", tenant);
    let url = Url::parse(text.trim_end_matches('/')).map_err(|e| GraphError::Config {
        setting: "sharepoint_admin_url",
        message: format!("'{text}' is not a URL: {e}"),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(GraphError::Config {
            setting: "sharepoint_admin_url",
            message: format!("'{text}' is not an http(s) URL"),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(GraphError::Config {
            setting: "sharepoint_admin_url",
            message: "must not carry a query or fragment".to_owned(),
        });
    }
    Ok(url)
}

/// `base` with `segments` appended as path segments (a base path is kept).
fn join_path(base: &Url, segments: &[&str]) -> Result<Url, GraphError> {
    let mut url = base.clone();
    url.set_query(None);
    url.path_segments_mut()
        .map_err(|()| GraphError::Config {
            setting: "sharepoint url",
            message: format!("'{base}' cannot carry a path"),
        })?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

impl GraphClient {
    /// The tenant's SharePoint name: the first label of `GET beta/sites/root`'s
    /// `siteCollection.hostname` (else of its `id`), as `Get-SharePointAdminLink` reads it.
    pub async fn sharepoint_tenant_name(&self, tenant: &str) -> Result<String, GraphError> {
        let root = self
            .get(
                tenant,
                GraphVersion::Beta,
                "sites/root?$select=id,siteCollection,webUrl",
                &[],
            )
            .await?;
        let host = root
            .pointer("/siteCollection/hostname")
            .and_then(Value::as_str)
            .or_else(|| root.get("id").and_then(Value::as_str))
            .unwrap_or_default();
        let name = host.split(['.', ',']).next().unwrap_or_default().trim();
        if name.is_empty() {
            return Err(GraphError::Decode {
                message: "sites/root names no SharePoint host".to_owned(),
            });
        }
        Ok(name.to_owned())
    }

    /// The tenant's SharePoint admin URL: the template with its SharePoint name.
    pub async fn sharepoint_admin_url(&self, tenant: &str) -> Result<Url, GraphError> {
        let name = self.sharepoint_tenant_name(tenant).await?;
        admin_url_from_template(self.sharepoint_admin_template(), &name)
    }

    /// One SharePoint REST call on `url` (absolute) with `Accept` and `Content-Type`
    /// `application/json;odata=nometadata`. `merge` sends it as CIPP's updates go: POST with
    /// `X-HTTP-Method: MERGE` and `IF-MATCH: *`. `None` for an empty answer (204).
    ///
    /// Errors: [`GraphError::Api`] whose `code` and `message` are SharePoint's
    /// (`odata.error.code`, `odata.error.message.value`).
    pub async fn sharepoint_rest(
        &self,
        tenant: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
        merge: bool,
    ) -> Result<Option<Value>, GraphError> {
        let scope = sharepoint_scope(&url)?;
        let mut headers = vec![("Accept", ODATA_NOMETADATA)];
        if body.is_some() {
            headers.push(("Content-Type", ODATA_NOMETADATA));
        }
        if merge {
            headers.push(("X-HTTP-Method", "MERGE"));
            headers.push(("IF-MATCH", "*"));
        }
        let reply = self
            .execute_call(Call {
                tenant,
                method,
                url,
                body,
                raw_body: None,
                headers: &headers,
                scope: &scope,
                service: "sharepoint",
            })
            .await
            .map_err(into_sharepoint_error)?;
        decode_body(&reply)
    }

    /// POSTs a CSOM request (`text/xml`) to `{admin}/_vti_bin/client.svc/ProcessQuery` and
    /// returns CSOM's JSON array. A CSOM-level failure is not an HTTP error: it is the first
    /// element's `ErrorInfo`, left to the caller as CIPP leaves it.
    pub async fn sharepoint_process_query(
        &self,
        tenant: &str,
        admin_url: &Url,
        xml: &str,
    ) -> Result<Vec<Value>, GraphError> {
        let url = join_path(admin_url, &["_vti_bin", "client.svc", "ProcessQuery"])?;
        let scope = sharepoint_scope(&url)?;
        let headers = [("Content-Type", "text/xml"), ("Accept", "application/json")];
        let reply = self
            .execute_call(Call {
                tenant,
                method: Method::POST,
                url,
                body: None,
                raw_body: Some(xml.as_bytes()),
                headers: &headers,
                scope: &scope,
                service: "sharepoint",
            })
            .await
            .map_err(into_sharepoint_error)?;
        match decode_body(&reply)? {
            Some(Value::Array(items)) => Ok(items),
            other => Err(GraphError::Decode {
                message: format!(
                    "ProcessQuery answered {} instead of a JSON array",
                    other.map_or("nothing".to_owned(), |v| v.to_string())
                ),
            }),
        }
    }
}

/// SharePoint's OData error text into [`GraphError::Api`]'s code and message.
fn into_sharepoint_error(err: GraphError) -> GraphError {
    match err {
        GraphError::Api {
            status,
            code,
            message,
            request_id,
            raw_body,
        } => {
            let (sp_code, sp_message) = sharepoint_error_parts(&raw_body);
            GraphError::Api {
                status,
                code: sp_code.unwrap_or(code),
                message: sp_message.unwrap_or(message),
                request_id,
                raw_body,
            }
        }
        other => other,
    }
}

/// `odata.error` (JSON light) or `error` (verbose): its `code`, and `message.value` (or a plain
/// `message` string); `error_description` for SharePoint's 401 bodies.
pub(crate) fn sharepoint_error_parts(body: &str) -> (Option<String>, Option<String>) {
    let Ok(parsed) = serde_json::from_str::<Value>(body) else {
        return (None, None);
    };
    let error = parsed.get("odata.error").or_else(|| parsed.get("error"));
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(|m| {
            m.get("value")
                .and_then(Value::as_str)
                .or_else(|| m.as_str())
        })
        .or_else(|| parsed.get("error_description").and_then(Value::as_str))
        .map(str::to_owned);
    (code, message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_scope_is_the_origin_of_the_target() {
        let url =
            Url::parse("https://contoso-my.sharepoint.com/personal/a_b_com/_api/web").unwrap();
        assert_eq!(
            sharepoint_scope(&url).unwrap(),
            "https://contoso-my.sharepoint.com/.default"
        );
        let local = Url::parse("https://127.0.0.1:8443/_sp/contoso-my/personal/x").unwrap();
        assert_eq!(
            sharepoint_scope(&local).unwrap(),
            "https://127.0.0.1:8443/.default"
        );
    }

    #[test]
    fn the_admin_template_takes_the_tenant_name_and_may_carry_a_path() {
        let url = admin_url_from_template(DEFAULT_SHAREPOINT_ADMIN_URL, "contoso").unwrap();
        assert_eq!(url.as_str(), "https://contoso-admin.sharepoint.com/");
        let sim =
            admin_url_from_template("https://127.0.0.1:9/_sp/{tenant}-admin/", "fab").unwrap();
        let call = join_path(&sim, &["_vti_bin", "client.svc", "ProcessQuery"]).unwrap();
        assert_eq!(
            call.as_str(),
            "https://127.0.0.1:9/_sp/fab-admin/_vti_bin/client.svc/ProcessQuery"
        );
        assert!(admin_url_from_template("ftp://{tenant}", "x").is_err());
    }

    #[test]
    fn odata_errors_give_their_code_and_text() {
        let body = r#"{"odata.error":{"code":"-2146232832, Microsoft.SharePoint.SPException","message":{"lang":"en-US","value":"The specified user x could not be found."}}}"#;
        let (code, message) = sharepoint_error_parts(body);
        assert_eq!(
            code.as_deref(),
            Some("-2146232832, Microsoft.SharePoint.SPException")
        );
        assert_eq!(
            message.as_deref(),
            Some("The specified user x could not be found.")
        );
        let (_, m) =
            sharepoint_error_parts(r#"{"error_description":"Invalid issuer or signature."}"#);
        assert_eq!(m.as_deref(), Some("Invalid issuer or signature."));
    }
}
