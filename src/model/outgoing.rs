//! What we send: text, an attachment, buttons, or a template, and whether a channel
//! would take it.

use super::{ChannelKind, Rules};

/// A button under an outbound message: a link, or a reply the platform sends back to us
/// as a click. Stored as JSON rows of buttons, the shape Telegram uses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Button {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
}

impl Button {
    /// Rows of buttons: each spec is a row, `|` separating the buttons in it.
    pub fn parse_rows(rows: &[String]) -> Result<Vec<Vec<Button>>, String> {
        rows.iter().map(|row| row.split('|').map(|b| Button::parse(b.trim())).collect()).collect()
    }

    /// Parses `TEXT=https://…` (a link) or `TEXT=DATA` (a reply button carrying DATA).
    pub fn parse(spec: &str) -> Result<Button, String> {
        let (text, target) =
            spec.split_once('=').ok_or_else(|| format!("button `{spec}`: write TEXT=https://… or TEXT=DATA"))?;
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("button `{spec}`: the text is empty"));
        }
        let target = target.trim();
        if target.starts_with("https://") || target.starts_with("http://") {
            reqwest::Url::parse(target).map_err(|e| format!("button `{spec}`: {e}"))?;
            Ok(Button { text: text.into(), url: Some(target.into()), callback_data: None })
        } else if target.is_empty() || target.len() > 64 {
            Err(format!("button `{spec}`: the data must be 1 to 64 bytes (it is {})", target.len()))
        } else {
            Ok(Button { text: text.into(), url: None, callback_data: Some(target.into()) })
        }
    }
}

/// What an outbound message carries besides its text, typed once from the stored row:
/// the adapters match on this and never parse a kind or a JSON string again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Text,
    /// A photo: an http(s) URL the platform fetches, or a local path to upload.
    Photo {
        source: String,
    },
    /// A document, likewise.
    Document {
        source: String,
    },
    /// An approved WhatsApp template and its parameters.
    Template(TemplateCall),
}

/// A template to send: its name, the language it was approved in, its parameters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TemplateCall {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub params: Vec<String>,
}

impl Content {
    /// From a stored message's kind and attachment (for a template, its call as JSON).
    pub fn from_stored(kind: &str, attachment: Option<&str>) -> Result<Content, String> {
        match (kind, attachment) {
            ("photo", Some(source)) => Ok(Content::Photo { source: source.into() }),
            ("document", Some(source)) => Ok(Content::Document { source: source.into() }),
            ("template", Some(call)) => serde_json::from_str(call)
                .map(Content::Template)
                .map_err(|e| format!("the template to send is not readable: {e}")),
            ("photo" | "document" | "template", None) => Err(format!("the {kind} to send is missing")),
            _ => Ok(Content::Text),
        }
    }
}

/// What an agent or a script sends: text, optionally an attachment and buttons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// `text`, `photo` or `document`.
    pub kind: String,
    /// The text, or the caption of an attachment.
    pub text: String,
    /// For `photo` and `document`: an http(s) URL or a local path.
    pub attachment: Option<String>,
    /// Rows of buttons.
    pub buttons: Vec<Vec<Button>>,
}

impl Outgoing {
    pub fn text(text: impl Into<String>) -> Outgoing {
        Outgoing { kind: "text".into(), text: text.into(), attachment: None, buttons: Vec::new() }
    }

    /// Whether `channel` would take this message; the reason when not. Checked before
    /// anything is queued, so the agent can fix the text rather than see it fail.
    pub fn check(&self, channel: ChannelKind) -> Result<(), String> {
        if self.text.trim().is_empty() && self.attachment.is_none() {
            return Err("there is nothing to send".into());
        }
        let rules: &Rules = channel.rules();
        let (limit, what) = match (&self.attachment, self.buttons.is_empty()) {
            (Some(_), _) => (rules.caption_limit, "caption"),
            (None, true) => (rules.text_limit, "message"),
            (None, false) => (rules.buttons.text_limit, "text above the buttons"),
        };
        let chars = self.text.chars().count();
        if chars > limit {
            return Err(format!(
                "the {what} is {chars} characters long; {} takes at most {limit}: shorten it or send it in parts",
                rules.name
            ));
        }
        if !self.buttons.is_empty() {
            if self.attachment.is_some() && !rules.buttons.with_attachment {
                return Err(format!("{} cannot put buttons under an attachment: send them apart", rules.name));
            }
            rules.buttons.check(&self.buttons, rules.name)?;
        }
        Ok(())
    }
}

impl ChannelKind {
    /// The longest text one message may carry.
    pub fn text_limit(self) -> usize {
        self.rules().text_limit
    }

    /// The longest caption under a photo or document.
    pub fn caption_limit(self) -> usize {
        self.rules().caption_limit
    }

    /// Whether a button press is a message from the customer (see [`Rules`]).
    pub fn press_is_a_message(self) -> bool {
        self.rules().press_is_a_message
    }

    /// The name people know.
    pub fn display_name(self) -> &'static str {
        self.rules().name
    }
}
