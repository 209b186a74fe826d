//! The tenant's credential for the Azure MFA connector, as CIPP-API's
//! `New-CIPPMFAConnectorToken.ps1` keeps it: a long-lived client secret on the tenant's "Azure
//! Multi-Factor Auth Client" service principal, provisioned once, kept (sealed) in the state
//! store and reused; provisioned again only when it is missing or Entra refuses it.
//!
//! Upstream keeps the secret in Key Vault; here it is the store's `secrets` table, sealed with
//! the service's encryption key. Without a configured key the seal is per process, so another
//! replica (or a restart) cannot open it and provisions a new secret, as upstream does when
//! its cached secret is gone.

use secrecy::SecretString;
use serde_json::{Value, json};

use cipp_graph::mfa_connector::MFA_CLIENT_APP_ID;
use cipp_graph::{GraphError, GraphVersion};

use crate::UserError;
use crate::error::ErrorKind;
use crate::normalize::normalize_graph_error;
use crate::op::Ctx;
use crate::tenants::Tenant;

/// The display name upstream gives the secret.
const SECRET_NAME: &str = "CIPP MFA Connector";
/// The name the older upstream gave its five-minute secrets; expired ones are cleared too.
const OLD_SECRET_NAME: &str = "MFA Temporary Password";
/// Upstream caps the secret's life at 180 days.
const SECRET_LIFETIME_DAYS: i64 = 180;
/// A new secret takes a few seconds to work; upstream tries 20 times, a second apart.
const NEW_SECRET_ATTEMPTS: u32 = 20;
const ENABLE_HINT: &str = "Enable it with the 'Azure MFA push notification apps' baseline standard, or in Entra under Enterprise applications.";

/// A connector token for `tenant`. A failure is upstream's 500 with
/// `{"Results": {"resultText", "state": "error"}}`.
pub async fn connector_token(ctx: &Ctx, tenant: &Tenant) -> Result<SecretString, UserError> {
    let tid = tenant.customer_id.as_str();
    let name = format!("mfa-connector:{tid}");
    let cached = match ctx.store.get_secret(&name, &ctx.env.secret_seal).await {
        Ok(found) => found,
        // Sealed by another process's key: as good as none.
        Err(cipp_store::StoreError::Decrypt { .. }) => None,
        Err(e) => return Err(UserError::internal("The state store could not be read", e)),
    };
    if let Some(secret) = cached {
        match ctx.graph.mfa_connector_token(tid, &secret).await {
            Ok(token) => return Ok(token),
            Err(e) => {
                if let Some(text) = disabled_text(&e) {
                    return Err(failure(text));
                }
                tracing::info!(tenant = tid, error = %e, "cached MFA connector secret refused; provisioning a new one");
            }
        }
    }

    let secret = provision_secret(ctx, tid).await?;
    if ctx.graph.dry_run_log().is_some() {
        // WhatIf: the secret above was planned, not made, so there is nothing to exchange.
        return Ok(SecretString::from(String::new()));
    }
    let token = token_with_new_secret(ctx, tid, &secret).await?;
    if let Err(e) = ctx
        .store
        .put_secret(&name, &secret, &ctx.env.secret_seal)
        .await
    {
        // The token works; the next call provisions again.
        tracing::warn!(tenant = tid, error = %e, "could not keep the MFA connector secret");
    }
    Ok(token)
}

async fn provision_secret(ctx: &Ctx, tid: &str) -> Result<SecretString, UserError> {
    let graph = ctx.graph.app_only();
    let graph_failure = |e: GraphError| failure(normalize_graph_error(&e));
    let found = graph
        .get(
            tid,
            GraphVersion::Beta,
            &format!(
                "servicePrincipals?$filter=appId eq '{MFA_CLIENT_APP_ID}'&$select=id,passwordCredentials"
            ),
            &[],
        )
        .await
        .map_err(graph_failure)?;
    let existing = found
        .get("value")
        .and_then(Value::as_array)
        .and_then(|list| list.first())
        .cloned();
    let sp_id = match existing
        .as_ref()
        .and_then(|sp| sp.get("id"))
        .and_then(Value::as_str)
    {
        Some(id) => id.to_owned(),
        None => graph
            .post(
                tid,
                GraphVersion::V1,
                "servicePrincipals",
                &json!({ "appId": MFA_CLIENT_APP_ID }),
            )
            .await
            .map_err(graph_failure)?
            .as_ref()
            .and_then(|sp| sp.get("id"))
            .and_then(Value::as_str)
            // A WhatIf run plans the creation without an id.
            .unwrap_or("")
            .to_owned(),
    };

    let start = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let end = start + time::Duration::days(SECRET_LIFETIME_DAYS);
    let body = json!({
        "passwordCredential": {
            "displayName": SECRET_NAME,
            "startDateTime": rfc3339(start),
            "endDateTime": rfc3339(end),
        }
    });
    let add_path = format!("servicePrincipals/{sp_id}/addPassword");
    let first = graph.post(tid, GraphVersion::V1, &add_path, &body).await;
    let added = match first {
        Ok(answer) => answer,
        Err(e) => {
            // Upstream's remedy: clear this app's expired connector secrets and try again.
            let removed = remove_expired(&graph, tid, &sp_id, existing.as_ref()).await;
            if removed == 0 {
                return Err(add_failed(&e));
            }
            graph
                .post(tid, GraphVersion::V1, &add_path, &body)
                .await
                .map_err(|e| add_failed(&e))?
        }
    };
    let secret = added
        .as_ref()
        .and_then(|a| a.get("secretText"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if secret.is_empty() && ctx.graph.dry_run_log().is_none() {
        return Err(failure(
            "Failed to add a credential to the MFA service principal. Error: Graph returned no secretText".to_owned(),
        ));
    }
    Ok(SecretString::from(secret))
}

/// Removes the service principal's expired connector secrets; how many went.
async fn remove_expired(
    graph: &cipp_graph::GraphClient,
    tid: &str,
    sp_id: &str,
    sp: Option<&Value>,
) -> usize {
    let now = time::OffsetDateTime::now_utc();
    let expired: Vec<String> = sp
        .and_then(|s| s.get("passwordCredentials"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| {
            let name = c.get("displayName").and_then(Value::as_str).unwrap_or("");
            let ended = c
                .get("endDateTime")
                .and_then(Value::as_str)
                .and_then(|t| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .is_some_and(|end| end < now);
            (name == SECRET_NAME || name == OLD_SECRET_NAME) && ended
        })
        .filter_map(|c| c.get("keyId").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut removed = 0;
    for key_id in expired {
        let path = format!("servicePrincipals/{sp_id}/removePassword");
        match graph
            .post(tid, GraphVersion::V1, &path, &json!({ "keyId": key_id }))
            .await
        {
            Ok(_) => removed += 1,
            Err(e) => {
                tracing::info!(tenant = tid, error = %e, "could not remove an expired MFA connector secret")
            }
        }
    }
    removed
}

/// Exchanges a just-made secret, waiting out Entra's propagation as upstream does.
async fn token_with_new_secret(
    ctx: &Ctx,
    tid: &str,
    secret: &SecretString,
) -> Result<SecretString, UserError> {
    let mut attempt = 1;
    loop {
        match ctx.graph.mfa_connector_token(tid, secret).await {
            Ok(token) => return Ok(token),
            Err(e) => {
                if let Some(text) = disabled_text(&e) {
                    return Err(failure(text));
                }
                if attempt >= NEW_SECRET_ATTEMPTS {
                    return Err(failure(format!(
                        "Failed to get a token for the Azure Multi-Factor Auth Client app: {}",
                        token_message(&e)
                    )));
                }
            }
        }
        attempt += 1;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Upstream's texts for the two apps a tenant can switch off.
fn disabled_text(e: &GraphError) -> Option<String> {
    let GraphError::Token {
        code: Some(code), ..
    } = e
    else {
        return None;
    };
    match code.as_str() {
        "AADSTS7000112" => Some(format!(
            "The Azure Multi-Factor Auth Client app ({MFA_CLIENT_APP_ID}) is disabled in this tenant. {ENABLE_HINT}"
        )),
        "AADSTS500014" => Some(format!(
            "The Azure Multi-Factor Auth Connector app (1f5530b3-261a-47a9-b357-ded261e17918) is disabled in this tenant. {ENABLE_HINT}"
        )),
        _ => None,
    }
}

fn token_message(e: &GraphError) -> String {
    match e {
        GraphError::Token { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn add_failed(e: &GraphError) -> UserError {
    failure(format!(
        "Failed to add a credential to the MFA service principal. The tenant's app management policy may be blocking credential creation for this app. Error: {}",
        normalize_graph_error(e)
    ))
}

/// Upstream's 500 body for a connector failure.
pub fn failure(text: String) -> UserError {
    UserError::Answered {
        kind: ErrorKind::UpstreamFailed,
        results: json!({ "resultText": text, "state": "error" }),
        message: text,
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
