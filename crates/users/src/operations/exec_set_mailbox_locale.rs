//! `ExecSetMailboxLocale` (CIPP-API `Invoke-ExecSetMailboxLocale.ps1` → `Set-CippMailboxLocale.ps1`):
//! one Exchange `Set-MailboxRegionalConfiguration` (language, localised folder names, the date
//! and time formats back to the language's own), then the configuration read back.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_flags::exchange_call;
use crate::mailbox_readback::{Expect, ReadBack};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetMailboxLocale;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "user")]
    pub user: UserId,
    /// A specific culture such as `en-US` or `de-DE` (a neutral one such as `en` is refused).
    #[serde(rename = "locale")]
    pub locale: String,
}

/// Whether `s` names a culture at all, and a specific (not neutral) one: `ll-CC`, `lll-CC` or
/// `ll-Scrp-CC`.
fn culture(s: &str) -> Result<(), &'static str> {
    let parts: Vec<&str> = s.split('-').collect();
    let alpha = |p: &str, lens: &[usize]| {
        lens.contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic())
    };
    match parts.as_slice() {
        [lang] if alpha(lang, &[2, 3]) => Err("neutral"),
        [lang, region] if alpha(lang, &[2, 3]) && alpha(region, &[2]) => Ok(()),
        [lang, script, region]
            if alpha(lang, &[2, 3]) && alpha(script, &[4]) && alpha(region, &[2]) =>
        {
            Ok(())
        }
        _ => Err("invalid"),
    }
}

impl Operation for ExecSetMailboxLocale {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecSetMailboxLocale";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetMailboxLocale.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A neutral or malformed `locale`, or a `user` that is neither an object id nor a user principal name, is a 400 naming it with the reason CIPP gives (CIPP: 500). A failure is Exchange's status rather than always 500. The regional configuration is read back after the change: a language Exchange does not show (yet) is a 500 saying what it shows instead of CIPP's success text.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "user": crate::demo::USER, "locale": "en-GB"})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let user = params.user.as_str();
        let locale = params.locale.trim();
        match culture(locale) {
            Ok(()) => {}
            Err("neutral") => {
                return Err(UserError::invalid(
                    "locale",
                    format!("locale: {locale} is not a valid Locale. Neutral cultures are not supported."),
                ));
            }
            // .NET's words for a name that is no culture at all.
            Err(_) => {
                return Err(UserError::invalid(
                    "locale",
                    format!("locale: Culture is not supported. (Parameter 'name') {locale} is an invalid culture identifier."),
                ));
            }
        }
        exchange_call(
            &ctx.graph,
            &tenant.customer_id,
            user,
            "Set-MailboxRegionalConfiguration",
            json!({"Identity": user, "Language": locale, "LocalizeDefaultFolderName": true,
                   "DateFormat": null, "TimeFormat": null}),
            |reason| format!("Failed to set locale for {user}. Error: {reason}"),
        )
        .await?;
        ReadBack {
            cmdlet: "Get-MailboxRegionalConfiguration",
            identity: user,
            anchor: Some(user),
            checks: vec![("Language", Expect::Text(locale.to_owned()))],
        }
        .confirm(
            &ctx.graph,
            &tenant.customer_id,
            &format!("the locale {locale} for {user}"),
        )
        .await?;
        let message = format!("Set locale for {user} to {locale}");
        tracing::info!(tenant = %tenant.customer_id, user, "{message}");
        Ok(Outcome::json(TextResults::new(message)))
    }
}
