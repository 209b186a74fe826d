//! ExecScheduleGroupMembershipVacation: the two `Set-CIPPVacationGroupMembership` tasks per
//! group run on the job engine, and each run's effect is read back from the simulated directory
//! (a Graph security group and an Exchange distribution list).

use crate::edit_user::{call, s};
use crate::edit_user_full::Fixture;
use crate::helpers::{spawn_app_with, webhook_receiver};
use serde_json::{Value, json};
use std::time::Duration;

const SECURITY: &str = "Engineering";
const DL: &str = "Finance Distribution";
const COMMAND: &str = "Set-CIPPVacationGroupMembership";

impl Fixture {
    /// The vacation tasks as ListScheduledItems lists them.
    async fn tasks(&self) -> Vec<Value> {
        let token = self.app.token("readonly").await;
        self.app
            .get_json(
                &format!(
                    "/api/ListScheduledItems?Type={COMMAND}&tenantFilter={}",
                    self.domain
                ),
                &token,
            )
            .await
    }

    /// Waits (polling, up to 15 s) for the task named `name` to finish.
    async fn finished(&self, name: &str) -> Value {
        for _ in 0..150 {
            if let Some(task) = self.tasks().await.into_iter().find(|t| t["Name"] == name)
                && (task["TaskState"] == "Completed" || task["TaskState"] == "Failed")
            {
                return task;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the task {name} did not finish");
    }
}

fn result_lines(task: &Value) -> Vec<String> {
    let parsed: Vec<Value> = serde_json::from_str(task["Results"].as_str().unwrap()).unwrap();
    parsed
        .iter()
        .map(|l| l["Results"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_vacation_adds_the_users_at_its_start_and_removes_only_them_at_its_end() {
    let f = Fixture::new().await;
    let (standing, first, second) = (&f.users[0], &f.users[1], &f.users[2]);
    let (security, dl) = (f.group(SECURITY), f.group(DL));
    for group in [&security, &dl] {
        f.set_member(group, standing, true).await;
        f.set_member(group, first, false).await;
        f.set_member(group, second, false).await;
    }
    let upn = |u: &Value| s(u, "userPrincipalName");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (status, body) = call(
        &f.app,
        "editor",
        "ExecScheduleGroupMembershipVacation",
        json!({
            "tenantFilter": f.domain,
            "Users": [
                {"label": s(standing, "displayName"), "value": upn(standing),
                 "addedFields": {"userPrincipalName": upn(standing)}},
                {"label": s(first, "displayName"), "value": upn(first)},
                upn(second),
            ],
            "Groups": [Fixture::option(&security, "Security"), Fixture::option(&dl, "Distribution List"),
                       {"label": "No value"}],
            "startDate": now - 1,
            "endDate": now + 5,
            "reference": "Summer leave",
        }),
    )
    .await;
    let users = format!("{}, {}, {}", upn(standing), upn(first), upn(second));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"Results": format!(
            "Successfully scheduled group membership vacation mode for {users} in {SECURITY}, {DL}."
        )})
    );
    let tasks = f.tasks().await;
    assert_eq!(tasks.len(), 4, "{tasks:?}");
    for task in &tasks {
        assert_eq!(task["Command"], COMMAND);
        assert_eq!(task["Reference"], "Summer leave");
    }

    // The start: the two new users are in both groups, the standing member was left alone.
    let add_security = f
        .finished(&format!(
            "Add Group Membership Vacation Mode: {SECURITY} - {users}"
        ))
        .await;
    assert_eq!(add_security["TaskState"], "Completed", "{add_security}");
    assert_eq!(
        result_lines(&add_security),
        vec![format!(
            "Added 2 user(s) to group {SECURITY} for vacation mode. {} was already a member and will be left in the group.",
            upn(standing)
        )]
    );
    let add_dl = f
        .finished(&format!(
            "Add Group Membership Vacation Mode: {DL} - {users}"
        ))
        .await;
    assert_eq!(add_dl["TaskState"], "Completed", "{add_dl}");
    let remove_name = format!("Remove Group Membership Vacation Mode: {SECURITY} - {users}");
    let planned = f
        .tasks()
        .await
        .into_iter()
        .find(|t| t["Name"] == remove_name.as_str())
        .unwrap();
    assert_eq!(planned["TaskState"], "Planned", "not before its end date");
    for group in [&security, &dl] {
        for user in [standing, first, second] {
            assert!(
                f.is_member(group, user).await,
                "{} in {}",
                upn(user),
                group["displayName"]
            );
        }
    }
    let key = add_security["Parameters"]["MembershipKey"]
        .as_str()
        .unwrap();
    let record = f
        .app
        .store
        .vacation_members_get(&f.domain, key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.users, vec![upn(first), upn(second)]);

    // The end: only the users the start added are taken out, and the record is gone.
    let remove_security = f.finished(&remove_name).await;
    assert_eq!(
        remove_security["TaskState"], "Completed",
        "{remove_security}"
    );
    assert_eq!(
        result_lines(&remove_security),
        vec![format!(
            "Successfully removed {}, {} from group {SECURITY}.",
            s(first, "displayName"),
            s(second, "displayName")
        )]
    );
    let remove_dl = f
        .finished(&format!(
            "Remove Group Membership Vacation Mode: {DL} - {users}"
        ))
        .await;
    assert_eq!(remove_dl["TaskState"], "Completed", "{remove_dl}");
    for group in [&security, &dl] {
        assert!(
            f.is_member(group, standing).await,
            "the standing member stays"
        );
        assert!(!f.is_member(group, first).await);
        assert!(!f.is_member(group, second).await);
    }
    assert!(
        f.app
            .store
            .vacation_members_get(&f.domain, key)
            .await
            .unwrap()
            .is_none()
    );
    f.app.stop();
}

#[tokio::test]
async fn scheduling_a_vacation_needs_the_group_write_role() {
    let f = Fixture::new().await;
    let security = f.group(SECURITY);
    let (status, _) = call(
        &f.app,
        "readonly",
        "ExecScheduleGroupMembershipVacation",
        json!({"tenantFilter": f.domain, "Users": [s(&f.users[0], "userPrincipalName")],
               "Groups": [Fixture::option(&security, "Security")], "startDate": 1_900_000_000,
               "endDate": 1_900_100_000}),
    )
    .await;
    assert_eq!(status, 403);
    assert!(f.tasks().await.is_empty());
    f.app.stop();
}

#[tokio::test]
async fn a_vacation_without_users_groups_or_dates_is_refused_naming_the_field() {
    let f = Fixture::new().await;
    let security = f.group(SECURITY);
    let upn = s(&f.users[0], "userPrincipalName");
    let base = json!({"tenantFilter": f.domain, "Users": [upn],
        "Groups": [Fixture::option(&security, "Security")], "startDate": 1_900_000_000,
        "endDate": 1_900_100_000});
    let cases = [
        ("Users", json!([]), "At least one user is required."),
        (
            "Groups",
            json!([{"label": "No value"}]),
            "At least one group is required.",
        ),
        (
            "startDate",
            Value::Null,
            "A start date and end date are required.",
        ),
        (
            "endDate",
            json!(0),
            "A start date and end date are required.",
        ),
    ];
    for (field, value, text) in cases {
        let mut body = base.clone();
        body[field] = value;
        let (status, answer) = call(
            &f.app,
            "editor",
            "ExecScheduleGroupMembershipVacation",
            body,
        )
        .await;
        assert_eq!(status, 400, "{field}: {answer}");
        let shown = answer.to_string();
        assert!(shown.contains(field), "{field}: {answer}");
        assert!(
            shown.contains(&format!(
                "Failed to schedule group membership vacation mode: {text}"
            )),
            "{answer}"
        );
    }
    // Notices this service cannot send: e-mail, and a webhook when none is configured.
    for (asked, named) in [
        ("Email", "'postExecution.email'"),
        ("Webhook", "'postExecution.webhook'"),
    ] {
        let mut body = base.clone();
        body["postExecution"] = json!([{"label": asked, "value": asked}]);
        let (status, answer) = call(
            &f.app,
            "editor",
            "ExecScheduleGroupMembershipVacation",
            body,
        )
        .await;
        assert_eq!(status, 400, "{asked}: {answer}");
        assert!(answer.to_string().contains(named), "{answer}");
    }
    assert!(f.tasks().await.is_empty());
    f.app.stop();
}

#[tokio::test]
async fn with_the_webhook_asked_for_each_vacation_task_ends_by_notifying_it_signed() {
    let (hook, delivered) = webhook_receiver(0).await;
    let app = spawn_app_with(|s| {
        s.webhook_url = Some(hook.parse().unwrap());
        s.webhook_secret = Some("vacation-hook".to_owned().into());
    })
    .await;
    let f = Fixture::on(app).await;
    let security = f.group(SECURITY);
    let user = &f.users[1];
    f.set_member(&security, user, false).await;
    let upn = s(user, "userPrincipalName");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (status, body) = call(
        &f.app,
        "editor",
        "ExecScheduleGroupMembershipVacation",
        json!({"tenantFilter": f.domain, "Users": [upn],
               "Groups": [Fixture::option(&security, "Security")],
               "startDate": now - 1, "endDate": now + 2, "reference": "HR-12",
               "postExecution": [{"label": "Webhook", "value": "Webhook"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let add_name = format!("Add Group Membership Vacation Mode: {SECURITY} - {upn}");
    let remove_name = format!("Remove Group Membership Vacation Mode: {SECURITY} - {upn}");
    let add = f.finished(&add_name).await;
    let remove = f.finished(&remove_name).await;
    for task in [&add, &remove] {
        assert_eq!(task["TaskState"], "Completed", "{task}");
        assert_eq!(task["PostExecution"], "Webhook");
        let lines = result_lines(task);
        assert!(
            lines.last().unwrap().starts_with("Sent webhook to "),
            "{lines:?}"
        );
    }
    assert!(!f.is_member(&security, user).await, "removed at the end");

    let calls = delivered.lock().clone();
    assert_eq!(calls.len(), 2, "one notice per task");
    let sent: Vec<Value> = calls
        .iter()
        .map(|(body, signature)| {
            assert_eq!(
                signature,
                &cipp_users_domain::task_notify::signature("vacation-hook", body)
            );
            serde_json::from_slice(body).unwrap()
        })
        .collect();
    assert_eq!(sent[0]["TaskInfo"]["Name"], add_name.as_str());
    assert_eq!(sent[1]["TaskInfo"]["Name"], remove_name.as_str());
    for notice in &sent {
        assert_eq!(notice["Tenant"], f.domain.as_str());
        assert_eq!(notice["tenantId"], f.tenant_id.as_str());
        assert_eq!(notice["TaskInfo"]["Command"], COMMAND);
        assert_eq!(notice["TaskInfo"]["Reference"], "HR-12");
    }
    assert_eq!(
        sent[0]["Results"],
        json!([{"Results": format!("Added 1 user(s) to group {SECURITY} for vacation mode.")}])
    );
    assert_eq!(
        sent[1]["Results"],
        json!([{"Results": format!("Successfully removed {} from group {SECURITY}.", s(user, "displayName"))}])
    );
    f.app.stop();
}

#[tokio::test]
async fn a_what_if_vacation_queues_nothing() {
    let f = Fixture::new().await;
    let security = f.group(SECURITY);
    let (status, body) = call(
        &f.app,
        "editor",
        "ExecScheduleGroupMembershipVacation?WhatIf=true",
        json!({"tenantFilter": f.domain, "Users": [s(&f.users[0], "userPrincipalName")],
               "Groups": [Fixture::option(&security, "Security")], "startDate": 1_900_000_000,
               "endDate": 1_900_100_000}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["WhatIf"], true);
    let planned = body["PlannedWrites"].as_array().unwrap();
    assert_eq!(planned.len(), 2, "{body}");
    assert!(planned.iter().all(|w| w["Service"] == "jobs"), "{body}");
    assert!(f.tasks().await.is_empty());
    let jobs = f.app.jobs.all().await.unwrap();
    assert!(
        jobs.iter().all(|j| j.kind != "group-vacation"),
        "nothing queued"
    );
    f.app.stop();
}

#[tokio::test]
async fn a_graph_failure_reading_the_members_fails_the_add_run_with_cipps_text() {
    let f = Fixture::new().await;
    let security = f.group(SECURITY);
    let user = &f.users[1];
    f.set_member(&security, user, false).await;
    let gid = s(&security, "id");
    f.app
        .add_fault(
            json!({"path": format!("/v1.0/groups/{gid}/members"), "method": "GET",
                          "status": 403}),
        )
        .await;
    let upn = s(user, "userPrincipalName");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (status, body) = call(
        &f.app,
        "editor",
        "ExecScheduleGroupMembershipVacation",
        json!({"tenantFilter": f.domain, "Users": [upn], "Groups": [Fixture::option(&security, "Security")],
               "startDate": now - 1, "endDate": 1_900_000_000}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let add = f
        .finished(&format!(
            "Add Group Membership Vacation Mode: {SECURITY} - {upn}"
        ))
        .await;
    assert_eq!(add["TaskState"], "Failed", "{add}");
    let lines = result_lines(&add);
    assert!(
        lines[0].starts_with(&format!(
            "Failed to add vacation group membership for group {gid}: "
        )),
        "{lines:?}"
    );
    assert!(!f.is_member(&security, user).await, "nobody was added");
    f.app.stop();
}
