use cipp_graph::GraphError;

/// What can go wrong in a user operation, with the text CIPP shows for it.
///
/// The API layer chooses the status code per variant; the message is what goes into `Results`.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A parameter is missing or malformed. CIPP often answers these with a plain-text 500 from
    /// PowerShell; we answer 400 and name the field.
    #[error("{message}")]
    InvalidInput {
        field: &'static str,
        message: String,
    },
    /// The object the caller named does not exist in the tenant.
    #[error("{message}")]
    NotFound { message: String },
    /// The request is refused on principle (e.g. the Graph proxy guard).
    #[error("{message}")]
    Refused { message: String },
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
}

impl UserError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            message: message.into(),
        }
    }

    pub fn missing(field: &'static str) -> Self {
        Self::invalid(field, format!("{field} is required"))
    }
}
