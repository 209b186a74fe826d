//! Offboarding's device and calendar steps against the simulator, every effect read back through
//! Exchange and Graph: an account-only wipe recorded on each device, the partnerships removed,
//! the meetings ahead cancelled (the past kept), the leaver's rights on other calendars removed.

use crate::graph_client::{graph_client, sim_ca};
use crate::helpers::{TestApp, spawn_app};
use crate::offboarding::finished_rows;
use cipp_graph::{GraphClient, GraphVersion};
use serde_json::{Value, json};

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key].as_str().unwrap_or_default()
}

async fn devices(client: &GraphClient, tenant: &str, upn: &str) -> Vec<Value> {
    client
        .exchange(
            tenant,
            "Get-MobileDevice",
            json!({"Mailbox": upn}),
            Some(upn),
        )
        .await
        .unwrap()
}

/// The user's meetings as Graph lists them: (ahead of now, behind now).
async fn meetings(client: &GraphClient, tenant: &str, upn: &str) -> (usize, usize) {
    let events = client
        .get(
            tenant,
            GraphVersion::V1,
            &format!("users/{upn}/events"),
            &[],
        )
        .await
        .unwrap();
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let starts: Vec<String> = events["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| text(&e["start"], "dateTime").to_owned())
        .collect();
    let ahead = starts.iter().filter(|s| s.as_str() > now.as_str()).count();
    (ahead, starts.len() - ahead)
}

/// The first cloud user mailbox (after `skip` matches) with mobile devices and meetings ahead.
async fn leaver(client: &GraphClient, tenant: &str, skip: usize) -> (String, String, usize) {
    let mailboxes = client
        .exchange(
            tenant,
            "Get-Mailbox",
            json!({"ResultSize": "Unlimited", "RecipientTypeDetails": "UserMailbox"}),
            None,
        )
        .await
        .unwrap();
    let mut found = 0;
    for mailbox in &mailboxes {
        let upn = text(mailbox, "UserPrincipalName");
        let user = client
            .get(
                tenant,
                GraphVersion::V1,
                &format!("users/{upn}?$select=onPremisesSyncEnabled"),
                &[],
            )
            .await
            .unwrap();
        if user["onPremisesSyncEnabled"] == true {
            continue;
        }
        let count = devices(client, tenant, upn).await.len();
        if count > 0 && meetings(client, tenant, upn).await.0 > 0 {
            if found == skip {
                return (
                    upn.to_owned(),
                    text(mailbox, "DisplayName").to_owned(),
                    count,
                );
            }
            found += 1;
        }
    }
    panic!("no mailbox with devices and meetings ahead in {tenant}");
}

async fn offboard(app: &TestApp, domain: &str, upn: &str, options: Value) -> Vec<Value> {
    let editor = app.token("editor").await;
    let mut body = json!({"tenantFilter": domain, "user": [upn]});
    if let (Value::Object(b), Value::Object(o)) = (&mut body, options) {
        b.extend(o);
    }
    let answer: Value = app
        .post("/api/ExecOffboardUser", Some(&editor), body)
        .await
        .json()
        .await
        .unwrap();
    let rows = finished_rows(app, answer["DeploymentId"].as_str().unwrap()).await;
    rows[0]["Steps"].as_array().unwrap().clone()
}

#[tokio::test]
async fn removing_devices_cancelling_invites_and_calendar_rights_is_read_back_from_exchange() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let tenant = app.tenant(1).customer_id.clone();
    let client = graph_client(&app, sim_ca(&app).await);
    let (upn, display, device_count) = leaver(&client, &tenant, 0).await;
    let (_, behind) = meetings(&client, &tenant, &upn).await;
    // The leaver is made a delegate on another mailbox's calendar first.
    let mailboxes = client
        .exchange(
            &tenant,
            "Get-Mailbox",
            json!({"RecipientTypeDetails": "UserMailbox"}),
            None,
        )
        .await
        .unwrap();
    let other = mailboxes
        .iter()
        .map(|m| text(m, "UserPrincipalName").to_owned())
        .find(|o| !o.eq_ignore_ascii_case(&upn))
        .unwrap();
    let calendar = format!("{other}:\\Calendar");
    client
        .exchange(
            &tenant,
            "Add-MailboxFolderPermission",
            json!({"Identity": calendar, "User": upn, "AccessRights": ["Editor"]}),
            Some(&other),
        )
        .await
        .unwrap();

    let steps = offboard(
        &app,
        &domain,
        &upn,
        json!({"RemoveMobile": true, "removeCalendarInvites": true,
            "removeCalendarPermissions": true}),
    )
    .await;
    let titles: Vec<&str> = steps.iter().map(|s| text(s, "Title")).collect();
    assert_eq!(
        titles,
        [
            "Remove all mobile devices",
            "Cancel all calendar invites",
            "Remove user's calendar permissions"
        ]
    );
    assert!(
        steps.iter().all(|s| s["Status"] == "succeeded"),
        "{steps:#?}"
    );
    assert!(
        text(&steps[0], "Message").starts_with(&format!(
            "Successfully removed {device_count} mobile devices for {upn}: "
        )),
        "{}",
        steps[0]
    );
    assert_eq!(
        text(&steps[1], "Message"),
        format!("Successfully cancelled all calendar invites for {upn}")
    );
    assert!(
        text(&steps[2], "Message").contains(&format!("Removed {upn} from calendar {calendar}")),
        "{}",
        steps[2]
    );

    assert!(devices(&client, &tenant, &upn).await.is_empty());
    assert_eq!(meetings(&client, &tenant, &upn).await, (0, behind));
    let entries = client
        .exchange(
            &tenant,
            "Get-MailboxFolderPermission",
            json!({"Identity": calendar}),
            Some(&other),
        )
        .await
        .unwrap();
    assert!(
        entries.iter().all(|e| text(e, "User") != display),
        "{entries:#?}"
    );
    app.stop();
}

#[tokio::test]
async fn an_account_only_wipe_is_recorded_on_every_device_and_leaves_the_partnerships() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let tenant = app.tenant(1).customer_id.clone();
    let client = graph_client(&app, sim_ca(&app).await);
    let (upn, _, device_count) = leaver(&client, &tenant, 1).await;

    let steps = offboard(&app, &domain, &upn, json!({"WipeMobile": true})).await;
    assert_eq!(
        text(&steps[0], "Title"),
        "Wipe mobile devices (account data only)"
    );
    assert_eq!(steps[0]["Status"], "succeeded", "{}", steps[0]);
    assert!(
        text(&steps[0], "Message").starts_with(&format!(
            "Successfully sent an account-only wipe to {device_count} mobile devices for {upn}: "
        )),
        "{}",
        steps[0]
    );
    let after = devices(&client, &tenant, &upn).await;
    assert_eq!(after.len(), device_count);
    assert!(
        after
            .iter()
            .all(|d| d["AccountOnlyDeviceWipeRequestTime"].is_string()
                && d["DeviceWipeRequestTime"].is_null()),
        "{after:#?}"
    );
    app.stop();
}

#[tokio::test]
async fn a_calendar_that_cannot_be_read_fails_the_step_and_the_later_steps_still_run() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let tenant = app.tenant(1).customer_id.clone();
    let client = graph_client(&app, sim_ca(&app).await);
    let (upn, _, _) = leaver(&client, &tenant, 2).await;
    // Every Exchange call fails; the MFA step after it is Graph's and still runs.
    app.add_fault(json!({"path": "/adminapi/beta/", "status": 500, "count": 1000}))
        .await;
    let steps = offboard(
        &app,
        &domain,
        &upn,
        json!({"removeCalendarPermissions": true, "RemoveMFADevices": true}),
    )
    .await;
    let calendar = steps
        .iter()
        .find(|s| s["Title"] == "Remove user's calendar permissions")
        .unwrap();
    assert_eq!(calendar["Status"], "failed", "{calendar}");
    assert!(
        text(calendar, "Message").starts_with(&format!(
            "Could not remove calendar permissions for {upn}. Error: "
        )),
        "{calendar}"
    );
    let mfa = steps
        .iter()
        .find(|s| s["Title"] == "Remove all MFA devices")
        .unwrap();
    assert_eq!(mfa["Status"], "succeeded", "{mfa}");
    app.stop();
}
