//! The channels' configuration: `[channels.telegram]`, `[channels.whatsapp]`,
//! `[channels.viber]`, `[channels.vk]`, and the `[webhook]` server they share.

use serde::Deserialize;

pub use crate::model::TemplateConfig;

use super::{
    Secret, default_optin_prefixes, default_poll_timeout, default_telegram_url, default_viber_url,
    default_whatsapp_url, default_whatsapp_version, optional_secret, secret, yes,
};

/// The engine's HTTP server for platforms that push updates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// Where it listens. Put a TLS-terminating proxy in front of it: the platforms
    /// call HTTPS URLs only.
    pub listen: std::net::SocketAddr,
    /// Larger bodies are refused with 413.
    pub max_body_bytes: usize,
    /// Connections open at once; past it, a newcomer replaces the oldest idle or stalled
    /// one. The default stays below this process's limit of open files.
    pub max_connections: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8787)),
            max_body_bytes: 1024 * 1024,
            max_connections: default_max_connections(),
        }
    }
}

/// The webhook server's default cap on open connections: below this process's limit of
/// open files, so the server never runs out of descriptors (the store, the log and
/// outgoing requests need some too).
fn default_max_connections() -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes into the struct we pass and touches nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            let soft = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
            return soft.saturating_sub(64).clamp(16, 1024);
        }
    }
    1024
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsConfig {
    pub telegram: Option<TelegramConfig>,
    pub whatsapp: Option<WhatsAppConfig>,
    pub viber: Option<ViberConfig>,
    pub vk: Option<VkConfig>,
}

/// A VK community's messages (API 5.199).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VkConfig {
    /// A community token with the `messages` right, or `env:NAME`.
    #[serde(deserialize_with = "secret")]
    pub token: Secret,
    /// The community's id (a positive number).
    pub group_id: u64,
    #[serde(default = "default_vk_url")]
    pub api_url: String,
    #[serde(default = "default_vk_version")]
    pub api_version: String,
    /// How updates arrive: `longpoll` (Bots Long Poll; no public URL needed) or
    /// `callback` (VK calls /webhook/vk).
    #[serde(default)]
    pub mode: VkMode,
    /// Callback mode: the secret VK puts in every event, or `env:NAME`.
    #[serde(default, deserialize_with = "optional_secret")]
    pub secret: Option<Secret>,
    /// Callback mode: the string VK expects back when it confirms the server.
    #[serde(default)]
    pub confirmation: Option<String>,
    /// Pace calls under VK's 20 a second per community token. Switch off only against
    /// the sandbox.
    #[serde(default = "yes")]
    pub rate_limits: bool,
}

impl VkConfig {
    /// A long-polling community at `api_url` with every other key at its default.
    pub fn new(token: Secret, group_id: u64, api_url: impl Into<String>) -> VkConfig {
        VkConfig {
            token,
            group_id,
            api_url: api_url.into(),
            api_version: default_vk_version(),
            mode: VkMode::default(),
            secret: None,
            confirmation: None,
            rate_limits: true,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VkMode {
    #[default]
    Longpoll,
    Callback,
}

fn default_vk_url() -> String {
    "https://api.vk.com".into()
}

fn default_vk_version() -> String {
    "5.199".into()
}

/// A Viber bot (REST Bot API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViberConfig {
    /// The bot's auth token (X-Viber-Auth-Token; it also signs webhook calls), or `env:NAME`.
    #[serde(deserialize_with = "secret")]
    pub token: Secret,
    #[serde(default = "default_viber_url")]
    pub api_url: String,
    /// The name messages are sent under (28 characters at most).
    pub sender_name: String,
    /// The one message a customer who opens the chat may get before subscribing.
    #[serde(default)]
    pub welcome: Option<String>,
    /// Pace sends under Viber's rules. Switch off only against the sandbox.
    #[serde(default = "yes")]
    pub rate_limits: bool,
    /// The https address Viber reaches the webhook server at (`https://support.example.com`).
    /// Viber fetches attachments by URL only: files attached in the console are served
    /// from `{public_url}/media/…` by the webhook server for it to fetch.
    #[serde(default)]
    pub public_url: Option<String>,
}

/// The WhatsApp Cloud API: one business phone number.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppConfig {
    /// A system-user access token (`Authorization: Bearer`), or `env:NAME`.
    #[serde(deserialize_with = "secret")]
    pub token: Secret,
    /// The id of the business phone number messages are sent from.
    pub phone_number_id: String,
    /// The app secret that signs webhook calls (X-Hub-Signature-256), or `env:NAME`.
    #[serde(deserialize_with = "secret")]
    pub app_secret: Secret,
    /// The verify token you typed into the webhook settings, for Meta's handshake.
    #[serde(deserialize_with = "secret")]
    pub verify_token: Secret,
    #[serde(default = "default_whatsapp_url")]
    pub api_url: String,
    #[serde(default = "default_whatsapp_version")]
    pub api_version: String,
    /// The message a customer who opens the chat for the first time gets (sent on
    /// WhatsApp's `request_welcome`, once per conversation).
    #[serde(default)]
    pub welcome: Option<String>,
    /// Pace sends under WhatsApp's limits. Switch off only against the sandbox.
    #[serde(default = "yes")]
    pub rate_limits: bool,
    /// Approved message templates, for writing to a customer whose 24-hour window has
    /// closed.
    #[serde(default)]
    pub templates: Vec<TemplateConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// The bot token, or `env:NAME` to read it from the environment.
    #[serde(deserialize_with = "secret")]
    pub token: Secret,
    /// Base URL of the Bot API: the public one, a self-hosted server, or the sandbox.
    #[serde(default = "default_telegram_url")]
    pub api_url: String,
    /// How updates arrive: `polling` (getUpdates) or `webhook` (Telegram calls us).
    #[serde(default)]
    pub mode: TelegramMode,
    /// Webhook mode: the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token
    /// (1-256 characters of A-Z a-z 0-9 _ -), or `env:NAME`.
    #[serde(default, deserialize_with = "optional_secret")]
    pub secret_token: Option<Secret>,
    /// Webhook mode: the public HTTPS URL that reaches `/webhook/telegram`; when set,
    /// the engine registers it with setWebhook at start.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Long-poll wait in seconds (below teloxide's 17 s request timeout).
    #[serde(default = "default_poll_timeout")]
    pub poll_timeout_secs: u32,
    /// Pace sends under Telegram's limits. Switch off only against the sandbox.
    #[serde(default = "yes")]
    pub rate_limits: bool,
    /// `/start` payloads that begin with one of these record a marketing opt-in, with
    /// the payload as evidence (a deep link from a signup form, say).
    #[serde(default = "default_optin_prefixes")]
    pub optin_prefixes: Vec<String>,
}

impl TelegramConfig {
    /// A channel at `api_url` with every other key at its default.
    pub fn new(token: Secret, api_url: impl Into<String>) -> TelegramConfig {
        TelegramConfig {
            token,
            api_url: api_url.into(),
            mode: TelegramMode::default(),
            secret_token: None,
            webhook_url: None,
            poll_timeout_secs: default_poll_timeout(),
            rate_limits: true,
            optin_prefixes: default_optin_prefixes(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    #[default]
    Polling,
    Webhook,
}
