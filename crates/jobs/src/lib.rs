//! Durable step jobs: a job is an ordered list of steps run by one replica at a time.
//!
//! # Design
//!
//! Delivery is apalis 1.0 (`apalis-sqlite` by default, `apalis-postgres` for replicas): an
//! apalis task carries only a job id and is the doorbell that makes some worker look at the
//! job, at or after its scheduled time. The truth about a job lives in our own two tables,
//! `cipp_jobs` (one row per job, with its lease) and `cipp_job_steps` (one row per step, with
//! state, message, start and end), because apalis knows nothing of steps.
//!
//! * **Lease.** A worker runs a job only after an atomic `UPDATE` gave it the lease (owner and
//!   expiry). The lease is renewed while the job runs; a dead replica's lease expires and any
//!   worker may take the job over. Every step write is conditioned on still holding the lease,
//!   so a replica that lost it cannot overwrite the new owner's log.
//! * **Step outcome before the next step.** A step is marked `running` (committed) before its
//!   call and its outcome is committed before the next one is marked.
//! * **At least once vs at most once.** A step found `running` when a job is (re)claimed was
//!   interrupted mid-call. If the step is idempotent it is run again and the re-run is logged in
//!   its message; if not, it is marked `unknown`, reported, and never repeated.
//! * **Per-tenant concurrency** is part of the claim: a job is not claimed while its tenant
//!   already has the configured number of jobs under a live lease; the worker re-rings later.
//! * **Cancellation** marks the job; the runner checks it between steps and skips the rest.
//! * **Separate database.** apalis runs its own sqlx migrations (in `_sqlx_migrations`), which
//!   would clash with the store's migrator in the same database; so the queue lives in its own
//!   SQLite file or PostgreSQL schema. apalis-sqlite also sets `synchronous = OFF` on its
//!   connections; our step log uses its own pool with `synchronous = FULL`.

mod db;
mod engine;
pub mod progress;

pub use db::{JobsDb, JobsDbError};
pub use engine::{
    Engine, EngineOptions, JobError, JobKind, JobPlanner, JobRow, JobState, NewJob, NewStep,
    Removal, StepOutcome, StepRow, StepState,
};
