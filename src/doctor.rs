//! `switchboard doctor`: for each configured channel, whether its token works and which
//! URL the platform must reach; with a public base URL, it registers the webhooks that
//! can be registered by API (Viber; Telegram in webhook mode).

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
                    format!("the token does not work: {}", crate::channels::telegram::classify(&e)),
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
                Err(e) => say(ChannelKind::WhatsApp, false, format!("the token or phone number id does not work: {e}")),
            },
        }
    }
    if let Some(vb) = &config.channels.viber {
        match ViberChannel::new(vb) {
            Err(e) => say(ChannelKind::Viber, false, e),
            Ok(channel) => match channel.check().await {
                Err(e) => say(ChannelKind::Viber, false, format!("the token does not work: {e}")),
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
    checks
}
