use cipp_graph::GraphError;
use serde_json::Value;

/// What kind of failure an operation met. The API crate alone turns a kind into a status code;
/// [`ErrorKind::code`] is the stable, machine-readable name a PSA script can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// A parameter is missing or malformed.
    InvalidInput,
    /// The object the caller named does not exist.
    NotFound,
    /// The caller may not do this (tenant scope, a refused principle such as the proxy guard).
    Forbidden,
    /// The request clashes with existing state (a duplicate, a conflicting edit).
    Conflict,
    /// Microsoft 365 refused the request as made (CIPP answers these with 400).
    UpstreamRejected,
    /// The action failed on Microsoft 365's side or on the way there (CIPP answers 500).
    UpstreamFailed,
    /// A part of the request this service does not do yet.
    NotImplemented,
    /// Something failed here (the store, a bug); the details go to the log only.
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::Forbidden,
        ErrorKind::Conflict,
        ErrorKind::UpstreamRejected,
        ErrorKind::UpstreamFailed,
        ErrorKind::NotImplemented,
        ErrorKind::Internal,
    ];

    /// The kind of a failure known only by CIPP's texts (the items or steps of a larger action,
    /// a `$batch` item): when every text names the same cause (the object does not exist, it
    /// already exists, an input was empty or invalid) that cause decides, when every text names
    /// some such cause the request was refused, else the action failed.
    pub fn of_failure_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> ErrorKind {
        let cause = |text: &str| {
            if text.contains("does not exist")
                || text.contains("not found")
                || text.contains("Could not find")
                || text.contains("There is no existing")
                || text.contains("couldn't be found")
            {
                Some(ErrorKind::NotFound)
            } else if text.contains("already exists") || text.contains("already a member") {
                Some(ErrorKind::Conflict)
            } else if text.contains("was empty") {
                Some(ErrorKind::InvalidInput)
            } else if text.contains("is invalid") {
                Some(ErrorKind::UpstreamRejected)
            } else {
                None
            }
        };
        let mut common: Option<ErrorKind> = None;
        for text in texts {
            match (cause(text), common) {
                (None, _) => return ErrorKind::UpstreamFailed,
                (Some(kind), None) => common = Some(kind),
                (Some(kind), Some(seen)) if kind == seen => {}
                // Each a refusal of what was asked, for different reasons.
                (Some(_), Some(_)) => common = Some(ErrorKind::UpstreamRejected),
            }
        }
        common.unwrap_or(ErrorKind::UpstreamFailed)
    }

    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Conflict => "conflict",
            ErrorKind::UpstreamRejected => "upstream_rejected",
            ErrorKind::UpstreamFailed => "upstream_failed",
            ErrorKind::NotImplemented => "not_implemented",
            ErrorKind::Internal => "internal",
        }
    }
}

/// The one failure channel of the domain: what went wrong, with the text CIPP shows for it.
///
/// The message is what goes into `Results`; a source (a Graph or store error) is kept for the log
/// and never reaches a response body.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A parameter is missing or malformed. CIPP often answers these with a plain-text 500 from
    /// PowerShell; we answer 400 and name the field.
    #[error("{message}")]
    InvalidInput { field: String, message: String },
    /// The object the caller named does not exist in the tenant.
    #[error("{message}")]
    NotFound { message: String },
    /// The request is refused on principle (e.g. the Graph proxy guard, a tenant out of scope).
    #[error("{message}")]
    Refused { message: String },
    /// The request clashes with what exists.
    #[error("{message}")]
    Conflict { message: String },
    /// A proxied Graph read failed; CIPP answers these with 400 and `Graph Error: … - Endpoint: …`.
    #[error("{message}")]
    GraphRequest {
        message: String,
        #[source]
        source: Option<Box<GraphError>>,
    },
    /// The operation failed; `message` is CIPP's full text, e.g. `Failed to set sign-in state for <id>. Error: <normalised>`.
    #[error("{message}")]
    Failed {
        message: String,
        #[source]
        source: Option<Box<GraphError>>,
    },
    /// A failure whose body CIPP shapes itself (e.g. `{"Results": ["Failed to …"]}`): `results` is
    /// the `Results` value, `message` the text for the log and the audit row.
    #[error("{message}")]
    Answered {
        kind: ErrorKind,
        message: String,
        results: Value,
    },
    /// A part of the request not built yet; the text says which.
    #[error("{message}")]
    NotImplemented { message: String },
    /// A failure of this service (store, serialisation); the caller sees `message` only.
    #[error("{message}")]
    Internal {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl UserError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn missing(field: &'static str) -> Self {
        Self::invalid(field, format!("{field} is required"))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound {
            message: message.into(),
        }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self::Refused {
            message: message.into(),
        }
    }

    pub fn internal(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Internal {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// CIPP's failure text sent as `{"Results": [text]}` (the operations whose answers are arrays).
    pub fn failed_list(message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Answered {
            kind: ErrorKind::of_failure_texts([message.as_str()]),
            results: Value::Array(vec![Value::String(message.clone())]),
            message,
        }
    }

    /// A failed action's error with its body shaped as `{"Results": [text]}`, as CIPP sends it for
    /// the operations whose answers are arrays. Input errors stay ours: a string naming the field.
    pub fn into_list(self) -> Self {
        match self {
            Self::Failed { message, source } => {
                let kind = source
                    .as_deref()
                    .and_then(upstream_kind)
                    .unwrap_or_else(|| ErrorKind::of_failure_texts([message.as_str()]));
                if let Some(source) = source {
                    tracing::info!(detail = ?source, "operation failed");
                }
                Self::Answered {
                    kind,
                    results: Value::Array(vec![Value::String(message.clone())]),
                    message,
                }
            }
            other => other,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            // What Microsoft 365 said decides the kind, so an unknown user is a 404 and a request
            // Graph refused is a 400, not a 500 (CIPP answers 500 for all three).
            Self::Failed { message, source } => source
                .as_deref()
                .and_then(upstream_kind)
                .unwrap_or_else(|| ErrorKind::of_failure_texts([message.as_str()])),
            Self::InvalidInput { .. } => ErrorKind::InvalidInput,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Refused { .. } => ErrorKind::Forbidden,
            Self::Conflict { .. } => ErrorKind::Conflict,
            Self::GraphRequest { .. } => ErrorKind::UpstreamRejected,
            Self::Answered { kind, .. } => *kind,
            Self::NotImplemented { .. } => ErrorKind::NotImplemented,
            Self::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// The `Results` value of the error body.
    pub fn results(&self) -> Value {
        match self {
            Self::Answered { results, .. } => results.clone(),
            other => Value::String(other.to_string()),
        }
    }
}

/// The kind a Graph or Exchange failure stands for, when it is not a failure of the action itself.
pub fn upstream_kind(error: &GraphError) -> Option<ErrorKind> {
    match error {
        GraphError::Exchange { message, .. }
            if message.contains("ManagementObjectNotFound")
                || message.contains("couldn't be found") =>
        {
            Some(ErrorKind::NotFound)
        }
        // A caller-supplied part of the request that cannot be sent (e.g. a header value).
        GraphError::Config { .. } => Some(ErrorKind::InvalidInput),
        _ => match error.status() {
            Some(404) => Some(ErrorKind::NotFound),
            Some(400) => Some(ErrorKind::UpstreamRejected),
            Some(409) => Some(ErrorKind::Conflict),
            _ => None,
        },
    }
}
