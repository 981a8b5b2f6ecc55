//! `switchboard doctor`: for each configured channel, whether its token works and which
//! URL the platform must reach; with a public base URL, it registers the webhooks that
//! can be registered by API (Viber; Telegram in webhook mode). VK's check says what to
//! switch on in the community's settings when Long Poll or an event type is off.

use crate::channels::{TelegramChannel, ViberChannel, WhatsAppChannel};
use crate::config::{Config, TelegramMode};
use crate::model::ChannelKind;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub channel: ChannelKind,
    pub ok: bool,
    pub text: String,
}

/// Checks every configured channel. `public_base` is the https URL that reaches the
/// engine's webhook server from the internet; with `register`, the webhooks that can be
/// set by API are set to it.
pub async fn run(config: &Config, public_base: Option<&str>, register: bool) -> Vec<Check> {
    let base = public_base.map(|b| b.trim_end_matches('/').to_string());
    let url_for = |path: &str| match &base {
        Some(b) => format!("{b}/webhook/{path}"),
        None => format!("https://<your public host>/webhook/{path} (proxied to {})", config.webhook.listen),
    };
    let mut checks = Vec::new();
    let mut say = |channel, ok, text: String| checks.push(Check { channel, ok, text });
    if let Some(tg) = &config.channels.telegram {
        match TelegramChannel::new(tg) {
            Err(e) => say(ChannelKind::Telegram, false, e),
            Ok(channel) => match channel.check().await {
                Err(e) => say(
                    ChannelKind::Telegram,
                    false,
                    format!(
                        "{}{}",
                        match e {
                            crate::channels::SendError::ChannelDown(_) =>
                                "the token does not work: Telegram rejected it".to_string(),
                            other => format!("the server at {} is not answering as the Bot API: {other}", tg.api_url),
                        },
                        match tg.mode {
                            TelegramMode::Polling => String::new(),
                            TelegramMode::Webhook =>
                                format!("; once it does, Telegram must reach {}", url_for("telegram")),
                        }
                    ),
                ),
                Ok(bot) if tg.mode == TelegramMode::Polling => {
                    say(ChannelKind::Telegram, true, format!("@{bot}, long polling: no public URL needed"))
                }
                Ok(bot) => {
                    let url = url_for("telegram");
                    let registered = match (register, &base) {
                        (true, Some(_)) => match channel.set_webhook(&url).await {
                            Ok(()) => " (registered with setWebhook)".to_string(),
                            Err(e) => format!(" (setWebhook failed: {e})"),
                        },
                        _ => String::new(),
                    };
                    say(
                        ChannelKind::Telegram,
                        true,
                        format!("@{bot}, webhook mode: Telegram must reach {url}{registered}"),
                    );
                }
            },
        }
    }
    if let Some(wa) = &config.channels.whatsapp {
        match WhatsAppChannel::new(wa) {
            Err(e) => say(ChannelKind::WhatsApp, false, e),
            Ok(channel) => match channel.check().await {
                Ok(number) => say(
                    ChannelKind::WhatsApp,
                    true,
                    format!(
                        "{number}: Meta must reach {} (set it, with the verify token, in the app's WhatsApp configuration)",
                        url_for("whatsapp")
                    ),
                ),
                Err(e) => say(
                    ChannelKind::WhatsApp,
                    false,
                    format!("the token or phone number id does not work: {e}; Meta must reach {}", url_for("whatsapp")),
                ),
            },
        }
    }
    if let Some(vb) = &config.channels.viber {
        match ViberChannel::new(vb) {
            Err(e) => say(ChannelKind::Viber, false, e),
            Ok(channel) => match channel.check().await {
                Err(e) => say(
                    ChannelKind::Viber,
                    false,
                    format!("the token does not work: {e}; once it does, Viber must reach {}", url_for("viber")),
                ),
                Ok(name) => {
                    let url = url_for("viber");
                    let registered = match (register, &base) {
                        // Viber calls the URL at once: the engine must be running.
                        (true, Some(_)) => match channel.set_webhook(&url).await {
                            Ok(()) => " (registered with set_webhook)".to_string(),
                            Err(e) => format!(" (set_webhook failed: {e}; is the engine running behind that URL?)"),
                        },
                        _ => String::new(),
                    };
                    say(ChannelKind::Viber, true, format!("{name}: Viber must reach {url}{registered}"));
                }
            },
        }
    }
    if let Some(vk) = &config.channels.vk {
        match crate::channels::VkChannel::new(vk) {
            Err(e) => say(ChannelKind::Vk, false, e),
            Ok(channel) => {
                let (ok, text) = vk_check(&channel, vk.mode, || url_for("vk")).await;
                say(ChannelKind::Vk, ok, text);
            }
        }
    }
    checks
}

/// The VK events the console needs from the community's Long Poll (or Callback) settings.
const VK_EVENTS: &[&str] =
    &["message_new", "message_reply", "message_edit", "message_event", "message_allow", "message_deny", "message_read"];

/// VK: the token (`groups.getById`), and in long-poll mode that Long Poll is on with the
/// events the console needs (`groups.getLongPollSettings`), saying what to switch on.
async fn vk_check(
    channel: &crate::channels::VkChannel,
    mode: crate::config::VkMode,
    url: impl Fn() -> String,
) -> (bool, String) {
    let name = match channel.check().await {
        Ok(name) => name,
        Err(crate::channels::SendError::ChannelDown(e)) => return (false, format!("the token does not work: {e}")),
        Err(e) => return (false, format!("VK is not answering: {e}")),
    };
    if mode == crate::config::VkMode::Callback {
        return (true, format!("{name}: VK must reach {} (Callback API, with the secret key)", url()));
    }
    let settings =
        match channel.call("groups.getLongPollSettings", &[("group_id", channel.group_id().to_string())]).await {
            Ok(s) => s,
            Err(e) => return (false, format!("{name}: cannot read the Long Poll settings: {e}")),
        };
    let where_ = "Manage community → API usage → Bots Long Poll API";
    if settings["is_enabled"] != true && settings["is_enabled"] != 1 {
        return (false, format!("{name}: Long Poll is off: switch it on in {where_}, with API version 5.199"));
    }
    let missing: Vec<&str> =
        VK_EVENTS.iter().copied().filter(|e| settings["events"][*e] != 1 && settings["events"][*e] != true).collect();
    if !missing.is_empty() {
        return (false, format!("{name}: tick these event types in {where_}: {}", missing.join(", ")));
    }
    (true, format!("{name}, long polling: no public URL needed"))
}

/// The composer's spell-check: which dictionaries load, or how to get them. `(ok, text)`.
pub fn spell_check(config: &crate::spell::SpellConfig) -> (bool, String) {
    if !config.enabled {
        return (false, "off in the config ([spell] enabled = false)".into());
    }
    let (speller, problems) = crate::spell::dictionaries::load_all(config);
    let (found, _) = crate::spell::dictionaries::find(config);
    let loaded: Vec<String> = found
        .iter()
        .filter(|f| speller.names().contains(&f.language.as_str()))
        .map(|f| format!("{} ({})", f.language, f.dic.display()))
        .collect();
    match (loaded.is_empty(), problems.is_empty()) {
        (true, _) => {
            (false, format!("no dictionaries: {}; {}", problems.join("; "), crate::spell::dictionaries::INSTALL_HINT))
        }
        (false, true) => (true, loaded.join(", ")),
        (false, false) => (true, format!("{}; but {}", loaded.join(", "), problems.join("; "))),
    }
}

/// Below this much free space the store is reported as (nearly) full: a burst of
/// webhooks with media captions fills a few megabytes in seconds.
const LOW_SPACE: u64 = 16 * 1024 * 1024;

/// The store's health: whether it opens, how much room its disk has, and how large its
/// write-ahead log is. `(ok, text)`.
pub fn store_check(store_file: &std::path::Path) -> (bool, String) {
    let dir = store_file.parent().unwrap_or(std::path::Path::new("."));
    let opened = crate::store::Store::open(store_file);
    let mut wal = store_file.as_os_str().to_owned();
    wal.push("-wal");
    let log = std::fs::metadata(std::path::Path::new(&wal)).map(|m| m.len()).unwrap_or(0);
    let free = free_space(dir);
    let mb = |b: u64| format!("{:.1} MB", b as f64 / 1_048_576.0);
    let place = store_file.display();
    match (opened, free) {
        (Err(crate::store::StoreError::DiskFull(_)), _) => {
            (false, format!("{place}: disk full; free space on that disk and the engine recovers by itself"))
        }
        (Err(e), _) => (false, e.to_string()),
        (Ok(_), Some(free)) if free < LOW_SPACE => (
            false,
            format!(
                "{place}: disk full or nearly ({} free, log {}): updates will be refused until space is freed",
                mb(free),
                mb(log)
            ),
        ),
        (Ok(_), Some(free)) => (true, format!("{place}: {} free, log {}", mb(free), mb(log))),
        (Ok(_), None) => (true, format!("{place}: opens (free space unknown), log {}", mb(log))),
    }
}

/// Bytes free for this user on the disk that holds `dir`.
#[cfg(unix)]
fn free_space(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we pass; the path is NUL-terminated.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    (unsafe { libc::statvfs(path.as_ptr(), &mut stat) } == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}

#[cfg(not(unix))]
fn free_space(_: &std::path::Path) -> Option<u64> {
    None
}
