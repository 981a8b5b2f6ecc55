//! A report as a table, written as aligned text for a terminal, CSV for a CRM or a
//! spreadsheet (every cell neutralised against formula injection) or JSON. Durations
//! are read as `4m 10s` in text and as seconds in CSV and JSON.

use std::io::Write;

use serde_json::{Map, Value as Json, json};
use unicode_width::UnicodeWidthStr;

use super::stats::duration;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Count(i64),
    /// Milliseconds.
    Duration(Option<f64>),
    Percent(Option<f64>),
    Number(Option<f64>),
}

impl Value {
    /// As the text report shows it (and the Reports screen, which must agree).
    pub fn show(&self) -> String {
        match self {
            Value::Text(t) => crate::text::sanitize(t, false),
            Value::Count(n) => n.to_string(),
            Value::Duration(ms) => duration(*ms),
            Value::Percent(p) => p.map_or("—".into(), |p| format!("{p:.1}%")),
            Value::Number(x) => x.map_or("—".into(), |x| format!("{x:.2}")),
        }
    }

    fn csv(&self) -> String {
        match self {
            Value::Text(t) => crate::export::spreadsheet_safe(t).into_owned(),
            Value::Count(n) => n.to_string(),
            Value::Duration(ms) => ms.map_or(String::new(), |ms| format!("{:.1}", ms / 1000.0)),
            Value::Percent(x) | Value::Number(x) => x.map_or(String::new(), |x| format!("{x:.2}")),
        }
    }

    fn json(&self) -> Json {
        let number = |x: Option<f64>, scale: f64| x.map_or(Json::Null, |x| json!((x / scale * 100.0).round() / 100.0));
        match self {
            Value::Text(t) => Json::String(t.clone()),
            Value::Count(n) => json!(n),
            Value::Duration(ms) => number(*ms, 1000.0),
            Value::Percent(x) | Value::Number(x) => number(*x, 1.0),
        }
    }

    fn numeric(&self) -> bool {
        !matches!(self, Value::Text(_))
    }
}

/// A column: its key in CSV and JSON (durations in seconds end in `_s`), and its
/// heading in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
}

pub const fn col(key: &'static str, label: &'static str) -> Column {
    Column { key, label }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub period: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    /// What the reader must know to read the figures right.
    pub notes: Vec<String>,
}

impl Table {
    pub fn new(title: impl Into<String>, period: &super::Period, columns: &[Column]) -> Table {
        Table {
            title: title.into(),
            period: period.label.clone(),
            columns: columns.to_vec(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The cell of `row` under the column keyed `key`.
    pub fn cell(&self, row: usize, key: &str) -> Option<&Value> {
        let i = self.columns.iter().position(|c| c.key == key)?;
        self.rows.get(row)?.get(i)
    }

    /// Aligned columns, numbers to the right; notes after.
    pub fn text(&self) -> String {
        let shown: Vec<Vec<String>> = self.rows.iter().map(|r| r.iter().map(Value::show).collect()).collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| shown.iter().map(|r| r[i].width()).chain([self.columns[i].label.width()]).max().unwrap_or(0))
            .collect();
        let numeric: Vec<bool> =
            (0..self.columns.len()).map(|i| self.rows.first().is_some_and(|r| r[i].numeric())).collect();
        let line = |cells: Vec<&str>| {
            let mut out = String::new();
            for (i, cell) in cells.into_iter().enumerate() {
                let pad = " ".repeat(widths[i].saturating_sub(cell.width()));
                if i > 0 {
                    out.push_str("  ");
                }
                if numeric[i] {
                    out.push_str(&pad);
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    out.push_str(&pad);
                }
            }
            out.trim_end().to_string() + "\n"
        };
        let mut out = format!("{} — {}\n\n", self.title, self.period);
        out.push_str(&line(self.columns.iter().map(|c| c.label).collect()));
        for row in &shown {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        if self.rows.is_empty() {
            out.push_str("(nothing in this period)\n");
        }
        for note in &self.notes {
            out.push_str(&format!("\n{note}"));
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        out
    }

    pub fn csv(&self, out: impl Write) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(self.columns.iter().map(|c| c.key))?;
        for row in &self.rows {
            w.write_record(row.iter().map(Value::csv))?;
        }
        w.flush()
    }

    pub fn json(&self) -> Json {
        let rows: Vec<Json> = self
            .rows
            .iter()
            .map(|r| {
                let mut o = Map::new();
                for (c, v) in self.columns.iter().zip(r) {
                    o.insert(c.key.into(), v.json());
                }
                Json::Object(o)
            })
            .collect();
        json!({ "report": self.title, "period": self.period, "rows": rows, "notes": self.notes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_forms_of_one_table() {
        let period = super::super::Period { from: 0, to: 1, label: "today".into() };
        let mut t =
            Table::new("Test", &period, &[col("group", "group"), col("median_s", "median"), col("rate", "rate")]);
        t.rows.push(vec![
            Value::Text("=HYPERLINK(\"x\")".into()),
            Value::Duration(Some(250_000.0)),
            Value::Percent(Some(12.5)),
        ]);
        t.rows.push(vec![Value::Text("Анна\u{1b}[31m".into()), Value::Duration(None), Value::Percent(None)]);
        let text = t.text();
        assert!(text.contains("4m 10s") && text.contains("12.5%") && text.contains("—"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        let mut csv = Vec::new();
        t.csv(&mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.starts_with("group,median_s,rate\n"), "{csv}");
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\",250.0,12.50"), "{csv}");
        let json = t.json();
        assert_eq!(json["rows"][0]["median_s"], json!(250.0));
        assert_eq!(json["rows"][1]["rate"], Json::Null);
    }
}
