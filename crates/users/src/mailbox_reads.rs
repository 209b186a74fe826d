//! What the Exchange tab's reads share (`ListUserMailboxDetails`, `ListUserMailboxRules`,
//! `ListUserTrustedBlockedSenders`): Exchange is called with the tenant's id, and a mailbox that
//! cannot be read is a failure with CIPP's text.
//!
//! Deliberate differences: CIPP swallows failed Exchange calls and answers 200 with nulls; here a
//! mailbox that cannot be read is an error.

use cipp_graph::GraphError;

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// CIPP's `<prefix> : Error: <normalised message>`.
pub fn failed(prefix: String, error: GraphError) -> UserError {
    UserError::Failed {
        message: format!("{prefix} : Error: {}", normalize_graph_error(&error)),
        source: Some(Box::new(error)),
    }
}
