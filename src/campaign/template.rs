//! Message templates: text with `{{variable}}` places filled from the contact, with an
//! optional default after a bar (`{{first_name|friend}}`). A place without a value and
//! without a default leaves the contact out of the campaign (`missing_variable`) rather
//! than sending them a hole.

use std::collections::BTreeMap;

/// The variables a template may use besides `attr.NAME`.
pub const VARIABLES: &[&str] = &["first_name", "last_name", "name", "phone", "stage", "agent"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var { name: String, default: Option<String> },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// What a template is filled from.
#[derive(Debug, Clone, Default)]
pub struct Fields<'a> {
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub stage: &'a str,
    pub attributes: Option<&'a serde_json::Map<String, serde_json::Value>>,
    /// The agent who sends it (a canned reply); a campaign has none.
    pub agent: Option<&'a str>,
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].into()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(format!("`{{{{` at character {} is not closed with `}}}}`", position(source, rest, open)));
            };
            let inner = &after[..close];
            let (name, default) = match inner.split_once('|') {
                Some((n, d)) => (n.trim(), Some(d.trim().to_string())),
                None => (inner.trim(), None),
            };
            let known = VARIABLES.contains(&name) || name.strip_prefix("attr.").is_some_and(|a| !a.is_empty());
            if !known {
                return Err(format!(
                    "unknown variable `{{{{{name}}}}}`; use {}, or attr.NAME for an attribute",
                    VARIABLES.join(", ")
                ));
            }
            parts.push(Part::Var { name: name.into(), default });
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.into()));
        }
        Ok(Template { source: source.into(), parts })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The text for one contact, or the first variable it has no value for.
    pub fn render(&self, f: &Fields<'_>) -> Result<String, String> {
        let mut out = String::with_capacity(self.source.len() + 16);
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var { name, default } => match value(name, f).or_else(|| default.clone()) {
                    Some(v) => out.push_str(&v),
                    None => return Err(name.clone()),
                },
            }
        }
        Ok(out)
    }

    /// Renders with the variables named as placeholders, for a sample line.
    pub fn names(&self) -> BTreeMap<String, Option<String>> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Var { name, default } => Some((name.clone(), default.clone())),
                Part::Text(_) => None,
            })
            .collect()
    }
}

fn position(source: &str, rest: &str, at: usize) -> usize {
    source[..source.len() - rest.len() + at].chars().count() + 1
}

/// A variable's value for a contact; empty counts as missing.
fn value(name: &str, f: &Fields<'_>) -> Option<String> {
    let v = match name {
        "first_name" => f.name.split_whitespace().next().map(str::to_string),
        "last_name" => {
            let mut words = f.name.split_whitespace();
            words.next();
            let rest: Vec<&str> = words.collect();
            (!rest.is_empty()).then(|| rest.join(" "))
        }
        "name" => Some(f.name.trim().to_string()),
        "phone" => f.phone.map(str::to_string),
        "stage" => Some(f.stage.to_string()),
        "agent" => f.agent.map(str::to_string),
        _ => {
            let key = name.strip_prefix("attr.")?;
            match f.attributes?.get(key)? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            }
        }
    };
    v.filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_variables_defaults_and_attributes() {
        let t = Template::parse("Привет, {{first_name|друг}}! Скидка в {{attr.city}} 🎉 {{ last_name | }}").unwrap();
        let attrs: serde_json::Map<_, _> = serde_json::from_str(r#"{"city":"Казань"}"#).unwrap();
        let f = Fields { name: "Анна Петрова", attributes: Some(&attrs), ..Default::default() };
        assert_eq!(t.render(&f).unwrap(), "Привет, Анна! Скидка в Казань 🎉 Петрова");
        let f = Fields { name: " ", attributes: Some(&attrs), ..Default::default() };
        assert_eq!(t.render(&f).unwrap(), "Привет, друг! Скидка в Казань 🎉 ");
        let f = Fields { name: "Emma", ..Default::default() };
        assert_eq!(t.render(&f).unwrap_err(), "attr.city");
        let n: serde_json::Map<_, _> = serde_json::from_str(r#"{"city":7}"#).unwrap();
        let f = Fields { name: "Emma", attributes: Some(&n), ..Default::default() };
        assert_eq!(t.render(&f).unwrap(), "Привет, Emma! Скидка в 7 🎉 ");
    }

    #[test]
    fn bad_templates_say_what() {
        assert!(Template::parse("Hi {{frist_name}}").unwrap_err().contains("frist_name"));
        assert!(Template::parse("Hi {{first_name").unwrap_err().contains("character 4"));
        assert!(Template::parse("Hi {{attr.}}").is_err());
        assert_eq!(Template::parse("no places").unwrap().render(&Fields::default()).unwrap(), "no places");
    }
}
