//! Properties Graph declares on a user that the simulator does not store but can work out from
//! what it stores, so the user pages' `$select` lists get Graph's values rather than nulls:
//! `licenseAssignmentStates` (one direct, active assignment per assigned licence), `identities`
//! (the UPN sign-in), `onPremisesExtensionAttributes` (fifteen empty attributes) and
//! `isResourceAccount` (null, as Graph answers for ordinary users).

use serde_json::{Value, json};

use crate::user::{User, prop_index};

/// Graph's value for a declared-only property of `user`; null when nothing can be derived.
pub(crate) fn derived(user: &User, name: &str) -> Value {
    let prop = |n: &str| prop_index(n).map_or(&Value::Null, |i| user.get(i));
    match name {
        "licenseAssignmentStates" => {
            let since = prop("createdDateTime").clone();
            let states: Vec<Value> = prop("assignedLicenses")
                .as_array()
                .map(|licences| {
                    licences
                        .iter()
                        .map(|l| {
                            json!({
                                "assignedByGroup": null,
                                "disabledPlans": l.get("disabledPlans").cloned().unwrap_or(json!([])),
                                "error": "None",
                                "lastUpdatedDateTime": since,
                                "skuId": l.get("skuId").cloned().unwrap_or(Value::Null),
                                "state": "Active",
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            Value::Array(states)
        }
        "identities" => {
            let upn = user.upn();
            let issuer = upn.rsplit_once('@').map_or("", |(_, d)| d);
            json!([{
                "signInType": "userPrincipalName",
                "issuer": issuer,
                "issuerAssignedId": upn,
            }])
        }
        "onPremisesExtensionAttributes" => {
            let mut attrs = serde_json::Map::new();
            for n in 1..=15 {
                attrs.insert(format!("extensionAttribute{n}"), Value::Null);
            }
            Value::Object(attrs)
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_states_follow_the_assigned_licences() {
        let mut user = User::new();
        user.set_named(
            "assignedLicenses",
            json!([{"skuId": "sku-1", "disabledPlans": []}]),
        );
        user.set_named("userPrincipalName", json!("ada@contoso.example"));
        let states = derived(&user, "licenseAssignmentStates");
        assert_eq!(states[0]["skuId"], "sku-1");
        assert_eq!(states[0]["state"], "Active");
        assert_eq!(derived(&user, "identities")[0]["issuer"], "contoso.example");
        assert_eq!(derived(&user, "isResourceAccount"), Value::Null);
    }
}
