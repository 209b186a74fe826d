//! CIPP's password generator (`New-passwordString.ps1`): classic random passwords without
//! look-alike characters, or passphrases from CIPP's word list, drawn from a cryptographically
//! secure generator (`rand::rng()`, ChaCha12 seeded from the operating system).

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

const UPPER: &str = "ABCDEFGHKLMNPRSTUVWXYZ";
const LOWER: &str = "abcdefghkmnrstuvwxyz";
const DIGITS: &str = "23456789";
const DEFAULT_SPECIAL: &str = "$%&*#";
/// Redraws allowed before a classic draw that misses a required class gives up.
const MAX_ATTEMPTS: usize = 100;

const WORD_LIST: &str = include_str!("../data/words.txt");
static WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    WORD_LIST
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphabetic()))
        .collect()
});

/// CIPP's stored password settings (table `Settings`); every field optional, defaults as CIPP's.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordSettings {
    pub password_type: Option<String>,
    pub char_count: Option<serde_json::Value>,
    pub include_uppercase: Option<serde_json::Value>,
    pub include_lowercase: Option<serde_json::Value>,
    pub include_digits: Option<serde_json::Value>,
    pub include_special_chars: Option<serde_json::Value>,
    pub special_char_set: Option<String>,
    pub word_count: Option<serde_json::Value>,
    pub separator: Option<String>,
    pub capitalize_words: Option<serde_json::Value>,
    pub append_number: Option<serde_json::Value>,
    pub append_special_char: Option<serde_json::Value>,
}

/// CIPP counts a setting as on only for `true`, `1` or `yes` (any case); `default` when unset.
fn flag(value: &Option<serde_json::Value>, default: bool) -> bool {
    match value {
        None | Some(serde_json::Value::Null) => default,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::Number(n)) => n.as_i64() == Some(1),
        Some(serde_json::Value::String(s)) => {
            let s = s.trim().to_ascii_lowercase();
            s == "true" || s == "1" || s == "yes"
        }
        Some(_) => false,
    }
}

fn number(value: &Option<serde_json::Value>) -> Option<i64> {
    match value {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
enum GenerateError {
    #[error("{0}")]
    Rule(String),
}

/// A new password under the given settings. Any failure of the configured mode falls back to
/// CIPP's fallback generator, as CIPP does; the fallback itself cannot fail in practice.
/// CIPP's password settings as stored, or its defaults.
pub async fn stored_settings(store: &cipp_store::Store) -> PasswordSettings {
    match store.get_password_settings().await {
        Ok(stored) => serde_json::to_value(stored)
            .and_then(serde_json::from_value::<PasswordSettings>)
            .unwrap_or_default(),
        Err(error) => {
            tracing::warn!(%error, "password settings unreadable; using CIPP's defaults");
            PasswordSettings::default()
        }
    }
}

pub fn generate_password(settings: &PasswordSettings) -> SecretString {
    let passphrase = settings.password_type.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case("Passphrase") || t.eq_ignore_ascii_case("Correct-Battery-Horse")
    });
    let attempt = if passphrase {
        passphrase_mode(settings)
    } else {
        classic(settings)
    };
    match attempt {
        Ok(password) => SecretString::from(password),
        Err(error) => {
            tracing::warn!(%error, "password settings unusable; using the fallback generator");
            SecretString::from(fallback(number(&settings.char_count).unwrap_or(14)))
        }
    }
}

/// Classic mode with CIPP's defaults: 14 characters from all four classes, each class present.
pub fn generate_classic_default() -> String {
    classic(&PasswordSettings::default()).unwrap_or_else(|_| fallback(14))
}

fn special_set(settings: &PasswordSettings) -> Result<String, GenerateError> {
    match settings.special_char_set.as_deref().map(str::trim) {
        None | Some("") => Ok(DEFAULT_SPECIAL.to_owned()),
        Some(set) => {
            let allowed = regex::Regex::new(r"^[!@#$%^&*()\-_=+/]+$")
                .map_err(|e| GenerateError::Rule(e.to_string()))?;
            if allowed.is_match(set) {
                Ok(set.to_owned())
            } else {
                Err(GenerateError::Rule(format!(
                    "specialCharSet '{set}' may only contain !@#$%^&*()-_=+/"
                )))
            }
        }
    }
}

fn classic(settings: &PasswordSettings) -> Result<String, GenerateError> {
    let length = number(&settings.char_count).unwrap_or(14);
    if !(8..=256).contains(&length) {
        return Err(GenerateError::Rule(format!(
            "charCount {length} is outside 8-256"
        )));
    }
    let special = special_set(settings)?;
    let classes: Vec<&str> = [
        (flag(&settings.include_uppercase, true), UPPER),
        (flag(&settings.include_lowercase, true), LOWER),
        (flag(&settings.include_digits, true), DIGITS),
        (
            flag(&settings.include_special_chars, true),
            special.as_str(),
        ),
    ]
    .into_iter()
    .filter_map(|(on, set)| on.then_some(set))
    .collect();
    if classes.len() < 3 {
        return Err(GenerateError::Rule(
            "at least 3 of the 4 character classes must be enabled".into(),
        ));
    }
    let pool: Vec<char> = classes.iter().flat_map(|c| c.chars()).collect();
    draw_with_every_class(&pool, &classes, usize::try_from(length).unwrap_or(14))
}

fn draw_with_every_class(
    pool: &[char],
    classes: &[&str],
    length: usize,
) -> Result<String, GenerateError> {
    let mut rng = rand::rng();
    for _ in 0..MAX_ATTEMPTS {
        let candidate: String = (0..length)
            .filter_map(|_| pool.choose(&mut rng).copied())
            .collect();
        if classes
            .iter()
            .all(|class| candidate.chars().any(|c| class.contains(c)))
        {
            return Ok(candidate);
        }
    }
    Err(GenerateError::Rule(
        "no draw contained every required class".into(),
    ))
}

fn passphrase_mode(settings: &PasswordSettings) -> Result<String, GenerateError> {
    let count = number(&settings.word_count).unwrap_or(4);
    if !(2..=10).contains(&count) {
        return Err(GenerateError::Rule(format!(
            "wordCount {count} is outside 2-10"
        )));
    }
    let count = usize::try_from(count).unwrap_or(4);
    let mut rng = rand::rng();
    let mut words: Vec<String> = WORDS
        .choose_multiple(&mut rng, count)
        .map(|w| {
            if flag(&settings.capitalize_words, false) {
                let mut chars = w.chars();
                chars
                    .next()
                    .map(|first| {
                        first.to_ascii_uppercase().to_string()
                            + &chars.as_str().to_ascii_lowercase()
                    })
                    .unwrap_or_default()
            } else {
                w.to_ascii_lowercase()
            }
        })
        .collect();
    let mut positions: Vec<usize> = (0..words.len()).collect();
    positions.shuffle(&mut rng);
    if flag(&settings.append_number, false)
        && let Some(word) = positions.first().and_then(|i| words.get_mut(*i))
    {
        word.push_str(&rng.random_range(10..=99).to_string());
    }
    if flag(&settings.append_special_char, false) {
        let special: Vec<char> = special_set(settings)?.chars().collect();
        if let (Some(word), Some(c)) = (
            positions.get(1).and_then(|i| words.get_mut(*i)),
            special.choose(&mut rng),
        ) {
            word.push(*c);
        }
    }
    let separator = settings.separator.clone().unwrap_or_else(|| "-".to_owned());
    let phrase = words.join(&separator);
    let length = phrase.chars().count();
    if !(8..=256).contains(&length) {
        return Err(GenerateError::Rule(format!(
            "the passphrase's length {length} is outside 8-256"
        )));
    }
    // CIPP counts every character that is not a letter or digit as special, the separator included.
    let classes = [
        phrase.chars().any(|c| c.is_ascii_uppercase()),
        phrase.chars().any(|c| c.is_ascii_lowercase()),
        phrase.chars().any(|c| c.is_ascii_digit()),
        phrase.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return Err(GenerateError::Rule(
            "the passphrase has fewer than 3 character classes".into(),
        ));
    }
    Ok(phrase)
}

fn fallback(count: i64) -> String {
    let length = usize::try_from(count.max(14)).unwrap_or(14);
    let pool: Vec<char> = [LOWER, UPPER, DIGITS, DEFAULT_SPECIAL]
        .concat()
        .chars()
        .collect();
    // Each round of 100 draws fails with negligible probability; keep drawing rather than
    // ever returning something predictable.
    loop {
        if let Ok(password) =
            draw_with_every_class(&pool, &[LOWER, UPPER, DIGITS, DEFAULT_SPECIAL], length)
        {
            return password;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use serde_json::json;
    use std::collections::HashSet;

    fn satisfies_classic_rules(password: &str) -> bool {
        password.chars().count() == 14
            && password.chars().any(|c| UPPER.contains(c))
            && password.chars().any(|c| LOWER.contains(c))
            && password.chars().any(|c| DIGITS.contains(c))
            && password.chars().any(|c| DEFAULT_SPECIAL.contains(c))
            && password
                .chars()
                .all(|c| [UPPER, LOWER, DIGITS, DEFAULT_SPECIAL].concat().contains(c))
    }

    #[test]
    fn a_thousand_default_passwords_follow_the_rules_and_never_repeat() {
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let password = generate_password(&PasswordSettings::default());
            let password = password.expose_secret().to_owned();
            assert!(satisfies_classic_rules(&password), "{password}");
            assert!(seen.insert(password));
        }
    }

    #[test]
    fn look_alike_characters_never_appear() {
        for _ in 0..200 {
            let password = generate_classic_default();
            assert!(
                !password.chars().any(|c| "IJOQijlopq01".contains(c)),
                "{password}"
            );
        }
    }

    #[test]
    fn settings_change_length_and_classes() {
        let settings = PasswordSettings {
            char_count: Some(json!("20")),
            include_special_chars: Some(json!("no")),
            ..PasswordSettings::default()
        };
        let password = generate_password(&settings);
        let password = password.expose_secret();
        assert_eq!(password.len(), 20);
        assert!(!password.chars().any(|c| DEFAULT_SPECIAL.contains(c)));
    }

    #[test]
    fn too_few_classes_or_a_bad_length_fall_back() {
        let settings = PasswordSettings {
            char_count: Some(json!(4)),
            ..PasswordSettings::default()
        };
        assert_eq!(
            classic(&settings).unwrap_err(),
            GenerateError::Rule("charCount 4 is outside 8-256".into())
        );
        let fallback = generate_password(&settings);
        assert_eq!(fallback.expose_secret().len(), 14);
    }

    #[test]
    fn a_passphrase_joins_capitalised_words_with_the_separator() {
        let settings = PasswordSettings {
            password_type: Some("Passphrase".into()),
            capitalize_words: Some(json!(true)),
            append_number: Some(json!("yes")),
            ..PasswordSettings::default()
        };
        let phrase = passphrase_mode(&settings).unwrap();
        assert_eq!(phrase.split('-').count(), 4, "{phrase}");
        assert!(phrase.chars().any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn a_plain_lowercase_passphrase_has_too_few_classes() {
        let settings = PasswordSettings {
            password_type: Some("Passphrase".into()),
            ..PasswordSettings::default()
        };
        assert!(passphrase_mode(&settings).is_err());
    }
}
