//! Creating users: `POST /users` and guest invitations (`POST /invitations`), with Graph's
//! validation and error texts (graph-emulator-spec §3); writing `mail` keeps proxy addresses.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{Ctx, GraphError, ok_json};
use crate::user::{Kind, PROPS, User, Write, idx, prop_index};

type Answer = Result<HttpResponse, GraphError>;

/// Characters Entra allows in `mailNickname` and in a UPN's local part.
const NAME_PUNCTUATION: &str = "'.-_!#^~";
const WEAK_PASSWORD: &str = "The specified password does not comply with password complexity requirements. Please provide a different password.";

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("POST", ["users"]) => create(ctx),
        ("POST", ["invitations"]) => invite(ctx),
        _ => return None,
    };
    Some(answer)
}

fn now() -> String {
    crate::seed::timestamp(time::OffsetDateTime::now_utc().unix_timestamp())
}

fn invalid_value(name: &str) -> GraphError {
    GraphError::bad_request(
        "Request_BadRequest",
        format!("Invalid value specified for property '{name}' of resource 'User'."),
    )
}

fn name_ok(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || NAME_PUNCTUATION.contains(c))
}

fn object_body(ctx: &Ctx<'_>) -> Result<Map<String, Value>, GraphError> {
    match ctx.json_body()? {
        Value::Object(map) => Ok(map),
        _ => Err(GraphError::bad_request(
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

fn entity(ctx: &Ctx<'_>, user: &User, status: StatusCode) -> HttpResponse {
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(ctx.context("users/$entity")));
    out.extend(user.render(None, ctx.beta()));
    ok_json(status, &Value::Object(out))
}

/// Makes the user's `mail` its primary SMTP address, keeping the others as secondary ones,
/// as Exchange does when `mail` is written (CIPP adds aliases this way).
pub(crate) fn mail_changed(user: &mut User) {
    let Some(mail) = user.get(idx::MAIL).as_str().map(str::to_owned) else {
        return;
    };
    let Some(i) = prop_index("proxyAddresses") else {
        return;
    };
    let mut proxies: Vec<String> = user
        .get(i)
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|p| match p.strip_prefix("SMTP:") {
                    Some(rest) => format!("smtp:{rest}"),
                    None => p.to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let primary = format!("SMTP:{mail}");
    match proxies
        .iter_mut()
        .find(|p| p.eq_ignore_ascii_case(&primary))
    {
        Some(existing) => *existing = primary,
        None => proxies.insert(0, primary),
    }
    user.set(i, json!(proxies));
}

fn create(ctx: &Ctx<'_>) -> Answer {
    let body = object_body(ctx)?;
    let mut user = User::new();
    for (name, value) in &body {
        if name.starts_with('@') {
            continue;
        }
        let prop = prop_index(name).and_then(|i| PROPS.get(i).map(|p| (i, p)));
        let Some((i, prop)) = prop else {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!(
                    "Property '{name}' does not exist as a declared property or extension property."
                ),
            ));
        };
        if matches!(prop.write, Write::No | Write::ClearOnCloud) {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!("Property '{}' is read-only and cannot be set.", prop.name),
            ));
        }
        let ok = match (prop.kind, value) {
            (_, Value::Null) => true,
            (Kind::Str, Value::String(_)) | (Kind::Bool, Value::Bool(_)) => true,
            (Kind::StrList, Value::Array(items)) => items.iter().all(Value::is_string),
            (Kind::Json, Value::Object(_)) => true,
            _ => false,
        };
        if !ok {
            return Err(invalid_value(prop.name));
        }
        user.set(i, value.clone());
    }
    // Graph's required properties, in the order it reports them.
    for name in [
        "accountEnabled",
        "displayName",
        "mailNickname",
        "userPrincipalName",
        "passwordProfile",
    ] {
        let missing = prop_index(name).is_none_or(|i| match user.get(i) {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            _ => false,
        });
        if missing {
            return Err(invalid_value(name));
        }
    }
    let nickname = user.get(prop_index("mailNickname").unwrap_or(0));
    if !nickname.as_str().is_some_and(name_ok) {
        return Err(invalid_value("mailNickname"));
    }
    let upn = user.upn().to_owned();
    let (local, domain) = upn.rsplit_once('@').unwrap_or(("", ""));
    let verified = ctx
        .tenant
        .domains
        .iter()
        .any(|d| d.is_verified && d.name.eq_ignore_ascii_case(domain));
    if !name_ok(local) || !verified {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "Property userPrincipalName is invalid.",
        ));
    }
    if let Some(usage) = user
        .get(prop_index("usageLocation").unwrap_or(0))
        .as_str()
        .map(str::to_owned)
        && (usage.len() != 2 || !usage.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return Err(invalid_value("usageLocation"));
    }
    let profile = user.get(idx::PASSWORD_PROFILE).clone();
    match profile.get("password").and_then(Value::as_str) {
        Some(pw) if super::users::password_ok(pw) => {}
        Some(_) => return Err(GraphError::bad_request("Request_BadRequest", WEAK_PASSWORD)),
        None => return Err(invalid_value("passwordProfile")),
    }
    // The password is write-only: only the flags are kept.
    let mut flags = Map::new();
    for flag in [
        "forceChangePasswordNextSignIn",
        "forceChangePasswordNextSignInWithMfa",
    ] {
        if let Some(v) = profile.get(flag) {
            flags.insert(flag.into(), v.clone());
        }
    }
    user.set(idx::PASSWORD_PROFILE, Value::Object(flags));
    let stamp = now();
    user.set(crate::user::ID, json!(uuid::Uuid::new_v4().to_string()));
    user.set_named("createdDateTime", json!(stamp));
    user.set(idx::LAST_PASSWORD_CHANGE, json!(stamp));
    user.set(idx::SIGN_IN_SESSIONS_VALID_FROM, json!(stamp));
    if user.get(idx::USER_TYPE).is_null() {
        user.set(idx::USER_TYPE, json!("Member"));
    }
    for list in [
        "businessPhones",
        "otherMails",
        "imAddresses",
        "proxyAddresses",
        "assignedLicenses",
    ] {
        if let Some(i) = prop_index(list)
            && user.get(i).is_null()
        {
            user.set(i, json!([]));
        }
    }
    if user.get(idx::MAIL).is_string() {
        mail_changed(&mut user);
    }
    let mut store = ctx.tenant.users.write();
    if store.find_seq(&upn).is_some() {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "Another object with the same value for property userPrincipalName already exists.",
        ));
    }
    let answer = entity(ctx, &user, StatusCode::CREATED);
    store.insert(user);
    Ok(answer)
}

fn invite(ctx: &Ctx<'_>) -> Answer {
    let body = object_body(ctx)?;
    let text = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let email = text("invitedUserEmailAddress").ok_or_else(|| {
        GraphError::bad_request(
            "BadRequest",
            "Parameter 'invitedUserEmailAddress' cannot be null or empty.",
        )
    })?;
    let redirect = text("inviteRedirectUrl").ok_or_else(|| {
        GraphError::bad_request(
            "BadRequest",
            "Parameter 'inviteRedirectUrl' cannot be null or empty.",
        )
    })?;
    let (local, domain) = email.rsplit_once('@').unwrap_or(("", ""));
    if local.is_empty() || !domain.contains('.') || email.contains(char::is_whitespace) {
        return Err(GraphError::bad_request(
            "BadRequest",
            "The specified email address is invalid.",
        ));
    }
    if ctx
        .tenant
        .domains
        .iter()
        .any(|d| d.name.eq_ignore_ascii_case(domain))
    {
        return Err(GraphError::bad_request(
            "BadRequest",
            "The invited user already exists in the directory as a member: members of this organisation cannot be invited as guests.",
        ));
    }
    let send = body.get("sendInvitationMessage").and_then(Value::as_bool) == Some(true);
    let display = text("invitedUserDisplayName");
    let mut store = ctx.tenant.users.write();
    // Inviting an existing guest again re-sends the invitation to the same account.
    let existing = store
        .iter_after(None)
        .find(|(_, u)| {
            u.get(idx::USER_TYPE).as_str() == Some("Guest")
                && u.get(idx::MAIL)
                    .as_str()
                    .is_some_and(|m| m.eq_ignore_ascii_case(&email))
        })
        .map(|(_, u)| u.id().to_owned());
    let user_id = match existing {
        Some(id) => id,
        None => {
            let external = format!("{}_{}", local, domain).to_ascii_lowercase();
            let initial = ctx.tenant.initial_domain().to_owned();
            let stamp = now();
            let id = uuid::Uuid::new_v4().to_string();
            let mut user = User::new();
            user.set(crate::user::ID, json!(id));
            user.set_named("accountEnabled", json!(true));
            user.set_named(
                "displayName",
                json!(display.clone().unwrap_or_else(|| local.to_owned())),
            );
            user.set_named(
                "userPrincipalName",
                json!(format!("{external}#EXT#@{initial}")),
            );
            user.set_named("mailNickname", json!(format!("{external}#EXT#")));
            user.set(idx::MAIL, json!(email));
            user.set_named("otherMails", json!([email]));
            user.set_named("proxyAddresses", json!([format!("SMTP:{email}")]));
            user.set(idx::USER_TYPE, json!("Guest"));
            user.set_named("creationType", json!("Invitation"));
            user.set_named("externalUserState", json!("PendingAcceptance"));
            user.set_named("externalUserStateChangeDateTime", json!(stamp));
            user.set_named("createdDateTime", json!(stamp));
            for list in ["businessPhones", "imAddresses", "assignedLicenses"] {
                user.set_named(list, json!([]));
            }
            store.insert(user);
            id
        }
    };
    let invitation_id = uuid::Uuid::new_v4().to_string();
    let mut answer = json!({
        "@odata.context": ctx.context("invitations/$entity"),
        "id": invitation_id,
        "inviteRedeemUrl": format!("{}/redeem?rd={invitation_id}", ctx.sim.base_url),
        "invitedUserDisplayName": display,
        "invitedUserType": "Guest",
        "invitedUserEmailAddress": email,
        "sendInvitationMessage": send,
        "resetRedemption": false,
        "inviteRedirectUrl": redirect,
        "status": "PendingAcceptance",
        "invitedUser": {"id": user_id},
    });
    if let Some(info) = body.get("invitedUserMessageInfo") {
        answer["invitedUserMessageInfo"] = info.clone();
    }
    Ok(ok_json(StatusCode::CREATED, &answer))
}
