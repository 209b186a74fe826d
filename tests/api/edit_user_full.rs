//! EditUser's `CopyFrom`, `AddedAliases` and Exchange-owned groups in `AddToGroups` /
//! `RemoveFromGroups`: each effect read back from the simulated directory (group members as
//! Graph and Exchange share them, the user's proxy addresses).

use crate::edit_user::{all_groups, call, cloud_and_synced, lines, s, user_groups};
use crate::helpers::TestApp;
use crate::helpers::spawn_app;
use cipp_graph::GraphVersion;
use serde_json::{Value, json};

const DL: &str = "Finance Distribution";
const MAIL_SECURITY: &str = "Executives Secure";
const SECURITY: &str = "Engineering";

/// A customer tenant's users and groups, with membership set and read through the simulator
/// (also used by the vacation-mode tests).
pub(crate) struct Fixture {
    pub(crate) app: TestApp,
    pub(crate) domain: String,
    pub(crate) tenant_id: String,
    pub(crate) users: Vec<Value>,
    pub(crate) groups: Vec<Value>,
}

impl Fixture {
    pub(crate) async fn new() -> Self {
        Self::on(spawn_app().await).await
    }

    /// The fixture on an app started with settings of the test's own.
    pub(crate) async fn on(app: TestApp) -> Self {
        let tenant = app.tenant(1).clone();
        let domain = tenant.default_domain_name.clone();
        let users = cloud_and_synced(&app, &domain).await.0;
        let groups = all_groups(&app, &domain).await;
        Self {
            app,
            domain,
            tenant_id: tenant.customer_id,
            users,
            groups,
        }
    }

    pub(crate) fn group(&self, name: &str) -> Value {
        self.groups
            .iter()
            .find(|g| g["displayName"] == name)
            .unwrap_or_else(|| panic!("no group {name}"))
            .clone()
    }

    /// Puts the user in or out of the group directly in the simulator (Exchange for the
    /// mail-enabled non-Microsoft 365 groups, Graph for the rest), so a test starts from a
    /// known state; checked through ListUserGroups.
    pub(crate) async fn set_member(&self, group: &Value, user: &Value, member: bool) {
        let (gid, uid) = (s(group, "id"), s(user, "id"));
        let graph = &self.app.graph;
        if group["mailEnabled"] == true && group["groupTypes"] == json!([]) {
            let cmdlet = if member {
                "Add-DistributionGroupMember"
            } else {
                "Remove-DistributionGroupMember"
            };
            let _ = graph
                .exchange(
                    &self.tenant_id,
                    cmdlet,
                    json!({"Identity": gid, "Member": uid}),
                    None,
                )
                .await;
        } else if member {
            let body = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{uid}")});
            let _ = graph
                .post(
                    &self.tenant_id,
                    GraphVersion::Beta,
                    &format!("groups/{gid}/members/$ref"),
                    &body,
                )
                .await;
        } else {
            let _ = graph
                .delete(
                    &self.tenant_id,
                    GraphVersion::Beta,
                    &format!("groups/{gid}/members/{uid}/$ref"),
                )
                .await;
        }
        assert_eq!(
            self.is_member(group, user).await,
            member,
            "setting up {gid}"
        );
    }

    pub(crate) async fn is_member(&self, group: &Value, user: &Value) -> bool {
        user_groups(&self.app, &self.domain, &s(user, "id"))
            .await
            .iter()
            .any(|g| g["id"] == group["id"])
    }

    /// The edit form for `user` with nothing changed but what `extra` adds.
    fn form(&self, user: &Value, extra: Value) -> Value {
        let upn = s(user, "userPrincipalName");
        let (local, upn_domain) = upn.split_once('@').unwrap();
        let mut body = json!({"tenantFilter": self.domain, "id": s(user, "id"), "username": local,
                              "Domain": upn_domain, "displayName": s(user, "displayName")});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    }

    /// Posts the edit form for `user` (plus `extra`) as `role`.
    async fn edit(&self, role: &str, user: &Value, extra: Value) -> (u16, Value) {
        call(&self.app, role, "EditUser", self.form(user, extra)).await
    }

    pub(crate) fn option(group: &Value, group_type: &str) -> Value {
        json!({"label": group["displayName"], "value": group["id"], "addedFields": {"groupType": group_type}})
    }
}

#[tokio::test]
async fn copy_from_gives_the_user_the_sources_graph_group_and_distribution_list_read_back() {
    let f = Fixture::new().await;
    let (source, target) = (&f.users[0], &f.users[1]);
    let (dl, security) = (f.group(DL), f.group(SECURITY));
    for group in [&dl, &security] {
        f.set_member(group, source, true).await;
        f.set_member(group, target, false).await;
    }
    f.app.reset_sim_stats().await;
    let (status, body) = f
        .edit(
            "editor",
            target,
            json!({"CopyFrom": {"label": "Source", "value": s(source, "userPrincipalName")}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let got = lines(&body);
    assert_eq!(got[0], "Success. The user has been edited.");
    for name in [DL, SECURITY] {
        assert!(
            got.contains(&format!("Added user to group: {name}")),
            "{got:?}"
        );
    }
    assert!(
        !got.iter().any(|l| l.starts_with("We've failed")),
        "{got:?}"
    );
    assert!(f.is_member(&dl, target).await);
    assert!(f.is_member(&security, target).await);
    // The distribution list went through Exchange: Graph refuses its membership.
    assert!(f.app.sim_count("/adminapi/", None).await > 0);
    f.app.stop();
}

#[tokio::test]
async fn added_aliases_become_proxy_addresses_and_mail_stays_the_user_principal_name() {
    let f = Fixture::new().await;
    let user = &f.users[2];
    let upn = s(user, "userPrincipalName");
    let (a1, a2) = (
        format!("first.alias@{}", f.domain),
        format!("second.alias@{}", f.domain),
    );
    let (status, body) = f
        .edit(
            "editor",
            user,
            json!({"AddedAliases": format!("{a1}\n{a2}")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        lines(&body),
        [
            "Success. The user has been edited.",
            "Success. Added aliases to user."
        ]
    );
    let stored = f.app.sim_user(&f.tenant_id, &s(user, "id")).await;
    assert_eq!(stored["mail"], upn.as_str());
    let proxies = stored["proxyAddresses"].as_array().unwrap();
    for expected in [
        format!("SMTP:{upn}"),
        format!("smtp:{a1}"),
        format!("smtp:{a2}"),
    ] {
        assert!(proxies.iter().any(|p| p == &json!(expected)), "{proxies:?}");
    }
    f.app.stop();
}

#[tokio::test]
async fn exchange_groups_are_added_and_removed_through_exchange_and_read_back() {
    let f = Fixture::new().await;
    let user = &f.users[3];
    let name = s(user, "displayName");
    let (dl, secure) = (f.group(DL), f.group(MAIL_SECURITY));
    f.set_member(&dl, user, false).await;
    f.set_member(&secure, user, true).await;
    let (status, body) = f
        .edit(
            "editor",
            user,
            json!({"AddToGroups": [Fixture::option(&dl, "Distribution List")],
                   "RemoveFromGroups": [Fixture::option(&secure, "Mail-Enabled Security")]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        lines(&body),
        [
            "Success. The user has been edited.".to_owned(),
            format!("Success. {name} has been added to {DL}"),
            format!("Success. {name} has been removed from {MAIL_SECURITY}"),
        ]
    );
    assert!(f.is_member(&dl, user).await);
    assert!(!f.is_member(&secure, user).await);
    f.app.stop();
}

#[tokio::test]
async fn a_failing_exchange_step_gets_its_own_line_while_the_other_steps_happen_and_answer_207() {
    let f = Fixture::new().await;
    let user = &f.users[4];
    let name = s(user, "displayName");
    let (dl, security) = (f.group(DL), f.group(SECURITY));
    f.set_member(&dl, user, false).await;
    f.set_member(&security, user, false).await;
    f.app
        .add_fault(json!({"cmdlet": "Add-DistributionGroupMember", "status": 500}))
        .await;
    let alias = format!("partial.alias@{}", f.domain);
    let (status, body) = f
        .edit(
            "editor",
            user,
            json!({"jobTitle": "Partly Edited", "AddedAliases": alias,
                   "AddToGroups": [Fixture::option(&dl, "Distribution List"),
                                   Fixture::option(&security, "Security")]}),
        )
        .await;
    assert_eq!(status, 207, "{body}");
    let got = lines(&body);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0], "Success. The user has been edited.");
    assert_eq!(got[1], "Success. Added aliases to user.");
    assert!(
        got[2].starts_with(&format!("Failed to add member {name} to {DL}. Error: ")),
        "{got:?}"
    );
    assert_eq!(
        got[3],
        format!("Success. {name} has been added to {SECURITY}")
    );
    let stored = f.app.sim_user(&f.tenant_id, &s(user, "id")).await;
    assert_eq!(stored["jobTitle"], "Partly Edited");
    let proxies = stored["proxyAddresses"].as_array().unwrap();
    assert!(
        proxies.contains(&json!(format!("smtp:{alias}"))),
        "{proxies:?}"
    );
    assert!(!f.is_member(&dl, user).await);
    assert!(f.is_member(&security, user).await);
    f.app.stop();
}

#[tokio::test]
async fn a_readonly_caller_is_refused_with_403_and_nothing_is_copied() {
    let f = Fixture::new().await;
    let (source, target) = (&f.users[0], &f.users[5]);
    let dl = f.group(DL);
    f.set_member(&dl, source, true).await;
    f.set_member(&dl, target, false).await;
    let (status, _) = f
        .edit(
            "readonly",
            target,
            json!({"CopyFrom": {"label": "Source", "value": s(source, "id")},
                   "AddedAliases": format!("denied@{}", f.domain)}),
        )
        .await;
    assert_eq!(status, 403);
    assert!(!f.is_member(&dl, target).await);
    f.app.stop();
}

#[tokio::test]
async fn a_copy_from_that_is_no_user_or_an_alias_that_is_no_address_is_a_400_naming_the_field() {
    let f = Fixture::new().await;
    let user = &f.users[6];
    for (field, value) in [
        ("CopyFrom", json!({"label": "x", "value": "not a user"})),
        ("AddedAliases", json!("good@example.com not-an-address")),
    ] {
        let mut extra = json!({"jobTitle": "Should Not Stick"});
        extra[field] = value;
        let (status, body) = f.edit("editor", user, extra).await;
        assert_eq!(status, 400, "{field}: {body}");
        assert!(body["Results"].as_str().unwrap().contains(field), "{body}");
    }
    let stored = f.app.sim_user(&f.tenant_id, &s(user, "id")).await;
    assert_ne!(stored["jobTitle"], "Should Not Stick");
    f.app.stop();
}
