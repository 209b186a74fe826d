//! `ListUserDevices` (CIPP-API `Invoke-ListUserDevices.ps1`): the devices a user owns, each with
//! the Intune id (`EPMID`) of the managed device that is the same machine.

use cipp_graph::{GraphClient, GraphVersion};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::UserId;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::read_support::{failed_or_not_found, out_string_date};

pub struct ListUserDevices;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose owned devices are listed.
    #[serde(rename = "UserID")]
    pub user_id: UserId,
}

/// One owned device as CIPP lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListUserDevicesRow {
    /// The Entra device object id.
    #[serde(rename = "ID")]
    pub id: Option<String>,
    #[serde(rename = "accountEnabled")]
    pub account_enabled: Option<bool>,
    /// As PowerShell prints a date (`\r\nThursday, January 2, 2025 3:04:05 PM\r\n\r\n`), empty
    /// for none.
    #[serde(rename = "approximateLastSignInDateTime")]
    pub approximate_last_sign_in: String,
    /// As PowerShell prints a date, empty for none.
    #[serde(rename = "createdDateTime")]
    pub created: String,
    #[serde(rename = "deviceOwnership")]
    pub device_ownership: Option<String>,
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    #[serde(rename = "enrollmentType")]
    pub enrollment_type: Option<String>,
    #[serde(rename = "isCompliant")]
    pub is_compliant: Option<bool>,
    #[serde(rename = "managementType")]
    pub management_type: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    #[serde(rename = "operatingSystem")]
    pub operating_system: Option<String>,
    /// Whether Graph gave any value for `onPremisesSyncEnabled` (CIPP tests it as text, so
    /// `false` counts as synced too).
    #[serde(rename = "onPremisesSyncEnabled")]
    pub on_premises_sync_enabled: bool,
    #[serde(rename = "operatingSystemVersion")]
    pub operating_system_version: Option<String>,
    #[serde(rename = "trustType")]
    pub trust_type: Option<String>,
    /// The Intune managed device id(s) of the same machine; null when Intune does not manage it.
    #[serde(rename = "EPMID")]
    pub epm_id: Option<ListUserDevicesEpmId>,
}

/// One Intune id, or several when Intune lists the machine more than once (PowerShell unrolls a
/// one-item result).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListUserDevicesEpmId {
    One(String),
    Many(Vec<String>),
}

impl Operation for ListUserDevices {
    type Params = Params;
    type Answer = Vec<ListUserDevicesRow>;
    const NAME: &'static str = "ListUserDevices";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserDevices.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "CIPP answers any failure with `200 []`; here an empty list means the user has no \
         devices: a missing `UserID` is a 400, an unknown user a 404 with Graph's text, and a \
         failed read a 500 `Failed to retrieve devices for user …`.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UserID": crate::demo::USER_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<ListUserDevicesRow>>, UserError> {
        let tenant = ctx.tenant()?;
        let rows = list_user_devices(&ctx.graph, &tenant.customer_id, &params.user_id).await?;
        Ok(Outcome::json(rows))
    }
}

/// The user's owned devices with CIPP's fields. Two reads, neither with `ConsistencyLevel`:
/// the user's Intune devices (only to find `EPMID`), then the owned devices.
pub async fn list_user_devices(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
) -> Result<Vec<ListUserDevicesRow>, UserError> {
    let segment = user.segment();
    let prefix = format!("Failed to retrieve devices for user {user}: ");
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

fn device_row(device: &Value, managed: &[Value]) -> ListUserDevicesRow {
    let text = |name: &str| device.get(name).and_then(Value::as_str).map(str::to_owned);
    let boolean = |name: &str| device.get(name).and_then(Value::as_bool);
    let device_id = device.get("deviceId").and_then(Value::as_str);
    let mut matches: Vec<String> = managed
        .iter()
        .filter(|m| {
            device_id.is_some() && m.get("azureADDeviceId").and_then(Value::as_str) == device_id
        })
        .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    // PowerShell unrolls a one-item result and gives $null for none.
    let epm_id = match matches.len() {
        0 => None,
        1 => matches.pop().map(ListUserDevicesEpmId::One),
        _ => Some(ListUserDevicesEpmId::Many(matches)),
    };
    // CIPP tests the value as a string, so `false` counts as synced too.
    let synced = !matches!(
        device.get("onPremisesSyncEnabled"),
        None | Some(Value::Null)
    ) && device.get("onPremisesSyncEnabled") != Some(&json!(""));
    ListUserDevicesRow {
        id: text("id"),
        account_enabled: boolean("accountEnabled"),
        approximate_last_sign_in: out_string_date(device.get("approximateLastSignInDateTime")),
        created: out_string_date(device.get("createdDateTime")),
        device_ownership: text("deviceOwnership"),
        display_name: text("displayName"),
        enrollment_type: text("enrollmentType"),
        is_compliant: boolean("isCompliant"),
        management_type: text("managementType"),
        manufacturer: text("manufacturer"),
        model: text("model"),
        operating_system: text("operatingSystem"),
        on_premises_sync_enabled: synced,
        operating_system_version: text("operatingSystemVersion"),
        trust_type: text("trustType"),
        epm_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_intune_id_is_matched_by_device_id_and_sync_is_any_value() {
        let managed = vec![
            json!({"id": "m1", "azureADDeviceId": "d1"}),
            json!({"id": "m2", "azureADDeviceId": "d2"}),
            json!({"id": "m3", "azureADDeviceId": "d2"}),
        ];
        let row = |device: Value| serde_json::to_value(device_row(&device, &managed)).unwrap();
        let one = row(json!({"id": "o1", "deviceId": "d1", "onPremisesSyncEnabled": false}));
        assert_eq!(one["EPMID"], "m1");
        assert_eq!(one["ID"], "o1");
        assert_eq!(one["onPremisesSyncEnabled"], true);
        let two = row(json!({"deviceId": "d2"}));
        assert_eq!(two["EPMID"], json!(["m2", "m3"]));
        assert_eq!(two["onPremisesSyncEnabled"], false);
        let none = row(json!({"deviceId": "d9"}));
        assert_eq!(none["EPMID"], Value::Null);
        assert_eq!(none["createdDateTime"], "");
    }
}
