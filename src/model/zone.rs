//! Time zones as contacts and the config give them: an IANA name (through chrono-tz, so
//! daylight saving is right) or a fixed offset.

use chrono::Offset;

/// A time zone: an IANA name, or a fixed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Named(chrono_tz::Tz),
    Fixed(chrono::FixedOffset),
}

impl Zone {
    /// `Europe/Moscow`, `UTC`, `+03:00`, `UTC+3`, `-0530`.
    pub fn parse(s: &str) -> Option<Zone> {
        let s = s.trim();
        if let Ok(tz) = s.parse::<chrono_tz::Tz>() {
            return Some(Zone::Named(tz));
        }
        let offset = s.strip_prefix("UTC").or_else(|| s.strip_prefix("GMT")).unwrap_or(s);
        let (sign, rest) =
            if let Some(rest) = offset.strip_prefix('+') { (1, rest) } else { (-1, offset.strip_prefix('-')?) };
        // Digits only (and one colon), checked before any slicing by position: a
        // multi-byte character must never reach a byte index.
        let digits = |t: &str| -> Option<i32> {
            (!t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
        };
        let (h, m) = match rest.split_once(':') {
            Some((h, m)) => (digits(h)?, digits(m)?),
            None if rest.len() == 4 && rest.is_ascii() => (digits(&rest[..2])?, digits(&rest[2..])?),
            None => (digits(rest)?, 0),
        };
        if h > 14 || m > 59 {
            return None;
        }
        chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60)).map(Zone::Fixed)
    }

    /// This machine's offset now.
    pub fn local() -> Zone {
        Zone::Fixed(chrono::Local::now().offset().fix())
    }

    /// The wall-clock time at instant `t` (milliseconds) in this zone.
    pub fn wall_clock(&self, t: crate::model::Millis) -> chrono::NaiveDateTime {
        let utc = chrono::DateTime::from_timestamp_millis(t).unwrap_or_default();
        match self {
            Zone::Named(tz) => utc.with_timezone(tz).naive_local(),
            Zone::Fixed(off) => utc.with_timezone(off).naive_local(),
        }
    }

    /// The instant a wall-clock time is in this zone: the earlier one when a clock change
    /// repeats it, an hour on when a change skips it.
    pub fn instant(&self, wall: chrono::NaiveDateTime) -> Option<crate::model::Millis> {
        use chrono::TimeZone;
        match self {
            Zone::Named(tz) => tz
                .from_local_datetime(&wall)
                .earliest()
                .or_else(|| tz.from_local_datetime(&(wall + chrono::Duration::hours(1))).earliest())
                .map(|d| d.timestamp_millis()),
            Zone::Fixed(off) => off.from_local_datetime(&wall).earliest().map(|d| d.timestamp_millis()),
        }
    }

    /// The instant local `date` begins.
    pub fn midnight(&self, date: chrono::NaiveDate) -> Option<crate::model::Millis> {
        self.instant(date.and_hms_opt(0, 0, 0)?)
    }
}
