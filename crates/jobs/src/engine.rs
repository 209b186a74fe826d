//! The job runner: claim with a lease, run steps in order, write each outcome before the next.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{
    BackendExt, BoxDynError, Data, PollSnapshot, PollStrategy, TaskBuilder, TaskSink,
    WorkerBuilder, WorkerBuilderExt,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::db::JobsDb;

/// Runs `$body` once per backend with `$pool` bound to the step-log pool.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            JobsDb::Sqlite { log: $pool, .. } => $body,
            JobsDb::Postgres($pool) => $body,
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("jobs database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("job queue: {0}")]
    Queue(String),
    #[error("no job kind {0:?} is registered")]
    UnknownKind(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
    Unknown,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Unknown => "unknown",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "skipped" => Self::Skipped,
            "unknown" => Self::Unknown,
            _ => Self::Pending,
        }
    }
}

/// A job's overall state. `Completed` with `failed_steps > 0` is a job that ran every step
/// but some failed; the count is in [`JobRow::failed_steps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Completed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "completed" => Self::Completed,
            "cancelled" => Self::Cancelled,
            _ => Self::Queued,
        }
    }
}

/// What a step's call came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepOutcome {
    pub state: StepState,
    pub message: String,
}

impl StepOutcome {
    pub fn succeeded(message: impl Into<String>) -> Self {
        Self {
            state: StepState::Succeeded,
            message: message.into(),
        }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            state: StepState::Failed,
            message: message.into(),
        }
    }
    pub fn skipped(message: impl Into<String>) -> Self {
        Self {
            state: StepState::Skipped,
            message: message.into(),
        }
    }
}

/// The steps of one kind of job. Implementations call the same domain functions the
/// operations call; they know nothing of HTTP.
#[async_trait::async_trait]
pub trait JobKind: Send + Sync + 'static {
    /// Runs step `step.name` of `job`. A failure is an outcome, not an error: later steps run.
    /// `log` is every step of the job as recorded just before this one started (a closing step
    /// such as a notification reports the others' outcomes).
    async fn run_step(&self, job: &JobRow, step: &StepRow, log: &[StepRow]) -> StepOutcome;

    /// Called once the job has finished (every step has an outcome), with its final row and
    /// steps, by the replica that finished it. Errors are the kind's to report.
    async fn finished(&self, _job: &JobRow, _steps: &[StepRow]) {}
}

#[derive(Clone, Debug)]
pub struct NewStep {
    pub name: String,
    /// True when running the call twice has the same effect as once (it may re-run after a crash).
    pub idempotent: bool,
}

#[derive(Clone, Debug)]
pub struct NewJob {
    /// `None`: a new id. A given id that exists already is an error, never a second job.
    pub id: Option<String>,
    pub deployment_id: String,
    pub kind: String,
    pub tenant: String,
    /// What the job is about, as lists show it (e.g. the user's UPN).
    pub title: String,
    pub reference: Option<String>,
    pub created_by: Option<String>,
    pub payload: serde_json::Value,
    pub steps: Vec<NewStep>,
    /// `None`: as soon as possible.
    pub run_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Serialize)]
pub struct JobRow {
    pub id: String,
    pub deployment_id: String,
    pub kind: String,
    pub tenant: String,
    pub title: String,
    pub reference: Option<String>,
    pub created_by: Option<String>,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub run_at: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub failed_steps: i32,
}

#[derive(Clone, Debug, Serialize)]
pub struct StepRow {
    pub idx: i32,
    pub name: String,
    pub idempotent: bool,
    pub state: StepState,
    pub message: Option<String>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub attempts: i32,
}

#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Names this replica in leases and logs.
    pub owner: String,
    pub lease: Duration,
    pub per_tenant: i64,
    /// Jobs this replica runs at once (the apalis worker's concurrency and fetch size). Besides
    /// bounding one process's load it makes replicas share the work: a replica at its cap
    /// fetches nothing, so the queue's due tasks go to the others. (apalis' due times are whole
    /// seconds; without the cap, the replica whose poll came first after each second fetched
    /// every due task, and one of two replicas ran all 50 jobs of a bulk offboarding.)
    pub per_replica: usize,
    /// How long a job that could not be claimed (tenant busy, leased elsewhere) waits to re-ring.
    pub retry_after: Duration,
    /// How often the apalis worker looks for due tasks.
    pub poll: Duration,
    /// apalis' worker heartbeat; a worker missing two is dead and its tasks are re-queued.
    pub heartbeat: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            owner: uuid::Uuid::new_v4().to_string(),
            lease: Duration::from_secs(30),
            per_tenant: 4,
            per_replica: 16,
            retry_after: Duration::from_secs(2),
            poll: Duration::from_secs(1),
            heartbeat: Duration::from_secs(10),
        }
    }
}

/// The job engine of one replica. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
    /// Set on a `WhatIf` clone: [`Engine::enqueue`] hands each job here instead of queuing it.
    planner: Option<JobPlanner>,
}

/// Receives the jobs a dry run would have queued.
pub type JobPlanner = Arc<dyn Fn(&NewJob) + Send + Sync>;

struct Inner {
    db: JobsDb,
    opts: EngineOptions,
    kinds: HashMap<String, Arc<dyn JobKind>>,
    /// Jobs this replica is running now. The lease lets its owner claim again, so without
    /// this a job delivered twice to one replica (the queue's task and the sweeper's re-ring)
    /// ran twice at once, repeating non-idempotent steps (seen in CI under load).
    running: parking_lot::Mutex<HashSet<String>>,
    /// Wakes this replica's worker at once when it queues a job due now, so the job starts
    /// without waiting for the next poll (up to a second: long beside a BEC check's own time).
    nudge: Arc<tokio::sync::Notify>,
}

/// Marks a job as running in this replica until dropped (also when its task is aborted).
struct RunningGuard<'a> {
    running: &'a parking_lot::Mutex<HashSet<String>>,
    id: String,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        self.running.lock().remove(&self.id);
    }
}

/// The apalis queue name; every job kind shares it (the task is only a job id).
const QUEUE: &str = "cipp-jobs";

fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

fn now() -> i64 {
    micros(OffsetDateTime::now_utc())
}

fn dur_micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

type JobTuple = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    i32,
);

const JOB_COLS: &str = "id, deployment_id, kind, tenant, title, reference, created_by, payload, state, run_at, created_at, started_at, finished_at, failed_steps";

fn job_from(t: JobTuple) -> JobRow {
    JobRow {
        id: t.0,
        deployment_id: t.1,
        kind: t.2,
        tenant: t.3,
        title: t.4,
        reference: t.5,
        created_by: t.6,
        payload: serde_json::from_str(&t.7).unwrap_or(serde_json::Value::Null),
        state: JobState::parse(&t.8),
        run_at: t.9,
        created_at: t.10,
        started_at: t.11,
        finished_at: t.12,
        failed_steps: t.13,
    }
}

type StepTuple = (
    i32,
    String,
    i32,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i32,
);

fn step_from(t: StepTuple) -> StepRow {
    StepRow {
        idx: t.0,
        name: t.1,
        idempotent: t.2 != 0,
        state: StepState::parse(&t.3),
        message: t.4,
        started_at: t.5,
        ended_at: t.6,
        attempts: t.7,
    }
}

/// Why a claim did not give us the job.
enum Claim {
    Got(Box<JobRow>),
    /// Finished, cancelled or missing: nothing more to do for this doorbell.
    Gone,
    /// Not yet due, tenant busy, or leased by a live replica: ring again later.
    Later(Duration),
}

impl Engine {
    pub fn new(db: JobsDb, opts: EngineOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                opts,
                kinds: HashMap::new(),
                running: parking_lot::Mutex::new(HashSet::new()),
                nudge: Arc::new(tokio::sync::Notify::new()),
            }),
            planner: None,
        }
    }

    /// A clone that queues nothing: each job it is given goes to `planner`, for a dry run's
    /// answer. Reads still read the real queue.
    pub fn planning(&self, planner: JobPlanner) -> Engine {
        Engine {
            inner: self.inner.clone(),
            planner: Some(planner),
        }
    }

    /// Whether this is a dry run's clone.
    pub fn is_planning(&self) -> bool {
        self.planner.is_some()
    }

    /// Registers a job kind; call before [`Engine::start`].
    pub fn with_kind(mut self, name: &str, kind: Arc<dyn JobKind>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.kinds.insert(name.to_owned(), kind);
        }
        self
    }

    pub fn owner(&self) -> &str {
        &self.inner.opts.owner
    }

    /// Writes the job and its steps, then rings the queue at its start time.
    pub async fn enqueue(&self, job: NewJob) -> Result<String, JobError> {
        if !self.inner.kinds.contains_key(&job.kind) {
            return Err(JobError::UnknownKind(job.kind));
        }
        let id = job
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if let Some(planner) = &self.planner {
            planner(&job);
            return Ok(id);
        }
        let created = now();
        let run_at = job.run_at.map(micros).unwrap_or(created);
        let payload = job.payload.to_string();
        on_db!(&self.inner.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO cipp_jobs (id, deployment_id, kind, tenant, title, reference, created_by, payload, state, run_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10)")
                .bind(&id).bind(&job.deployment_id).bind(&job.kind).bind(&job.tenant).bind(&job.title)
                .bind(&job.reference).bind(&job.created_by).bind(&payload).bind(run_at).bind(created)
                .execute(&mut *tx).await?;
            for (i, step) in job.steps.iter().enumerate() {
                sqlx::query("INSERT INTO cipp_job_steps (job_id, idx, name, idempotent, state) VALUES ($1, $2, $3, $4, 'pending')")
                    .bind(&id).bind(i32::try_from(i).unwrap_or(i32::MAX)).bind(&step.name).bind(i32::from(step.idempotent))
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        let delay = Duration::from_micros(u64::try_from(run_at - created).unwrap_or(0));
        self.ring(&id, delay).await?;
        if delay.is_zero() {
            // A stored permit when the worker is busy: its next look comes at once.
            self.inner.nudge.notify_one();
        }
        Ok(id)
    }

    fn sqlite_queue(&self, pool: &sqlx::SqlitePool) -> apalis_sqlite::SqliteStorage<String> {
        let cfg = apalis_sqlite::Config {
            queue: QUEUE.into(),
            heartbeat_interval: self.inner.opts.heartbeat,
            batch_size: self.inner.opts.per_replica.max(1),
            ..Default::default()
        };
        apalis_sqlite::SqliteStorage::new(pool).with_config(cfg)
    }

    fn pg_queue(&self, pool: &sqlx::PgPool) -> apalis_postgres::PostgresStorage<String> {
        let cfg = apalis_postgres::Config {
            queue: QUEUE.into(),
            heartbeat_interval: self.inner.opts.heartbeat,
            batch_size: self.inner.opts.per_replica.max(1),
            ..Default::default()
        };
        apalis_postgres::PostgresStorage::new(pool).with_config(cfg)
    }

    /// Pushes an apalis task carrying the job id, due after `delay`.
    async fn ring(&self, id: &str, delay: Duration) -> Result<(), JobError> {
        let task = TaskBuilder::new(id.to_owned()).run_after(delay).build();
        match &self.inner.db {
            JobsDb::Sqlite { queue, .. } => {
                let mut s = self.sqlite_queue(queue);
                s.push_task(task)
                    .await
                    .map_err(|e| JobError::Queue(e.to_string()))
            }
            JobsDb::Postgres(pool) => {
                let mut s = self.pg_queue(pool);
                s.push_task(task)
                    .await
                    .map_err(|e| JobError::Queue(e.to_string()))
            }
        }
    }

    /// Starts this replica's apalis worker and the sweeper that re-rings jobs whose lease
    /// expired (a replica died with them). Returns the tasks' handle; drop it to keep running.
    pub fn start(&self) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let sweeper = engine.clone();
            tokio::spawn(async move { sweeper.sweep_loop().await });
            let name = format!("cipp-jobs-{}", engine.owner());
            let result = match &engine.inner.db {
                JobsDb::Sqlite { queue, .. } => {
                    let backend = engine
                        .sqlite_queue(queue)
                        .poll_with_strategy(EveryTick::new(
                            engine.inner.opts.poll,
                            engine.inner.nudge.clone(),
                        ));
                    WorkerBuilder::new(name)
                        .backend(backend)
                        .concurrency(engine.inner.opts.per_replica.max(1))
                        .data(engine.clone())
                        .build(handle)
                        .run()
                        .await
                }
                JobsDb::Postgres(pool) => {
                    let backend = engine.pg_queue(pool).poll_with_strategy(EveryTick::new(
                        engine.inner.opts.poll,
                        engine.inner.nudge.clone(),
                    ));
                    WorkerBuilder::new(name)
                        .backend(backend)
                        .concurrency(engine.inner.opts.per_replica.max(1))
                        .data(engine.clone())
                        .build(handle)
                        .run()
                        .await
                }
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "job worker stopped");
            }
        })
    }

    async fn sweep_loop(&self) {
        loop {
            if let Err(e) = self.sweep().await {
                tracing::warn!(error = %e, "job sweep failed");
            }
            tokio::time::sleep(self.inner.opts.lease / 2).await;
        }
    }

    /// Re-rings every unfinished, due job nobody holds a live lease on. Duplicate rings are
    /// harmless: only one claim succeeds.
    pub async fn sweep(&self) -> Result<usize, JobError> {
        let t = now();
        let ids: Vec<(String,)> = on_db!(&self.inner.db, pool => {
            sqlx::query_as("SELECT id FROM cipp_jobs WHERE state = 'running' AND lease_until < $1")
                .bind(t).fetch_all(pool).await?
        });
        for (id,) in &ids {
            tracing::info!(job = %id, "job lease expired; resuming");
            self.ring(id, Duration::ZERO).await?;
        }
        Ok(ids.len())
    }

    async fn claim(&self, id: &str) -> Result<Claim, JobError> {
        let t = now();
        let o = &self.inner.opts;
        let until = t.saturating_add(dur_micros(o.lease));
        let claimed: Option<JobTuple> = on_db!(&self.inner.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("UPDATE cipp_jobs SET state = 'running', lease_owner = $1, lease_until = $2, started_at = COALESCE(started_at, $3) \
                 WHERE id = $4 AND state IN ('queued', 'running') AND run_at <= $3 \
                   AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $3) \
                   AND (SELECT COUNT(*) FROM cipp_jobs o WHERE o.tenant = cipp_jobs.tenant AND o.id <> cipp_jobs.id AND o.state = 'running' AND o.lease_until >= $3) < $5 \
                 RETURNING {JOB_COLS}")))
                .bind(&o.owner).bind(until).bind(t).bind(id).bind(o.per_tenant)
                .fetch_optional(pool).await?
        });
        if let Some(row) = claimed {
            return Ok(Claim::Got(Box::new(job_from(row))));
        }
        match self.job(id).await? {
            None => Ok(Claim::Gone),
            Some(j) if matches!(j.state, JobState::Completed | JobState::Cancelled) => {
                Ok(Claim::Gone)
            }
            Some(j) if j.run_at > t => Ok(Claim::Later(Duration::from_micros(
                u64::try_from(j.run_at - t).unwrap_or(0),
            ))),
            Some(_) => Ok(Claim::Later(self.retry_delay())),
        }
    }

    /// Renews the lease; false when another replica took the job (we then stop after this step).
    async fn renew(&self, id: &str) -> Result<bool, JobError> {
        let until = now().saturating_add(dur_micros(self.inner.opts.lease));
        let n = on_db!(&self.inner.db, pool => {
            sqlx::query("UPDATE cipp_jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'")
                .bind(until).bind(id).bind(&self.inner.opts.owner).execute(pool).await?.rows_affected()
        });
        Ok(n == 1)
    }

    /// Writes a step's state, only while we hold the job's lease.
    async fn write_step(
        &self,
        id: &str,
        idx: i32,
        state: StepState,
        message: Option<&str>,
        start: bool,
    ) -> Result<bool, JobError> {
        let t = now();
        let (started, ended, bump) = if start {
            (Some(t), None, 1)
        } else {
            (None, Some(t), 0)
        };
        let n = on_db!(&self.inner.db, pool => {
            sqlx::query("UPDATE cipp_job_steps SET state = $1, message = COALESCE($2, message), started_at = COALESCE($3, started_at), ended_at = $4, attempts = attempts + $5 \
                 WHERE job_id = $6 AND idx = $7 AND EXISTS (SELECT 1 FROM cipp_jobs j WHERE j.id = $6 AND j.lease_owner = $8)")
                .bind(state.as_str()).bind(message).bind(started).bind(ended).bind(bump).bind(id).bind(idx).bind(&self.inner.opts.owner)
                .execute(pool).await?.rows_affected()
        });
        Ok(n == 1)
    }

    /// Runs a claimed job to its end (or until the lease is lost).
    async fn run(&self, job: JobRow) -> Result<(), JobError> {
        let kind = self
            .inner
            .kinds
            .get(&job.kind)
            .cloned()
            .ok_or_else(|| JobError::UnknownKind(job.kind.clone()))?;
        for step in self.steps(&job.id).await? {
            if !self.renew(&job.id).await? {
                tracing::warn!(job = %job.id, "lease lost; another replica continues the job");
                return Ok(());
            }
            let cancelled = self
                .job(&job.id)
                .await?
                .is_some_and(|j| j.state == JobState::Cancelled);
            match step.state {
                StepState::Succeeded
                | StepState::Failed
                | StepState::Skipped
                | StepState::Unknown => continue,
                StepState::Running if !step.idempotent => {
                    tracing::warn!(job = %job.id, step = %step.name, "step was interrupted mid-call; not idempotent, so not repeated");
                    self.write_step(&job.id, step.idx, StepState::Unknown, Some("Interrupted during the call; the outcome is unknown and the step is not repeated because repeating it is not safe. Check it by hand."), false).await?;
                    continue;
                }
                _ => {}
            }
            if cancelled {
                self.write_step(
                    &job.id,
                    step.idx,
                    StepState::Skipped,
                    Some("Skipped: the job was cancelled."),
                    false,
                )
                .await?;
                continue;
            }
            if step.state == StepState::Running {
                tracing::info!(job = %job.id, step = %step.name, attempt = step.attempts + 1, "re-running an interrupted idempotent step");
            }
            if !self
                .write_step(&job.id, step.idx, StepState::Running, None, true)
                .await?
            {
                return Ok(());
            }
            let log = self.steps(&job.id).await?;
            let mut outcome = self
                .with_renewal(&job.id, kind.run_step(&job, &step, &log))
                .await;
            if step.state == StepState::Running {
                outcome.message = format!(
                    "{} (re-run after an interruption; attempt {})",
                    outcome.message,
                    step.attempts + 1
                );
            }
            if !self
                .write_step(
                    &job.id,
                    step.idx,
                    outcome.state,
                    Some(&outcome.message),
                    false,
                )
                .await?
            {
                tracing::warn!(job = %job.id, step = %step.name, "lease lost while the step ran; its outcome was not recorded by this replica");
                return Ok(());
            }
        }
        let t = now();
        on_db!(&self.inner.db, pool => {
            sqlx::query("UPDATE cipp_jobs SET state = CASE WHEN state = 'cancelled' THEN 'cancelled' ELSE 'completed' END, finished_at = $1, lease_owner = NULL, lease_until = NULL, \
                 failed_steps = (SELECT COUNT(*) FROM cipp_job_steps s WHERE s.job_id = $2 AND s.state IN ('failed', 'unknown')) \
                 WHERE id = $2 AND lease_owner = $3")
                .bind(t).bind(&job.id).bind(&self.inner.opts.owner).execute(pool).await?;
        });
        if let Some(done) = self.job(&job.id).await?
            && matches!(done.state, JobState::Completed | JobState::Cancelled)
        {
            let steps = self.steps(&job.id).await?;
            kind.finished(&done, &steps).await;
        }
        Ok(())
    }

    /// Keeps the lease alive while a step's call runs, so a slow call is not taken for a dead replica.
    async fn with_renewal<F: std::future::Future<Output = StepOutcome>>(
        &self,
        id: &str,
        call: F,
    ) -> StepOutcome {
        let renew = async {
            loop {
                tokio::time::sleep(self.inner.opts.lease / 3).await;
                if let Err(e) = self.renew(id).await {
                    tracing::warn!(job = %id, error = %e, "lease renewal failed");
                }
            }
        };
        tokio::select! {
            outcome = call => outcome,
            () = renew => StepOutcome::failed("lease renewal stopped"),
        }
    }

    /// When a job that could not be claimed rings again: `retry_after` give or take half, so
    /// the jobs a busy tenant turned away do not all come due in the same second.
    fn retry_delay(&self) -> Duration {
        self.inner
            .opts
            .retry_after
            .mul_f64(rand::random_range(0.5..1.5))
    }

    /// Claims and runs job `id` if it is due and free; otherwise rings again later.
    pub async fn process(&self, id: &str) -> Result<(), JobError> {
        if !self.inner.running.lock().insert(id.to_owned()) {
            // This replica is running it already; the other delivery is a duplicate ring.
            return Ok(());
        }
        let running = RunningGuard {
            running: &self.inner.running,
            id: id.to_owned(),
        };
        match self.claim(id).await? {
            Claim::Got(job) => self.run(*job).await,
            Claim::Gone => Ok(()),
            Claim::Later(d) => {
                // Released before ringing: the new ring may be delivered at once.
                drop(running);
                self.ring(id, d).await
            }
        }
    }

    /// Cancels a job that has not finished; true if it was cancelled. Running steps finish first.
    pub async fn cancel(&self, id: &str) -> Result<bool, JobError> {
        let t = now();
        let n = on_db!(&self.inner.db, pool => {
            sqlx::query("UPDATE cipp_jobs SET state = 'cancelled', finished_at = CASE WHEN lease_owner IS NULL THEN $1 ELSE finished_at END WHERE id = $2 AND state IN ('queued', 'running')")
                .bind(t).bind(id).execute(pool).await?.rows_affected()
        });
        Ok(n == 1)
    }

    pub async fn job(&self, id: &str) -> Result<Option<JobRow>, JobError> {
        let row: Option<JobTuple> = on_db!(&self.inner.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM cipp_jobs WHERE id = $1"))).bind(id).fetch_optional(pool).await?
        });
        Ok(row.map(job_from))
    }

    pub async fn steps(&self, id: &str) -> Result<Vec<StepRow>, JobError> {
        let rows: Vec<StepTuple> = on_db!(&self.inner.db, pool => {
            sqlx::query_as("SELECT idx, name, idempotent, state, message, started_at, ended_at, attempts FROM cipp_job_steps WHERE job_id = $1 ORDER BY idx")
                .bind(id).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(step_from).collect())
    }

    pub async fn by_deployment(&self, deployment_id: &str) -> Result<Vec<JobRow>, JobError> {
        let rows: Vec<JobTuple> = on_db!(&self.inner.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM cipp_jobs WHERE deployment_id = $1 ORDER BY created_at, id")))
                .bind(deployment_id).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(job_from).collect())
    }

    /// Queues a finished job again, now: every step (`step: None`) or one step by index goes
    /// back to pending, the others keep their outcome; the job's final state is counted anew.
    /// `Ok(false)` when the job is missing, not finished, or has no such step.
    pub async fn rerun(&self, id: &str, step: Option<i32>) -> Result<bool, JobError> {
        let t = now();
        let changed = on_db!(&self.inner.db, pool => {
            let mut tx = pool.begin().await?;
            let steps = match step {
                Some(idx) => sqlx::query("UPDATE cipp_job_steps SET state = 'pending', message = NULL, started_at = NULL, ended_at = NULL WHERE job_id = $1 AND idx = $2 AND EXISTS (SELECT 1 FROM cipp_jobs j WHERE j.id = $1 AND j.state IN ('completed', 'cancelled'))")
                    .bind(id).bind(idx).execute(&mut *tx).await?.rows_affected(),
                None => sqlx::query("UPDATE cipp_job_steps SET state = 'pending', message = NULL, started_at = NULL, ended_at = NULL WHERE job_id = $1 AND EXISTS (SELECT 1 FROM cipp_jobs j WHERE j.id = $1 AND j.state IN ('completed', 'cancelled'))")
                    .bind(id).execute(&mut *tx).await?.rows_affected(),
            };
            let job = if steps > 0 {
                sqlx::query("UPDATE cipp_jobs SET state = 'queued', run_at = $1, finished_at = NULL, failed_steps = 0, lease_owner = NULL, lease_until = NULL WHERE id = $2 AND state IN ('completed', 'cancelled')")
                    .bind(t).bind(id).execute(&mut *tx).await?.rows_affected()
            } else {
                0
            };
            tx.commit().await?;
            job == 1
        });
        if changed {
            self.ring(id, Duration::ZERO).await?;
        }
        Ok(changed)
    }

    /// How many jobs are in each state: `queued`, `running`, `completed`, `failed` (completed
    /// with failed or unknown steps) and `cancelled`; states with no job are absent.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, JobError> {
        let rows: Vec<(String, i64)> = on_db!(&self.inner.db, pool => {
            sqlx::query_as("SELECT CASE WHEN state = 'completed' AND failed_steps > 0 THEN 'failed' ELSE state END AS s, COUNT(*) FROM cipp_jobs GROUP BY s")
                .fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Every job, the latest scheduled first (ListScheduledItems' rows).
    pub async fn all(&self) -> Result<Vec<JobRow>, JobError> {
        let rows: Vec<JobTuple> = on_db!(&self.inner.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM cipp_jobs ORDER BY run_at DESC, created_at DESC, id")))
                .fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(job_from).collect())
    }

    /// Removes a job that no replica is running: its row and its steps. A job running now is
    /// cancelled instead (its current step finishes, the rest are skipped) and kept, so its log
    /// stays whole; the answer says which happened.
    pub async fn remove(&self, id: &str) -> Result<Removal, JobError> {
        let t = now();
        let deleted = on_db!(&self.inner.db, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query("DELETE FROM cipp_jobs WHERE id = $1 AND NOT (state = 'running' AND lease_until >= $2)")
                .bind(id).bind(t).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                sqlx::query("DELETE FROM cipp_job_steps WHERE job_id = $1").bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n
        });
        if deleted == 1 {
            return Ok(Removal::Removed);
        }
        if self.cancel(id).await? {
            return Ok(Removal::Cancelled);
        }
        Ok(Removal::NotFound)
    }

    /// Jobs that have not started yet or are still running (ListScheduledItems' rows).
    pub async fn unfinished(&self) -> Result<Vec<JobRow>, JobError> {
        let rows: Vec<JobTuple> = on_db!(&self.inner.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM cipp_jobs WHERE state IN ('queued', 'running') ORDER BY run_at, id")))
                .fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(job_from).collect())
    }
}

/// What [`Engine::remove`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// It was running: cancelled, and kept until it stops.
    Cancelled,
    NotFound,
}

/// Wakes the apalis worker every `period` to look for due tasks, and at once when this replica
/// queued a job due now (`nudge`). apalis' own interval strategy arms its next delay without
/// polling it, so no waker is registered for it; a worker whose fetch finished without yielding
/// was then never woken again (one of two replicas stopped fetching for good in the replicas
/// test). Here the next tick and the next nudge are polled at once, which registers the waker
/// for both.
struct EveryTick {
    interval: tokio::time::Interval,
    nudge: Arc<tokio::sync::Notify>,
    nudged: std::pin::Pin<Box<tokio::sync::futures::OwnedNotified>>,
}

impl EveryTick {
    fn new(period: Duration, nudge: Arc<tokio::sync::Notify>) -> Self {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let nudged = Box::pin(nudge.clone().notified_owned());
        Self {
            interval,
            nudge,
            nudged,
        }
    }
}

impl PollStrategy for EveryTick {
    fn poll_drive(
        &mut self,
        cx: &mut std::task::Context<'_>,
        _: &PollSnapshot,
    ) -> std::task::Poll<Option<()>> {
        if self.nudged.as_mut().poll(cx).is_ready() {
            // Arms the next nudge (registering the waker) before fetching.
            self.nudged = Box::pin(self.nudge.clone().notified_owned());
            let _ = self.nudged.as_mut().poll(cx);
            return std::task::Poll::Ready(Some(()));
        }
        match self.interval.poll_tick(cx) {
            std::task::Poll::Ready(_) => {
                // Registers the waker for the following tick (it is `period` away, so Pending).
                let _ = self.interval.poll_tick(cx);
                std::task::Poll::Ready(Some(()))
            }
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

/// apalis' handler: the task is only a job id.
async fn handle(id: String, engine: Data<Engine>) -> Result<(), BoxDynError> {
    engine.process(&id).await.map_err(|e| {
        tracing::warn!(job = %id, error = %e, "job run failed; the lease sweeper resumes it");
        Box::new(e) as BoxDynError
    })
}
