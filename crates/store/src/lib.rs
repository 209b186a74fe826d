//! The state store of the CIPP users API: the audit log and the few settings CIPP keeps
//! (per-user settings, templates, password settings, the partner's sealed refresh token).
//!
//! # One store, two backends
//!
//! [`Store::connect`] takes either a SQLite location (`sqlite://data/cipp.db`, `sqlite:cipp.db`
//! or a bare path; the default, embedded, no server) or a PostgreSQL URL (`postgres://...` or
//! `postgresql://...`). Both run their schema migrations at connect.
//!
//! Inside, [`Store`] holds an enum over a `SqlitePool` and a `PgPool`, not `sqlx::Any`:
//! `Any` cannot carry `timestamptz`, `uuid` or `jsonb`, and we want PostgreSQL's real types.
//! Most SQL text is shared: SQLite accepts `$1` placeholders, `ON CONFLICT ... DO UPDATE`,
//! `RETURNING` and row-value comparisons just as PostgreSQL does. The private `on_pool!`
//! macro expands one block of code once per backend, so a query is written once and
//! type-checked against both drivers. Where the dialects differ (regex matching, and
//! nothing else so far) the code branches explicitly. Times go through [`DbTime`]: a
//! `timestamptz` in PostgreSQL, integer microseconds since the epoch in SQLite (so they
//! sort and compare as numbers there too).
//!
//! # Migrations
//!
//! One directory per backend (`migrations/sqlite`, `migrations/postgres`), embedded with
//! `include_str!` and applied by `sqlx::migrate::Migrator`, which records them in
//! `_sqlx_migrations` and refuses to start if an applied migration's text has changed. On
//! PostgreSQL the migrator holds a session advisory lock while it runs, so two processes
//! starting at once apply each migration exactly once; we run it on a dedicated connection
//! that is closed afterwards, so a failed migration cannot leave the lock held by a pooled
//! connection.
//!
//! # Durability
//!
//! SQLite runs in WAL mode with `synchronous = FULL`: every commit fsyncs the WAL, so a
//! write that returned survives not only SIGKILL of the process (NORMAL would suffice for
//! that) but also power loss. An audit row claims that an action happened; one fsync per
//! audit write is cheap next to the Microsoft Graph call it records. PostgreSQL is used with
//! its default `synchronous_commit = on`.

mod audit;
mod bec;
mod cipp_config;
mod error;
mod idempotency;
mod kept;
mod secrets;
mod sessions;
mod time_col;
mod vacation;

pub use audit::{
    ActorKind, ApiFilter, AuditEntry, AuditPage, AuditQuery, AuditResult, Cursor, DateRange,
    Severity, UnauthorizedCount,
};
pub use bec::{BecCase, BecCaseStatus};
pub use cipp_config::{CustomDataMapping, GraphPreset};
pub use error::StoreError;
pub use idempotency::IdempotencyClaim;
pub use kept::{ALL_USERS, PasswordSettings, Template, TemplateKind};
pub use secrets::EncryptionKey;
pub use sessions::SignInSession;
pub use time_col::DbTime;
pub use vacation::VacationMembers;

use std::borrow::Cow;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, SqlSafeStr};

/// Runs `$body` with `$pool` bound to the backend's pool; the block is expanded once per
/// backend so the same query text and binds are compiled against both drivers.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// How long a SQLite connection waits for another writer before failing with "busy".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a caller waits for a free pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Processes starting at once on one SQLite file retry their start (connect and migrate) this often.
const SQLITE_START_ATTEMPTS: u32 = 10;

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Connection settings beyond the URL; [`Store::connect`] uses the defaults.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// `sqlite://path`, `sqlite:path`, a bare path, or `postgres://...`.
    pub url: String,
    /// Pool size. SQLite serialises writers anyway, so a few connections are enough there.
    pub max_connections: u32,
    /// PostgreSQL only: the schema to use (sets `search_path`); it must already exist.
    /// Lets several deployments, or parallel tests, share one database.
    pub postgres_schema: Option<String>,
}

impl StoreOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            postgres_schema: None,
        }
    }
}

/// The state store. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
}

impl Store {
    /// Opens (creating if needed) the database at `url_or_path` and migrates it.
    pub async fn connect(url_or_path: &str) -> Result<Store, StoreError> {
        Self::connect_with(&StoreOptions::new(url_or_path)).await
    }

    /// Like [`Store::connect`] with explicit pool size and PostgreSQL schema.
    pub async fn connect_with(options: &StoreOptions) -> Result<Store, StoreError> {
        let url = options.url.trim();
        if is_postgres_url(url) {
            connect_postgres(url, options).await
        } else if url.contains("://") && !url.starts_with("sqlite://") {
            Err(StoreError::InvalidUrl(format!(
                "unsupported scheme in {:?}: expected sqlite://, postgres:// or a file path",
                redact_url(url)
            )))
        } else {
            connect_sqlite(sqlite_path(url)?, options).await
        }
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A cheap round trip for readiness checks.
    pub async fn ready(&self) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Refreshes the query planner's statistics (PostgreSQL `ANALYZE`, SQLite
    /// `PRAGMA optimize`). Autovacuum does this eventually; call it after bulk loads or a
    /// large retention delete so filtered `ListLogs` queries keep using the time index.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::query("PRAGMA optimize")
                .execute(p)
                .await
                .map(|_| ())?,
            Pool::Postgres(p) => sqlx::query("ANALYZE").execute(p).await.map(|_| ())?,
        }
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned (SQLite then checkpoints the WAL).
    pub async fn close(&self) {
        on_pool!(self, p => p.close().await);
    }
}

/// Strips the `sqlite:` / `sqlite://` prefix; query strings are not supported because the
/// store sets its own pragmas.
fn sqlite_path(url: &str) -> Result<PathBuf, StoreError> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() {
        return Err(StoreError::InvalidUrl("empty SQLite path".into()));
    }
    if path.contains('?') || path.starts_with(":memory:") {
        return Err(StoreError::InvalidUrl(format!(
            "SQLite location {path:?}: give a file path without query parameters (in-memory databases are not supported: each pooled connection would see its own)"
        )));
    }
    Ok(PathBuf::from(path))
}

async fn connect_sqlite(path: PathBuf, options: &StoreOptions) -> Result<Store, StoreError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Blocking, but once at startup and tiny.
        std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let connect = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .with_regexp();
    // SQLite has no migration lock. Processes starting at once race: one creates the file or
    // switches it to WAL while another connects ("database is locked"), or migrates between our
    // check and our write ("table exists"). Each migration is its own transaction, so a failed
    // attempt leaves nothing behind; we try again until the other process is done.
    let mut attempt = 1;
    let pool = loop {
        let connected = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(connect.clone())
            .await
            .map_err(|source| StoreError::Connect {
                target: path.display().to_string(),
                source,
            });
        let migrated = match connected {
            Ok(pool) => match migrator(Backend::Sqlite).run(&pool).await {
                Ok(()) => break pool,
                Err(error) => StoreError::from(error),
            },
            Err(error) => error,
        };
        if attempt == SQLITE_START_ATTEMPTS {
            return Err(migrated);
        }
        tracing::debug!(error = %migrated, attempt, "SQLite start raced another process; retrying");
        tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
        attempt += 1;
    };
    tracing::info!(path = %path.display(), "state store ready (SQLite)");
    Ok(Store {
        pool: Pool::Sqlite(pool),
    })
}

async fn connect_postgres(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
    let mut connect = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::InvalidUrl(format!("{}: {e}", redact_url(url))))?;
    if let Some(schema) = &options.postgres_schema {
        connect = connect.options([("search_path", schema.as_str())]);
    }
    let target = redact_url(url);
    let mut conn = PgConnection::connect_with(&connect)
        .await
        .map_err(|source| StoreError::Connect {
            target: target.clone(),
            source,
        })?;
    let migrated = migrator(Backend::Postgres).run(&mut conn).await;
    // Closing ends the session, which releases the advisory lock even if migration failed.
    let _ = conn.close().await;
    migrated?;
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(connect)
        .await
        .map_err(|source| StoreError::Connect {
            target: target.clone(),
            source,
        })?;
    tracing::info!(database = %target, "state store ready (PostgreSQL)");
    Ok(Store {
        pool: Pool::Postgres(pool),
    })
}

/// Hides the password of a URL for error messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "bec cases",
        include_str!("../migrations/sqlite/0002_bec_cases.sql"),
    ),
    (
        3,
        "idempotency keys",
        include_str!("../migrations/sqlite/0003_idempotency_keys.sql"),
    ),
    (
        4,
        "sign-in sessions",
        include_str!("../migrations/sqlite/0004_sign_in_sessions.sql"),
    ),
    (
        5,
        "cipp config",
        include_str!("../migrations/sqlite/0005_cipp_config.sql"),
    ),
    (
        6,
        "vacation group members",
        include_str!("../migrations/sqlite/0006_vacation_group_members.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "bec cases",
        include_str!("../migrations/postgres/0002_bec_cases.sql"),
    ),
    (
        3,
        "idempotency keys",
        include_str!("../migrations/postgres/0003_idempotency_keys.sql"),
    ),
    (
        4,
        "sign-in sessions",
        include_str!("../migrations/postgres/0004_sign_in_sessions.sql"),
    ),
    (
        5,
        "cipp config",
        include_str!("../migrations/postgres/0005_cipp_config.sql"),
    ),
    (
        6,
        "vacation group members",
        include_str!("../migrations/postgres/0006_vacation_group_members.sql"),
    ),
];

fn migrator(backend: Backend) -> Migrator {
    let list = match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    };
    let migrations = list
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                (*sql).into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// Whether [`Store::connect`] would treat `url` as PostgreSQL (otherwise SQLite).
pub fn is_postgres_url(url: &str) -> bool {
    let url = url.trim();
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn sqlite_locations_accept_prefixes_and_bare_paths() {
        assert_eq!(
            sqlite_path("sqlite://data/cipp.db").unwrap(),
            Path::new("data/cipp.db")
        );
        assert_eq!(
            sqlite_path("sqlite:/tmp/x.db").unwrap(),
            Path::new("/tmp/x.db")
        );
        assert_eq!(sqlite_path("x.db").unwrap(), Path::new("x.db"));
        assert!(sqlite_path("sqlite::memory:").is_err());
        assert!(sqlite_path("sqlite://").is_err());
    }

    #[test]
    fn urls_in_errors_hide_the_password() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let versions = |l: &[(i64, &str, &str)]| l.iter().map(|m| m.0).collect::<Vec<_>>();
        assert_eq!(versions(SQLITE_MIGRATIONS), versions(POSTGRES_MIGRATIONS));
    }
}
