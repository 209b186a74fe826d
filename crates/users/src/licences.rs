//! Licence SKU names from Microsoft's licence table (`data/ConversionTable.csv`, shipped with the
//! crate), as CIPP uses it for `LicJoined`.

use std::collections::HashMap;
use std::sync::LazyLock;

const CONVERSION_TABLE: &str = include_str!("../data/ConversionTable.csv");

/// SKU GUID (lower case) to the first `Product_Display_Name` the table lists for it.
static SKU_NAMES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let mut names = HashMap::new();
    let mut reader = csv::Reader::from_reader(CONVERSION_TABLE.as_bytes());
    for record in reader.records().flatten() {
        if let (Some(name), Some(guid)) = (record.get(0), record.get(2)) {
            names
                .entry(guid.trim().to_ascii_lowercase())
                .or_insert_with(|| name.to_owned());
        }
    }
    names
});

/// The product display name of a SKU, if the table knows it.
pub fn sku_display_name(sku_id: &str) -> Option<&'static str> {
    SKU_NAMES
        .get(&sku_id.trim().to_ascii_lowercase())
        .map(String::as_str)
}

/// How many distinct SKUs the table holds (for readiness checks and tests).
pub fn known_sku_count() -> usize {
    SKU_NAMES.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_sku_has_its_product_name() {
        assert_eq!(
            sku_display_name("6FD2C87F-B296-42F0-B197-1E91E994B900"),
            Some("Office 365 E3")
        );
        assert!(known_sku_count() > 500);
    }

    #[test]
    fn an_unknown_sku_has_no_name() {
        assert_eq!(
            sku_display_name("00000000-0000-0000-0000-000000000000"),
            None
        );
    }
}
