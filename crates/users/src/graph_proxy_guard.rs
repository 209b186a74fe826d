//! The guard in front of the generic Graph proxy (`ListGraphRequest`): it is open to read-only
//! callers, so the path a caller names can never leave the configured Graph host and version
//! root, and customer content (mail, chats, files, calendars, …) is refused.
//!
//! Rules, applied to the `Endpoint`, to every `$expand` item at any depth
//! (`manager($expand=directReports($expand=…))`) and to the path of a `nextLink`:
//! - percent-decoding is repeated until the text stops changing (double-encoding cannot hide
//!   anything); text that keeps changing after [`MAX_DECODE_ROUNDS`] is refused;
//! - after decoding only `A-Z a-z 0-9 - . _ ~ ' ( ) $ , = /` may appear, so schemes (`:`),
//!   hosts (`//`, `@`), backslashes, queries, fragments, whitespace, control and zero-width
//!   characters are all refused by one rule that fails closed;
//! - no empty, `.` or `..` segment;
//! - every decoded, case-folded path segment (the name before any `(`) is looked up in
//!   [`PERSONAL_SEGMENTS`]: resources that carry a person's content or activity (mail,
//!   calendar, files, chats, notes, tasks, planner, presence, insights, activities, calls and
//!   call records, …). This list is built in and always applies;
//! - the blocklist (regular expressions over the lower-cased decoded path) refuses more
//!   customer-content paths. It is configurable; a pattern that does not compile stops start-up.
//!
//! The directory, licence, sign-in, audit and usage-report reads CIPP makes (`users`, `groups`,
//! `subscribedSkus`, `auditLogs/signIns`, `reports/…`, `policies/…`, …) name none of these.

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

/// Path segments (case-folded, without any `(…)` arguments) naming a person's content or
/// activity. A segment matches wherever it appears in the path, except `contacts`, which is the
/// organisation's contacts (directory objects) when it is the first segment.
pub const PERSONAL_SEGMENTS: &[&str] = &[
    // Mail and Outlook (`mailboxSettings` stays readable: CIPP reads the out-of-office setting).
    "messages",
    "mailfolders",
    "childfolders",
    "attachments",
    "inferenceclassification",
    "messagerules",
    "outlook",
    "mastercategories",
    // Calendar, meetings and calls.
    "events",
    "calendar",
    "calendars",
    "calendarview",
    "calendargroups",
    "instances",
    "exceptionoccurrences",
    "reminderview",
    "findmeetingtimes",
    "getschedule",
    "schedule",
    "onlinemeetings",
    "transcripts",
    "recordings",
    "attendancereports",
    "communications",
    "calls",
    "callrecords",
    "presence",
    "presences",
    "virtualevents",
    // Files.
    "drive",
    "drives",
    "driveitem",
    "items",
    "root",
    "special",
    "bundles",
    "shares",
    "content",
    "contentstream",
    "children",
    "versions",
    "thumbnails",
    "sharedwithme",
    "recent",
    "followedsites",
    // Chats and conversations.
    "chats",
    "chatmessages",
    "allmessages",
    "getallmessages",
    "replies",
    "hostedcontents",
    "pinnedmessages",
    "threads",
    "conversations",
    "posts",
    // Notes.
    "onenote",
    "notebooks",
    "sections",
    "sectiongroups",
    "pages",
    "resources",
    // Tasks and plans.
    "todo",
    "tasks",
    "tasklists",
    "lists",
    "planner",
    "plans",
    "buckets",
    // Personal contacts and people relevance.
    "contacts",
    "contactfolders",
    "people",
    // Activity and analytics about a person.
    "insights",
    "trending",
    "used",
    "shared",
    "activities",
    "historyitems",
    "analytics",
    "activitystatistics",
    "employeeexperience",
    "learningcourseactivities",
    "profile",
    // Content searches, exports and AI interactions.
    "ediscovery",
    "ediscoverycases",
    "cases",
    "subjectrightsrequests",
    "exportpersonaldata",
    "interactionhistory",
    "getallenterpriseinteractions",
    "copilot",
    "bookingbusinesses",
    "appointments",
    "print",
    "exporttoken",
    "$value",
];

/// Deeper `$expand` nesting than this is refused rather than walked.
pub const MAX_EXPAND_DEPTH: usize = 6;

/// Whether a query option name is `$expand` (any case, with or without `$`), the option the
/// guard must see whatever spelling a caller or a `nextLink` uses.
pub fn is_expand_key(key: &str) -> bool {
    let key = key.trim();
    key.strip_prefix('$')
        .unwrap_or(key)
        .eq_ignore_ascii_case("expand")
}

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
        check_segments(&path, true)?;
        self.check_blocklist(&path)?;
        for expand in expands {
            let decoded = decode_until_stable(expand)?;
            self.check_expand(&path, &decoded, 0)?;
        }
        Ok(path)
    }

    /// Checks one `$expand` value: each item's name as a sub-path of `path`, then any
    /// `$expand` inside its options, to [`MAX_EXPAND_DEPTH`].
    fn check_expand(&self, path: &str, expand: &str, depth: usize) -> Result<(), GuardError> {
        if depth >= MAX_EXPAND_DEPTH {
            return Err(GuardError::NotRelative("$expand is nested too deeply"));
        }
        for item in top_level_items(expand)? {
            let item = item.trim();
            let (name, options) = match item.find('(') {
                Some(open) => {
                    let inner = item[open + 1..]
                        .strip_suffix(')')
                        .ok_or(GuardError::NotRelative("unbalanced parentheses in $expand"))?;
                    (item[..open].trim(), Some(inner))
                }
                None => (item, None),
            };
            if name.is_empty() {
                if options.is_some() {
                    return Err(GuardError::NotRelative("an $expand item without a name"));
                }
                continue;
            }
            check_characters(name)?;
            check_segments(name, false)?;
            let sub_path = format!("{path}/{name}");
            self.check_blocklist(&sub_path)?;
            self.check_blocklist(name)?;
            let Some(options) = options else { continue };
            for option in split_top_level(options, ';')? {
                let Some((key, value)) = option.split_once('=') else {
                    continue;
                };
                if is_expand_key(key) {
                    self.check_expand(&sub_path, value, depth + 1)?;
                }
            }
        }
        Ok(())
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

/// Refuses a path whose decoded, case-folded segments name a person's content or activity.
/// `rooted`: the path starts at the version root (so a first `contacts` is the directory's).
fn check_segments(path: &str, rooted: bool) -> Result<(), GuardError> {
    for (index, segment) in path.split('/').enumerate() {
        let name = segment
            .split('(')
            .next()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        // A type cast or a qualified function (`microsoft.graph.reminderView`) is judged by
        // its last part.
        let name = match name.strip_prefix("microsoft.graph.") {
            Some(rest) => rest.rsplit('.').next().unwrap_or_default(),
            None => name.as_str(),
        };
        if rooted && index == 0 && name == "me" {
            return Err(GuardError::Blocked(path.to_owned()));
        }
        if rooted && index == 0 && name == "contacts" {
            continue;
        }
        if PERSONAL_SEGMENTS.contains(&name) {
            return Err(GuardError::Blocked(path.to_owned()));
        }
    }
    Ok(())
}

/// Splits `a,b($select=x,y),c` at top-level commas.
fn top_level_items(text: &str) -> Result<Vec<&str>, GuardError> {
    split_top_level(text, ',')
}

/// Splits at `separator` outside parentheses; unbalanced parentheses are refused.
fn split_top_level(text: &str, separator: char) -> Result<Vec<&str>, GuardError> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(GuardError::NotRelative("unbalanced parentheses"));
                }
            }
            c if c == separator && depth == 0 => {
                items.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(GuardError::NotRelative("unbalanced parentheses"));
    }
    items.push(&text[start..]);
    Ok(items)
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
    fn nested_expands_are_walked_and_their_content_refused() {
        for expand in [
            "manager($expand=messages)",
            "manager($select=id;$expand=directReports($expand=drive))",
            "manager($EXPAND=calendar)",
            "manager(expand=insights)",
            "manager($expand=manager($expand=manager($expand=manager($expand=manager($expand=manager($expand=manager))))))",
            "manager($expand=directReports",
            "Messages",
            "microsoft.graph.user/presence",
        ] {
            assert!(guard().check("users", &[expand]).is_err(), "{expand}");
        }
        assert!(
            guard()
                .check(
                    "users",
                    &["manager($select=id;$expand=directReports($select=id))"]
                )
                .is_ok()
        );
    }

    #[test]
    fn activity_resources_are_refused_in_any_case() {
        for endpoint in [
            "users/x/reminderView(startDateTime='a',endDateTime='b')",
            "users/x/INSIGHTS/trending",
            "users/x/activities",
            "users/x/presence",
            "communications/presences",
            "communications/calls/1",
            "communications/callRecords",
            "planner/plans/1",
            "groups/1/planner/plans",
            "users/x/todo/lists",
            "security/cases/ediscoveryCases",
        ] {
            assert!(
                matches!(guard().check(endpoint, &[]), Err(GuardError::Blocked(_))),
                "{endpoint}"
            );
        }
        for endpoint in [
            "reports/getOffice365ActiveUserDetail(period='D7')",
            "auditLogs/directoryAudits",
            "reports/authenticationMethods/userRegistrationDetails",
            "users/x/authentication/methods",
            "users/x/licenseDetails",
        ] {
            assert!(guard().check(endpoint, &[]).is_ok(), "{endpoint}");
        }
        assert!(is_expand_key("$EXPAND") && is_expand_key("Expand") && !is_expand_key("$select"));
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_an_error() {
        assert!(ProxyGuard::new(&["(unclosed"]).is_err());
    }
}
