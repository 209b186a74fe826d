//! `WhatIf`: a client whose reads go out as usual (they decide what an operation does next) and
//! whose writes are recorded in order and answered with what Microsoft would answer on success,
//! never sent. [`GraphClient::dry_run`] makes such a clone.
//!
//! What counts as a write:
//! - Graph: any method but GET and HEAD, except the POST actions that only read
//!   (`getMemberGroups`, `checkMemberObjects`, `getByIds`, …). In a `$batch`, each item is judged
//!   on its own: its reads are sent, its writes recorded.
//! - Exchange: every cmdlet but `Get-*`, `Test-*` and `Search-*`.
//! - SharePoint: REST calls other than GET, and every CSOM `ProcessQuery`.

use parking_lot::Mutex;
use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::client::{Call, RawReply};

/// The writes a dry run did not send, shared by every clone made for one request.
#[derive(Clone, Default, Debug)]
pub struct DryRun {
    planned: Arc<Mutex<Vec<PlannedWrite>>>,
}

/// One write that was not sent, and the answer assumed in its place.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PlannedWrite {
    /// `graph`, `exchange`, `sharepoint`, or `jobs` for work queued on the job engine.
    #[serde(rename = "Service")]
    pub service: String,
    #[serde(rename = "Method")]
    pub method: String,
    /// The URL, or for Exchange the cmdlet, or for a job its kind.
    #[serde(rename = "Target")]
    pub target: String,
    /// The request body (a cmdlet's parameters, a job's step names). Omitted when empty.
    #[serde(rename = "Body", skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// The status assumed in place of Microsoft's answer.
    #[serde(rename = "AssumedStatus")]
    pub assumed_status: u16,
}

impl DryRun {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a write that is not sent.
    pub fn record(&self, write: PlannedWrite) {
        self.planned.lock().push(write);
    }

    /// The writes recorded so far, in the order the operation made them.
    pub fn planned(&self) -> Vec<PlannedWrite> {
        self.planned.lock().clone()
    }
}

/// Graph's POST actions that change nothing.
const READING_ACTIONS: [&str; 7] = [
    "/getmembergroups",
    "/getmemberobjects",
    "/checkmembergroups",
    "/checkmemberobjects",
    "/getbyids",
    "/validateproperties",
    "/search/query",
];

/// Whether `call` changes something, by the rules in the module's documentation.
pub(crate) fn is_write(call: &Call<'_>) -> bool {
    match call.service {
        "exchange" => !cmdlet_reads(&cmdlet_name(call.body)),
        "sharepoint" => call.method != Method::GET || call.url.path().ends_with("/ProcessQuery"),
        _ => {
            if call.method == Method::GET || call.method == Method::HEAD {
                return false;
            }
            let path = call.url.path().to_ascii_lowercase();
            // `$batch` items are judged one by one before the batch is sent.
            !(path.ends_with("/$batch")
                || READING_ACTIONS.iter().any(|action| path.ends_with(action)))
        }
    }
}

/// Whether an Exchange cmdlet only reads.
pub fn cmdlet_reads(cmdlet: &str) -> bool {
    let verb = cmdlet.split('-').next().unwrap_or("").to_ascii_lowercase();
    matches!(verb.as_str(), "get" | "test" | "search")
}

/// Whether a `$batch` item with this method and relative URL changes something.
pub(crate) fn batch_item_writes(method: &Method, url: &str) -> bool {
    if *method == Method::GET || *method == Method::HEAD {
        return false;
    }
    let path = url.split('?').next().unwrap_or("").to_ascii_lowercase();
    !READING_ACTIONS.iter().any(|action| path.ends_with(action))
}

fn cmdlet_name(body: Option<&Value>) -> String {
    body.and_then(|b| b.pointer("/CmdletInput/CmdletName"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// Records `call` and returns the answer Microsoft gives when such a write succeeds.
pub(crate) fn plan(dry_run: &DryRun, call: &Call<'_>) -> RawReply {
    let (target, body, status, answer) = match call.service {
        "exchange" => (
            cmdlet_name(call.body),
            call.body
                .and_then(|b| b.pointer("/CmdletInput/Parameters"))
                .cloned(),
            200,
            Some(json!({ "value": [] })),
        ),
        "sharepoint" if call.url.path().ends_with("/ProcessQuery") => (
            call.url.to_string(),
            call.raw_body
                .map(|xml| Value::String(String::from_utf8_lossy(xml).into_owned())),
            200,
            // CSOM's answer with no error (its first element's `ErrorInfo` is null), then the
            // completed tenant operation a successful admin call reports (RequestPersonalSites
            // is judged by its `IsComplete`).
            Some(json!([
                { "SchemaVersion": "15.0.0.0", "ErrorInfo": null },
                {
                    "_ObjectType_": "Microsoft.Online.SharePoint.TenantAdministration.SpoOperation",
                    "IsComplete": true,
                    "HasTimedout": false,
                },
            ])),
        ),
        _ => {
            let body = call.body.cloned();
            let (status, answer) = assumed_answer_at(&call.method, call.url.path(), body.as_ref());
            (call.url.to_string(), body, status, answer)
        }
    };
    dry_run.record(PlannedWrite {
        service: call.service.to_owned(),
        method: call.method.to_string(),
        target,
        body,
        assumed_status: status,
    });
    RawReply {
        status,
        headers: reqwest::header::HeaderMap::new(),
        body: answer
            .map(|value| serde_json::to_vec(&value).unwrap_or_default())
            .unwrap_or_default(),
    }
}

/// A successful write's answer at `path`: a POST creates (201, the object with a new id),
/// everything else answers 204 with no body. Some actions answer in shapes of their own, which
/// their callers check: `revokeSignInSessions` and `invalidateAllRefreshTokens` confirm with
/// `value: true`, and a new temporary access pass carries the pass (a placeholder here: none is
/// made).
pub(crate) fn assumed_answer_at(
    method: &Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Option<Value>) {
    if *method != Method::POST {
        return (204, None);
    }
    let path = path.split('?').next().unwrap_or("").to_ascii_lowercase();
    if path.ends_with("/revokesigninsessions") || path.ends_with("/invalidateallrefreshtokens") {
        return (200, Some(json!({ "value": true })));
    }
    let mut created = match body {
        Some(Value::Object(fields)) => fields.clone(),
        _ => serde_json::Map::new(),
    };
    created
        .entry("id")
        .or_insert_with(|| Value::String(uuid::Uuid::new_v4().to_string()));
    if path.ends_with("/temporaryaccesspassmethods") {
        created.insert(
            "temporaryAccessPass".to_owned(),
            Value::String("WhatIf-no-pass-was-created".to_owned()),
        );
        created
            .entry("lifetimeInMinutes")
            .or_insert_with(|| json!(60));
        created.entry("isUsableOnce").or_insert(Value::Bool(false));
        created
            .entry("startDateTime")
            .or_insert_with(|| Value::String("2000-01-01T00:00:00Z".to_owned()));
    }
    (201, Some(Value::Object(created)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_reads_are_the_get_test_and_search_cmdlets() {
        assert!(cmdlet_reads("Get-Mailbox"));
        assert!(cmdlet_reads("test-MapiConnectivity"));
        assert!(cmdlet_reads("Search-UnifiedAuditLog"));
        assert!(!cmdlet_reads("Set-Mailbox"));
        assert!(!cmdlet_reads("Add-MailboxPermission"));
        assert!(!cmdlet_reads(""));
    }

    #[test]
    fn a_batch_item_writes_unless_it_reads_or_only_asks() {
        assert!(!batch_item_writes(&Method::GET, "/users/a"));
        assert!(batch_item_writes(&Method::PATCH, "/users/a"));
        assert!(!batch_item_writes(
            &Method::POST,
            "/users/a/getMemberGroups"
        ));
        assert!(batch_item_writes(
            &Method::POST,
            "/users/a/revokeSignInSessions"
        ));
    }

    #[test]
    fn a_planned_create_answers_the_object_with_a_new_id() {
        let (status, answer) =
            assumed_answer_at(&Method::POST, "/v1.0/users", Some(&json!({"a": 1})));
        assert_eq!(status, 201);
        let answer = answer.unwrap_or_default();
        assert_eq!(answer["a"], 1);
        assert!(answer["id"].as_str().is_some_and(|id| id.len() == 36));
        assert_eq!(
            assumed_answer_at(&Method::PATCH, "/v1.0/users/a", None),
            (204, None)
        );
        let (_, confirmed) = assumed_answer_at(
            &Method::POST,
            "/beta/users/a/invalidateAllRefreshTokens",
            None,
        );
        assert_eq!(confirmed, Some(json!({"value": true})));
    }
}
