//! `ListUserDevices` (CIPP-API `Invoke-ListUserDevices.ps1`): the devices a user owns, each with
//! the Intune id (`EPMID`) of the managed device that is the same machine.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::{Value, json};

use crate::read_support::{failed_or_not_found, required};
use crate::{UserError, path_segment};

/// The user's owned devices with CIPP's fields. Two reads, neither with `ConsistencyLevel`:
/// the user's Intune devices (only to find `EPMID`), then the owned devices.
pub async fn list_user_devices(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
) -> Result<Vec<Value>, UserError> {
    let user_id = required("UserID", user_id)?;
    let segment = path_segment(user_id);
    let prefix = format!("Failed to retrieve devices for user {user_id}: ");
    let managed = graph
        .get_all(
            tenant,
            GraphVersion::Beta,
            &format!("users/{segment}/managedDevices"),
            &[],
        )
        .await
        .map_err(|e| failed_or_not_found(&prefix, e))?;
    let owned = graph
        .get_all(
            tenant,
            GraphVersion::Beta,
            &format!("users/{segment}/ownedDevices?$top=999"),
            &[],
        )
        .await
        .map_err(|e| failed_or_not_found(&prefix, e))?;
    Ok(owned.iter().map(|d| device_row(d, &managed)).collect())
}

fn device_row(device: &Value, managed: &[Value]) -> Value {
    let field = |name: &str| device.get(name).cloned().unwrap_or(Value::Null);
    let device_id = device.get("deviceId").and_then(Value::as_str);
    let matches: Vec<Value> = managed
        .iter()
        .filter(|m| {
            device_id.is_some() && m.get("azureADDeviceId").and_then(Value::as_str) == device_id
        })
        .map(|m| m.get("id").cloned().unwrap_or(Value::Null))
        .collect();
    // PowerShell unrolls a one-item result and gives $null for none.
    let epm_id = match matches.len() {
        0 => Value::Null,
        1 => matches.into_iter().next().unwrap_or(Value::Null),
        _ => Value::Array(matches),
    };
    // CIPP tests the value as a string, so `false` counts as synced too.
    let synced = !matches!(
        device.get("onPremisesSyncEnabled"),
        None | Some(Value::Null)
    ) && device.get("onPremisesSyncEnabled") != Some(&json!(""));
    json!({
        "ID": field("id"),
        "accountEnabled": field("accountEnabled"),
        "approximateLastSignInDateTime": out_string_date(device.get("approximateLastSignInDateTime")),
        "createdDateTime": out_string_date(device.get("createdDateTime")),
        "deviceOwnership": field("deviceOwnership"),
        "displayName": field("displayName"),
        "enrollmentType": field("enrollmentType"),
        "isCompliant": field("isCompliant"),
        "managementType": field("managementType"),
        "manufacturer": field("manufacturer"),
        "model": field("model"),
        "operatingSystem": field("operatingSystem"),
        "onPremisesSyncEnabled": synced,
        "operatingSystemVersion": field("operatingSystemVersion"),
        "trustType": field("trustType"),
        "EPMID": epm_id,
    })
}

/// A Graph date as PowerShell's `Out-String` prints a DateTime (en-US, UTC, CRLF line breaks
/// around it), which is what CIPP sends; empty for no date. Other text passes through.
pub fn out_string_date(value: Option<&Value>) -> String {
    let Some(text) = value.and_then(Value::as_str) else {
        return String::new();
    };
    let Ok(when) =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
    else {
        return format!("{text}\r\n");
    };
    let when = when.to_offset(time::UtcOffset::UTC);
    let (hour, meridiem) = match when.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "\r\n{}, {} {}, {} {}:{:02}:{:02} {}\r\n\r\n",
        when.weekday(),
        when.month(),
        when.day(),
        when.year(),
        hour,
        when.minute(),
        when.second(),
        meridiem
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_powershell_prints_them() {
        assert_eq!(
            out_string_date(Some(&json!("2025-01-02T15:04:05Z"))),
            "\r\nThursday, January 2, 2025 3:04:05 PM\r\n\r\n"
        );
        assert_eq!(
            out_string_date(Some(&json!("2025-01-02T00:30:00Z"))),
            "\r\nThursday, January 2, 2025 12:30:00 AM\r\n\r\n"
        );
        assert_eq!(out_string_date(Some(&Value::Null)), "");
    }

    #[test]
    fn the_intune_id_is_matched_by_device_id_and_sync_is_any_value() {
        let managed = vec![
            json!({"id": "m1", "azureADDeviceId": "d1"}),
            json!({"id": "m2", "azureADDeviceId": "d2"}),
            json!({"id": "m3", "azureADDeviceId": "d2"}),
        ];
        let one = device_row(
            &json!({"id": "o1", "deviceId": "d1", "onPremisesSyncEnabled": false}),
            &managed,
        );
        assert_eq!(one["EPMID"], "m1");
        assert_eq!(one["ID"], "o1");
        assert_eq!(one["onPremisesSyncEnabled"], true);
        let two = device_row(&json!({"deviceId": "d2"}), &managed);
        assert_eq!(two["EPMID"], json!(["m2", "m3"]));
        assert_eq!(two["onPremisesSyncEnabled"], false);
        let none = device_row(&json!({"deviceId": "d9"}), &managed);
        assert_eq!(none["EPMID"], Value::Null);
    }
}
