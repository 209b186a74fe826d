//! `Set-Mailbox -RecipientLimits`: the most recipients one message from the mailbox may have.
//! Exchange Online keeps it per mailbox (500 unless changed) and takes 1 to 1000; `Get-Mailbox`
//! shows it as `RecipientLimits`.

use serde_json::{Value, json};

use super::cmdlets::{Cx, change, done};
use super::{Answer, ExoError};

/// Exchange Online's default for a mailbox.
pub(crate) const DEFAULT: u32 = 500;
/// Exchange Online's ceiling.
pub(crate) const MAX: u32 = 1000;

/// How `Get-Mailbox` shows the limit (Exchange serialises its `Unlimited<int>` as text).
pub(crate) fn shown(limit: u32) -> Value {
    json!(limit.to_string())
}

fn parse(value: &Value) -> Result<u32, ExoError> {
    let number = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| ExoError::bad_value("RecipientLimits", value))?;
    u32::try_from(number)
        .ok()
        .filter(|n| (1..=MAX).contains(n))
        .ok_or_else(|| {
            ExoError::task(format!(
                "Cannot validate argument on parameter 'RecipientLimits'. The value {number} is not in the range 1 to {MAX}."
            ))
        })
}

/// `Set-Mailbox -Identity <id> -RecipientLimits <n>` (the cmdlet's other parameters are
/// handled by the general `Set-Mailbox`).
pub(super) fn set(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "RecipientLimits"])?;
    let identity = cx.params.required("Identity")?;
    let limit = parse(cx.params.get("RecipientLimits").unwrap_or(&Value::Null))?;
    let changed = change(cx, &identity, |_, m| {
        let changed = m.recipient_limits != limit;
        m.recipient_limits = limit;
        Ok(changed)
    })?;
    Ok(done(if changed {
        Vec::new()
    } else {
        vec![format!(
            "The command completed successfully but no settings of '{identity}' have been modified."
        )]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_whole_numbers_from_one_to_a_thousand() {
        assert_eq!(parse(&json!(300)).unwrap(), 300);
        assert_eq!(parse(&json!("1000")).unwrap(), 1000);
        assert_eq!(parse(&json!(0)).unwrap_err().status, 400);
        assert!(parse(&json!(1001)).is_err());
        assert!(parse(&json!("many")).is_err());
        assert!(parse(&json!(-3)).is_err());
    }
}
