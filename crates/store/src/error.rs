use std::path::PathBuf;

/// Everything the store can fail with. Messages name what is wrong, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid database location: {0}")]
    InvalidUrl(String),

    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot connect to the database at {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("schema migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("invalid paging cursor")]
    InvalidCursor,

    #[error("invalid filter: {0}")]
    InvalidFilter(String),

    #[error("stored {what} is not valid: {detail}")]
    Corrupt { what: &'static str, detail: String },

    #[error("invalid encryption key: {0}")]
    InvalidKey(String),

    #[error("cannot decrypt secret {name:?}: wrong key or tampered data")]
    Decrypt { name: String },

    #[error("cannot encrypt secret {name:?}")]
    Encrypt { name: String },
}
