//! The segment filter language, parsed into a tree and compiled to one SQL condition
//! over `contacts c` whose values are always bound parameters, never spliced in.
//!
//! ```text
//! channel:telegram tag:vip -tag:churned stage:lead lang:ru inbound<30d consent:marketing attr:city=Kazan
//! ```
//!
//! Terms side by side must all hold; `OR` between terms (or groups) lets either hold and
//! binds looser than the space; `-` before a term negates it; parentheses group. A value
//! with spaces goes in double quotes: `tag:"big spender"`.

use std::fmt;

use rusqlite::types::Value;

use crate::model::{ChannelKind, Millis};

/// Why a filter does not parse: the term, where it starts (in characters from the
/// start, for a caret under it) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at column {}: `{term}`)", .column + 1)]
pub struct FilterError {
    pub column: usize,
    pub term: String,
    pub message: String,
}

/// One condition on a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// Has an identity on this channel.
    Channel(ChannelKind),
    Tag(String),
    Stage(String),
    /// The contact's locale is this language (`ru` matches `ru`, `ru-RU`, `ru_RU`).
    Lang(String),
    /// Wrote to us within (`Within`) or not within (`NotWithin`) this many ms.
    Inbound {
        within: bool,
        span: Millis,
    },
    /// The latest event of this purpose is an opt-in on at least one channel.
    Consent(String),
    /// An attribute equals a value (case-insensitively), or is present when `value` is None.
    Attr {
        key: String,
        value: Option<String>,
    },
    /// The contact came from this source (a start link payload, `import` …).
    Source(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Matches everyone (the empty filter).
    All,
    Term(Term),
    Not(Box<Filter>),
    And(Vec<Filter>),
    Or(Vec<Filter>),
}

/// The most terms one filter may have.
pub const MAX_TERMS: usize = 100;
/// The deepest parentheses may nest.
pub const MAX_DEPTH: usize = 16;

const KEYS: &str = "channel, tag, stage, lang, inbound, consent, attr, source";

impl Filter {
    pub fn parse(input: &str) -> Result<Filter, FilterError> {
        let tokens = tokenize(input)?;
        // Limits far past any real segment that keep the parser's recursion and SQLite's
        // expression tree (1,000 deep) bounded: a pasted wall of text is an error that
        // points at where it went too far, never a crash.
        if let Some(t) = tokens.iter().filter(|t| t.text != "(" && t.text != ")" && t.text != "OR").nth(MAX_TERMS) {
            return Err(t.error(format!("a filter may have at most {MAX_TERMS} terms")));
        }
        let mut depth = 0usize;
        for t in &tokens {
            match t.text.as_str() {
                "(" => depth += 1,
                ")" => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_DEPTH {
                return Err(t.error(format!("parentheses may nest at most {MAX_DEPTH} deep")));
            }
        }
        let mut p = Parser { tokens, pos: 0 };
        let filter = p.or()?;
        if let Some(t) = p.tokens.get(p.pos) {
            return Err(t.error(if t.text == ")" { "a `)` without its `(`" } else { "unexpected term" }));
        }
        Ok(filter)
    }

    /// The channels every member must be reached on, when the filter says so at its top
    /// level (`channel:telegram …`); empty when any channel will do.
    pub fn required_channels(&self) -> Vec<ChannelKind> {
        match self {
            Filter::And(parts) => parts.iter().find_map(Filter::channels),
            other => other.channels(),
        }
        .unwrap_or_default()
    }

    /// The channels of `channel:X` or `channel:X OR channel:Y …`; None for anything else.
    fn channels(&self) -> Option<Vec<ChannelKind>> {
        match self {
            Filter::Term(Term::Channel(c)) => Some(vec![*c]),
            Filter::Or(alts) => alts
                .iter()
                .map(|a| match a {
                    Filter::Term(Term::Channel(c)) => Some(*c),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }

    /// The filter as the store runs it, for `now` (`inbound<30d` counts back from it).
    pub fn condition(&self, now: Millis) -> crate::store::Condition {
        let (sql, params) = self.to_sql(now);
        crate::store::Condition { sql, params }
    }

    /// One SQL condition on `c` (the contacts table) and its parameters, in order.
    /// `now` anchors the relative times.
    pub fn to_sql(&self, now: Millis) -> (String, Vec<Value>) {
        let mut params = Vec::new();
        let sql = self.sql(now, &mut params);
        (sql, params)
    }

    fn sql(&self, now: Millis, params: &mut Vec<Value>) -> String {
        match self {
            Filter::All => "1".into(),
            Filter::Not(inner) => format!("NOT ({})", inner.sql(now, params)),
            Filter::And(parts) => join(parts, " AND ", now, params),
            Filter::Or(parts) => join(parts, " OR ", now, params),
            Filter::Term(term) => term_sql(term, now, params),
        }
    }
}

fn join(parts: &[Filter], op: &str, now: Millis, params: &mut Vec<Value>) -> String {
    let parts: Vec<String> = parts.iter().map(|p| format!("({})", p.sql(now, params))).collect();
    parts.join(op)
}

fn term_sql(term: &Term, now: Millis, params: &mut Vec<Value>) -> String {
    let mut bind = |v: Value| {
        params.push(v);
        format!("?{}", params.len())
    };
    match term {
        Term::Channel(c) => format!(
            "EXISTS (SELECT 1 FROM identities i WHERE i.contact_id = c.id AND i.channel = {})",
            bind(Value::Text(c.as_str().into()))
        ),
        Term::Tag(name) => format!(
            "EXISTS (SELECT 1 FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id \
             WHERE ct.contact_id = c.id AND fold(t.name) = {})",
            bind(Value::Text(crate::text::fold(name)))
        ),
        Term::Stage(stage) => format!("fold(c.stage) = {}", bind(Value::Text(crate::text::fold(stage)))),
        Term::Source(source) => format!("c.source = {}", bind(Value::Text(source.clone()))),
        Term::Lang(lang) => {
            let p = bind(Value::Text(lang.to_lowercase()));
            format!(
                "(lower(replace(c.locale, '_', '-')) = {p} OR substr(lower(replace(c.locale, '_', '-')), 1, length({p}) + 1) = {p} || '-')"
            )
        }
        Term::Inbound { within, span } => {
            let exists = format!(
                "EXISTS (SELECT 1 FROM conversations cv WHERE cv.contact_id = c.id AND cv.last_inbound_at >= {})",
                bind(Value::Integer(now - span))
            );
            if *within { exists } else { format!("NOT {exists}") }
        }
        Term::Consent(purpose) => format!(
            "EXISTS (SELECT 1 FROM consent_events e WHERE e.contact_id = c.id AND e.purpose = {} AND e.action = 'opt_in' \
             AND e.id = (SELECT e2.id FROM consent_events e2 WHERE e2.contact_id = e.contact_id \
               AND e2.channel = e.channel AND e2.purpose = e.purpose ORDER BY e2.at DESC, e2.id DESC LIMIT 1))",
            bind(Value::Text(purpose.clone()))
        ),
        Term::Attr { key, value } => {
            let path = bind(Value::Text(format!("$.\"{key}\"")));
            match value {
                Some(v) => format!(
                    "fold(CAST(json_extract(c.attributes, {path}) AS TEXT)) = {}",
                    bind(Value::Text(crate::text::fold(v)))
                ),
                None => format!("coalesce(CAST(json_extract(c.attributes, {path}) AS TEXT), '') <> ''"),
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    text: String,
    /// The text with quotes removed.
    value: String,
    column: usize,
}

impl Token {
    fn error(&self, message: impl fmt::Display) -> FilterError {
        FilterError { column: self.column, term: self.text.clone(), message: message.to_string() }
    }
}

/// Splits on spaces, keeping `(` and `)` apart and a quoted stretch whole.
fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '(' || c == ')' {
            tokens.push(Token { text: c.into(), value: c.into(), column: i });
            i += 1;
            continue;
        }
        let start = i;
        let (mut text, mut value) = (String::new(), String::new());
        let mut quoted = false;
        while i < chars.len() {
            let c = chars[i];
            if c == '"' {
                quoted = !quoted;
                text.push(c);
            } else if !quoted && (c.is_whitespace() || c == '(' || c == ')') {
                break;
            } else {
                text.push(c);
                value.push(c);
            }
            i += 1;
        }
        if quoted {
            return Err(FilterError { column: start, term: text, message: "a quote that is not closed".into() });
        }
        tokens.push(Token { text, value, column: start });
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut alts = vec![self.and()?];
        while self.peek().is_some_and(|t| t.text == "OR") {
            let or = self.tokens[self.pos].clone();
            self.pos += 1;
            if self.peek().is_none_or(|t| t.text == ")" || t.text == "OR") {
                return Err(or.error("`OR` needs a term on each side"));
            }
            alts.push(self.and()?);
        }
        Ok(if alts.len() == 1 { alts.pop().unwrap_or(Filter::All) } else { Filter::Or(alts) })
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut parts = Vec::new();
        while let Some(t) = self.peek() {
            if t.text == "OR" || t.text == ")" {
                break;
            }
            parts.push(self.unary()?);
        }
        if parts.is_empty()
            && let Some(t) = self.peek()
        {
            return Err(t.error("`OR` needs a term on each side"));
        }
        Ok(match parts.len() {
            0 => Filter::All,
            1 => parts.pop().unwrap_or(Filter::All),
            _ => Filter::And(parts),
        })
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        let t = self.tokens[self.pos].clone();
        self.pos += 1;
        if t.text == "(" {
            let inner = self.or()?;
            if self.peek().is_none_or(|t| t.text != ")") {
                return Err(t.error("a `(` that is not closed"));
            }
            self.pos += 1;
            if inner == Filter::All {
                return Err(t.error("empty parentheses"));
            }
            return Ok(inner);
        }
        if let Some(rest) = t.value.strip_prefix('-') {
            if rest.is_empty() {
                return Err(t.error("`-` must stand right before the term it negates"));
            }
            let inner = Token { text: t.text[1..].into(), value: rest.into(), column: t.column + 1 };
            return Ok(Filter::Not(Box::new(Filter::Term(term(&inner)?))));
        }
        Ok(Filter::Term(term(&t)?))
    }
}

/// One `key:value` (or `inbound<30d`) term.
fn term(t: &Token) -> Result<Term, FilterError> {
    let v = &t.value;
    if let Some(rest) = v.strip_prefix("inbound") {
        let (within, span) = match rest.chars().next() {
            Some('<') => (true, &rest[1..]),
            Some('>') => (false, &rest[1..]),
            _ => return Err(t.error("write `inbound<30d` (wrote within 30 days) or `inbound>30d` (not since)")),
        };
        return Ok(Term::Inbound {
            within,
            span: parse_span(span)
                .ok_or_else(|| t.error(format!("`{span}` is not a time span: a number and m, h, d or w, as in 30d")))?,
        });
    }
    let Some((key, value)) = v.split_once(':') else {
        return Err(t.error(format!("a term is key:value, with key one of {KEYS}")));
    };
    if value.is_empty() {
        return Err(t.error(format!("`{key}:` needs a value")));
    }
    Ok(match key.to_ascii_lowercase().as_str() {
        "channel" => Term::Channel(value.parse().map_err(|e: crate::model::UnknownValue| t.error(e))?),
        "tag" => Term::Tag(value.into()),
        "stage" => Term::Stage(value.into()),
        "source" => Term::Source(value.into()),
        "lang" => {
            if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(t.error(format!("`{value}` is not a language code such as ru or en")));
            }
            Term::Lang(value.into())
        }
        "consent" => match value.to_ascii_lowercase().as_str() {
            p @ ("marketing" | "service") => Term::Consent(p.into()),
            _ => return Err(t.error("consent is `consent:marketing` or `consent:service`")),
        },
        "attr" => {
            let (k, val) = match value.split_once('=') {
                Some((k, val)) => (k, Some(val.to_string())),
                None => (value, None),
            };
            if k.is_empty() || k.contains(['"', '\\']) {
                return Err(t.error("an attribute term is attr:NAME=VALUE or attr:NAME"));
            }
            Term::Attr { key: k.into(), value: val }
        }
        _ => return Err(t.error(format!("unknown key `{key}`; the keys are {KEYS}"))),
    })
}

/// `30d`, `12h`, `45m`, `2w` in milliseconds.
pub fn parse_span(s: &str) -> Option<Millis> {
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok().filter(|n| *n >= 0)?;
    let ms = match unit {
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> FilterError {
        Filter::parse(input).unwrap_err()
    }

    #[test]
    fn the_example_from_the_docs_parses() {
        let f = Filter::parse(
            "channel:telegram tag:vip -tag:churned stage:lead lang:ru inbound<30d consent:marketing attr:city=Kazan",
        )
        .unwrap();
        let Filter::And(parts) = &f else { panic!("{f:?}") };
        assert_eq!(parts.len(), 8);
        assert_eq!(parts[2], Filter::Not(Box::new(Filter::Term(Term::Tag("churned".into())))));
        assert_eq!(parts[5], Filter::Term(Term::Inbound { within: true, span: 30 * 86_400_000 }));
        assert_eq!(parts[7], Filter::Term(Term::Attr { key: "city".into(), value: Some("Kazan".into()) }));
        assert_eq!(f.required_channels(), vec![ChannelKind::Telegram]);
    }

    #[test]
    fn or_binds_looser_than_space_and_parentheses_group() {
        let f = Filter::parse("tag:a tag:b OR tag:c").unwrap();
        let tag = |s: &str| Filter::Term(Term::Tag(s.into()));
        assert_eq!(f, Filter::Or(vec![Filter::And(vec![tag("a"), tag("b")]), tag("c")]));
        let g = Filter::parse("tag:a (tag:b OR tag:c)").unwrap();
        assert_eq!(g, Filter::And(vec![tag("a"), Filter::Or(vec![tag("b"), tag("c")])]));
        assert_eq!(Filter::parse("  ").unwrap(), Filter::All);
        assert_eq!(Filter::parse("tag:\"big spender\"").unwrap(), tag("big spender"));
    }

    #[test]
    fn the_channels_a_filter_requires() {
        let channels = |f: &str| Filter::parse(f).unwrap().required_channels();
        assert_eq!(channels("channel:viber"), [ChannelKind::Viber]);
        assert_eq!(channels("channel:telegram OR channel:viber"), [ChannelKind::Telegram, ChannelKind::Viber]);
        assert_eq!(channels("tag:x (channel:whatsapp OR channel:viber)"), [ChannelKind::WhatsApp, ChannelKind::Viber]);
        assert!(channels("channel:telegram OR tag:x").is_empty(), "a member may have no Telegram");
        assert!(channels("-channel:telegram").is_empty());
        assert!(channels("").is_empty());
    }

    #[test]
    fn errors_point_at_the_bad_term() {
        let e = err("tag:vip stag:lead");
        assert_eq!((e.column, e.term.as_str()), (8, "stag:lead"));
        assert!(e.message.contains("unknown key `stag`"), "{e}");
        assert_eq!(e.to_string(), format!("{} (at column 9: `stag:lead`)", e.message));
        let e = err("channel:icq");
        assert!(e.message.contains("icq"), "{e}");
        assert_eq!(err("tag:vip inbound<30x").column, 8);
        assert_eq!(err("tag:ы тег:vip").column, 6, "columns count characters, not bytes");
        assert_eq!(err("tag:vip OR").term, "OR");
        assert_eq!(err("OR tag:vip").term, "OR");
        assert_eq!(err("(tag:vip").term, "(");
        assert_eq!(err("tag:vip )").term, ")");
        assert_eq!(err("- tag:vip").term, "-");
        assert_eq!(err("tag:\"open").term, "tag:\"open");
        assert_eq!(err("consent:maybe").term, "consent:maybe");
        assert_eq!(err("tag:").term, "tag:");
    }

    #[test]
    fn every_value_is_bound_never_spliced() {
        let nasty = "x'); DROP TABLE contacts; --";
        let f = Filter::parse(&format!("tag:\"{nasty}\" stage:\"{nasty}\" attr:city=\"{nasty}\" source:\"{nasty}\""))
            .unwrap();
        let (sql, params) = f.to_sql(0);
        assert!(!sql.contains("DROP"), "{sql}");
        // Folded for comparison where the term ignores case, but bound all the same.
        let folded = crate::text::fold(nasty);
        let bound = params.iter().filter(|p| **p == Value::Text(nasty.into()) || **p == Value::Text(folded.clone()));
        assert!(bound.count() == 4, "{params:?}");
    }

    #[test]
    fn spans() {
        assert_eq!(parse_span("30d"), Some(30 * 86_400_000));
        assert_eq!(parse_span("2w"), Some(14 * 86_400_000));
        assert_eq!(parse_span("90m"), Some(90 * 60_000));
        assert_eq!(parse_span("d"), None);
        assert_eq!(parse_span("-1d"), None);
        assert_eq!(parse_span("5д"), None);
    }
}
