//! An approved WhatsApp template: a message type the planner, the composer and the
//! adapter all use, configured in `[[channels.whatsapp.templates]]`.

use serde::Deserialize;

/// An approved WhatsApp template as the business registered it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    pub name: String,
    /// The language code it was approved in (`en_US`, `ru`).
    pub language: String,
    /// Its body, with `{{1}}`, `{{2}}` … where the parameters go.
    pub body: String,
}

impl TemplateConfig {
    /// How many parameters the body takes.
    pub fn parameters(&self) -> usize {
        (1..=20).take_while(|n| self.body.contains(&format!("{{{{{n}}}}}"))).count()
    }

    /// The template message with these parameters: its text for the history, and the
    /// template's name, language and parameters for the platform.
    pub fn outgoing(&self, params: Vec<String>) -> super::Outgoing {
        let text = self.render(&params);
        let spec = serde_json::json!({"name": self.name, "language": self.language, "params": params});
        super::Outgoing { kind: "template".into(), attachment: Some(spec.to_string()), ..super::Outgoing::text(text) }
    }

    /// The body with its parameters filled in.
    pub fn render(&self, params: &[String]) -> String {
        let mut text = self.body.clone();
        for (i, p) in params.iter().enumerate() {
            text = text.replace(&format!("{{{{{}}}}}", i + 1), p);
        }
        text
    }
}
