//! Offboarding jobs across real processes: two replicas on one PostgreSQL share 50 jobs and run
//! every non-idempotent step exactly once; a process killed (SIGKILL) in the middle of a step
//! leaves a job that the restarted process finishes without repeating that step. Each process
//! runs demo mode with its own simulator from the same seed, so the tenants, users and ids are
//! the same and the simulators' counters add up to what the jobs did.

use crate::helpers::{drop_database, fresh_database, postgres_url};
use crate::process::{Service, start};
use serde_json::{Value, json};
use std::time::Duration;

fn sim_base(service: &Service) -> url::Url {
    let mut url: url::Url = service.token_url.parse().unwrap();
    url.set_path("/");
    url
}

/// The simulator's request counts: (method, path, count).
async fn sim_requests(service: &Service) -> Vec<(String, String, u64)> {
    let stats: Value = service
        .http
        .get(sim_base(service).join("_sim/stats").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap_or_default().to_owned(),
                r["path"].as_str().unwrap_or_default().to_owned(),
                r["count"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// How many times a user's password was set (the offboarding's one non-idempotent call here:
/// `PATCH v1.0/users/{upn}` with a password profile; no other step of these jobs patches users).
fn password_sets(requests: &[(String, String, u64)], upn: &str) -> u64 {
    let encoded = upn.replace('@', "%40");
    requests
        .iter()
        .filter(|(method, path, _)| {
            method == "PATCH"
                && path.contains("/users/")
                && (path.ends_with(upn) || path.ends_with(&encoded))
        })
        .map(|(_, _, n)| n)
        .sum()
}

async fn get(service: &Service, path: &str, token: &str) -> Value {
    service
        .call(reqwest::Method::GET, path, token, None)
        .await
        .json()
        .await
        .unwrap()
}

/// The demo tenant with the most cloud member users, and those users' UPNs.
async fn cloud_users(service: &Service, token: &str) -> (String, Vec<String>) {
    let tenants = get(service, "/api/ListTenants", token).await;
    let mut best = (String::new(), Vec::new());
    for tenant in tenants.as_array().unwrap() {
        let domain = tenant["defaultDomainName"].as_str().unwrap().to_owned();
        let users = get(
            service,
            &format!("/api/ListUsers?tenantFilter={domain}"),
            token,
        )
        .await;
        let upns: Vec<String> = users
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["onPremisesSyncEnabled"] != true && u["userType"] == "Member")
            .map(|u| u["userPrincipalName"].as_str().unwrap().to_owned())
            .collect();
        if upns.len() > best.1.len() {
            best = (domain, upns);
        }
    }
    best
}

async fn progress(service: &Service, deployment: &str, token: &str) -> Vec<Value> {
    get(
        service,
        &format!("/api/ListOffboardingProgress?DeploymentId={deployment}"),
        token,
    )
    .await
    .as_array()
    .unwrap()
    .clone()
}

fn finished(rows: &[Value]) -> bool {
    !rows.is_empty()
        && rows
            .iter()
            .all(|r| r["Status"] == "succeeded" || r["Status"] == "failed")
}

#[tokio::test]
async fn two_replicas_on_one_postgresql_share_fifty_offboardings_and_set_each_password_once() {
    let test = "two_replicas_on_one_postgresql_share_fifty_offboardings_and_set_each_password_once";
    let Some(server) = postgres_url(test) else {
        return;
    };
    let (database, name) = fresh_database(&server).await;
    let env = [
        ("CIPP_DATABASE_URL", database.as_str()),
        ("CIPP_JOBS_PER_TENANT", "4"),
        // Each replica may hold half the tenant's slots, so the other always finds some free.
        ("CIPP_JOBS_PER_REPLICA", "2"),
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(dir_a.path(), &env, None);
    let b = start(dir_b.path(), &env, None);
    let token = a.token("editor").await;
    let (domain, upns) = cloud_users(&a, &token).await;
    assert!(upns.len() >= 50, "{} cloud users in {domain}", upns.len());
    let upns = &upns[..50];
    let answer: Value = a
        .call(
            reqwest::Method::POST,
            "/api/ExecOffboardUser",
            &token,
            Some(
                json!({"tenantFilter": domain, "user": upns, "RevokeSessions": true,
                "ResetPass": true}),
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    let deployment = answer["DeploymentId"]
        .as_str()
        .expect("a DeploymentId")
        .to_owned();
    let token_b = b.token("readonly").await;
    let mut rows = Vec::new();
    for _ in 0..600 {
        rows = progress(&b, &deployment, &token_b).await;
        if finished(&rows) && rows.len() == 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(rows.len(), 50);
    assert!(
        rows.iter().all(|r| r["Status"] == "succeeded"),
        "{:#}",
        json!(
            rows.iter()
                .filter(|r| r["Status"] != "succeeded")
                .collect::<Vec<_>>()
        )
    );
    let (seen_a, seen_b) = (sim_requests(&a).await, sim_requests(&b).await);
    let (mut by_a, mut by_b) = (0, 0);
    for upn in upns {
        let (on_a, on_b) = (password_sets(&seen_a, upn), password_sets(&seen_b, upn));
        assert_eq!(on_a + on_b, 1, "{upn}: password set {on_a} + {on_b} times");
        by_a += on_a;
        by_b += on_b;
    }
    assert!(
        by_a > 0 && by_b > 0,
        "the work was split: {by_a} and {by_b}"
    );
    a.kill();
    b.kill();
    drop_database(&server, &name).await;
}

/// Submits one offboarding whose password step stalls in the simulator, kills the process while
/// it stalls, restarts it on the same state and checks the job ends without repeating the step.
async fn sigkill_mid_step(env: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let mut env = env.to_vec();
    env.push(("CIPP_JOBS_LEASE_SECONDS", "5"));
    let first = start(dir.path(), &env, None);
    let token = first.token("editor").await;
    let (domain, upns) = cloud_users(&first, &token).await;
    let upn = upns[0].clone();
    // The password step's PATCH waits 30 s in the simulator: long enough to be killed inside it.
    let fault: Value = first
        .http
        .post(sim_base(&first).join("_sim/faults").unwrap())
        .json(&json!({"path": "/v1.0/users/", "method": "PATCH", "latency_ms": 30000, "count": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(fault["id"].is_string(), "{fault}");
    let answer: Value = first
        .call(
            reqwest::Method::POST,
            "/api/ExecOffboardUser",
            &token,
            Some(
                json!({"tenantFilter": domain, "user": [upn], "RevokeSessions": true,
                "ResetPass": true, "DisableSignIn": true}),
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    let deployment = answer["DeploymentId"].as_str().unwrap().to_owned();
    let mut running = false;
    for _ in 0..200 {
        let rows = progress(&first, &deployment, &token).await;
        if rows
            .first()
            .is_some_and(|r| r["Steps"][1]["Status"] == "running")
        {
            running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(running, "the password step started");
    first.kill();

    let second = start(dir.path(), &env, None);
    let token = second.token("editor").await;
    let mut rows = Vec::new();
    for _ in 0..300 {
        rows = progress(&second, &deployment, &token).await;
        if finished(&rows) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        finished(&rows),
        "the job finished after the restart: {rows:?}"
    );
    let steps = rows[0]["Steps"].as_array().unwrap();
    let states: Vec<&str> = steps.iter().map(|s| s["State"].as_str().unwrap()).collect();
    assert_eq!(
        states,
        ["succeeded", "unknown", "succeeded"],
        "the log is whole: {steps:?}"
    );
    assert!(
        steps[1]["Message"]
            .as_str()
            .unwrap()
            .contains("not repeated"),
        "{steps:?}"
    );
    assert_eq!(
        rows[0]["Status"], "failed",
        "an unknown step is not a success"
    );
    // The restarted process's simulator saw the sign-in disabled and no second password set.
    let seen = sim_requests(&second).await;
    assert_eq!(
        password_sets(&seen, &upn),
        1,
        "only the sign-in PATCH: {seen:?}"
    );
    second.kill();
}

#[tokio::test]
async fn a_process_killed_inside_a_step_on_sqlite_is_finished_after_restart_without_repeating_it() {
    sigkill_mid_step(&[]).await;
}

#[tokio::test]
async fn a_process_killed_inside_a_step_on_postgresql_is_finished_after_restart_without_repeating_it()
 {
    let test = "a_process_killed_inside_a_step_on_postgresql_is_finished_after_restart_without_repeating_it";
    let Some(server) = postgres_url(test) else {
        return;
    };
    let (database, name) = fresh_database(&server).await;
    sigkill_mid_step(&[("CIPP_DATABASE_URL", database.as_str())]).await;
    drop_database(&server, &name).await;
}

fn revocations(requests: &[(String, String, u64)]) -> u64 {
    requests
        .iter()
        .filter(|(_, path, _)| path.ends_with("/invalidateAllRefreshTokens"))
        .map(|(_, _, n)| n)
        .sum()
}

#[tokio::test]
async fn a_scheduled_offboarding_runs_once_at_its_time_and_never_again_after_a_restart_or_on_the_other_replica()
 {
    let test = "a_scheduled_offboarding_runs_once_at_its_time_and_never_again_after_a_restart_or_on_the_other_replica";
    let Some(server) = postgres_url(test) else {
        return;
    };
    let (database, name) = fresh_database(&server).await;
    let env = [
        ("CIPP_DATABASE_URL", database.as_str()),
        ("CIPP_JOBS_LEASE_SECONDS", "5"),
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(dir_a.path(), &env, None);
    let b = start(dir_b.path(), &env, None);
    let token = a.token("editor").await;
    let (domain, upns) = cloud_users(&a, &token).await;
    let upn = upns[1].clone();
    let at = time::OffsetDateTime::now_utc().unix_timestamp() + 4;
    let answer = a
        .call(
            reqwest::Method::POST,
            "/api/ExecOffboardUser",
            &token,
            Some(
                json!({"tenantFilter": domain, "user": [upn], "RevokeSessions": true,
                "ResetPass": true, "Scheduled": {"enabled": true, "date": at}}),
            ),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    let token_b = b.token("readonly").await;
    let task_list = format!("/api/ListScheduledItems?Name=Offboarding: {upn}");
    let mut state = String::new();
    for _ in 0..300 {
        let items = get(&b, &task_list, &token_b).await;
        state = items[0]["TaskState"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if state == "Completed" || state == "Failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "Completed");
    assert!(time::OffsetDateTime::now_utc().unix_timestamp() >= at);
    let (seen_a, seen_b) = (sim_requests(&a).await, sim_requests(&b).await);
    assert_eq!(
        password_sets(&seen_a, &upn) + password_sets(&seen_b, &upn),
        1
    );
    assert_eq!(revocations(&seen_a) + revocations(&seen_b), 1);
    // A restart of one replica, leases expired and swept twice over: nothing runs again.
    a.kill();
    let again = start(dir_a.path(), &env, None);
    tokio::time::sleep(Duration::from_secs(8)).await;
    let (now_again, now_b) = (sim_requests(&again).await, sim_requests(&b).await);
    assert_eq!(password_sets(&now_again, &upn), 0);
    assert_eq!(revocations(&now_again), 0);
    assert_eq!(password_sets(&now_b, &upn), password_sets(&seen_b, &upn));
    assert_eq!(revocations(&now_b), revocations(&seen_b));
    again.kill();
    b.kill();
    drop_database(&server, &name).await;
}
