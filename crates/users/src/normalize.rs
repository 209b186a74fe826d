//! CIPP's error normalisation (`Modules/CIPPCore/Public/GraphHelper/Get-NormalizedError.ps1` in
//! CIPP-API, as of its newest snapshot): which field of a JSON error body is read, and the
//! table that rewrites known Microsoft texts into the ones CIPP users know.
//!
//! What CIPP does, and what this module reproduces:
//!
//! 1. The message is parsed as JSON (`ConvertFrom-Json`; a failure leaves the text as it is).
//!    The first of these that is "truthy" in PowerShell's sense replaces the text, converted to
//!    a string as a `[string]` variable would convert it (an array becomes its items joined
//!    with spaces): `error.innererror.message`, `error.message`, `error.details.message`,
//!    `error.innererror.internalException.message`. Property names match case-insensitively
//!    and arrays are enumerated (PowerShell's member enumeration), so `details` may be an
//!    object or a list of objects.
//! 2. The text goes through a `switch -Wildcard`: every pattern is a case-insensitive
//!    whole-string wildcard (`*`, `?`, `[…]`). The switch has no `break`, so a text matching
//!    several patterns yields several replacement texts (joined here with a space, as
//!    PowerShell joins an array interpolated into a string); a text matching none passes
//!    through unchanged (`default`).

use cipp_graph::GraphError;
use serde_json::Value;

/// One arm of CIPP's `switch -Wildcard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    /// The arm's wildcard pattern, exactly as CIPP has it.
    pub pattern: &'static str,
    /// What the arm yields.
    pub text: &'static str,
    /// An `if ($Message -like <pattern>) { <text> } else { … }` inside the arm: when the
    /// message also matches this pattern, this text is yielded instead of [`Translation::text`].
    pub unless: Option<(&'static str, &'static str)>,
}

const fn plain(pattern: &'static str, text: &'static str) -> Translation {
    Translation {
        pattern,
        text,
        unless: None,
    }
}

/// CIPP's 30 arms, in CIPP's order, with CIPP's texts (wire-compatibility data: users and
/// integrations match on them, spelling mistakes included).
pub const TRANSLATIONS: [Translation; 30] = [
    plain(
        "Request not applicable to target tenant.",
        "Required license not available for this tenant",
    ),
    plain(
        "Neither tenant is B2C or tenant doesn't have premium license",
        "This feature requires a P1 license or higher",
    ),
    plain(
        "Response status code does not indicate success: 400 (Bad Request).",
        "Error 400 occured. There is an issue with the token configuration for this tenant. Please perform an access check",
    ),
    plain(
        "*Microsoft.Skype.Sync.Pstn.Tnm.Common.Http.HttpResponseException*",
        "Could not connect to Teams Admin center - Tenant might be missing a Teams license",
    ),
    plain(
        "*Provide valid credential.*",
        "Error 400: There is an issue with your Exchange Token configuration. Please perform an access check for this tenant",
    ),
    plain(
        "*This indicate that a subscription within the tenant has lapsed*",
        "There is no subscription for this service available, Check licensing information.",
    ),
    plain(
        "*User was not found.*",
        "The relationship between this tenant and the partner has been dissolved from the tenant side.",
    ),
    plain(
        "*AADSTS50020*",
        "AADSTS50020: The user you have used for your Secure Application Model is a guest in this tenant, or your are using GDAP and have not added the user to the correct group. Please delete the guest user to gain access to this tenant",
    ),
    plain(
        "*AADSTS50177",
        "AADSTS50177: The user you have used for your Secure Application Model is a guest in this tenant, or your are using GDAP and have not added the user to the correct group. Please delete the guest user to gain access to this tenant",
    ),
    plain(
        "*invalid or malformed*",
        "The request is malformed. Have you finished the Setup Wizard",
    ),
    plain(
        "*Windows Store repository apps feature is not supported for this tenant*",
        "This tenant does not have WinGet support available",
    ),
    Translation {
        pattern: "*AADSTS650051*",
        text: "The application does not exist yet. Try again in 30 seconds.",
        unless: Some((
            "*service principal name is already present*",
            "The application service principal already exists in this tenant. This is expected and not an error.",
        )),
    },
    plain(
        "*AppLifecycle_2210*",
        "Failed to call Intune APIs: Does the tenant have a license available?",
    ),
    plain(
        "*One or more added object references already exist for the following modified properties:*",
        "This user is already a member of this group.",
    ),
    plain(
        "*Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException*",
        "This user is already a member of this group.",
    ),
    plain(
        "*The property value exceeds the maximum allowed size (64KB)*",
        "One of the values exceeds the maximum allowed size (64KB).",
    ),
    plain(
        "*Unable to initialize the authorization context*",
        "Your GDAP configuration does not allow us to write to this tenant, please check your group mappings and tenant onboarding.",
    ),
    plain(
        "*Providers.Common.V1.CoreException*",
        "403 (Access Denied) - We cannot connect to this tenant.",
    ),
    plain(
        "*Authentication failed. MFA required*",
        "Authentication failed. MFA required",
    ),
    plain(
        "*Your tenant is not licensed for this feature.*",
        "Required license not available for this tenant",
    ),
    plain(
        "*AADSTS65001*",
        "We cannot access this tenant as consent has not been given, please try refreshing the CPV permissions in the application settings menu.",
    ),
    plain(
        "*AADSTS700082*",
        "The CIPP user access token has expired. Run the Setup Wizard to refresh your tokens.",
    ),
    plain(
        "*Account is not provisioned.",
        "The account is not provisioned. You do not the correct M365 license to access this information..",
    ),
    plain(
        "*AADSTS5000224*",
        "This resource is not available - Has this tenant been deleted?",
    ),
    plain(
        "*AADSTS53003*",
        "Access has been blocked by Conditional Access policies. Please check the Conditional Access configuration documentation",
    ),
    plain(
        "*AADSTS900023*",
        "This tenant is not available for this operation. Please check the selected tenant and try again.",
    ),
    plain(
        "*AADSTS9002313*",
        "The credentials used to connect to the Graph API are not available, please retry. If this issue persists you may need to execute the SAM wizard.",
    ),
    plain(
        "*One or more platform(s) is/are not configured for the customer. Please configure the platform before trying to purchase a SKU.*",
        "One or more platform(s) is/are not configured for the customer. Please configure the platform before trying to purchase a SKU.",
    ),
    plain(
        "One or more added object references already exist for the following modified properties: 'members'.",
        "This user is already a member of the selected group.",
    ),
    plain(
        "*is not present in the role definition of the current user*",
        "We do not have permissions to access this resource, try performing a CPV refresh in Application Settings -> Permissions. ",
    ),
];

/// The normalised text of a message as CIPP produces it: first the field of a JSON error body
/// CIPP reads, then the translation table.
pub fn normalize_message(message: &str) -> String {
    let extracted = extract_from_json(message).unwrap_or_else(|| message.to_owned());
    translate(&extracted)
}

/// The `switch -Wildcard` alone: every matching arm's text, joined with a space; the text
/// itself when no arm matches.
fn translate(text: &str) -> String {
    let translated: Vec<&str> = TRANSLATIONS
        .iter()
        .filter(|t| wildcard_match(t.pattern, text))
        .map(|t| match t.unless {
            Some((pattern, instead)) if wildcard_match(pattern, text) => instead,
            _ => t.text,
        })
        .collect();
    if translated.is_empty() {
        text.to_owned()
    } else {
        translated.join(" ")
    }
}

/// The normalised text for a failed Graph, Exchange or token call.
pub fn normalize_graph_error(error: &GraphError) -> String {
    match error {
        GraphError::Api {
            message, raw_body, ..
        } => {
            // CIPP hands Graph's raw error body to the normaliser; when no field of it
            // qualifies, we use the parsed message rather than the whole JSON text.
            if extract_from_json(raw_body).is_some() {
                normalize_message(raw_body)
            } else {
                normalize_message(message)
            }
        }
        // Already Exchange's nested text (New-ExoRequest picks it the same way).
        GraphError::Exchange { message, .. } => normalize_message(message),
        GraphError::Token { message, .. } => {
            normalize_message(&format!("Could not get token: {message}"))
        }
        other => normalize_message(&other.to_string()),
    }
}

/// The text CIPP reads out of a JSON error body, or `None` when the text is not JSON (as
/// `ConvertFrom-Json` sees it) or no field qualifies.
fn extract_from_json(message: &str) -> Option<String> {
    let body: Value = serde_json::from_str(message).ok()?;
    if has_keys_differing_only_in_case(&body) {
        // ConvertFrom-Json refuses such documents; CIPP then keeps the raw text.
        return None;
    }
    let error = member(&body, "error");
    let inner = error.as_ref().and_then(|e| member(e, "innererror"));
    let candidates = [
        inner.as_ref().and_then(|i| member(i, "message")),
        error.as_ref().and_then(|e| member(e, "message")),
        error
            .as_ref()
            .and_then(|e| member(e, "details"))
            .and_then(|d| member(&d, "message")),
        inner
            .as_ref()
            .and_then(|i| member(i, "internalException"))
            .and_then(|x| member(&x, "message")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(truthy)
        .map(|v| ps_string(&v))
}

/// PowerShell property access on a deserialised JSON value: case-insensitive on objects,
/// member enumeration on arrays (each item's value, nulls skipped, nested arrays unrolled;
/// one result is the value itself, several an array). `None` is `$null`.
fn member(value: &Value, name: &str) -> Option<Value> {
    match value {
        Value::Object(map) => map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_null()),
        Value::Array(items) => {
            let mut found = Vec::new();
            for item in items {
                match member(item, name) {
                    Some(Value::Array(inner)) => found.extend(inner),
                    Some(v) => found.push(v),
                    None => {}
                }
            }
            match found.len() {
                0 => None,
                1 => found.pop(),
                _ => Some(Value::Array(found)),
            }
        }
        _ => None,
    }
}

/// PowerShell's conversion to `[bool]` (what `if (…)` tests).
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => match items.as_slice() {
            [] => false,
            [one] => truthy(one),
            _ => true,
        },
        Value::Object(_) => true,
    }
}

/// PowerShell's conversion to `[string]`: arrays joined with a space (`$OFS`), objects as
/// `@{name=value; …}`, booleans `True`/`False`.
fn ps_string(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(ps_string).collect::<Vec<_>>().join(" "),
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| match v {
                    Value::Array(_) => format!("{k}=System.Object[]"),
                    other => format!("{k}={}", ps_string(other)),
                })
                .collect();
            format!("@{{{}}}", fields.join("; "))
        }
    }
}

fn has_keys_differing_only_in_case(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut seen: Vec<String> = Vec::with_capacity(map.len());
            for (k, v) in map {
                let lower = k.to_lowercase();
                if seen.contains(&lower) || has_keys_differing_only_in_case(v) {
                    return true;
                }
                seen.push(lower);
            }
            false
        }
        Value::Array(items) => items.iter().any(has_keys_differing_only_in_case),
        _ => false,
    }
}

/// One element of a wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters, the empty one included.
    Star,
    /// `?`: exactly one character.
    One,
    /// A literal character (a backtick escapes the next character).
    Literal(char),
    /// `[abc]`, `[a-z]`: one character from the set.
    Set(Vec<(char, char)>),
}

/// Splits a pattern as PowerShell's `WildcardPattern` does; `None` for an unterminated `[`,
/// which PowerShell refuses.
fn tokenize(pattern: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::One),
            '`' => tokens.push(Token::Literal(chars.next().unwrap_or('`'))),
            '[' => {
                let mut ranges = Vec::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    let c = match c {
                        ']' => {
                            closed = true;
                            break;
                        }
                        '`' => chars.next()?,
                        other => other,
                    };
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        match chars.peek() {
                            Some(&']') | None => {
                                ranges.push((c, c));
                                ranges.push(('-', '-'));
                            }
                            Some(_) => {
                                let end = chars.next()?;
                                ranges.push((c, end));
                            }
                        }
                    } else {
                        ranges.push((c, c));
                    }
                }
                if !closed {
                    return None;
                }
                tokens.push(Token::Set(ranges));
            }
            other => tokens.push(Token::Literal(other)),
        }
    }
    Some(tokens)
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

fn token_matches(token: &Token, c: char) -> bool {
    match token {
        Token::Star | Token::One => true,
        Token::Literal(l) => fold(*l) == fold(c),
        Token::Set(ranges) => {
            let c = fold(c);
            ranges.iter().any(|(lo, hi)| {
                let (lo, hi) = (fold(*lo), fold(*hi));
                lo <= c && c <= hi
            })
        }
    }
}

/// PowerShell `-like` / `switch -Wildcard`: the whole string must match, case-insensitively;
/// `*` is any run, `?` one character, `[a-z]` one character of a set, a backtick escapes. An
/// invalid pattern (an unterminated `[`) matches nothing.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let Some(tokens) = tokenize(pattern) else {
        return false;
    };
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    // Where the last `*` was and the text position it currently swallows up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Token::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(token) if token_matches(token, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|tok| *tok == Token::Star)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// Turns a pattern into a text it matches: each `*` becomes some surrounding words.
    fn example_for(pattern: &str) -> String {
        pattern.replace('*', " some context ")
    }

    #[test]
    fn the_table_has_cipps_thirty_arms_in_order() {
        assert_eq!(TRANSLATIONS.len(), 30);
        assert_eq!(
            TRANSLATIONS[0].pattern,
            "Request not applicable to target tenant."
        );
        assert_eq!(
            TRANSLATIONS[29].pattern,
            "*is not present in the role definition of the current user*"
        );
    }

    #[test]
    fn every_arm_translates_a_message_matching_its_pattern() {
        for (i, arm) in TRANSLATIONS.iter().enumerate() {
            let message = example_for(arm.pattern);
            assert!(
                wildcard_match(arm.pattern, &message),
                "arm {i}: {message:?} does not match its own pattern"
            );
            // Every arm matching the message contributes, in table order.
            let expected: Vec<&str> = TRANSLATIONS
                .iter()
                .filter(|other| wildcard_match(other.pattern, &message))
                .map(|other| other.text)
                .collect();
            let normalized = normalize_message(&message);
            assert_eq!(normalized, expected.join(" "), "arm {i}");
            assert!(normalized.contains(arm.text), "arm {i}: {normalized:?}");
        }
    }

    #[test]
    fn exact_texts_match_in_any_case_and_only_as_a_whole() {
        assert_eq!(
            normalize_message("REQUEST NOT APPLICABLE TO TARGET TENANT."),
            "Required license not available for this tenant"
        );
        assert_eq!(
            normalize_message("Error: Request not applicable to target tenant."),
            "Error: Request not applicable to target tenant."
        );
        // '*AADSTS50177' has no trailing star: the code must end the text.
        assert_eq!(
            normalize_message("AADSTS50177: guest user. Trace ID: x"),
            "AADSTS50177: guest user. Trace ID: x"
        );
        assert!(normalize_message("failed with AADSTS50177").starts_with("AADSTS50177: The user"));
    }

    #[test]
    fn an_unknown_text_passes_through_unchanged() {
        assert_eq!(normalize_message("Something else"), "Something else");
        assert_eq!(normalize_message(""), "");
    }

    #[test]
    fn aadsts650051_depends_on_whether_the_service_principal_exists() {
        assert_eq!(
            normalize_message("AADSTS650051: the app is being created"),
            "The application does not exist yet. Try again in 30 seconds."
        );
        assert_eq!(
            normalize_message(
                "AADSTS650051: The service principal name is already present for the tenant"
            ),
            "The application service principal already exists in this tenant. This is expected and not an error."
        );
    }

    #[test]
    fn graphs_members_text_yields_both_group_translations() {
        let text = "One or more added object references already exist for the following modified properties: 'members'.";
        assert_eq!(
            normalize_message(text),
            "This user is already a member of this group. This user is already a member of the selected group."
        );
    }

    #[test]
    fn a_text_matching_two_patterns_yields_both_translations_in_table_order() {
        let text = "AADSTS65001 consent missing, AADSTS50020 guest";
        let normalized = normalize_message(text);
        assert!(normalized.starts_with("AADSTS50020: The user you have used"));
        assert!(
            normalized
                .ends_with("refreshing the CPV permissions in the application settings menu.")
        );
    }

    #[test]
    fn json_bodies_are_read_in_cipps_field_order() {
        let all = r#"{"error":{"message":"outer","innererror":{"message":"inner","internalException":{"message":"internal"}},"details":[{"message":"detail"}]}}"#;
        assert_eq!(normalize_message(all), "inner");
        let no_inner = r#"{"error":{"message":"outer","innererror":{"internalException":{"message":"internal"}},"details":[{"message":"detail"}]}}"#;
        assert_eq!(normalize_message(no_inner), "outer");
        let details = r#"{"error":{"message":"","innererror":{"internalException":{"message":"internal"}},"details":[{"message":"detail"}]}}"#;
        assert_eq!(normalize_message(details), "detail");
        let internal =
            r#"{"error":{"code":"x","innererror":{"internalException":{"message":"internal"}}}}"#;
        assert_eq!(normalize_message(internal), "internal");
    }

    #[test]
    fn json_field_names_match_in_any_case() {
        let body = r#"{"Error":{"Code":"x","Message":"outer","InnerError":{"Message":"inner"}}}"#;
        assert_eq!(normalize_message(body), "inner");
        let camel = r#"{"error":{"innerError":{"internalexception":{"MESSAGE":"deep"}}}}"#;
        assert_eq!(normalize_message(camel), "deep");
    }

    #[test]
    fn details_as_an_object_or_a_list_are_both_read() {
        let object = r#"{"error":{"details":{"message":"one"}}}"#;
        assert_eq!(normalize_message(object), "one");
        let list = r#"{"error":{"details":[{"message":"one"},{"code":"c"},{"message":"two"}]}}"#;
        assert_eq!(normalize_message(list), "one two");
    }

    #[test]
    fn the_extracted_field_goes_through_the_table() {
        let body = r#"{"error":{"code":"Request_BadRequest","message":"Request not applicable to target tenant."}}"#;
        assert_eq!(
            normalize_message(body),
            "Required license not available for this tenant"
        );
        let exo = r#"{"error":{"code":"BadRequest","message":"x","details":[{"message":"y"}],"innererror":{"internalException":{"message":"z"}}}}"#;
        assert_eq!(normalize_message(exo), "x");
    }

    #[test]
    fn json_without_a_qualifying_field_is_left_as_it_is() {
        let body = r#"{"error":{"code":"x","message":""}}"#;
        assert_eq!(normalize_message(body), body);
        assert_eq!(normalize_message("[1,2]"), "[1,2]");
        assert_eq!(normalize_message("42"), "42");
        // ConvertFrom-Json refuses keys that differ only in case.
        let twice = r#"{"error":{"message":"a","Message":"b"}}"#;
        assert_eq!(normalize_message(twice), twice);
    }

    #[test]
    fn non_string_fields_convert_as_powershell_does() {
        assert_eq!(
            normalize_message(r#"{"error":{"message":0,"details":{"message":7}}}"#),
            "7"
        );
        assert_eq!(normalize_message(r#"{"error":{"message":true}}"#), "True");
    }

    #[test]
    fn exchange_errors_are_normalised_from_their_message() {
        let err = GraphError::Exchange {
            status: 400,
            message: "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'nobody' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'.".to_owned(),
            raw_body: "{}".to_owned(),
        };
        assert!(normalize_graph_error(&err).starts_with("Ex6F9304|"));
        let member = GraphError::Exchange {
            status: 400,
            message: "Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException: x"
                .to_owned(),
            raw_body: String::new(),
        };
        assert_eq!(
            normalize_graph_error(&member),
            "This user is already a member of this group."
        );
    }

    #[test]
    fn graph_api_errors_use_the_raw_body_first() {
        let err = GraphError::Api {
            status: 403,
            code: "Authorization_RequestDenied".to_owned(),
            message: "outer".to_owned(),
            request_id: None,
            raw_body: r#"{"error":{"message":"outer","innerError":{"message":"Unable to initialize the authorization context"}}}"#.to_owned(),
        };
        assert_eq!(
            normalize_graph_error(&err),
            "Your GDAP configuration does not allow us to write to this tenant, please check your group mappings and tenant onboarding."
        );
        let token = GraphError::Token {
            tenant: "t".to_owned(),
            status: Some(400),
            code: Some("AADSTS65001".to_owned()),
            message: "AADSTS65001: not consented".to_owned(),
        };
        assert!(normalize_graph_error(&token).starts_with("We cannot access this tenant"));
    }

    #[test]
    fn wildcards_match_whole_strings_without_case() {
        assert!(wildcard_match("*.Read", "identity.user.read"));
        assert!(!wildcard_match("*.Read", "Identity.User.ReadWrite"));
        assert!(wildcard_match("Identity.User.*", "Identity.User.ReadWrite"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a?c", "ABC"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("*(64KB)*", "exceeds (64kb) now"));
    }

    #[test]
    fn wildcard_sets_and_escapes_follow_powershell() {
        assert!(wildcard_match("[a-c]x", "Bx"));
        assert!(!wildcard_match("[a-c]x", "dx"));
        assert!(wildcard_match("`*", "*"));
        assert!(!wildcard_match("`*", "x"));
        assert!(wildcard_match("`[x`]", "[x]"));
        assert!(!wildcard_match("[abc", "a"));
    }
}
