//! The engine against real SQLite files and (when `CIPP_TEST_DATABASE_URL` is set) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cipp_jobs::{
    Engine, EngineOptions, JobKind, JobRow, JobState, JobsDb, NewJob, NewStep, StepOutcome,
    StepRow, StepState,
};
use parking_lot::Mutex;

/// Counts every call per (job, step) and per replica; a step named `hang` never returns on
/// the replica told to hang, a step named `fail` fails.
#[derive(Default)]
struct Counting {
    calls: Mutex<HashMap<(String, String), u32>>,
    by_owner: Mutex<HashMap<String, u32>>,
    running: Mutex<HashMap<String, i64>>,
    max_running: Mutex<i64>,
    hang: bool,
    owner: String,
    shared: Option<Arc<Counting>>,
}

impl Counting {
    fn replica(shared: &Arc<Counting>, owner: &str, hang: bool) -> Arc<Self> {
        Arc::new(Self {
            hang,
            owner: owner.into(),
            shared: Some(shared.clone()),
            ..Default::default()
        })
    }
    fn total(&self) -> &Counting {
        self.shared.as_deref().unwrap_or(self)
    }
}

#[async_trait::async_trait]
impl JobKind for Counting {
    async fn run_step(&self, job: &JobRow, step: &StepRow, _log: &[StepRow]) -> StepOutcome {
        let t = self.total();
        *t.calls
            .lock()
            .entry((job.id.clone(), step.name.clone()))
            .or_default() += 1;
        *t.by_owner.lock().entry(self.owner.clone()).or_default() += 1;
        {
            let mut r = t.running.lock();
            let n = r.entry(job.tenant.clone()).or_default();
            *n += 1;
            let mut m = t.max_running.lock();
            *m = (*m).max(*n);
        }
        if step.name == "hang" && self.hang {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        *t.running.lock().entry(job.tenant.clone()).or_default() -= 1;
        if step.name == "fail" {
            StepOutcome::failed("it failed")
        } else {
            StepOutcome::succeeded(format!("{} done", step.name))
        }
    }
}

fn job(tenant: &str, steps: &[(&str, bool)], run_at: Option<time::OffsetDateTime>) -> NewJob {
    NewJob {
        id: None,
        deployment_id: "d1".into(),
        kind: "count".into(),
        tenant: tenant.into(),
        title: "user@contoso.com".into(),
        reference: Some("T-1".into()),
        created_by: None,
        payload: serde_json::json!({}),
        steps: steps
            .iter()
            .map(|(n, i)| NewStep {
                name: (*n).into(),
                idempotent: *i,
            })
            .collect(),
        run_at,
    }
}

fn opts(owner: &str, lease_ms: u64) -> EngineOptions {
    EngineOptions {
        owner: owner.into(),
        lease: Duration::from_millis(lease_ms),
        per_tenant: 2,
        per_replica: 8,
        retry_after: Duration::from_millis(200),
        poll: Duration::from_millis(100),
        heartbeat: Duration::from_secs(2),
    }
}

async fn sqlite_db(dir: &tempfile::TempDir) -> JobsDb {
    JobsDb::connect(dir.path().join("jobs.db").to_str().unwrap(), None)
        .await
        .unwrap()
}

async fn pg_db(schema: &str) -> Option<JobsDb> {
    let Ok(url) = std::env::var("CIPP_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CIPP_REQUIRE_DATABASE_TESTS").is_err(),
            "CIPP_TEST_DATABASE_URL is required"
        );
        eprintln!("skipped: CIPP_TEST_DATABASE_URL is unset");
        return None;
    };
    // A fresh schema per run so earlier runs' queue rows do not interfere.
    let schema = format!("{schema}_{}", std::process::id());
    Some(JobsDb::connect(&url, Some(&schema)).await.unwrap())
}

async fn wait_done(engine: &Engine, ids: &[String], secs: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let mut done = 0;
        for id in ids {
            if engine
                .job(id)
                .await
                .unwrap()
                .is_some_and(|j| matches!(j.state, JobState::Completed | JobState::Cancelled))
            {
                done += 1;
            }
        }
        if done == ids.len() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{done} of {} jobs finished in time",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_failed_step_does_not_stop_later_steps_and_the_job_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(&dir).await;
    let kind = Arc::new(Counting::default());
    let engine = Engine::new(db, opts("a", 2000)).with_kind("count", kind.clone());
    let _w = engine.start();
    let id = engine
        .enqueue(job(
            "t1",
            &[("one", false), ("fail", false), ("three", true)],
            None,
        ))
        .await
        .unwrap();
    wait_done(&engine, std::slice::from_ref(&id), 20).await;
    let j = engine.job(&id).await.unwrap().unwrap();
    assert_eq!(j.failed_steps, 1);
    let steps = engine.steps(&id).await.unwrap();
    let states: Vec<_> = steps.iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        [
            StepState::Succeeded,
            StepState::Failed,
            StepState::Succeeded
        ]
    );
    assert!(
        steps
            .iter()
            .all(|s| s.started_at.is_some() && s.ended_at.is_some())
    );
    assert_eq!(j.reference.as_deref(), Some("T-1"));
}

/// A replica dies inside a non-idempotent call: the next replica marks that step unknown and
/// never repeats it, re-runs an interrupted idempotent step, and finishes the job.
async fn an_interrupted_job_is_resumed(db_a: JobsDb, db_b: JobsDb) {
    let shared = Arc::new(Counting::default());
    let a =
        Engine::new(db_a, opts("a", 600)).with_kind("count", Counting::replica(&shared, "a", true));
    let b = Engine::new(db_b, opts("b", 600))
        .with_kind("count", Counting::replica(&shared, "b", false));
    // Enqueued through `a`, whose worker is not started: we drive it by hand and kill it.
    let id = a
        .enqueue(job(
            "t1",
            &[("first", false), ("hang", false), ("last", false)],
            None,
        ))
        .await
        .unwrap();
    let a2 = a.clone();
    let id2 = id.clone();
    let dying = tokio::spawn(async move { a2.process(&id2).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    dying.abort();
    let _ = dying.await;
    drop(a);
    let _w = b.start();
    wait_done(&b, std::slice::from_ref(&id), 30).await;
    let steps = b.steps(&id).await.unwrap();
    let states: Vec<_> = steps.iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        [
            StepState::Succeeded,
            StepState::Unknown,
            StepState::Succeeded
        ]
    );
    assert!(
        steps[1]
            .message
            .as_deref()
            .unwrap()
            .contains("not repeated")
    );
    assert_eq!(b.job(&id).await.unwrap().unwrap().failed_steps, 1);
    let calls = shared.calls.lock();
    for name in ["first", "hang", "last"] {
        assert_eq!(calls[&(id.clone(), name.to_owned())], 1, "{name} ran once");
    }
}

#[tokio::test]
async fn a_job_interrupted_on_sqlite_finishes_without_repeating_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(&dir).await;
    an_interrupted_job_is_resumed(db.clone(), db).await;
}

#[tokio::test]
async fn a_job_interrupted_on_postgres_finishes_without_repeating_a_step() {
    let Some(a) = pg_db("jobs_interrupt").await else {
        return;
    };
    an_interrupted_job_is_resumed(a.clone(), a).await;
}

/// Two replicas share 50 jobs; every non-idempotent step runs exactly once and both work.
async fn two_replicas_share_fifty_jobs(db: JobsDb) {
    let shared = Arc::new(Counting::default());
    let a = Engine::new(db.clone(), opts("a", 5000))
        .with_kind("count", Counting::replica(&shared, "a", false));
    let b =
        Engine::new(db, opts("b", 5000)).with_kind("count", Counting::replica(&shared, "b", false));
    let mut ids = Vec::new();
    for i in 0..50 {
        let tenant = format!("t{}", i % 5);
        ids.push(
            a.enqueue(job(
                &tenant,
                &[("s1", false), ("s2", false), ("s3", true)],
                None,
            ))
            .await
            .unwrap(),
        );
    }
    let _wa = a.start();
    let _wb = b.start();
    wait_done(&a, &ids, 90).await;
    let calls = shared.calls.lock();
    for id in &ids {
        for s in ["s1", "s2"] {
            assert_eq!(calls.get(&(id.clone(), s.to_owned())), Some(&1), "{id} {s}");
        }
    }
    let by_owner = shared.by_owner.lock();
    assert!(
        by_owner.get("a").copied().unwrap_or(0) > 0 && by_owner.get("b").copied().unwrap_or(0) > 0,
        "{by_owner:?}"
    );
}

#[tokio::test]
async fn two_replicas_on_postgres_run_each_step_of_fifty_jobs_once() {
    let Some(db) = pg_db("jobs_two").await else {
        return;
    };
    two_replicas_share_fifty_jobs(db).await;
}

#[tokio::test]
async fn two_replicas_on_one_sqlite_file_run_each_step_of_fifty_jobs_once() {
    let dir = tempfile::tempdir().unwrap();
    two_replicas_share_fifty_jobs(sqlite_db(&dir).await).await;
}

#[tokio::test]
async fn a_scheduled_job_waits_for_its_time_and_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(&dir).await;
    let shared = Arc::new(Counting::default());
    let a = Engine::new(db.clone(), opts("a", 2000))
        .with_kind("count", Counting::replica(&shared, "a", false));
    let b =
        Engine::new(db, opts("b", 2000)).with_kind("count", Counting::replica(&shared, "b", false));
    let at = time::OffsetDateTime::now_utc() + Duration::from_secs(2);
    let id = a
        .enqueue(job("t1", &[("only", false)], Some(at)))
        .await
        .unwrap();
    let _wa = a.start();
    let _wb = b.start();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(shared.calls.lock().is_empty(), "ran before its time");
    wait_done(&a, std::slice::from_ref(&id), 20).await;
    assert!(time::OffsetDateTime::now_utc() >= at);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(shared.calls.lock()[&(id.clone(), "only".to_owned())], 1);
}

#[tokio::test]
async fn a_cancelled_job_skips_its_steps() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(&dir).await;
    let kind = Arc::new(Counting::default());
    let engine = Engine::new(db, opts("a", 2000)).with_kind("count", kind.clone());
    let at = time::OffsetDateTime::now_utc() + Duration::from_secs(1);
    let id = engine
        .enqueue(job("t1", &[("one", false)], Some(at)))
        .await
        .unwrap();
    assert!(engine.cancel(&id).await.unwrap());
    let _w = engine.start();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        engine.job(&id).await.unwrap().unwrap().state,
        JobState::Cancelled
    );
    assert!(kind.calls.lock().is_empty());
}

#[tokio::test]
async fn a_tenant_never_has_more_jobs_running_than_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(&dir).await;
    let kind = Arc::new(Counting::default());
    let engine = Engine::new(db, opts("a", 2000)).with_kind("count", kind.clone());
    let mut ids = Vec::new();
    for _ in 0..8 {
        ids.push(
            engine
                .enqueue(job("t1", &[("x", true), ("y", true)], None))
                .await
                .unwrap(),
        );
    }
    let _w = engine.start();
    wait_done(&engine, &ids, 60).await;
    assert!(
        *kind.max_running.lock() <= 2,
        "max {}",
        kind.max_running.lock()
    );
}
