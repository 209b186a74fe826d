//! Same-origin hosting: the frontend's files beside `/api`, and the browser sign-in
//! (`/.auth/*`) against the simulated Entra's authorize endpoint, as a browser would do it
//! (cookies carried by hand, redirects followed one by one).

use crate::helpers::{TestApp, spawn_app_with};
use serde_json::{Value, json};

/// A frontend folder with an index page and one asset.
fn frontend_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>CIPP test</title>",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("assets/app.js"), "console.log('x')").unwrap();
    dir
}

async fn hosting_app(dir: &tempfile::TempDir) -> TestApp {
    let path = dir.path().to_owned();
    spawn_app_with(move |settings| settings.sign_in.frontend_dir = Some(path)).await
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `name=value` of the response's `Set-Cookie` for `name`, and the whole header.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let pair = v.split(';').next().unwrap_or_default().to_owned();
            (pair, v.to_owned())
        })
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Starts a sign-in: the redirect to Entra and the state cookie.
async fn start_sign_in(app: &TestApp, login_hint: &str) -> (String, String) {
    let response = app
        .http
        .get(format!(
            "{}/.auth/login/aad?login_hint={login_hint}",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let (state_cookie, _) = set_cookie(&response, "cipp_sign_in").expect("a sign-in cookie");
    (header(&response, "location"), state_cookie)
}

/// Entra's answer to the authorize request: the callback URL with its code and state.
async fn authorize(app: &TestApp, authorize_url: &str) -> String {
    let response = app.http.get(authorize_url).send().await.unwrap();
    assert_eq!(
        response.status().as_u16(),
        302,
        "{}",
        response.text().await.unwrap()
    );
    header(&response, "location")
}

/// Signs the demo user of `role` in and answers the session cookie (`cipp_session=...`).
async fn sign_in(app: &TestApp, role: &str) -> String {
    let (authorize_url, state_cookie) = start_sign_in(app, role).await;
    let callback = authorize(app, &authorize_url).await;
    let path = callback
        .split_once("/.auth/")
        .map(|(_, rest)| rest)
        .unwrap();
    let response = app
        .http
        .get(format!("{}/.auth/{path}", app.address))
        .header("cookie", &state_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        302,
        "{}",
        response.text().await.unwrap()
    );
    set_cookie(&response, "cipp_session")
        .expect("a session cookie")
        .0
}

async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.address))
        .header("cookie", cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_login_redirect_carries_a_pkce_challenge_state_and_nonce() {
    let dir = frontend_dir();
    let app = hosting_app(&dir).await;
    let (location, state_cookie) = start_sign_in(&app, "editor").await;
    assert!(location.contains("/oauth2/v2.0/authorize?"), "{location}");
    assert_eq!(
        query_param(&location, "response_type").as_deref(),
        Some("code")
    );
    assert_eq!(
        query_param(&location, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let challenge = query_param(&location, "code_challenge").unwrap();
    assert_eq!(challenge.len(), 43, "a base64url SHA-256: {challenge}");
    let state = query_param(&location, "state").unwrap();
    assert!(state.len() >= 43);
    assert!(query_param(&location, "nonce").unwrap().len() >= 43);
    assert_eq!(state_cookie, format!("cipp_sign_in={state}"));
    assert_eq!(
        query_param(&location, "redirect_uri").unwrap(),
        format!("{}/.auth/login/aad/callback", app.address)
    );
    app.stop();
}

#[tokio::test]
async fn a_callback_whose_state_is_not_this_browsers_is_refused() {
    let dir = frontend_dir();
    let app = hosting_app(&dir).await;
    let (authorize_url, _) = start_sign_in(&app, "admin").await;
    let callback = authorize(&app, &authorize_url).await;
    let path = callback
        .split_once("/.auth/")
        .map(|(_, rest)| rest)
        .unwrap();
    // Another browser's (or no) sign-in cookie: refused, and no session cookie is set.
    for cookie in ["cipp_sign_in=someone-elses-state", ""] {
        let response = app
            .http
            .get(format!("{}/.auth/{path}", app.address))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400);
        assert!(set_cookie(&response, "cipp_session").is_none());
        let body: Value = response.json().await.unwrap();
        assert!(body.to_string().contains("state"), "{body}");
    }
    app.stop();
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_secure_except_on_demo_loopback_http() {
    let dir = frontend_dir();
    let app = hosting_app(&dir).await;
    let (authorize_url, state_cookie) = start_sign_in(&app, "readonly").await;
    let callback = authorize(&app, &authorize_url).await;
    let response = app
        .http
        .get(&callback)
        .header("cookie", &state_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "location"), "/");
    let (pair, whole) = set_cookie(&response, "cipp_session").unwrap();
    assert!(pair.len() > "cipp_session=".len() + 40, "{pair}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=28800"] {
        assert!(whole.contains(flag), "{flag} in {whole}");
    }
    // Demo mode at http://127.0.0.1: a browser would drop a Secure cookie from plain http.
    assert!(!whole.contains("Secure"), "{whole}");
    app.stop();

    // Any other origin (here https) gets Secure cookies.
    let dir = frontend_dir();
    let app = spawn_app_with({
        let path = dir.path().to_owned();
        move |settings| {
            settings.sign_in.frontend_dir = Some(path);
            settings.sign_in.public_url =
                Some(url::Url::parse("https://cipp.example.test").unwrap());
        }
    })
    .await;
    let (authorize_url, state_cookie) = start_sign_in(&app, "readonly").await;
    assert_eq!(
        query_param(&authorize_url, "redirect_uri").unwrap(),
        "https://cipp.example.test/.auth/login/aad/callback"
    );
    let callback = authorize(&app, &authorize_url).await;
    let path = callback
        .split_once("/.auth/")
        .map(|(_, rest)| rest)
        .unwrap();
    let response = app
        .http
        .get(format!("{}/.auth/{path}", app.address))
        .header("cookie", &state_cookie)
        .send()
        .await
        .unwrap();
    let (_, whole) = set_cookie(&response, "cipp_session").unwrap();
    assert!(whole.contains("; Secure"), "{whole}");
    app.stop();
}

#[tokio::test]
async fn a_signed_in_user_is_described_by_auth_me_and_may_call_the_api_by_role() {
    let dir = frontend_dir();
    let app = hosting_app(&dir).await;
    let anonymous: Value = app
        .http
        .get(format!("{}/.auth/me", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(anonymous, json!({"clientPrincipal": null}));

    let cookie = sign_in(&app, "editor").await;
    let me: Value = get_with_cookie(&app, "/.auth/me", &cookie)
        .await
        .json()
        .await
        .unwrap();
    let principal = &me["clientPrincipal"];
    assert_eq!(principal["identityProvider"], "aad");
    assert!(
        principal["userDetails"]
            .as_str()
            .unwrap()
            .starts_with("demo-editor@"),
        "{me}"
    );
    assert!(principal["userId"].as_str().unwrap().len() == 36, "{me}");
    let roles = principal["userRoles"].as_array().unwrap();
    for role in ["anonymous", "authenticated", "editor"] {
        assert!(roles.contains(&json!(role)), "{role} in {me}");
    }

    let api_me: Value = get_with_cookie(&app, "/api/me", &cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        api_me["clientPrincipal"]["userDetails"],
        principal["userDetails"]
    );
    assert!(
        api_me["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("Identity.User.ReadWrite"))
    );

    let tenant = app.tenant(0).clone();
    let response = get_with_cookie(
        &app,
        &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
        &cookie,
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let users: Vec<Value> = response.json().await.unwrap();
    assert_eq!(users.len(), tenant.user_count);

    // A write from the site's own page (the frontend's fetch: same-origin, JSON body).
    let user = users
        .iter()
        .find(|u| u["onPremisesSyncEnabled"] != json!(true))
        .unwrap();
    let response = app
        .http
        .post(format!("{}/api/ExecRevokeSessions", app.address))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .header("origin", &app.address)
        .json(&json!({"tenantFilter": tenant.default_domain_name, "id": user["id"]}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body["Results"].to_string().contains("Success"), "{body}");

    // A readonly user may read but not write.
    let reader = sign_in(&app, "readonly").await;
    let response = app
        .http
        .post(format!("{}/api/ExecRevokeSessions", app.address))
        .header("cookie", &reader)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"tenantFilter": tenant.default_domain_name, "id": user["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    app.stop();
}

#[tokio::test]
async fn a_signed_in_user_without_a_role_is_refused_by_the_api() {
    let dir = frontend_dir();
    let app = hosting_app(&dir).await;
    let cookie = sign_in(&app, "none").await;
    let me: Value = get_with_cookie(&app, "/.auth/me", &cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["clientPrincipal"]["userRoles"],
        json!(["anonymous", "authenticated"])
    );
    for path in [
        "/api/me".to_owned(),
        format!(
            "/api/ListUsers?tenantFilter={}",
            app.tenant(0).default_domain_name
        ),
    ] {
        let response = get_with_cookie(&app, &path, &cookie).await;
        assert_eq!(response.status().as_u16(), 403, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(body.to_string().contains("holds no CIPP role"), "{body}");
    }
    app.stop();
}

#[tokio::test]
async fn a_role_map_gives_a_user_without_app_roles_a_role() {
    let dir = frontend_dir();
    let path = dir.path().to_owned();
    let app = spawn_app_with(move |settings| {
        settings.sign_in.frontend_dir = Some(path);
    })
    .await;
    // The demo user without an app role, as it signs in (the demo data's domain is seeded).
    let cookie = sign_in(&app, "none").await;
    let me: Value = get_with_cookie(&app, "/.auth/me", &cookie)
        .await
        .json()
        .await
        .unwrap();
    let upn = me["clientPrincipal"]["userDetails"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();
    assert_eq!(
        get_with_cookie(&app, "/api/me", &cookie)
            .await
            .status()
            .as_u16(),
        403
    );
    app.stop();

    let dir = frontend_dir();
    let path = dir.path().to_owned();
    let app = spawn_app_with(move |settings| {
        settings.sign_in.frontend_dir = Some(path);
        settings.sign_in.role_map = [(upn, vec!["admin".to_owned()])].into();
    })
    .await;
    let cookie = sign_in(&app, "none").await;
    let me: Value = get_with_cookie(&app, "/.auth/me", &cookie)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        me["clientPrincipal"]["userRoles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin")),
        "{me}"
    );
    assert_eq!(
        get_with_cookie(&app, "/api/me", &cookie)
            .await
            .status()
            .as_u16(),
        200
    );
    app.stop();
}

#[tokio::test]
async fn logout_ends_the_session_in_the_store_and_the_browser() {
    let dir = frontend_dir();
    let app = hosting_app(&dir).await;
    let cookie = sign_in(&app, "admin").await;
    assert_eq!(
        get_with_cookie(&app, "/api/me", &cookie)
            .await
            .status()
            .as_u16(),
        200
    );
    let response =
        get_with_cookie(&app, "/.auth/logout?post_logout_redirect_uri=/bye", &cookie).await;
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(header(&response, "location"), "/bye");
    let (pair, whole) = set_cookie(&response, "cipp_session").unwrap();
    assert_eq!(pair, "cipp_session=");
    assert!(whole.contains("Max-Age=0"), "{whole}");
    let id = cookie.trim_start_matches("cipp_session=");
    let key = cipp_api::auth::session::hash_hex(id);
    assert_eq!(app.store.session_get(&key).await.unwrap(), None);
    // The old cookie, replayed: no session any more.
    assert_eq!(
        get_with_cookie(&app, "/api/me", &cookie)
            .await
            .status()
            .as_u16(),
        401
    );
    let me: Value = get_with_cookie(&app, "/.auth/me", &cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me, json!({"clientPrincipal": null}));
    // An off-site return address is not followed.
    let response = get_with_cookie(
        &app,
        "/.auth/logout?post_logout_redirect_uri=//evil.example/",
        &cookie,
    )
    .await;
    assert_eq!(header(&response, "location"), "/");
    app.stop();
}

#[tokio::test]
async fn a_cross_site_request_with_the_session_cookie_is_refused_and_bearer_callers_are_not_affected()
 {
    let dir = frontend_dir();
    let app = hosting_app(&dir).await;
    let cookie = sign_in(&app, "superadmin").await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let body = json!({"tenantFilter": tenant, "id": "00000000-0000-0000-0000-000000000001"});
    let cross_site: [&[(&str, &str)]; 4] = [
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "https://evil.example")],
        // No sign of where it came from at all.
        &[],
    ];
    for headers in cross_site {
        let mut request = app
            .http
            .post(format!("{}/api/ExecRevokeSessions", app.address))
            .header("cookie", &cookie)
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 403, "{headers:?}");
        let answer: Value = response.json().await.unwrap();
        assert!(answer.to_string().contains("Refused"), "{answer}");
    }
    // A top-level cross-site GET (a link on another site) is refused too: any verb runs an
    // operation.
    let response = app
        .http
        .get(format!(
            "{}/api/ExecRevokeSessions?tenantFilter={tenant}&id=x",
            app.address
        ))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    // The CIPP frontend's own header passes where no Fetch metadata is sent.
    let response = app
        .http
        .get(format!("{}/api/me", app.address))
        .header("cookie", &cookie)
        .header("x-cipp-version", "8.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // A bearer caller with a cross-site origin is unaffected (a page cannot attach a token).
    let token = app.token("readonly").await;
    let response = app
        .http
        .get(format!("{}/api/me", app.address))
        .bearer_auth(&token)
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    app.stop();
}

#[tokio::test]
async fn the_frontend_is_served_beside_the_api_with_a_fallback_to_its_index() {
    let dir = frontend_dir();
    let app = hosting_app(&dir).await;
    let get = |path: &str| app.http.get(format!("{}{path}", app.address)).send();
    let index = get("/").await.unwrap();
    assert_eq!(index.status().as_u16(), 200);
    assert!(header(&index, "content-type").starts_with("text/html"));
    assert!(index.text().await.unwrap().contains("CIPP test"));
    let asset = get("/assets/app.js").await.unwrap();
    assert!(header(&asset, "content-type").starts_with("text/javascript"));
    assert_eq!(asset.text().await.unwrap(), "console.log('x')");
    // A route of the single-page app: its index.
    let route = get("/identity/administration/users").await.unwrap();
    assert_eq!(route.status().as_u16(), 200);
    assert!(route.text().await.unwrap().contains("CIPP test"));
    // Nothing outside the folder.
    let escape = get("/assets/%2e%2e/%2e%2e/etc/passwd").await.unwrap();
    assert!(!escape.text().await.unwrap().contains("root:"));
    // /api stays the API's.
    let unknown = get("/api/NoSuchOperation").await.unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    app.stop();

    // Without a frontend folder nothing of this exists.
    let app = spawn_app_with(|_| {}).await;
    assert_eq!(
        app.http
            .get(format!("{}/", app.address))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        app.http
            .get(format!("{}/.auth/login/aad", app.address))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    app.stop();
}

#[tokio::test]
async fn the_simulated_entra_redeems_a_code_once_and_only_with_its_pkce_verifier() {
    let dir = frontend_dir();
    let app = hosting_app(&dir).await;
    let (authorize_url, _) = start_sign_in(&app, "superadmin").await;
    let callback = authorize(&app, &authorize_url).await;
    let code = query_param(&callback, "code").unwrap();
    let client_id = query_param(&authorize_url, "client_id").unwrap();
    let redirect_uri = query_param(&authorize_url, "redirect_uri").unwrap();
    let token_url = authorize_url
        .split_once('?')
        .unwrap()
        .0
        .replace("/authorize", "/token");
    let redeem = |verifier: &str| {
        app.http
            .post(&token_url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", client_id.as_str()),
                ("code", code.as_str()),
                ("redirect_uri", redirect_uri.as_str()),
                ("code_verifier", verifier),
            ])
            .send()
    };
    // The service holds the verifier; a guessed one is refused, and the code is spent.
    let wrong = redeem("a-verifier-that-is-not-the-one-hashed-into-the-challenge")
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 400);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS501481"),
        "{body}"
    );
    let again = redeem("anything").await.unwrap();
    let body: Value = again.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS70000"),
        "{body}"
    );

    // Without login_hint the authorize page lists one demo user per role.
    let picker_url = authorize_url
        .split('&')
        .filter(|p| !p.starts_with("login_hint="))
        .collect::<Vec<_>>()
        .join("&");
    let page = app
        .http
        .get(&picker_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for role in ["readonly", "editor", "admin", "superadmin", "none"] {
        assert!(
            page.contains(&format!("id=\"user-{role}\"")),
            "{role} in {page}"
        );
    }
    app.stop();
}
