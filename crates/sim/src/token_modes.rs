//! Which token mode a Graph route accepts, checked before the route runs, so a client call
//! made in the wrong mode fails here as it does at Microsoft.
//!
//! - Delegated only: `/me` (Graph answers 400 "/me request is only valid with delegated
//!   authentication flow.") and the password-method `resetPassword` action (no application
//!   permission exists for it).
//! - Application only, here: the writes CIPP makes `-AsApp` because the delegated (GDAP) token
//!   is refused there (backend-actions.md: `onPremisesSyncBehavior`, `reprocessLicenseAssignment`,
//!   per-user MFA `authentication/requirements`, `signInPreferences`; backend-reads-infra.md:
//!   `identity/conditionalAccess/evaluate`). The application permission they need (e.g.
//!   `User-OnPremisesSyncBehavior.ReadWrite.All`) is not among the delegated scopes the SAM app
//!   holds, so Graph answers 403 `Authorization_RequestDenied`.

use crate::graph::GraphError;

/// The mode a route needs, or `None` when both modes are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Delegated,
    Application,
}

fn needs(method: &str, rest: &str) -> Option<Needs> {
    let segments: Vec<String> = rest
        .trim_matches('/')
        .split('/')
        .map(|s| {
            percent_decode(s)
                .split('(')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    if s.first() == Some(&"me") {
        return Some(Needs::Delegated);
    }
    let method = method.to_ascii_uppercase();
    match (method.as_str(), s.as_slice()) {
        (
            "POST",
            [
                "users",
                _,
                "authentication",
                "methods" | "passwordmethods",
                _,
                "resetpassword",
            ],
        ) => Some(Needs::Delegated),
        ("PATCH", ["users" | "groups" | "contacts", _, "onpremisessyncbehavior"])
        | ("POST", ["users", _, "reprocesslicenseassignment"])
        | (
            "PATCH",
            [
                "users",
                _,
                "authentication",
                "requirements" | "signinpreferences",
            ],
        )
        | ("POST", ["identity", "conditionalaccess", "evaluate"]) => Some(Needs::Application),
        _ => None,
    }
}

fn percent_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// Refuses a call whose token mode (`idtyp` of the validated claims) the route does not accept.
pub(crate) fn check(
    claims: &serde_json::Value,
    method: &str,
    rest: &str,
) -> Result<(), GraphError> {
    let app_only =
        claims.get("idtyp").and_then(|v| v.as_str()) == Some("app") || claims.get("scp").is_none();
    match (needs(method, rest), app_only) {
        (Some(Needs::Delegated), true)
            if rest
                .trim_start_matches('/')
                .to_ascii_lowercase()
                .starts_with("me") =>
        {
            Err(GraphError::new(
                400,
                "BadRequest",
                "/me request is only valid with delegated authentication flow.",
            ))
        }
        (Some(Needs::Delegated), true) | (Some(Needs::Application), false) => Err(GraphError::new(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_mode_is_refused_where_microsoft_refuses_it() {
        let app = json!({"idtyp": "app", "roles": ["User.ReadWrite.All"]});
        let user = json!({"idtyp": "user", "scp": "User.ReadWrite.All"});
        let cloud = "users/x/onPremisesSyncBehavior";
        assert!(check(&app, "PATCH", cloud).is_ok());
        assert_eq!(check(&user, "PATCH", cloud).unwrap_err().status, 403);
        assert!(check(&user, "GET", "users/x/authentication/requirements").is_ok());
        assert!(check(&user, "PATCH", "users/x/authentication/Requirements").is_err());
        assert!(check(&user, "POST", "identity/conditionalAccess/evaluate").is_err());
        assert!(check(&user, "POST", "users/x/reprocessLicenseAssignment").is_err());
        assert_eq!(check(&app, "GET", "me").unwrap_err().status, 400);
        assert!(check(&user, "GET", "me").is_ok());
        let reset =
            "users/x/authentication/methods/28c10230-6103-485e-b985-444c60001490/resetPassword";
        assert!(check(&app, "POST", reset).is_err());
        assert!(check(&user, "POST", reset).is_ok());
        assert!(check(&app, "GET", "users").is_ok() && check(&user, "GET", "users").is_ok());
    }
}
