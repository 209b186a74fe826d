//! Entra's sign-in for a web app: `GET /{tenant}/oauth2/v2.0/authorize` (authorization-code
//! flow) and the token endpoint's `authorization_code` grant, so demo mode can sign a browser
//! in with no internet.
//!
//! Nobody types a password: the authorize page lists one demo user per CIPP role (and one with
//! no role) as links; a request naming one of them in `login_hint` is answered at once with the
//! redirect carrying the code. Each user's ID token holds its role in `roles`, as Entra puts the
//! app roles assigned to a user there.
//!
//! Stricter than Entra where it costs nothing: PKCE (`S256`) is required, codes live 10 minutes
//! (Entra: 10) and are single-use.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::HttpResponse;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use rand::RngCore;
use serde_json::{Value, json};

use crate::state::{Sim, Tenant};
use crate::tokens::{EntraError, LIFETIME, field, missing, sign, times, unknown_tenant};

/// The demo users' roles, one user each; `none` holds no CIPP role (a user the API refuses).
pub const DEMO_SIGN_IN_ROLES: [&str; 5] = ["readonly", "editor", "admin", "superadmin", "none"];

/// How long an unredeemed code stays valid.
const CODE_LIFETIME_SECONDS: i64 = 600;

/// The sign-in name of the demo user holding `role`, in the partner tenant's domain.
pub fn demo_sign_in_upn(partner_domain: &str, role: &str) -> String {
    format!("demo-{role}@{partner_domain}")
}

#[derive(Debug, Clone)]
struct IssuedCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    role: &'static str,
    tenant_id: String,
    expires: i64,
}

/// Codes issued and not yet redeemed.
#[derive(Default)]
pub(crate) struct CodeState {
    codes: Mutex<HashMap<String, IssuedCode>>,
}

fn query_field<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    field(query, name)
}

fn partner_domain(sim: &Sim) -> String {
    sim.partner_admin_upn
        .split_once('@')
        .map(|(_, domain)| domain.to_owned())
        .unwrap_or_default()
}

fn known_client(sim: &Sim, client_id: &str) -> bool {
    sim.apps.api_app_id.eq_ignore_ascii_case(client_id)
        || sim.apps.partner.client_id.eq_ignore_ascii_case(client_id)
        || sim
            .apps
            .clients
            .iter()
            .any(|c| c.client_id.eq_ignore_ascii_case(client_id))
}

/// Entra shows sign-in errors as a page, not JSON: a plain page naming the AADSTS code.
fn error_page(error: &EntraError) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(format!(
            "<!doctype html><title>Sign in</title><h1>Sorry, but we're having trouble signing you in.</h1><p id=\"error\">AADSTS{}: {}</p>",
            error.code,
            html_escape(&error.description)
        ))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /{tenant}/oauth2/v2.0/authorize`.
pub(crate) fn authorize(
    sim: &Sim,
    tenant: Option<Arc<Tenant>>,
    raw_tenant: &str,
    query: &str,
) -> HttpResponse {
    match authorize_inner(sim, tenant, raw_tenant, query) {
        Ok(response) => response,
        Err(error) => error_page(&error),
    }
}

fn authorize_inner(
    sim: &Sim,
    tenant: Option<Arc<Tenant>>,
    raw_tenant: &str,
    query: &str,
) -> Result<HttpResponse, EntraError> {
    let tenant = tenant.ok_or_else(|| unknown_tenant(raw_tenant))?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let client_id = query_field(&params, "client_id").ok_or_else(|| missing("client_id"))?;
    if !known_client(sim, client_id) {
        return Err(EntraError::new(
            400,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                tenant.display_name
            ),
        ));
    }
    let redirect_uri =
        query_field(&params, "redirect_uri").ok_or_else(|| missing("redirect_uri"))?;
    let redirect = url::Url::parse(redirect_uri).map_err(|_| {
        EntraError::new(
            400,
            "invalid_request",
            50011,
            format!("The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."),
        )
    })?;
    if query_field(&params, "response_type") != Some("code") {
        return Err(EntraError::new(
            400,
            "unsupported_response_type",
            700054,
            "response_type 'code' is the only one this sign-in supports.",
        ));
    }
    let challenge = query_field(&params, "code_challenge").ok_or_else(|| {
        EntraError::new(
            400,
            "invalid_request",
            50148,
            "The code_challenge parameter is required (PKCE).",
        )
    })?;
    if query_field(&params, "code_challenge_method") != Some("S256") {
        return Err(EntraError::new(
            400,
            "invalid_request",
            50149,
            "code_challenge_method must be S256.",
        ));
    }
    let state = query_field(&params, "state");
    let nonce = query_field(&params, "nonce");
    let hint = query_field(&params, "login_hint").map(str::to_ascii_lowercase);
    let domain = partner_domain(sim);
    let chosen = hint.as_deref().and_then(|hint| {
        DEMO_SIGN_IN_ROLES
            .iter()
            .find(|role| demo_sign_in_upn(&domain, role) == hint || **role == hint)
    });
    let Some(role) = chosen else {
        return Ok(chooser_page(&domain, &params));
    };
    let code = {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        format!("1.AQ{}", URL_SAFE_NO_PAD.encode(bytes))
    };
    let (now, _) = times();
    sim.auth_codes.codes.lock().insert(
        code.clone(),
        IssuedCode {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            challenge: challenge.to_owned(),
            nonce: nonce.map(str::to_owned),
            role,
            tenant_id: tenant.id.clone(),
            expires: now + CODE_LIFETIME_SECONDS,
        },
    );
    let mut location = redirect;
    {
        let mut pairs = location.query_pairs_mut();
        pairs.append_pair("code", &code);
        if let Some(state) = state {
            pairs.append_pair("state", state);
        }
        pairs.append_pair("session_state", &uuid::Uuid::new_v4().to_string());
    }
    Ok(HttpResponse::Found()
        .insert_header(("Location", location.as_str()))
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

/// The account picker: one link per demo user, each the same request with its `login_hint`.
fn chooser_page(domain: &str, params: &[(String, String)]) -> HttpResponse {
    let links: String = DEMO_SIGN_IN_ROLES
        .iter()
        .map(|role| {
            let upn = demo_sign_in_upn(domain, role);
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params.iter().filter(|(k, _)| k != "login_hint"))
                .append_pair("login_hint", &upn)
                .finish();
            format!(
                "<li><a id=\"user-{role}\" href=\"?{}\">{}</a> ({role})</li>",
                html_escape(&query),
                html_escape(&upn)
            )
        })
        .collect();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(format!(
            "<!doctype html><html><head><title>Sign in to your account</title></head><body><h1>Pick an account</h1><p>Simulated Entra sign-in: demo users, one per CIPP role.</p><ul>{links}</ul></body></html>"
        ))
}

fn code_invalid() -> EntraError {
    EntraError::new(
        400,
        "invalid_grant",
        70000,
        "The provided value for the 'code' parameter is not valid. The code has expired, has already been used or was not issued to this client.",
    )
}

/// The token endpoint's `authorization_code` grant: the code, its client and redirect URI,
/// and the PKCE verifier whose SHA-256 must be the challenge the authorize request sent.
/// A client secret is checked when the client is a confidential app the simulator knows a
/// secret for; the API's own registration signs in as a public client (PKCE alone), as an
/// Entra app with a "Mobile and desktop" or SPA redirect does.
pub(crate) fn redeem(
    sim: &Sim,
    tenant: &Tenant,
    form: &[(String, String)],
) -> Result<Value, EntraError> {
    let code = field(form, "code").ok_or_else(|| missing("code"))?;
    let client_id = field(form, "client_id").ok_or_else(|| missing("client_id"))?;
    let verifier = field(form, "code_verifier").ok_or_else(|| missing("code_verifier"))?;
    let redirect_uri = field(form, "redirect_uri").ok_or_else(|| missing("redirect_uri"))?;
    // Single use: taken out whether or not the rest checks out, as Entra does.
    let issued = sim
        .auth_codes
        .codes
        .lock()
        .remove(code)
        .ok_or_else(code_invalid)?;
    let (now, exp) = times();
    if issued.expires < now
        || !issued.client_id.eq_ignore_ascii_case(client_id)
        || issued.tenant_id != tenant.id
    {
        return Err(code_invalid());
    }
    if issued.redirect_uri != redirect_uri {
        return Err(EntraError::new(
            400,
            "invalid_grant",
            50011,
            "The redirect URI in the request does not match the one the authorization code was issued for.",
        ));
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    if URL_SAFE_NO_PAD.encode(digest.as_ref()) != issued.challenge {
        return Err(EntraError::new(
            400,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ));
    }
    let secret_of = |id: &str| {
        std::iter::once(&sim.apps.partner)
            .chain(sim.apps.clients.iter())
            .find(|a| a.client_id.eq_ignore_ascii_case(id))
            .map(|a| a.client_secret.clone())
    };
    if let Some(expected) = secret_of(client_id)
        && field(form, "client_secret") != Some(expected.as_str())
    {
        return Err(EntraError::new(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided.",
        ));
    }
    let domain = partner_domain(sim);
    let upn = demo_sign_in_upn(&domain, issued.role);
    let oid = user_object_id(sim, issued.role);
    let issuer = format!("{}/{}/v2.0", sim.base_url, tenant.id);
    let mut id_claims = json!({
        "aud": client_id,
        "iss": issuer,
        "iat": now, "nbf": now, "exp": exp,
        "name": format!("Demo {}", issued.role),
        "oid": oid,
        "preferred_username": upn,
        "sub": oid,
        "tid": tenant.id,
        "ver": "2.0",
    });
    if let Some(nonce) = &issued.nonce {
        id_claims["nonce"] = json!(nonce);
    }
    // Entra leaves `roles` out when the user holds no app role.
    if issued.role != "none" {
        id_claims["roles"] = json!([issued.role]);
    }
    let mut access_claims = id_claims.clone();
    access_claims["aud"] = json!(format!("api://{}", sim.apps.api_app_id));
    access_claims["iss"] = json!(format!("https://sts.windows.net/{}/", tenant.id));
    access_claims["upn"] = json!(upn);
    access_claims["idtyp"] = json!("user");
    access_claims["scp"] = json!("user_impersonation");
    access_claims["ver"] = json!("1.0");
    if let Some(object) = access_claims.as_object_mut() {
        object.remove("nonce");
    }
    Ok(json!({
        "token_type": "Bearer",
        "scope": "openid profile",
        "expires_in": LIFETIME - 1,
        "ext_expires_in": LIFETIME - 1,
        "access_token": sign(sim, &access_claims)?,
        "id_token": sign(sim, &id_claims)?,
    }))
}

/// A stable object id per demo user.
fn user_object_id(sim: &Sim, role: &str) -> String {
    let mut h: u64 = sim.seed ^ 0xD3_5161;
    for b in role.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = crate::seed::rng_for(h, 11);
    crate::seed::guid(&mut rng)
}
