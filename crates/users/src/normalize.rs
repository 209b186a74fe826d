//! CIPP's error normalisation (`Get-NormalizedError.ps1` in CIPP-API): which field of an error body
//! is read, and the table that rewrites known Microsoft texts into the ones CIPP users know.

use cipp_graph::GraphError;
use serde_json::Value;

/// Wildcard pattern (PowerShell `-like`, case-insensitive) and its replacement. CIPP's `switch`
/// has no `break`, so every matching entry contributes a line; no match passes the text through.
const TRANSLATIONS: &[(&str, &str)] = &[
    (
        "Request not applicable to target tenant.",
        "Required license not available for this tenant",
    ),
    (
        "Neither tenant is B2C or tenant doesn't have premium license",
        "This feature requires a P1 license or higher",
    ),
    (
        "Response status code does not indicate success: 400 (Bad Request).",
        "Error 400 occured. There is an issue with the token configuration for this tenant. Please perform an access check",
    ),
    (
        "*Microsoft.Skype.Sync.Pstn.Tnm.Common.Http.HttpResponseException*",
        "Could not connect to Teams Admin center - Tenant might be missing a Teams license",
    ),
    (
        "*Provide valid credential.*",
        "Error 400: There is an issue with your Exchange Token configuration. Please perform an access check for this tenant",
    ),
    (
        "*This indicate that a subscription within the tenant has lapsed*",
        "There is subscription for this service available, Check licensing information.",
    ),
    (
        "*User was not found.*",
        "The relationship between this tenant and the partner has been dissolved from the tenant side.",
    ),
    (
        "*The user or administrator has not consented to use the application*",
        "CIPP cannot access this tenant. Perform a CPV Refresh and Access Check via the settings menu",
    ),
    (
        "*AADSTS50020*",
        "AADSTS50020: The user you have used for your Secure Application Model is a guest in this tenant, or your are using GDAP and have not added the user to the correct group. Please delete the guest user to gain access to this tenant",
    ),
    (
        "*AADSTS50177",
        "AADSTS50177: The user you have used for your Secure Application Model is a guest in this tenant, or your are using GDAP and have not added the user to the correct group. Please delete the guest user to gain access to this tenant",
    ),
    (
        "*invalid or malformed*",
        "The request is malformed. Have you finished the SAM Setup?",
    ),
    (
        "*Windows Store repository apps feature is not supported for this tenant*",
        "This tenant does not have WinGet support available",
    ),
    (
        "*AADSTS650051*",
        "The application does not exist yet. Try again in 30 seconds.",
    ),
    (
        "*AppLifecycle_2210*",
        "Failed to call Intune APIs: Does the tenant have a license available?",
    ),
    (
        "*One or more added object references already exist for the following modified properties:*",
        "This user is already a member of this group.",
    ),
    (
        "*Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException*",
        "This user is already a member of this group.",
    ),
    (
        "*The property value exceeds the maximum allowed size (64KB)*",
        "One of the values exceeds the maximum allowed size (64KB).",
    ),
    (
        "*Unable to initialize the authorization context*",
        "Your GDAP configuration does not allow us to write to this tenant, please check your group mappings and tenant onboarding.",
    ),
    (
        "*Providers.Common.V1.CoreException*",
        "403 (Access Denied) - We cannot connect to this tenant.",
    ),
    (
        "*Authentication failed. MFA required*",
        "Authentication failed. MFA required",
    ),
];

/// The normalised text of a message as CIPP produces it: first the field of a JSON error body
/// CIPP reads, then the translation table.
pub fn normalize_message(message: &str) -> String {
    let extracted = extract_from_json(message).unwrap_or_else(|| message.to_owned());
    let translated: Vec<&str> = TRANSLATIONS
        .iter()
        .filter(|(pattern, _)| wildcard_match(pattern, &extracted))
        .map(|(_, text)| *text)
        .collect();
    if translated.is_empty() {
        extracted
    } else {
        translated.join(" ")
    }
}

/// The normalised text for a failed Graph or token call.
pub fn normalize_graph_error(error: &GraphError) -> String {
    match error {
        GraphError::Api {
            message, raw_body, ..
        } => {
            if extract_from_json(raw_body).is_some() {
                normalize_message(raw_body)
            } else {
                normalize_message(message)
            }
        }
        GraphError::Token { message, .. } => {
            normalize_message(&format!("Could not get token: {message}"))
        }
        other => normalize_message(&other.to_string()),
    }
}

/// CIPP reads `error.innererror.message`, then `error.message`, then `error.details.message`,
/// then `error.innererror.internalException.message`; field names match case-insensitively.
fn extract_from_json(message: &str) -> Option<String> {
    let body: Value = serde_json::from_str(message).ok()?;
    let error = get_ci(&body, "error")?;
    let candidates = [
        get_ci(error, "innererror").and_then(|v| get_ci(v, "message")),
        get_ci(error, "message"),
        get_ci(error, "details").and_then(|d| match d {
            Value::Array(items) => items.iter().find_map(|i| get_ci(i, "message")),
            other => get_ci(other, "message"),
        }),
        get_ci(error, "innererror")
            .and_then(|v| get_ci(v, "internalException"))
            .and_then(|v| get_ci(v, "message")),
    ];
    candidates
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|text| !text.is_empty())
        .map(str::to_owned)
}

fn get_ci<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// PowerShell `-like`: the whole string must match, `*` is any run, `?` one character, case-insensitive.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || *c == text[t] => {
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
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_graph_error_body_yields_its_inner_message_first() {
        let body = r#"{"error":{"code":"x","message":"outer","innerError":{"message":"inner"}}}"#;
        assert_eq!(normalize_message(body), "inner");
    }

    #[test]
    fn a_known_text_is_translated_and_an_unknown_one_passes_through() {
        assert_eq!(
            normalize_message("Request not applicable to target tenant."),
            "Required license not available for this tenant"
        );
        assert_eq!(normalize_message("Something else"), "Something else");
    }

    #[test]
    fn a_text_matching_two_patterns_yields_both_translations() {
        let text =
            "AADSTS50020 and The user or administrator has not consented to use the application";
        let normalized = normalize_message(text);
        assert!(normalized.starts_with("CIPP cannot access this tenant."));
        assert!(normalized.contains("AADSTS50020: The user you have used"));
    }

    #[test]
    fn wildcards_match_whole_strings_without_case() {
        assert!(wildcard_match("*.Read", "identity.user.read"));
        assert!(!wildcard_match("*.Read", "Identity.User.ReadWrite"));
        assert!(wildcard_match("Identity.User.*", "Identity.User.ReadWrite"));
        assert!(wildcard_match("*", ""));
    }
}
