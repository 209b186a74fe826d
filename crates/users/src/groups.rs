//! What CIPP adds to Graph's groups on its group pages (`Invoke-ListGroups.ps1`,
//! `Invoke-EditGroup.ps1`): the kind in words and as a code, Teams, dynamic membership, the
//! mail domain and the on-premises SID.

use serde_json::Value;

/// Graph's `groupTypes` contains `kind` (PowerShell's `-contains`: case-insensitive).
pub fn has_type(group: &Value, kind: &str) -> bool {
    group
        .get("groupTypes")
        .and_then(Value::as_array)
        .is_some_and(|t| {
            t.iter()
                .any(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case(kind)))
        })
}

fn flag(group: &Value, name: &str) -> bool {
    group.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// ListGroups' `groupType` and `calculatedGroupType`, in CIPP's order of tests; `None` when no
/// test matches (a mail-enabled non-security group with other group types).
pub fn kind(group: &Value) -> Option<(&'static str, &'static str)> {
    let (mail, security) = (flag(group, "mailEnabled"), flag(group, "securityEnabled"));
    let no_types = group
        .get("groupTypes")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if has_type(group, "Unified") {
        Some(("Microsoft 365", "m365"))
    } else if mail && security {
        Some(("Mail-Enabled Security", "security"))
    } else if !mail && security {
        Some(("Security", "generic"))
    } else if no_types && mail && !security {
        Some(("Distribution List", "distributionList"))
    } else {
        None
    }
}

/// EditGroup's type as it settles it from the group read back: `Microsoft 365`,
/// `Mail-Enabled Security`, `Distribution List` or `Security`; `None` when Graph gave neither flag.
pub fn edit_kind(group: &Value) -> Option<&'static str> {
    let has = |name: &str| group.get(name).is_some_and(|v| !v.is_null());
    if !has("mailEnabled") && !has("securityEnabled") {
        return None;
    }
    Some(if has_type(group, "Unified") {
        "Microsoft 365"
    } else if flag(group, "mailEnabled") && flag(group, "securityEnabled") {
        "Mail-Enabled Security"
    } else if flag(group, "mailEnabled") {
        "Distribution List"
    } else {
        "Security"
    })
}

/// Whether CIPP sends this kind's membership through Exchange (compared as PowerShell does).
pub fn exchange_kind(kind: &str) -> bool {
    kind.eq_ignore_ascii_case("Distribution List")
        || kind.eq_ignore_ascii_case("Mail-Enabled Security")
}

/// `teamsEnabled`: a `resourceProvisioningOptions` entry like `*Team*`.
pub fn teams_enabled(group: &Value) -> bool {
    group
        .get("resourceProvisioningOptions")
        .and_then(Value::as_array)
        .is_some_and(|o| {
            o.iter().any(|x| {
                x.as_str()
                    .is_some_and(|s| s.to_ascii_lowercase().contains("team"))
            })
        })
}

/// `primDomain`: what follows the last `@` of `mail` (the whole text without one, empty for none).
pub fn prim_domain(group: &Value) -> String {
    group
        .get("mail")
        .and_then(Value::as_str)
        .map(|m| m.rsplit('@').next().unwrap_or("").to_owned())
        .unwrap_or_default()
}

/// `Convert-AzureAdObjectIdToSid`: the object id's bytes (in .NET's GUID byte order) read as four
/// little-endian 32-bit numbers after `S-1-12-1-`. `None` for text that is no GUID.
pub fn sid(object_id: &str) -> Option<String> {
    let id = uuid::Uuid::parse_str(object_id.trim()).ok()?;
    let bytes = id.to_bytes_le();
    let parts: Vec<String> = bytes
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]).to_string())
        .collect();
    Some(format!("S-1-12-1-{}", parts.join("-")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_sid_matches_powershells_conversion() {
        // Bytes of 73d664e4-0886-4a73-b745-c694da45ddb4 in .NET order: e4 64 d6 73 86 08 73 4a
        // b7 45 c6 94 da 45 dd b4.
        assert_eq!(
            sid("73d664e4-0886-4a73-b745-c694da45ddb4").as_deref(),
            Some("S-1-12-1-1943430372-1249052806-2496021943-3034400218")
        );
        assert_eq!(sid("not a guid"), None);
    }

    #[test]
    fn kinds_follow_cipps_tests() {
        let dynamic = json!({"groupTypes": ["DynamicMembership"], "mailEnabled": false, "securityEnabled": true});
        assert_eq!(kind(&dynamic), Some(("Security", "generic")));
        let dl = json!({"groupTypes": [], "mailEnabled": true, "securityEnabled": false});
        assert_eq!(kind(&dl), Some(("Distribution List", "distributionList")));
        assert_eq!(edit_kind(&dl), Some("Distribution List"));
        assert_eq!(edit_kind(&json!({"id": "x"})), None);
        assert_eq!(prim_domain(&json!({"mail": "a@b.example"})), "b.example");
        assert_eq!(prim_domain(&json!({"mail": null})), "");
    }
}
