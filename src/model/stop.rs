//! Inbound keywords with a meaning for consent: a message that is only STOP (or one of
//! the configured words) opts the customer out of marketing, recorded in the ledger with
//! the message as evidence, and may be answered once with a confirmation.

use std::collections::BTreeMap;

/// The words that opt a customer out, and the answer they get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopPolicy {
    /// Compared with the whole message, case-insensitively, ignoring surrounding space,
    /// zero-width characters and a trailing full stop or exclamation mark.
    pub keywords: Vec<String>,
    /// Sent once in reply, where the platform still allows a message: by language code
    /// (`ru`), with `default` for any other. Empty: no reply.
    pub confirmations: BTreeMap<String, String>,
}

/// The confirmations a STOP gets unless the config says otherwise.
pub fn default_confirmations() -> BTreeMap<String, String> {
    [
        ("default", "You will get no more promotions from us. Write to us any time."),
        ("ru", "Вы отписаны от рассылки. Пишите нам в любое время."),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl Default for StopPolicy {
    fn default() -> Self {
        StopPolicy {
            keywords: ["STOP", "UNSUBSCRIBE", "СТОП", "ОТПИСАТЬСЯ"].map(String::from).to_vec(),
            confirmations: default_confirmations(),
        }
    }
}

impl StopPolicy {
    /// The confirmation for a customer who wrote `stop_word` and whose locale is
    /// `locale`, in their language: a Cyrillic STOP word says Russian; otherwise their
    /// locale decides (a Latin "STOP" is written in every language); then `default`.
    pub fn confirmation(&self, stop_word: &str, locale: Option<&str>) -> Option<&str> {
        let cyrillic = stop_word.chars().any(|c| matches!(c, '\u{0400}'..='\u{04ff}'));
        let from_locale =
            locale.map(|l| l.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase()).filter(|l| !l.is_empty());
        let language = if cyrillic { Some("ru".to_string()) } else { from_locale };
        language
            .and_then(|l| self.confirmations.get(&l))
            .or_else(|| self.confirmations.get("default"))
            .map(String::as_str)
            .filter(|t| !t.trim().is_empty())
    }

    /// True when `text` is one of the keywords and nothing else.
    pub fn matches(&self, text: &str) -> bool {
        let cleaned: String =
            text.chars().filter(|c| !matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}')).collect();
        let word = cleaned.trim().trim_end_matches(['.', '!']).trim().to_uppercase();
        !word.is_empty() && self.keywords.iter().any(|k| k.trim().to_uppercase() == word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_messages_only_any_case() {
        let p = StopPolicy::default();
        for yes in ["STOP", "stop", " Stop! ", "стоп", "Отписаться.", "\u{200b}STOP\u{200d}", "unsubscribe"]
        {
            assert!(p.matches(yes), "{yes:?}");
        }
        for no in ["please stop calling me", "stopp", "", "не стоп", "STOP STOP"] {
            assert!(!p.matches(no), "{no:?}");
        }
    }

    #[test]
    fn the_confirmation_speaks_the_customers_language() {
        let p = StopPolicy::default();
        assert!(p.confirmation("СТОП", Some("en")).unwrap().starts_with("Вы отписаны"));
        assert!(p.confirmation("STOP", Some("ru-RU")).unwrap().starts_with("Вы отписаны"));
        assert!(p.confirmation("STOP", Some("en")).unwrap().starts_with("You will"));
        assert!(p.confirmation("STOP", Some("de")).unwrap().starts_with("You will"), "default");
        assert!(p.confirmation("STOP", None).unwrap().starts_with("You will"));
        for text in p.confirmations.values() {
            let cyrillic = text.chars().any(|c| matches!(c, '\u{0400}'..='\u{04ff}'));
            let latin = text.chars().any(|c| c.is_ascii_alphabetic());
            assert!(!(cyrillic && latin), "one language per confirmation: {text}");
        }
        let none = StopPolicy { confirmations: Default::default(), ..StopPolicy::default() };
        assert_eq!(none.confirmation("STOP", None), None);
    }
}
