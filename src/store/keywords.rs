//! Inbound keywords with a meaning for consent: a message that is only STOP (or one of
//! the configured words) opts the customer out of marketing, recorded in the ledger with
//! the message as evidence, and may be answered once with a confirmation.

/// The words that opt a customer out, and the answer they get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopPolicy {
    /// Compared with the whole message, case-insensitively, ignoring surrounding space,
    /// zero-width characters and a trailing full stop or exclamation mark.
    pub keywords: Vec<String>,
    /// Sent once in reply, where the platform still allows a message.
    pub confirmation: Option<String>,
}

impl Default for StopPolicy {
    fn default() -> Self {
        StopPolicy {
            keywords: ["STOP", "UNSUBSCRIBE", "СТОП", "ОТПИСАТЬСЯ"].map(String::from).to_vec(),
            confirmation: Some(
                "You will get no more promotions from us. Вы отписаны от рассылки. Write to us any time.".into(),
            ),
        }
    }
}

impl StopPolicy {
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
}
