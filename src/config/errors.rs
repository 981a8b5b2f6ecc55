//! How a bad config is reported: the file, the line and the key first, and never a
//! secret. toml's own messages quote the offending line and values; those are kept only
//! where they cannot hold a token.

/// toml's own message already says what is wrong; this puts the line and the key first
/// so the message reads well on one line of a terminal. The offending line is quoted
/// only when it cannot hold a secret: never inside a `[channels…]` table, never for a key
/// that names a secret, and a value quoted in toml's message is cut out the same way.
pub fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().to_string();
    let Some(span) = e.span() else { return message };
    let start = span.start.min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    let snippet = text.lines().nth(line - 1).unwrap_or("").trim();
    let table = table_at(text, line);
    let key = snippet.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_string()).filter(|k| !k.is_empty());
    let place = match (&table, &key) {
        (Some(t), Some(k)) => format!("line {line}, key `{t}.{k}`"),
        (None, Some(k)) => format!("line {line}, key `{k}`"),
        (Some(t), None) => format!("line {line}, in [{t}]"),
        (None, None) => format!("line {line}"),
    };
    let sensitive = table.as_deref().is_some_and(|t| t == "channels" || t.starts_with("channels."))
        || key.as_deref().is_some_and(names_a_secret)
        || names_a_secret(snippet);
    if sensitive {
        let value = snippet.split_once('=').map(|(_, v)| v).unwrap_or(snippet);
        format!("{place}: {}", redact_quoted(&message, value))
    } else {
        format!("{place} (`{snippet}`): {message}")
    }
}

/// The line (1-based) where `key` is set in `[table]`, for errors found after parsing.
pub fn line_of(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if let Some(header) = l.strip_prefix('[') {
            current = header.trim_start_matches('[').split(']').next().unwrap_or("").trim().to_string();
            if current == format!("{table}.{key}") {
                return Some(i + 1);
            }
            continue;
        }
        let Some((k, _)) = l.split_once('=') else { continue };
        let k = k.trim().trim_matches('"');
        let dotted = if current.is_empty() { k.to_string() } else { format!("{current}.{k}") };
        if dotted == format!("{table}.{key}") || (current == table && k == key) {
            return Some(i + 1);
        }
    }
    None
}

/// Whether a key (or a line) names something secret.
fn names_a_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["token", "secret", "password", "passwd", "api_key", "apikey", "credential"].iter().any(|w| key.contains(w))
}

/// The table a line sits in: the last `[header]` above it, without brackets.
fn table_at(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(|l| {
            let l = l.trim();
            let inner = l
                .strip_prefix("[[")
                .and_then(|r| r.split("]]").next())
                .or_else(|| l.strip_prefix('[').and_then(|r| r.split(']').next()))?;
            Some(inner.trim().to_string())
        })
        .last()
}

/// toml quotes values in backticks (`invalid type: integer `123``): any quoted stretch
/// that is part of the line's value is replaced, so a secret never reaches the message.
fn redact_quoted(message: &str, value: &str) -> String {
    let mut out = String::new();
    let mut parts = message.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        out.push('`');
        // Odd pieces are inside backticks.
        if i % 2 == 0 && !part.is_empty() && value.contains(part) {
            out.push_str("(value hidden)");
        } else {
            out.push_str(part);
        }
    }
    out
}
