//! One error type for everything that can go wrong talking to Graph or Entra.

use serde::Deserialize;

/// A failed Graph call. Cloneable because a shared token fetch hands one error to many waiters.
#[derive(thiserror::Error, Debug, Clone)]
pub enum GraphError {
    /// Graph answered with a non-success status; its error body, parsed.
    #[error("Graph returned {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
        raw_body: String,
    },
    /// Exchange Online answered with a non-success status. `message` is Exchange's nested
    /// error text (detail message, else inner exception message, else the top message).
    #[error("Exchange returned {status}: {message}")]
    Exchange {
        status: u16,
        message: String,
        raw_body: String,
    },
    /// No access token could be had for the tenant.
    /// `code` is the AADSTS code (`AADSTS65001`) when Entra sent one, else its OAuth `error` value.
    #[error("could not get a token for tenant {tenant}: {message}")]
    Token {
        tenant: String,
        status: Option<u16>,
        code: Option<String>,
        message: String,
    },
    /// Still throttled (429/503/504) after the retry budget was spent.
    #[error("Graph still throttled ({status}) after {attempts} attempts: {message}")]
    Throttled {
        status: u16,
        attempts: u32,
        message: String,
    },
    /// The request never got an HTTP answer (connect, TLS, timeout, broken body).
    #[error("transport error talking to Graph: {message}")]
    Transport { message: String },
    /// Graph answered success but the body was not what Graph sends.
    #[error("could not decode Graph response: {message}")]
    Decode { message: String },
    /// A setting (or caller-supplied request part) is unusable.
    #[error("invalid setting {setting}: {message}")]
    Config {
        setting: &'static str,
        message: String,
    },
    /// A nextLink pointing away from the configured Graph origin; following it could leak the token.
    #[error("refusing to follow @odata.nextLink to another origin: {link}")]
    NextLinkOffHost { link: String },
}

impl GraphError {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Api { status, .. }
            | GraphError::Exchange { status, .. }
            | GraphError::Throttled { status, .. } => Some(*status),
            GraphError::Token { status, .. } => *status,
            _ => None,
        }
    }

    /// Graph's `error.code` (or the Entra code for token failures).
    pub fn graph_code(&self) -> Option<&str> {
        match self {
            GraphError::Api { code, .. } => Some(code.as_str()),
            GraphError::Token { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The human-readable message from the service, without our framing.
    pub fn service_message(&self) -> &str {
        match self {
            GraphError::Api { message, .. }
            | GraphError::Exchange { message, .. }
            | GraphError::Token { message, .. }
            | GraphError::Throttled { message, .. }
            | GraphError::Transport { message }
            | GraphError::Decode { message }
            | GraphError::Config { message, .. } => message,
            GraphError::NextLinkOffHost { link } => link,
        }
    }

    /// True when retrying later might succeed (throttling, outages, transport trouble).
    pub fn is_transient(&self) -> bool {
        match self {
            GraphError::Throttled { .. } | GraphError::Transport { .. } => true,
            GraphError::Api { status, .. } | GraphError::Exchange { status, .. } => {
                matches!(status, 429 | 503 | 504)
            }
            GraphError::Token { status, .. } => matches!(status, None | Some(429 | 500..=599)),
            _ => false,
        }
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    // Docs spell it both ways; accept either.
    #[serde(default, rename = "innerError", alias = "innererror")]
    inner_error: Option<InnerError>,
}

#[derive(Deserialize)]
struct InnerError {
    #[serde(default, rename = "request-id")]
    request_id: Option<String>,
}

/// Parsed `{"error":{"code","message","innerError":{"request-id"}}}`, or the raw text when the body is not that.
pub(crate) struct ParsedErrorBody {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

pub(crate) fn parse_error_body(body: &str, header_request_id: Option<String>) -> ParsedErrorBody {
    match serde_json::from_str::<ErrorEnvelope>(body) {
        Ok(env) => {
            let inner_id = env.error.inner_error.and_then(|i| i.request_id);
            ParsedErrorBody {
                code: env.error.code.unwrap_or_default(),
                message: env.error.message.unwrap_or_default(),
                request_id: header_request_id.or(inner_id),
            }
        }
        Err(_) => ParsedErrorBody {
            code: String::new(),
            message: body.trim().to_owned(),
            request_id: header_request_id,
        },
    }
}

pub(crate) fn api_error(
    status: u16,
    body: String,
    header_request_id: Option<String>,
) -> GraphError {
    let parsed = parse_error_body(&body, header_request_id);
    GraphError::Api {
        status,
        code: parsed.code,
        message: parsed.message,
        request_id: parsed.request_id,
        raw_body: body,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn graph_error_bodies_yield_code_message_and_request_id() {
        let body = r#"{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist.","innerError":{"date":"2024-05-22T16:52:10","request-id":"rid-1","client-request-id":"c"}}}"#;
        let err = api_error(404, body.to_owned(), None);
        assert_eq!(err.status(), Some(404));
        assert_eq!(err.graph_code(), Some("Request_ResourceNotFound"));
        match err {
            GraphError::Api {
                message,
                request_id,
                raw_body,
                ..
            } => {
                assert_eq!(message, "Resource 'x' does not exist.");
                assert_eq!(request_id.as_deref(), Some("rid-1"));
                assert_eq!(raw_body, body);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn lower_case_innererror_is_accepted_too() {
        let body = r#"{"error":{"code":"X","message":"m","innererror":{"request-id":"rid-2"}}}"#;
        let parsed = parse_error_body(body, None);
        assert_eq!(parsed.request_id.as_deref(), Some("rid-2"));
    }

    #[test]
    fn non_json_error_bodies_keep_their_text_as_the_message() {
        let err = api_error(502, "<html>Bad gateway</html>\n".to_owned(), None);
        assert_eq!(err.graph_code(), Some(""));
        assert_eq!(err.service_message(), "<html>Bad gateway</html>");
    }
}
