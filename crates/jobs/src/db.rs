//! The jobs database: one SQLite file or one PostgreSQL schema, shared by apalis' queue tables
//! and our job/step tables.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

#[derive(Debug, thiserror::Error)]
pub enum JobsDbError {
    #[error("jobs database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("jobs queue setup: {0}")]
    Queue(String),
    #[error("jobs database schema name {0:?} is not a plain identifier")]
    BadSchema(String),
}

/// Same text on both backends: SQLite accepts `BIGINT`/`INTEGER` and `$n` placeholders.
const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS cipp_jobs (
        id TEXT PRIMARY KEY,
        deployment_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        tenant TEXT NOT NULL,
        title TEXT NOT NULL,
        reference TEXT,
        created_by TEXT,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        run_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        started_at BIGINT,
        finished_at BIGINT,
        lease_owner TEXT,
        lease_until BIGINT,
        failed_steps INTEGER NOT NULL DEFAULT 0
    )",
    "CREATE TABLE IF NOT EXISTS cipp_job_steps (
        job_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        name TEXT NOT NULL,
        idempotent INTEGER NOT NULL,
        state TEXT NOT NULL,
        message TEXT,
        started_at BIGINT,
        ended_at BIGINT,
        attempts INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (job_id, idx)
    )",
    "CREATE INDEX IF NOT EXISTS cipp_jobs_deployment ON cipp_jobs (deployment_id)",
];

/// The advisory lock serialising the jobs tables' setup across replicas ("cippjobs" in ASCII).
const SETUP_LOCK: i64 = 0x6369_7070_6a6f_6273;

/// The pools of the jobs database. Cheap to clone.
#[derive(Clone, Debug)]
pub enum JobsDb {
    Sqlite {
        /// Our step log: `synchronous = FULL`, so a committed step outcome survives power loss.
        log: SqlitePool,
        /// apalis' own pool: its setup switches its connections to `synchronous = OFF`.
        queue: SqlitePool,
    },
    Postgres(PgPool),
}

impl JobsDb {
    /// `postgres://...` (with `schema`, created if missing) or a SQLite path / `sqlite:` URL.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self, JobsDbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut opts = PgConnectOptions::from_str(url)?;
            // Replicas starting at once would race on CREATE SCHEMA/EXTENSION and apalis'
            // migrations (a replica then failed to start); one at a time, under a session lock
            // this connection holds until the setup is done.
            let setup = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(SETUP_LOCK)
                .execute(&setup)
                .await?;
            if let Some(schema) = schema {
                if !schema
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Err(JobsDbError::BadSchema(schema.to_owned()));
                }
                let admin = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(opts.clone())
                    .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "CREATE SCHEMA IF NOT EXISTS {schema}"
                )))
                .execute(&admin)
                .await?;
                // apalis' migrations need hstore; an extension lives in one schema per
                // database, so it goes to `public`, which stays on the search path.
                sqlx::query("CREATE EXTENSION IF NOT EXISTS hstore SCHEMA public")
                    .execute(&admin)
                    .await?;
                admin.close().await;
                opts = opts.options([("search_path", format!("{schema},public"))]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            apalis_postgres::PostgresStorage::<()>::setup(&pool)
                .await
                .map_err(|e| JobsDbError::Queue(e.to_string()))?;
            for stmt in SCHEMA {
                sqlx::query(stmt).execute(&pool).await?;
            }
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(SETUP_LOCK)
                .execute(&setup)
                .await?;
            setup.close().await;
            return Ok(Self::Postgres(pool));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let base = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        let log = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(base.clone().synchronous(SqliteSynchronous::Full))
            .await?;
        let queue = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(base)
            .await?;
        apalis_sqlite::SqliteStorage::<()>::setup(&queue)
            .await
            .map_err(|e| JobsDbError::Queue(e.to_string()))?;
        for stmt in SCHEMA {
            sqlx::query(stmt).execute(&log).await?;
        }
        Ok(Self::Sqlite { log, queue })
    }
}
