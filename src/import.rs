//! `switchboard import contacts FILE.csv`: reads and checks every row before anything is
//! stored. Columns: `name, phone, channel, external_id, tags` (`;`-separated), `consent`
//! (`yes`/`no`/empty), `consent_source`, `consent_at` (RFC 3339 or a date), `locale`;
//! and what `export contacts` writes, so an export reads back: `id`, `identities`
//! (`channel:id;…`), `phones` (`+7916… (whatsapp);…`), `time_zone`, `stage`,
//! `attributes` (a JSON object), `created_at`. Any other column becomes an attribute.
//! Phone numbers are read as E.164 (`[contacts] default_region` for those without a
//! country code). A bad row is reported with its line number and reason.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate};

use crate::model::phone::{self, Region};
use crate::model::{ChannelKind, Millis, UnknownValue};
pub use crate::store::ContactRow;
use crate::text::quote;

/// A row that cannot be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

const KNOWN: &[&str] = &[
    "name",
    "phone",
    "channel",
    "external_id",
    "tags",
    "consent",
    "consent_source",
    "consent_at",
    "locale",
    "id",
    "identities",
    "phones",
    "time_zone",
    "stage",
    "attributes",
    "created_at",
];

/// Reads the whole file: the good rows and the bad ones. An error means the file
/// itself cannot be read as CSV.
pub fn read(path: &Path, region: Region) -> anyhow::Result<(Vec<ContactRow>, Vec<BadRow>)> {
    let file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    parse_in(file, path, region)
}

/// `parse_in` with no default region: every number needs its country code.
pub fn parse(input: impl std::io::Read, path: &Path) -> anyhow::Result<(Vec<ContactRow>, Vec<BadRow>)> {
    parse_in(input, path, Region::default())
}

pub fn parse_in(
    mut input: impl std::io::Read,
    path: &Path,
    region: Region,
) -> anyhow::Result<(Vec<ContactRow>, Vec<BadRow>)> {
    // Read whole, so a record's line is the physical line where it starts, counted from
    // its byte offset: csv's own count is off for CRLF files (what Excel writes) and
    // after a field that spans lines.
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let mut lines = LineCounter::new(&bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(bytes.as_slice());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| anyhow::anyhow!("{}: the header row is not CSV: {e}", path.display()))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    if !headers.iter().any(|h| h == "name") {
        anyhow::bail!("{}: there is no `name` column (the header row names the columns)", path.display());
    }
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    let mut seen: HashMap<(ChannelKind, String), usize> = HashMap::new();
    let mut ids: HashMap<i64, usize> = HashMap::new();
    loop {
        // Where the reader stands is where the next record starts, but for blank lines
        // before it, which `line_at` skips.
        let start = reader.position().byte() as usize;
        let mut record = csv::StringRecord::new();
        let record = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => Ok(record),
            Err(e) => Err(e),
        };
        let line = lines.record_line(start);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                bad.push(BadRow { line, reason: format!("not a CSV row: {e}") });
                if e.is_io_error() {
                    break;
                }
                continue;
            }
        };
        let get = |name: &str| {
            headers.iter().position(|h| h == name).and_then(|i| record.get(i)).map(str::trim).filter(|v| !v.is_empty())
        };
        match row(line, &headers, &record, get, region) {
            Ok(row) => {
                let twice = row.identity.iter().chain(&row.identities).find_map(|identity| {
                    let first = seen.insert(identity.clone(), line)?;
                    Some(format!("duplicate identity {}:{} (also on line {first})", identity.0, identity.1))
                });
                let twice = twice.or_else(|| {
                    let id = row.id?;
                    let first = ids.insert(id, line)?;
                    Some(format!("duplicate id {id} (also on line {first})"))
                });
                if let Some(reason) = twice {
                    bad.push(BadRow { line, reason });
                    continue;
                }
                good.push(row);
            }
            Err(reason) => bad.push(BadRow { line, reason }),
        }
    }
    Ok((good, bad))
}

fn row<'a>(
    line: usize,
    headers: &[String],
    record: &'a csv::StringRecord,
    get: impl Fn(&str) -> Option<&'a str>,
    region: Region,
) -> Result<ContactRow, String> {
    let name = get("name").ok_or("the name is empty")?.to_string();
    let identity = match (get("channel"), get("external_id")) {
        (Some(channel), Some(id)) => {
            let channel: ChannelKind = channel.to_lowercase().parse().map_err(|e: UnknownValue| e.to_string())?;
            Some((channel, id.to_string()))
        }
        (Some(_), None) => return Err("a channel without an external_id".into()),
        (None, Some(_)) => return Err("an external_id without a channel".into()),
        (None, None) => None,
    };
    let consent = match get("consent").map(str::to_lowercase).as_deref() {
        None => None,
        Some("yes") => Some(true),
        Some("no") => Some(false),
        Some(other) => return Err(format!("consent `{other}` is not yes, no or empty")),
    };
    let consent_at = match get("consent_at") {
        None => None,
        Some(text) => {
            Some(date(text).ok_or_else(|| format!("consent_at `{text}` is not a date (2026-03-10 or RFC 3339)"))?)
        }
    };
    if consent.is_none() && (consent_at.is_some() || get("consent_source").is_some()) {
        return Err("consent_source or consent_at without consent".into());
    }
    if consent.is_some() && identity.is_none() {
        return Err("consent is per channel: give the channel and external_id it is for".into());
    }
    let mut attributes: std::collections::BTreeMap<String, String> = match get("attributes") {
        None => Default::default(),
        Some(text) => serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
            .map_err(|e| format!("attributes `{}` is not a JSON object: {e}", quote(text, 40)))?
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect(),
    };
    attributes.extend(
        headers
            .iter()
            .enumerate()
            .filter(|(_, h)| !KNOWN.contains(&h.as_str()) && !h.is_empty())
            .filter_map(|(i, h)| Some((h.clone(), record.get(i)?.trim().to_string())))
            .filter(|(_, v)| !v.is_empty()),
    );
    let phone = get("phone").map(|p| phone::normalize(p, region).map_err(|e| format!("phone: {e}"))).transpose()?;
    let identities = list(get("identities"))
        .map(|pair| {
            let (channel, id) = pair
                .split_once(':')
                .filter(|(_, id)| !id.is_empty())
                .ok_or_else(|| format!("identities: `{}` is not channel:id", quote(pair, 40)))?;
            let channel: ChannelKind =
                channel.trim().to_lowercase().parse().map_err(|e: UnknownValue| e.to_string())?;
            Ok((channel, id.trim().to_string()))
        })
        .filter(|found| found.as_ref().map_or(true, |f| Some(f) != identity.as_ref()))
        .collect::<Result<Vec<_>, String>>()?;
    let phones = list(get("phones"))
        .map(|entry| {
            let (number, by) = match entry.strip_suffix(')').and_then(|e| e.rsplit_once('(')) {
                Some((number, by)) => (number, Some(by.trim())),
                None => (entry, None),
            };
            let number = phone::normalize(number, region).map_err(|e| format!("phones: {e}"))?;
            let by =
                by.map(|b| b.to_lowercase().parse::<ChannelKind>().map_err(|e| format!("phones: {e}"))).transpose()?;
            Ok((number, by))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let time_zone = get("time_zone").map(str::to_string);
    if let Some(zone) = &time_zone
        && crate::model::Zone::parse(zone).is_none()
    {
        return Err(format!("time_zone `{}` is not a time zone such as Europe/Moscow or +03:00", quote(zone, 40)));
    }
    let id = get("id")
        .map(|i| i.parse::<i64>().map_err(|_| format!("id `{}` is not a number", quote(i, 40))))
        .transpose()?;
    let created_at = match get("created_at") {
        None => None,
        Some(text) => Some(date(text).ok_or_else(|| format!("created_at `{}` is not a date", quote(text, 40)))?),
    };
    Ok(ContactRow {
        line,
        id,
        name,
        phone,
        identity,
        identities,
        phones,
        time_zone,
        stage: get("stage").map(str::to_string),
        created_at,
        tags: get("tags")
            .map(|t| t.split(';').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect())
            .unwrap_or_default(),
        consent,
        consent_source: get("consent_source").map(str::to_string),
        consent_at,
        locale: get("locale").map(str::to_string),
        attributes,
    })
}

/// The `;`-separated entries of a list column.
fn list(value: Option<&str>) -> impl Iterator<Item = &str> {
    value.into_iter().flat_map(|v| v.split(';')).map(str::trim).filter(|e| !e.is_empty())
}

/// Byte offsets to 1-based line numbers, for offsets asked in increasing order.
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> LineCounter<'a> {
        LineCounter { bytes, at: 0, line: 1 }
    }

    /// The line where a record starting at byte `offset` begins: blank lines before it
    /// are not the record.
    fn record_line(&mut self, mut offset: usize) -> usize {
        while matches!(self.bytes.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        self.line_at(offset)
    }

    /// The line holding byte `offset`. A CR LF pair counts as one line end, and so does a
    /// lone CR (old Mac files).
    fn line_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.bytes.len());
        if offset < self.at {
            // Asked out of order: count again from the start.
            (self.at, self.line) = (0, 1);
        }
        while self.at < offset {
            match self.bytes[self.at] {
                b'\n' => self.line += 1,
                b'\r' if self.bytes.get(self.at + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.at += 1;
        }
        self.line
    }
}

/// RFC 3339, or a plain date (midnight UTC).
fn date(text: &str) -> Option<Millis> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}
