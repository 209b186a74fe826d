//! The guard in front of the generic Graph proxy (`ListGraphRequest`): it is open to read-only
//! callers, so the path a caller names can never leave the configured Graph host and version
//! root, and customer content (mail, chats, files, calendars, …) is refused.
//!
//! Rules, applied to the `Endpoint` and to every `$expand` item (as a sub-path):
//! - percent-decoding is repeated until the text stops changing (double-encoding cannot hide
//!   anything); text that keeps changing after [`MAX_DECODE_ROUNDS`] is refused;
//! - after decoding only `A-Z a-z 0-9 - . _ ~ ' ( ) $ , = /` may appear, so schemes (`:`),
//!   hosts (`//`, `@`), backslashes, queries, fragments, whitespace, control and zero-width
//!   characters are all refused by one rule that fails closed;
//! - no empty, `.` or `..` segment;
//! - the blocklist (regular expressions over the lower-cased decoded path) refuses
//!   customer-content paths. It is configurable; a pattern that does not compile stops start-up.

use percent_encoding::percent_decode_str;
use regex::Regex;

/// Enough for any honest value; more rounds than this means someone is layering encodings.
pub const MAX_DECODE_ROUNDS: usize = 4;

/// Customer-content paths: mail, chats, files, notes, calendars, personal contacts, tasks,
/// group conversations. Matched against the lower-cased, decoded path.
pub const DEFAULT_BLOCKLIST: &[&str] = &[
    r"(^|/)(messages|mailfolders|childfolders|attachments|inferenceclassification)(/|\(|$)",
    r"(^|/)(chats|chatmessages|allmessages|getallmessages|replies|hostedcontents)(/|\(|$)",
    r"(^|/)(drive|drives|driveitem|items|root|special|bundles|shares|content|contentstream)(/|\(|:|$)",
    r"(^|/)(onenote|notebooks|sections|sectiongroups|pages|resources)(/|\(|$)",
    r"(^|/)(events|calendar|calendars|calendarview|calendargroups|instances|exceptionoccurrences)(/|\(|$)",
    r"^[^/]+/(.*/)?(contacts|contactfolders|people)(/|\(|$)",
    r"^me(/|\(|$)",
    r"(^|/)(todo|tasks|lists|outlook|planner/tasks|threads|conversations|posts)(/|\(|$)",
    r"(^|/)(channels|primarychannel)/.*(messages|filesfolder)",
    r"(^|/)(communications/callrecords|onlinemeetings|transcripts|recordings)(/|\(|$)",
    r"(^|/)(exporttoken|\$value)(/|$)",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GuardError {
    #[error("Endpoint is required")]
    Empty,
    #[error("Endpoint is refused: it must be a Graph path relative to the version root ({0})")]
    NotRelative(&'static str),
    #[error("Endpoint is refused: it names customer content ({0}), which this proxy never reads")]
    Blocked(String),
}

#[derive(Debug, thiserror::Error)]
#[error("Graph proxy blocklist pattern {pattern:?} does not compile: {source}")]
pub struct BlocklistError {
    pub pattern: String,
    #[source]
    pub source: regex::Error,
}

#[derive(Debug, Clone)]
pub struct ProxyGuard {
    blocklist: Vec<(String, Regex)>,
}

impl ProxyGuard {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, BlocklistError> {
        let blocklist = patterns
            .iter()
            .map(|p| {
                let pattern = p.as_ref().to_owned();
                Regex::new(&pattern)
                    .map(|r| (pattern.clone(), r))
                    .map_err(|source| BlocklistError { pattern, source })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { blocklist })
    }

    pub fn with_default_blocklist() -> Result<Self, BlocklistError> {
        Self::new(DEFAULT_BLOCKLIST)
    }

    /// Checks an endpoint and its `$expand` values; returns the decoded endpoint without a
    /// leading `/`, which is what may be sent.
    pub fn check(&self, endpoint: &str, expands: &[&str]) -> Result<String, GuardError> {
        let path = decode_until_stable(endpoint)?;
        let path = path.strip_prefix('/').unwrap_or(&path).to_owned();
        if path.is_empty() {
            return Err(GuardError::Empty);
        }
        check_characters(&path)?;
        if path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(GuardError::NotRelative("empty, '.' or '..' path segments"));
        }
        self.check_blocklist(&path)?;
        for expand in expands {
            let decoded = decode_until_stable(expand)?;
            for item in top_level_items(&decoded) {
                let name = item.split('(').next().unwrap_or_default().trim();
                if name.is_empty() {
                    continue;
                }
                check_characters(name)?;
                self.check_blocklist(&format!("{path}/{name}"))?;
                self.check_blocklist(name)?;
            }
        }
        Ok(path)
    }

    fn check_blocklist(&self, path: &str) -> Result<(), GuardError> {
        let lower = path.to_lowercase();
        match self.blocklist.iter().find(|(_, r)| r.is_match(&lower)) {
            Some(_) => Err(GuardError::Blocked(path.to_owned())),
            None => Ok(()),
        }
    }
}

fn decode_until_stable(text: &str) -> Result<String, GuardError> {
    let mut current = text.to_owned();
    for _ in 0..=MAX_DECODE_ROUNDS {
        let decoded = percent_decode_str(&current)
            .decode_utf8()
            .map_err(|_| GuardError::NotRelative("it does not decode to UTF-8"))?
            .into_owned();
        if decoded == current {
            return Ok(decoded);
        }
        current = decoded;
    }
    Err(GuardError::NotRelative("layered percent-encoding"))
}

fn check_characters(path: &str) -> Result<(), GuardError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~'()$,=/".contains(c);
    match path.chars().find(|c| !allowed(*c)) {
        None => Ok(()),
        Some('@') => Err(GuardError::NotRelative("'@' is not allowed")),
        Some(':') => Err(GuardError::NotRelative("':' is not allowed")),
        Some('\\') => Err(GuardError::NotRelative("backslashes are not allowed")),
        Some('?' | '#' | '&') => Err(GuardError::NotRelative(
            "query options go in their own parameters",
        )),
        Some(c) if c.is_control() || c.is_whitespace() => Err(GuardError::NotRelative(
            "control or space characters are not allowed",
        )),
        Some(_) => Err(GuardError::NotRelative(
            "only letters, digits and - . _ ~ ' ( ) $ , = / are allowed",
        )),
    }
}

/// Splits `a,b($select=x,y),c` at top-level commas.
fn top_level_items(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> ProxyGuard {
        ProxyGuard::with_default_blocklist().unwrap()
    }

    #[test]
    fn directory_paths_the_cipp_frontend_reads_pass() {
        for endpoint in [
            "users",
            "/users",
            "groups",
            "contacts",
            "domains",
            "subscribedSkus",
            "ServicePrincipals",
            "users/5d3c6f7e-1111-2222-3333-444455556666/memberOf",
            "users('5d3c6f7e-1111-2222-3333-444455556666')/manager",
            "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
            "tenantRelationships/findTenantInformationByTenantId(tenantId='x')",
            "users/$count",
            "deviceManagement/managedDevices",
            "identity/conditionalAccess/policies",
            "auditLogs/signIns",
        ] {
            assert!(guard().check(endpoint, &[]).is_ok(), "{endpoint}");
        }
    }

    #[test]
    fn customer_content_is_refused_also_when_encoded_or_expanded() {
        for endpoint in [
            "users/x/messages",
            "users/x/mailFolders/inbox/messages",
            "users%2Fx%2Fmessages",
            "users%252Fx%252Fmessages",
            "users/x/drive/root/children",
            "drives/abc/items/1",
            "chats/1/messages",
            "teams/1/channels/2/messages",
            "users/x/events",
            "users/x/calendar",
            "users/x/contacts",
            "groups/1/threads",
            "sites/1/lists/2/items",
            "users/x/onenote/pages",
            "me",
            "me/messages",
        ] {
            assert!(
                matches!(guard().check(endpoint, &[]), Err(GuardError::Blocked(_))),
                "{endpoint}"
            );
        }
        assert!(guard().check("users/x", &["messages($top=5)"]).is_err());
        assert!(
            guard()
                .check("users", &["manager($select=id),drive"])
                .is_err()
        );
        assert!(
            guard()
                .check("users", &["manager($select=id,displayName)"])
                .is_ok()
        );
    }

    #[test]
    fn anything_that_could_leave_the_version_root_is_refused() {
        for endpoint in [
            "https://evil.example/users",
            "//evil.example/users",
            "../v1.0/users",
            "users/../../x",
            "users\\..\\x",
            "users@evil.example",
            "%2e%2e/users",
            "%252e%252e/users",
            "users%00",
            "users\u{200b}/x",
            "users?$top=1",
            "users#x",
            "%25252525252e",
            "",
        ] {
            assert!(guard().check(endpoint, &[]).is_err(), "{endpoint:?}");
        }
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_an_error() {
        assert!(ProxyGuard::new(&["(unclosed"]).is_err());
    }
}
