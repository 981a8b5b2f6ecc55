//! Phone numbers as identities: a number however a person wrote it, read as E.164 by
//! libphonenumber's rules (the `phonenumber` crate), with the region assumed for
//! numbers written without their country code.

use std::str::FromStr;

use phonenumber::country;

/// The country assumed for a number written without `+` and a country code
/// (`[contacts] default_region`, a two-letter code such as `RU`); none by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Region(Option<country::Id>);

impl Region {
    /// A two-letter region code (`RU`, `de`); empty for none.
    pub fn parse(code: &str) -> Result<Region, String> {
        let code = code.trim();
        if code.is_empty() {
            return Ok(Region(None));
        }
        country::Id::from_str(&code.to_ascii_uppercase())
            .map(|id| Region(Some(id)))
            .map_err(|_| format!("`{code}` is not a two-letter region code such as RU, DE or US"))
    }

    pub fn code(&self) -> Option<&str> {
        self.0.as_ref().map(|id| id.as_ref())
    }
}

/// What ingest does with a phone number a platform vouches for (`[contacts] link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkMode {
    /// A new identity whose verified number is one other contact's verified number joins
    /// that contact, in the same transaction; the link is recorded.
    #[default]
    Auto,
    /// Verified numbers are recorded; equal ones are only suggested as duplicates.
    Suggest,
    /// Ingest records no numbers and links nothing.
    Off,
}

/// How ingest treats phone numbers: the link mode and the region for bare numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Linking {
    pub mode: LinkMode,
    pub region: Region,
}

/// The longest text read as a number; anything longer is not one.
const LONGEST: usize = 64;

/// The number in E.164 (`+79161234567`), or why the text is not a phone number.
pub fn normalize(text: &str, region: Region) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the phone number is empty".into());
    }
    if text.chars().count() > LONGEST || !text.chars().any(|c| c.is_ascii_digit()) {
        return Err(format!("`{}` is not a phone number", crate::text::quote(text, 24)));
    }
    // The crate is a port that has panicked on odd input before; a panic in it must
    // not take the engine's writer down with it.
    let parsed = std::panic::catch_unwind(|| phonenumber::parse(region.0, text)).ok();
    match parsed {
        Some(Ok(number)) if phonenumber::is_valid(&number) => {
            Ok(number.format().mode(phonenumber::Mode::E164).to_string())
        }
        Some(Ok(_)) => Err(format!(
            "`{}` is not a valid number (too short or too long for its country, or no such range)",
            crate::text::quote(text, 24)
        )),
        _ if !text.starts_with('+') && region.0.is_none() && !text.starts_with("00") => Err(format!(
            "`{}` has no country code: write it as +7 916 …, or set [contacts] default_region",
            crate::text::quote(text, 24)
        )),
        _ => Err(format!("`{}` is not a phone number", crate::text::quote(text, 24))),
    }
}

/// A number a platform gave as digits with the country code (WhatsApp's `wa_id`): E.164
/// as it stands, whether or not libphonenumber knows the range yet.
pub fn from_platform_digits(digits: &str) -> Option<String> {
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    let plausible = (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    (plausible && !digits.starts_with('0')).then(|| format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ways_people_write_one_number_read_the_same() {
        let ru = Region::parse("ru").unwrap();
        for written in
            ["+7 916 123-45-67", "+7 (916) 123 45 67", "8 916 123 45 67", "79161234567", "tel:+7-916-123-45-67"]
        {
            let region = if written.starts_with('+') || written.starts_with("tel") { Region::default() } else { ru };
            assert_eq!(normalize(written, region).as_deref(), Ok("+79161234567"), "{written}");
        }
        assert_eq!(normalize("030 1234567", Region::parse("DE").unwrap()).as_deref(), Ok("+49301234567"));
    }

    #[test]
    fn what_is_not_a_number_says_so() {
        assert!(normalize("", Region::default()).unwrap_err().contains("empty"));
        assert!(normalize("call me", Region::default()).unwrap_err().contains("not a phone number"));
        assert!(normalize("916 123 45 67", Region::default()).unwrap_err().contains("default_region"));
        assert!(Region::parse("Russia").unwrap_err().contains("two-letter"));
        assert_eq!(from_platform_digits("79161234567").as_deref(), Some("+79161234567"));
        assert_eq!(from_platform_digits("bsuid.abc"), None);
    }
}
