//! Every request that would change state at Microsoft, counted as it arrives (whatever its
//! answer), so a test can prove that a dry run sent none: `GET /_sim/writes`,
//! `DELETE /_sim/writes` to start again.
//!
//! A write is what Microsoft treats as one: a Graph call other than GET/HEAD (each `$batch`
//! item on its own, POST actions that only read excepted), an Exchange cmdlet other than
//! `Get-*`/`Test-*`/`Search-*`, a SharePoint call other than GET, a call to the MFA connector. Token requests are not writes.

use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::http::Route;

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
/// The most recent writes kept for the admin answer; the count covers all of them.
const KEPT: usize = 1000;

#[derive(Default)]
pub(crate) struct WriteLog {
    inner: Mutex<(u64, Vec<String>)>,
}

impl WriteLog {
    pub(crate) fn record(&self, write: String) {
        let mut inner = self.inner.lock();
        inner.0 += 1;
        if inner.1.len() == KEPT {
            inner.1.remove(0);
        }
        inner.1.push(write);
    }

    pub(crate) fn view(&self) -> Value {
        let inner = self.inner.lock();
        json!({ "count": inner.0, "recent": inner.1 })
    }

    pub(crate) fn clear(&self) {
        *self.inner.lock() = (0, Vec::new());
    }
}

/// The write a request makes, if it makes one (`None` for reads and token calls).
pub(crate) fn write_of(route: &Route<'_>, method: &str, path: &str, body: &[u8]) -> Option<String> {
    match route {
        Route::Graph { rest, .. } => {
            if method == "GET" || method == "HEAD" || rest.trim_end_matches('/') == "$batch" {
                return None;
            }
            let lower = rest.split('?').next().unwrap_or("").to_ascii_lowercase();
            if READING_ACTIONS.iter().any(|a| lower.ends_with(a)) {
                return None;
            }
            Some(format!("{method} {path}"))
        }
        Route::Exchange { .. } => {
            let cmdlet = crate::http::cmdlet_name(body)?;
            let verb = cmdlet.split('-').next().unwrap_or("").to_ascii_lowercase();
            (!matches!(verb.as_str(), "get" | "test" | "search"))
                .then(|| format!("exchange {cmdlet}"))
        }
        Route::SharePoint(_) => (method != "GET").then(|| format!("{method} {path}")),
        // A push or a code check reaches a person's phone: it counts as a change.
        Route::MfaConnector(_) => (method == "POST").then(|| format!("{method} {path}")),
        _ => None,
    }
}
