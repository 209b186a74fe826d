//! What the seeded groups carry beyond `seed_reads`' basics, for CIPP's group pages: owners,
//! Teams provisioning, group-based licences, and a dynamic group (every kind CIPP tells apart:
//! Microsoft 365, security, distribution list, mail-enabled security, dynamic).
//!
//! Drawn from a stream of its own, so the ids `seed_reads` draws (roles, policies) stay the same.

use rand::Rng;
use serde_json::{Map, Value, json};

use crate::seed::{SKU_EXO_PLAN1, guid, timestamp};
use crate::seed_reads::{Group, rng_for_id};
use crate::state::{Tenant, UserStore};
use crate::user::prop_index;

const GROUPS_PURPOSE: u64 = 0x0000_6A0B_0000_0001;

/// The dynamic group's rule; its members are the users the rule selects when the data is built.
pub(crate) const DYNAMIC_RULE: &str = "(user.department -eq \"Sales\")";

fn department(store: &UserStore, id: &str) -> String {
    store
        .by_id(id)
        .and_then(|u| prop_index("department").and_then(|i| u.get(i).as_str()))
        .unwrap_or_default()
        .to_owned()
}

/// Adds the fields CIPP selects to every group, owners, and the dynamic group.
pub(crate) fn extend(seed: u64, tenant: &Tenant, store: &UserStore, groups: &mut Vec<Group>) {
    let mut rng = rng_for_id(seed, &tenant.id, GROUPS_PURPOSE);
    for group in groups.iter_mut() {
        let name = group
            .value
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        // Sales and Marketing is the one team (its group has a Team provisioned).
        let options = if name == "Sales and Marketing" {
            json!(["Team"])
        } else {
            json!([])
        };
        group
            .value
            .insert("resourceProvisioningOptions".into(), options);
        group.value.insert("assignedLicenses".into(), json!([]));
        group.value.insert("membershipRule".into(), Value::Null);
        group
            .value
            .insert("onPremisesSamAccountName".into(), Value::Null);
        group
            .value
            .insert("organizationId".into(), json!(tenant.id));
        // The first member owns the group (Exchange-owned groups: its ManagedBy).
        if let Some(first) = group.members.first() {
            group.owners.push(first.clone());
        }
    }
    let members: Vec<String> = store
        .iter_after(None)
        .map(|(_, u)| u.id().to_owned())
        .filter(|id| department(store, id) == "Sales")
        .collect();
    let mut value = Map::new();
    for (key, v) in [
        ("id", json!(guid(&mut rng))),
        ("displayName", json!("Dynamic Sales Staff")),
        (
            "description",
            json!("Everyone whose department is Sales, kept by a membership rule"),
        ),
        ("groupTypes", json!(["DynamicMembership"])),
        ("mailEnabled", json!(false)),
        ("securityEnabled", json!(true)),
        ("mail", Value::Null),
        ("mailNickname", json!("DynamicSalesStaff")),
        ("onPremisesSyncEnabled", Value::Null),
        ("isAssignableToRole", json!(false)),
        ("visibility", Value::Null),
        (
            "createdDateTime",
            json!(timestamp(
                time::OffsetDateTime::now_utc().unix_timestamp()
                    - rng.random_range(30..400) * 86_400
            )),
        ),
        ("resourceProvisioningOptions", json!([])),
        // Group-based licensing: the Sales staff get Exchange Online through this group.
        (
            "assignedLicenses",
            json!([{"disabledPlans": [], "skuId": SKU_EXO_PLAN1}]),
        ),
        ("membershipRule", json!(DYNAMIC_RULE)),
        ("membershipRuleProcessingState", json!("On")),
        ("onPremisesSamAccountName", Value::Null),
        ("organizationId", json!(tenant.id)),
        (
            "licenseProcessingState",
            json!({"state": "ProcessingComplete"}),
        ),
    ] {
        value.insert(key.into(), v);
    }
    groups.push(Group {
        value,
        owners: members.first().cloned().into_iter().collect(),
        members,
        sender_auth_required: true,
    });
}
