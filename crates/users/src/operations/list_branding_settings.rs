//! `ListBrandingSettings` (CIPP-API `Invoke-ListBrandingSettings.ps1`): the report branding
//! (colours, logo and cover, footer and watermark). Every table's toolbar reads it on load.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListBrandingSettings;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// Also return every uploaded logo and cover (the settings page's galleries).
    #[serde(rename = "includeGallery", default)]
    pub include_gallery: bool,
}

/// The branding `Get-CIPPBrandingSettings` answers when none has been saved: CIPP's orange,
/// the stock cover, no logo, footer and page numbers shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct Branding {
    pub colour: String,
    #[serde(rename = "secondaryColour")]
    pub secondary_colour: String,
    #[serde(rename = "logoImageId")]
    pub logo_image_id: Option<String>,
    #[serde(rename = "logoImageIds")]
    pub logo_image_ids: Vec<String>,
    #[serde(rename = "coverStock")]
    pub cover_stock: String,
    #[serde(rename = "coverImageId")]
    pub cover_image_id: Option<String>,
    #[serde(rename = "coverImageIds")]
    pub cover_image_ids: Vec<String>,
    pub logo: Option<String>,
    #[serde(rename = "logoUploads")]
    pub logo_uploads: Vec<String>,
    #[serde(rename = "coverImage")]
    pub cover_image: Option<String>,
    #[serde(rename = "coverUploads")]
    pub cover_uploads: Vec<String>,
    #[serde(rename = "footerText")]
    pub footer_text: String,
    #[serde(rename = "coverFooterText")]
    pub cover_footer_text: String,
    #[serde(rename = "showFooter")]
    pub show_footer: bool,
    #[serde(rename = "showPageNumbers")]
    pub show_page_numbers: bool,
    #[serde(rename = "watermarkText")]
    pub watermark_text: String,
    #[serde(rename = "watermarkEnabled")]
    pub watermark_enabled: bool,
    /// Per-report defaults (none saved).
    #[serde(rename = "reportDefaults")]
    pub report_defaults: Value,
    /// Colours per role (none saved).
    #[serde(rename = "roleColours")]
    pub role_colours: Value,
}

impl Branding {
    /// CIPP's defaults (`Get-CIPPBrandingSettings.ps1`, no `BrandingSettings` row).
    pub fn defaults() -> Self {
        Self {
            colour: "#F77F00".into(),
            secondary_colour: String::new(),
            logo_image_id: None,
            logo_image_ids: Vec::new(),
            cover_stock: "/reportImages/soc.jpg".into(),
            cover_image_id: None,
            cover_image_ids: Vec::new(),
            logo: None,
            logo_uploads: Vec::new(),
            cover_image: None,
            cover_uploads: Vec::new(),
            footer_text: String::new(),
            cover_footer_text: String::new(),
            show_footer: true,
            show_page_numbers: true,
            watermark_text: String::new(),
            watermark_enabled: true,
            report_defaults: json!({}),
            role_colours: json!({}),
        }
    }
}

impl Operation for ListBrandingSettings {
    type Params = Params;
    type Answer = Branding;
    const NAME: &'static str = "ListBrandingSettings";
    const TAG: &'static str = "CIPP > Settings";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListBrandingSettings.ps1",
        frontend: Some("src/components/CippPdf/useBrandingSettings.js"),
    };
    const ANY_TENANT: bool = true;
    const DIFFERENCES: Option<&'static str> = Some(
        "This service has no branding write (`ExecBrandingSettings` is not built), so the answer \
         is always CIPP's defaults for a CIPP where branding was never saved; with or without \
         `includeGallery` the galleries are empty.",
    );

    fn example() -> Value {
        json!({})
    }

    async fn run(_ctx: Ctx, params: Params) -> Result<Outcome<Branding>, UserError> {
        // Nothing is ever uploaded here, so the galleries are empty either way.
        let _ = params.include_gallery;
        Ok(Outcome::json(Branding::defaults()))
    }
}
