//! Reading a mailbox change back after Exchange accepted it. Exchange Online answers a `Set-*`
//! before every front end sees the change (and sometimes acknowledges one it applies later), so
//! the user-page actions read what they wrote back and report a lag or a mismatch instead of
//! CIPP's success text. CIPP itself never reads back; this is what a user of these buttons
//! would expect, so the answer says what Exchange shows.

use cipp_graph::GraphClient;
use serde_json::{Value, json};

use crate::UserError;
use crate::error::ErrorKind;
use crate::normalize::normalize_graph_error;

/// What a field should read after the change.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    Bool(bool),
    /// Compared without regard to case.
    Text(String),
    /// A size as Exchange prints it (`"10 GB (10,737,418,240 bytes)"`); `None` is `Unlimited`.
    Size(Option<u64>),
    Int(i64),
    /// The same names in any order, without regard to case.
    Names(Vec<String>),
}

impl Expect {
    fn holds(&self, actual: &Value) -> bool {
        match self {
            Expect::Bool(b) => actual.as_bool() == Some(*b),
            Expect::Text(t) => actual.as_str().is_some_and(|a| a.eq_ignore_ascii_case(t)),
            Expect::Size(size) => parse_exchange_size(actual) == Some(*size),
            Expect::Int(i) => actual.as_i64() == Some(*i),
            Expect::Names(names) => {
                let got: Vec<String> = actual
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_lowercase)
                            .collect()
                    })
                    .unwrap_or_default();
                got.len() == names.len() && names.iter().all(|n| got.contains(&n.to_lowercase()))
            }
        }
    }

    fn shown(&self) -> String {
        match self {
            Expect::Bool(b) => crate::mailbox_flags::ps_bool(*b).to_owned(),
            Expect::Text(t) => t.clone(),
            Expect::Size(Some(b)) => format!("{b} bytes"),
            Expect::Size(None) => "Unlimited".to_owned(),
            Expect::Int(i) => i.to_string(),
            Expect::Names(n) => n.join(", "),
        }
    }
}

/// A size Exchange printed: `Some(Some(bytes))`, `Some(None)` for `Unlimited`, `None` if unreadable.
fn parse_exchange_size(value: &Value) -> Option<Option<u64>> {
    let text = value.as_str()?.trim();
    if text.eq_ignore_ascii_case("unlimited") {
        return Some(None);
    }
    let inner = text.split_once('(')?.1;
    let digits: String = inner
        .split("bytes")
        .next()?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok().map(Some)
}

fn shown_actual(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => crate::mailbox_flags::ps_bool(*b).to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// One read-back: run `cmdlet` on `identity` and compare `checks` with the first object.
pub struct ReadBack<'a> {
    pub cmdlet: &'a str,
    pub identity: &'a str,
    pub anchor: Option<&'a str>,
    pub checks: Vec<(&'a str, Expect)>,
}

impl<'a> ReadBack<'a> {
    /// `Get-Mailbox` on `identity`, anchored on the same mailbox as the write.
    pub fn mailbox(identity: &'a str, anchor: Option<&'a str>) -> Self {
        Self {
            cmdlet: "Get-Mailbox",
            identity,
            anchor,
            checks: Vec::new(),
        }
    }

    pub fn expect(mut self, field: &'a str, expect: Expect) -> Self {
        self.checks.push((field, expect));
        self
    }

    /// `Ok(())` when every field reads as expected; otherwise the text saying what Exchange
    /// shows. `change` describes what was asked ("the send quota of adele@…").
    pub async fn verify(
        &self,
        graph: &GraphClient,
        tenant: &str,
        change: &str,
    ) -> Result<(), String> {
        // A dry run sent no write, so there is no change to confirm: `PlannedWrites` lists it.
        if graph.dry_run_log().is_some() {
            return Ok(());
        }
        let rows = graph
            .exchange(
                tenant,
                self.cmdlet,
                json!({"Identity": self.identity}),
                self.anchor,
            )
            .await
            .map_err(|error| {
                format!(
                    "Exchange accepted {change}, but reading it back failed, so it is not confirmed: {}",
                    normalize_graph_error(&error)
                )
            })?;
        let row = rows.first().cloned().unwrap_or(Value::Null);
        let wrong: Vec<String> = self
            .checks
            .iter()
            .filter(|(field, expect)| !expect.holds(row.get(*field).unwrap_or(&Value::Null)))
            .map(|(field, expect)| {
                format!(
                    "{field} is {} instead of {}",
                    shown_actual(row.get(*field).unwrap_or(&Value::Null)),
                    expect.shown()
                )
            })
            .collect();
        if wrong.is_empty() {
            return Ok(());
        }
        Err(format!(
            "Exchange accepted {change}, but reading it back shows {}. Exchange may still be applying it; check again in a few minutes.",
            wrong.join(", ")
        ))
    }

    /// As [`Self::verify`], with a failed read-back as the operation's error (500 with the text).
    pub async fn confirm(
        &self,
        graph: &GraphClient,
        tenant: &str,
        change: &str,
    ) -> Result<(), UserError> {
        self.verify(graph, tenant, change)
            .await
            .map_err(unconfirmed)
    }
}

/// The kind of an all-failed list of lines: a change Exchange accepted but does not show is a
/// failure of the action (500) whatever the read-back said; otherwise the lines' common cause.
pub fn kind_of_lines(lines: &[String]) -> ErrorKind {
    if lines.iter().any(|l| l.starts_with(ACCEPTED)) {
        ErrorKind::UpstreamFailed
    } else {
        ErrorKind::of_failure_texts(lines.iter().map(String::as_str))
    }
}

/// How every read-back report begins.
pub const ACCEPTED: &str = "Exchange accepted ";

/// The error for a change Exchange accepted but does not show (yet).
pub fn unconfirmed(message: String) -> UserError {
    UserError::Answered {
        kind: ErrorKind::UpstreamFailed,
        results: json!(message),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_sizes_compare_by_bytes() {
        let q = json!("10 GB (10,737,418,240 bytes)");
        assert!(Expect::Size(Some(10 << 30)).holds(&q));
        assert!(!Expect::Size(Some(9 << 30)).holds(&q));
        assert!(Expect::Size(None).holds(&json!("Unlimited")));
        assert!(!Expect::Size(None).holds(&q));
    }

    #[test]
    fn names_compare_as_sets_and_text_without_case() {
        let tags = json!(["Never Delete", "Junk Email"]);
        assert!(Expect::Names(vec!["junk email".into(), "Never Delete".into()]).holds(&tags));
        assert!(!Expect::Names(vec!["Junk Email".into()]).holds(&tags));
        assert!(Expect::Text("en-us".into()).holds(&json!("en-US")));
        assert!(!Expect::Bool(true).holds(&Value::Null));
    }
}
