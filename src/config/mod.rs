//! Configuration: a TOML file whose unknown keys and bad values are errors naming the key
//! and the line, secrets that may be given as `env:NAME` and never print, and the
//! platform paths (`directories`) that `--config` and `--data-dir` override.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod channels;
mod errors;
pub use channels::*;
pub use errors::describe_toml_error;
pub use errors::line_of;

/// Why the configuration cannot be used. Each message names the file, and the key and
/// line where it can.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {error}")]
    Read { path: PathBuf, error: std::io::Error },
    #[error("in {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A secret (a bot token, an app secret). Its Debug and Display never show the value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub ui: UiConfig,
    pub engine: EngineConfig,
    pub channels: ChannelsConfig,
    pub webhook: WebhookConfig,
    pub consent: ConsentConfig,
    /// One person across channels: phone numbers and links.
    pub contacts: ContactsConfig,
    pub assignment: AssignmentConfig,
    /// The rules every campaign keeps.
    pub campaigns: crate::campaign::CampaignPolicy,
    /// Key overrides: context (`global`, `list`, `conversation`, `composer`, `found`,
    /// `picker`, `card`, `campaign`) → command → one key or a list of keys.
    pub keys: BTreeMap<String, BTreeMap<String, KeyList>>,
    /// The composer's spell-check.
    pub spell: crate::spell::SpellConfig,
    /// Welcome, business hours and away replies, keyword replies.
    pub automation: crate::automation::AutomationConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// `dark`, `light`, `high-contrast`, or the path of a theme file.
    pub theme: String,
    /// The name written as the author of this console's replies, and the agent the
    /// console (and `--assignee me`) acts as. Default: the OS user's name.
    pub agent_name: String,
    /// Let the mouse select conversations and scroll.
    pub mouse: bool,
    /// How a customer's new message in a conversation that is yours or nobody's is
    /// announced: `auto` (the bell, and a desktop notification by the terminal's own
    /// sequence while it is not focused), `osc9`, `osc777`, `osc99`, `bel` or `off`.
    pub notify: NotifyKind,
    /// What opens a customer's file (`open-media`), given the file's path: empty for
    /// the system's (`xdg-open` with a display, `open` on macOS); over SSH with no
    /// display the console says where the file was saved instead.
    pub opener: String,
}

/// Auto-assignment (`[assignment]`): who gets a new or reopened conversation.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AssignmentConfig {
    /// `off`, or `balanced`: the agent on duty (a console open, or marked available)
    /// with the fewest open conversations gets the one waiting longest.
    pub auto: AutoAssign,
    /// The most open conversations auto-assignment gives one agent; past it they wait.
    pub cap: usize,
}

impl Default for AssignmentConfig {
    fn default() -> Self {
        AssignmentConfig { auto: AutoAssign::Off, cap: 10 }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoAssign {
    #[default]
    Off,
    Balanced,
}

/// How to notify (`[ui] notify`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyKind {
    /// Pick the desktop sequence by the terminal, and ring the bell.
    #[default]
    Auto,
    Osc9,
    Osc777,
    Osc99,
    /// The bell only.
    Bel,
    Off,
}

/// The OS user's name (`USER`, or `LOGNAME`), or `agent` when neither is a usable name.
fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|u| !u.trim().is_empty() && !u.chars().any(char::is_control) && u.chars().count() <= 64)
        .unwrap_or_else(|| "agent".into())
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            theme: "dark".into(),
            agent_name: os_user(),
            mouse: false,
            notify: NotifyKind::Auto,
            opener: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// How often a console checks the store for changes made by other processes.
    pub refresh_ms: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { refresh_ms: 250 }
    }
}

/// What inbound keywords do for consent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsentConfig {
    /// A message that is only one of these (any case) opts the customer out of marketing.
    pub stop_keywords: Vec<String>,
    /// The one reply a STOP gets, by the customer's language: a table such as
    /// `{ default = "…", ru = "…" }`, or one text for everyone; empty for none.
    pub stop_confirmation: StopConfirmation,
}

/// How phone numbers make one person of several channel identities.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContactsConfig {
    /// `auto`: a new identity whose number a platform vouched for joins the one contact
    /// that already has it verified. `suggest`: only suggested (`contacts duplicates`).
    /// `off`: ingest matches no numbers.
    pub link: crate::model::phone::LinkMode,
    /// The region of numbers written without a country code (`RU`, `DE`); empty for none.
    #[serde(deserialize_with = "region")]
    pub default_region: crate::model::phone::Region,
}

fn region<'de, D: serde::Deserializer<'de>>(d: D) -> Result<crate::model::phone::Region, D::Error> {
    let code = String::deserialize(d)?;
    crate::model::phone::Region::parse(&code).map_err(serde::de::Error::custom)
}

impl Config {
    /// What the engine applies to every message it stores.
    pub fn ingest_rules(&self) -> crate::store::IngestRules {
        crate::store::IngestRules {
            stop: self.consent.stop_policy(),
            linking: crate::model::phone::Linking { mode: self.contacts.link, region: self.contacts.default_region },
        }
    }
}

/// One confirmation for every customer, or one per language.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum StopConfirmation {
    One(String),
    ByLanguage(BTreeMap<String, String>),
}

impl Default for ConsentConfig {
    fn default() -> Self {
        ConsentConfig {
            stop_keywords: crate::model::StopPolicy::default().keywords,
            stop_confirmation: StopConfirmation::ByLanguage(crate::model::default_confirmations()),
        }
    }
}

impl ConsentConfig {
    pub fn stop_policy(&self) -> crate::model::StopPolicy {
        let confirmations = match &self.stop_confirmation {
            StopConfirmation::One(text) => [("default".to_string(), text.clone())].into_iter().collect(),
            StopConfirmation::ByLanguage(by) => by.clone(),
        };
        crate::model::StopPolicy { keywords: self.stop_keywords.clone(), confirmations }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter such as `info` or `switchboard=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info".into() }
    }
}

/// One key or several, as written in `[keys.*]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    pub fn keys(&self) -> Vec<&str> {
        match self {
            KeyList::One(k) => vec![k.as_str()],
            KeyList::Many(ks) => ks.iter().map(String::as_str).collect(),
        }
    }
}

pub(crate) fn default_telegram_url() -> String {
    "https://api.telegram.org".into()
}
pub(crate) fn default_viber_url() -> String {
    "https://chatapi.viber.com".into()
}
pub(crate) fn default_whatsapp_url() -> String {
    "https://graph.facebook.com".into()
}
pub(crate) fn default_whatsapp_version() -> String {
    "v25.0".into()
}
pub(crate) fn default_optin_prefixes() -> Vec<String> {
    vec!["optin_".into()]
}
pub(crate) fn default_poll_timeout() -> u32 {
    10
}
pub(crate) fn yes() -> bool {
    true
}

pub(crate) fn optional_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    secret(d).map(Some)
}

/// Reads a secret, resolving `env:NAME`. A missing variable is an error at this key, so
/// the message carries the key and line like any other bad value.
pub(crate) fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    use serde::de::Error;
    let raw = String::deserialize(d)?;
    let (value, from) = match raw.strip_prefix("env:") {
        Some(name) => match std::env::var(name) {
            Ok(v) if v.is_empty() => {
                return Err(Error::custom(format!("environment variable {name} is set but empty")));
            }
            Ok(v) => (v, format!("environment variable {name}")),
            Err(_) => return Err(Error::custom(format!("environment variable {name} is not set"))),
        },
        None if raw.is_empty() => return Err(Error::custom("the secret is empty")),
        None => (raw, "the secret".to_string()),
    };
    // A newline or other control character cannot be sent in a header or a URL; refused
    // here, naming the key, rather than as a "builder error" at the first request.
    if value.chars().any(char::is_control) {
        return Err(Error::custom(format!("{from} holds a control character (a newline?); it cannot be a token")));
    }
    Ok(Secret(value))
}

impl Config {
    /// Parses config text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)
            .map_err(|e| ConfigError::Invalid { path: path.into(), message: describe_toml_error(text, &e) })?;
        if let Some(tg) = &config.channels.telegram {
            reqwest::Url::parse(&tg.api_url).map_err(|e| ConfigError::Invalid {
                path: path.into(),
                message: format!("channels.telegram.api_url `{}` is not a URL: {e}", tg.api_url),
            })?;
            let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
            if tg.mode == TelegramMode::Webhook {
                let secret = tg.secret_token.as_ref().ok_or_else(|| {
                    invalid("channels.telegram.secret_token is required when mode = \"webhook\"".into())
                })?;
                let s = secret.expose();
                if s.len() > 256 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    return Err(invalid(
                        "channels.telegram.secret_token must be 1-256 characters of A-Z a-z 0-9 _ - (Telegram's rule)"
                            .into(),
                    ));
                }
            }
            if let Some(url) = &tg.webhook_url {
                let parsed = reqwest::Url::parse(url)
                    .map_err(|e| invalid(format!("channels.telegram.webhook_url `{url}` is not a URL: {e}")))?;
                if parsed.scheme() != "https" {
                    return Err(invalid(format!(
                        "channels.telegram.webhook_url `{url}`: Telegram calls https URLs only"
                    )));
                }
            }
            if tg.poll_timeout_secs > 15 {
                return Err(ConfigError::Invalid {
                    path: path.into(),
                    message: "channels.telegram.poll_timeout_secs must be 15 or less".into(),
                });
            }
        }
        let share = config.campaigns.brake_share;
        if !(0.0..=1.0).contains(&share) {
            let line = line_of(text, "campaigns", "brake_share").map(|l| format!("line {l}, ")).unwrap_or_default();
            return Err(ConfigError::Invalid {
                path: path.into(),
                message: format!(
                    "{line}key `campaigns.brake_share`: {share} is not a share between 0 and 1 (0.05 pauses at 5%)"
                ),
            });
        }
        if let Err(message) = config.automation.check() {
            // The table the problem is in, for its line: the schedule or the keyword rules.
            let table = if message.starts_with("automation.hours") { "automation.hours" } else { "automation" };
            let line = text
                .lines()
                .position(|l| l.trim().trim_start_matches('[').starts_with(table))
                .map(|l| format!("line {}, ", l + 1))
                .unwrap_or_default();
            return Err(ConfigError::Invalid { path: path.into(), message: format!("{line}{message}") });
        }
        if config.assignment.auto == AutoAssign::Balanced && config.assignment.cap == 0 {
            let line = line_of(text, "assignment", "cap").map(|l| format!("line {l}, ")).unwrap_or_default();
            return Err(ConfigError::Invalid {
                path: path.into(),
                message: format!("{line}key `assignment.cap`: 0 would give nobody anything; write 1 or more"),
            });
        }
        if let Some(vb) = &config.channels.viber
            && (vb.sender_name.is_empty() || vb.sender_name.chars().count() > 28)
        {
            return Err(ConfigError::Invalid {
                path: path.into(),
                message: "channels.viber.sender_name must be 1 to 28 characters (Viber's rule)".into(),
            });
        }
        if let Some(vk) = &config.channels.vk
            && vk.mode == VkMode::Callback
            && (vk.secret.is_none() || vk.confirmation.as_deref().is_none_or(str::is_empty))
        {
            return Err(ConfigError::Invalid {
                path: path.into(),
                message: "channels.vk: callback mode needs `secret` and `confirmation` (both are in the \
                          community's Callback API settings)"
                    .into(),
            });
        }
        Ok(config)
    }

    /// Loads the file at `path`; a missing file is the default configuration only when
    /// `required` is false (the platform default path), never for `--config`.
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                if let Some(warning) = readable_by_others(path, &text) {
                    // Printed before the console takes the terminal; logging may not run yet.
                    eprintln!("switchboard: warning: {warning}");
                }
                Config::parse(&text, path)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(Config::default()),
            Err(error) => Err(ConfigError::Read { path: path.into(), error }),
        }
    }
}

/// A warning when the file holds a secret in clear and others may read it.
#[cfg(unix)]
fn readable_by_others(path: &Path, text: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let holds_secret = text.lines().any(|l| {
        let l = l.trim_start();
        (l.starts_with("token") || l.contains("secret")) && !l.contains("\"env:")
    });
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (holds_secret && mode & 0o044 != 0)
        .then(|| format!("{} holds secrets and others can read it: chmod 600 it", path.display()))
}

#[cfg(not(unix))]
fn readable_by_others(_: &Path, _: &str) -> Option<String> {
    None
}

/// Where this run keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_file: PathBuf,
    /// True when the user named the config file: then it must exist.
    pub config_required: bool,
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl Paths {
    /// The platform directories, overridden by `--config` and `--data-dir`. With
    /// `--data-dir`, logs go beside the data so a run touches nothing else.
    pub fn resolve(config: Option<&Path>, data_dir: Option<&Path>) -> anyhow::Result<Paths> {
        let project = directories::ProjectDirs::from("", "", "switchboard");
        let config_file = match (config, &project) {
            (Some(p), _) => p.to_path_buf(),
            (None, Some(dirs)) => dirs.config_dir().join("config.toml"),
            (None, None) => anyhow::bail!("no home directory found: pass --config and --data-dir"),
        };
        let (data_dir, log_dir) = match (data_dir, &project) {
            (Some(d), _) => (d.to_path_buf(), d.join("logs")),
            (None, Some(dirs)) => {
                let state = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
                (dirs.data_dir().to_path_buf(), state.join("logs"))
            }
            (None, None) => anyhow::bail!("no home directory found: pass --data-dir"),
        };
        Ok(Paths { config_file, config_required: config.is_some(), data_dir, log_dir })
    }

    pub fn store_file(&self) -> PathBuf {
        self.data_dir.join("switchboard.db")
    }

    pub fn lock_file(&self) -> PathBuf {
        self.data_dir.join("engine.lock")
    }

    /// Where each running console holds a shared lock.
    pub fn consoles_file(&self) -> PathBuf {
        self.data_dir.join("consoles.lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.toml"))
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse("[ui]\ntheme = \"dark\"\ncolour = \"red\"\n").unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("colour"), "{err}");
        assert!(err.contains("test.toml"), "{err}");
    }

    #[test]
    fn bad_value_names_key_and_line() {
        let err = parse("[ui]\nmouse = \"yes\"\n").unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("mouse"), "{err}");
    }

    #[test]
    fn missing_env_secret_is_an_error_at_the_key() {
        let err =
            parse("[channels.telegram]\ntoken = \"env:SWITCHBOARD_TEST_SURELY_UNSET\"\n").unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("SWITCHBOARD_TEST_SURELY_UNSET"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let config = parse("[channels.telegram]\ntoken = \"123:SECRET\"\n").unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(config.channels.telegram.unwrap().token.expose(), "123:SECRET");
    }

    #[test]
    fn bad_url_is_named() {
        let err = parse("[channels.telegram]\ntoken = \"t\"\napi_url = \"not a url\"\n").unwrap_err().to_string();
        assert!(err.contains("channels.telegram.api_url"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_readable_secret_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let text = "[channels.telegram]\ntoken = \"1:x\"\n";
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(readable_by_others(&path, text).unwrap().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(readable_by_others(&path, text).is_none());
        assert!(readable_by_others(&path, "token = \"env:T\"").is_none());
    }

    #[test]
    fn webhook_mode_needs_a_valid_secret() {
        let base = "[channels.telegram]\ntoken = \"1:x\"\nmode = \"webhook\"\n";
        assert!(parse(base).unwrap_err().to_string().contains("secret_token is required"));
        let bad = format!("{base}secret_token = \"has spaces\"\n");
        assert!(parse(&bad).unwrap_err().to_string().contains("A-Z a-z 0-9"));
        let http = format!("{base}secret_token = \"s3cret_ok\"\nwebhook_url = \"http://x.example/hook\"\n");
        assert!(parse(&http).unwrap_err().to_string().contains("https"));
        let good =
            format!("{base}secret_token = \"s3cret_ok\"\nwebhook_url = \"https://x.example/webhook/telegram\"\n");
        let config = parse(&good).unwrap();
        assert!(!format!("{config:?}").contains("s3cret_ok"));
    }

    #[test]
    fn templates_count_and_fill_their_parameters() {
        let t = TemplateConfig {
            name: "order".into(),
            language: "en_US".into(),
            body: "Hi {{1}}, order {{2}} is ready".into(),
        };
        assert_eq!(t.parameters(), 2);
        assert_eq!(t.render(&["Ann".into(), "5512".into()]), "Hi Ann, order 5512 is ready");
    }

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../../config.example.toml");
        // Every secret there is read from the environment; stand in a value for each.
        let config = parse(&text.replace("\"env:", "\"value-of-")).unwrap();
        assert!(config.channels.telegram.is_some());
        assert_eq!(config.channels.whatsapp.unwrap().templates.len(), 1);
        assert_eq!(config.channels.viber.unwrap().sender_name, "Switchboard Shop");
        assert_eq!(config.campaigns.quiet_hours, Some((21 * 60, 9 * 60)));
        assert_eq!(config.campaigns.reply_window, 48 * 3_600_000);
    }

    #[test]
    fn a_bad_campaign_rule_names_its_key_and_line() {
        let e = parse("[campaigns]\nfrequency_cap = 2\nquiet_hours = \"25:00-09:00\"\n").unwrap_err().to_string();
        assert!(e.contains("quiet_hours") && e.contains("line 3") && e.contains("25:00-09:00"), "{e}");
    }
}
