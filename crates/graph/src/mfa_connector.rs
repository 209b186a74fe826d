//! The Azure MFA connector (StrongAuthenticationService), which CIPP's "Send MFA push" uses:
//! a token from Entra's v1 endpoint for the tenant's "Azure Multi-Factor Auth Client" app,
//! then `BeginTwoWayAuthentication` (a push, or with `SyncCall=false` the start of an OTP
//! check) and `EndTwoWayAuthentication` (the typed code), as XML.
//!
//! Two hosts, as upstream uses them: the push goes to `adnotifications.windowsazure.com`, the
//! OTP handshake to `strongauthenticationservice.auth.microsoft.com` (the older host only
//! pushes). Both are settings ([`crate::GraphClientBuilder::mfa_connector_urls`]), so demo mode
//! and tests point them at the simulator.

use std::time::{Duration, Instant};

use quick_xml::escape::escape;
use quick_xml::events::Event;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::client::GraphClient;
use crate::dry_run::PlannedWrite;
use crate::error::GraphError;
use crate::tls::error_chain;

/// The first-party "Azure Multi-Factor Auth Client" application.
pub const MFA_CLIENT_APP_ID: &str = "981f26a1-7f43-403b-a875-f8b09b8cd720";
/// The resource the connector token is issued for.
pub const MFA_CONNECTOR_RESOURCE: &str =
    "https://adnotifications.windowsazure.com/StrongAuthenticationService.svc/Connector";
/// Where pushes go.
pub const PUBLIC_MFA_PUSH_URL: &str = "https://adnotifications.windowsazure.com";
/// Where typed codes are checked.
pub const PUBLIC_MFA_OTP_URL: &str = "https://strongauthenticationservice.auth.microsoft.com";

const CONNECTOR_PATH: &str = "StrongAuthenticationService.svc/Connector";

/// What the connector answered to a Begin or End call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TwoWayAnswer {
    /// `Result/Value`: `Success`, `PhoneAppDenied`, `PhoneAppNoResponse`, `OathCodeIncorrect`, …
    pub result_value: Option<String>,
    /// `SessionId`, present when a Begin with `SyncCall=false` opened a session.
    pub session_id: Option<String>,
    /// `AuthenticationResult` read as true (any casing).
    pub authenticated: bool,
}

/// Which Begin call to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwoWayKind {
    /// A push to the Authenticator app; blocks until the user answers or the service gives up.
    Push,
    /// Opens a session for a typed code; no push is sent.
    OtpSession,
}

#[derive(Deserialize)]
struct V1TokenAnswer {
    access_token: String,
}

#[derive(Deserialize)]
struct EntraErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<i64>,
}

impl GraphClient {
    /// A connector token for `tenant` from Entra's v1 endpoint, with the MFA client app's secret.
    ///
    /// Written out rather than through azure_identity or oauth2: the v1 endpoint takes
    /// `resource` instead of `scope` and answers `expires_in` as a string, which neither reads.
    /// A refusal is [`GraphError::Token`] with the AADSTS code and Entra's description (its
    /// trace lines cut off).
    pub async fn mfa_connector_token(
        &self,
        tenant: &str,
        client_secret: &SecretString,
    ) -> Result<SecretString, GraphError> {
        let url = self
            .inner
            .settings
            .authority_host
            .join(&format!("{}/oauth2/token", tenant.trim()))
            .map_err(|e| GraphError::Config {
                setting: "authority_host",
                message: e.to_string(),
            })?;
        let form = [
            ("resource", MFA_CONNECTOR_RESOURCE),
            ("client_id", MFA_CLIENT_APP_ID),
            ("client_secret", client_secret.expose_secret()),
            ("grant_type", "client_credentials"),
            ("scope", "openid"),
        ];
        let token_failure =
            |status: Option<u16>, code: Option<String>, message: String| GraphError::Token {
                tenant: tenant.to_owned(),
                status,
                code,
                message,
            };
        let response = self
            .inner
            .http
            .post(url)
            .form(&form)
            .send()
            .await
            .map_err(|e| token_failure(None, None, error_chain(&e)))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| token_failure(Some(status), None, error_chain(&e)))?;
        if (200..300).contains(&status) {
            let answer: V1TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
                token_failure(Some(status), None, format!("unreadable token answer: {e}"))
            })?;
            return Ok(SecretString::from(answer.access_token));
        }
        let parsed: Option<EntraErrorBody> = serde_json::from_slice(&body).ok();
        let (code, message) = match parsed {
            Some(p) => (
                p.error_codes
                    .first()
                    .map(|c| format!("AADSTS{c}"))
                    .or(p.error.clone()),
                p.error_description
                    .map(|d| without_trace(&d))
                    .or(p.error)
                    .unwrap_or_else(|| format!("HTTP {status}")),
            ),
            None => (None, format!("HTTP {status}")),
        };
        Err(token_failure(Some(status), code, message))
    }

    /// `BeginTwoWayAuthentication` for `user_principal_name`. In a `WhatIf` run a push is
    /// listed, not sent, and answered as not approved (no one was asked).
    pub async fn mfa_begin_two_way(
        &self,
        tenant: &str,
        token: &SecretString,
        user_principal_name: &str,
        kind: TwoWayKind,
    ) -> Result<TwoWayAnswer, GraphError> {
        let context_id = uuid::Uuid::new_v4();
        let upn = escape(user_principal_name);
        // Upstream names the Authenticator push so the prompt appears even when the user's
        // default method is a code.
        let (base, separator, method, sync) = match kind {
            TwoWayKind::Push => (
                &self.inner.mfa_push_url,
                // Upstream's double slash, kept: the real service accepts it.
                "//",
                "<AuthenticationMethodId>PhoneAppNotification</AuthenticationMethodId>",
                "true",
            ),
            TwoWayKind::OtpSession => (&self.inner.mfa_otp_url, "/", "", "false"),
        };
        let body = format!(
            "<BeginTwoWayAuthenticationRequest>\n<Version>1.0</Version>\n\
             <UserPrincipalName>{upn}</UserPrincipalName>\n<Lcid>en-us</Lcid>{method}\
             <AuthenticationMethodProperties xmlns:a=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\">\
             <a:KeyValueOfstringstring><a:Key>OverrideVoiceOtp</a:Key><a:Value>false</a:Value></a:KeyValueOfstringstring>\
             </AuthenticationMethodProperties><ContextId>{context_id}</ContextId>\n\
             <SyncCall>{sync}</SyncCall><RequireUserMatch>true</RequireUserMatch>\
             <CallerName>radius</CallerName><CallerIP>UNKNOWN:</CallerIP></BeginTwoWayAuthenticationRequest>\n"
        );
        let url = connector_url(base, separator, "BeginTwoWayAuthentication")?;
        if let Some(dry_run) = self.dry_run_log() {
            dry_run.record(PlannedWrite {
                service: "mfa".to_owned(),
                method: "POST".to_owned(),
                target: url.to_string(),
                body: Some(serde_json::json!({
                    "UserPrincipalName": user_principal_name,
                    "SyncCall": sync == "true",
                })),
                assumed_status: 200,
            });
            return Ok(TwoWayAnswer::default());
        }
        self.connector_call(
            tenant,
            token,
            url,
            body,
            "BeginTwoWayAuthenticationResponse",
        )
        .await
    }

    /// `EndTwoWayAuthentication`: checks `code` against the session a Begin opened.
    pub async fn mfa_end_two_way(
        &self,
        tenant: &str,
        token: &SecretString,
        session_id: &str,
        code: &str,
    ) -> Result<TwoWayAnswer, GraphError> {
        let body = format!(
            "<EndTwoWayAuthenticationRequest>\n<Version>1.0</Version>\n<SessionId>{}</SessionId>\n\
             <AdditionalAuthData>{}</AdditionalAuthData>\n</EndTwoWayAuthenticationRequest>\n",
            escape(session_id),
            escape(code)
        );
        let url = connector_url(&self.inner.mfa_otp_url, "/", "EndTwoWayAuthentication")?;
        self.connector_call(tenant, token, url, body, "EndTwoWayAuthenticationResponse")
            .await
    }

    async fn connector_call(
        &self,
        tenant: &str,
        token: &SecretString,
        url: Url,
        body: String,
        root: &str,
    ) -> Result<TwoWayAnswer, GraphError> {
        let _permit = self.inner.limiter.acquire(tenant).await?;
        let started = Instant::now();
        let response = self
            .inner
            .http
            .post(url)
            .header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()))
            .header(CONTENT_TYPE, "application/xml")
            .body(body)
            // A push waits for the user; Microsoft's own limit on that is about a minute.
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .map_err(|e| GraphError::Transport {
                message: error_chain(&e),
            })?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| GraphError::Transport {
            message: error_chain(&e),
        })?;
        tracing::debug!(
            status,
            waited_ms = started.elapsed().as_millis(),
            "MFA connector answered"
        );
        if !(200..300).contains(&status) {
            return Err(GraphError::Api {
                status,
                code: "MfaConnectorError".to_owned(),
                message: format!("The MFA connector answered {status}"),
                request_id: None,
                raw_body: text.chars().take(2000).collect(),
            });
        }
        parse_two_way(&text, root)
    }
}

fn connector_url(base: &Url, separator: &str, action: &str) -> Result<Url, GraphError> {
    let text = format!(
        "{}/{CONNECTOR_PATH}{separator}{action}",
        base.as_str().trim_end_matches('/')
    );
    Url::parse(&text).map_err(|e| GraphError::Config {
        setting: "mfa_connector_url",
        message: e.to_string(),
    })
}

/// Entra's description without the `Trace ID: …` lines it appends.
fn without_trace(description: &str) -> String {
    description
        .split("Trace ID:")
        .next()
        .unwrap_or(description)
        .trim_end()
        .to_owned()
}

/// Reads `Result/Value`, `SessionId` and `AuthenticationResult` below `root`, by local name
/// (the service answers without namespaces; some clients see prefixes).
fn parse_two_way(xml: &str, root: &str) -> Result<TwoWayAnswer, GraphError> {
    let undecodable = |message: String| GraphError::Decode {
        message: format!("MFA connector answer: {message}"),
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut answer = TwoWayAnswer::default();
    let mut saw_root = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                if path.is_empty() && name.eq_ignore_ascii_case(root) {
                    saw_root = true;
                }
                path.push(name);
                text.clear();
            }
            Ok(Event::Text(t)) => {
                let piece = t.decode().map_err(|e| undecodable(e.to_string()))?;
                text.push_str(&piece);
            }
            Ok(Event::GeneralRef(r)) => {
                let name = r.decode().map_err(|e| undecodable(e.to_string()))?;
                let entity = format!("&{name};");
                let resolved =
                    quick_xml::escape::unescape(&entity).map_err(|e| undecodable(e.to_string()))?;
                text.push_str(&resolved);
            }
            Ok(Event::End(_)) => {
                let joined = path.join("/").to_ascii_lowercase();
                let value = text.trim().to_owned();
                let below = joined
                    .strip_prefix(&root.to_ascii_lowercase())
                    .unwrap_or("");
                match below {
                    "/result/value" => answer.result_value = Some(value),
                    "/sessionid" if !value.is_empty() => answer.session_id = Some(value),
                    "/authenticationresult" => {
                        answer.authenticated = value.eq_ignore_ascii_case("true");
                    }
                    _ => {}
                }
                path.pop();
                text.clear();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(undecodable(e.to_string())),
        }
    }
    if !saw_root {
        return Err(undecodable(format!("no <{root}> element")));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn an_approved_push_reads_as_authenticated_with_its_result_value() {
        let xml = "<BeginTwoWayAuthenticationResponse><Version>1.0</Version>\
                   <Result><Value>Success</Value><Message/></Result><SessionId>s-1</SessionId>\
                   <AuthenticationResult>true</AuthenticationResult>\
                   <UserPrincipalName>a@b.com</UserPrincipalName></BeginTwoWayAuthenticationResponse>";
        let answer = parse_two_way(xml, "BeginTwoWayAuthenticationResponse").unwrap();
        assert!(answer.authenticated);
        assert_eq!(answer.result_value.as_deref(), Some("Success"));
        assert_eq!(answer.session_id.as_deref(), Some("s-1"));
    }

    #[test]
    fn a_denied_push_is_not_authenticated_and_an_empty_session_is_none() {
        let xml = "<BeginTwoWayAuthenticationResponse><Result><Value>PhoneAppDenied</Value></Result>\
                   <SessionId></SessionId><AuthenticationResult>false</AuthenticationResult>\
                   </BeginTwoWayAuthenticationResponse>";
        let answer = parse_two_way(xml, "BeginTwoWayAuthenticationResponse").unwrap();
        assert!(!answer.authenticated);
        assert_eq!(answer.result_value.as_deref(), Some("PhoneAppDenied"));
        assert_eq!(answer.session_id, None);
    }

    #[test]
    fn an_answer_without_the_expected_root_is_a_decode_error() {
        let err = parse_two_way("<Other/>", "EndTwoWayAuthenticationResponse").unwrap_err();
        assert!(matches!(err, GraphError::Decode { .. }), "{err:?}");
        let err = parse_two_way("not xml <", "EndTwoWayAuthenticationResponse").unwrap_err();
        assert!(matches!(err, GraphError::Decode { .. }), "{err:?}");
    }

    #[test]
    fn entra_descriptions_lose_their_trace_lines() {
        assert_eq!(
            without_trace("AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x\r\n"),
            "AADSTS7000215: Invalid client secret provided."
        );
    }
}
