//! `--demo`: a throwaway store (or `--data-dir`) seeded with customers and history, the
//! Telegram, WhatsApp, Viber and VK emulators on loopback ports, and the real adapters
//! pointed at them, so the console runs with no tokens.

use std::path::Path;
use std::time::Duration;

use crate::app;
use crate::cli::{console, open_store};
use crate::config::{Config, Paths, Secret, TelegramConfig};
use crate::model::{ChannelKind, now_ms};
use crate::sandbox::{self, EmulatorOptions, TelegramEmulator};

/// The demo: a throwaway store (or `--data-dir`) seeded with customers and history, the
/// Telegram emulator on a loopback port, and the real adapter pointed at it.
pub async fn run(paths: &Paths, keep_data: bool) -> anyhow::Result<()> {
    let (_temp, paths) = workspace(paths, keep_data, "switchboard-demo-")?;
    let data_dir = paths.data_dir.clone();
    // The user's look and keys apply; their channels do not.
    let mut config = Config::load(&paths.config_file, paths.config_required)?;
    let customers = sandbox::customers::demo_customers(36);
    let on = |channel: ChannelKind| -> Vec<sandbox::Customer> {
        let on_channel = customers.iter().enumerate().filter(|(i, _)| sandbox::seed::channel_of(*i) == channel);
        on_channel.map(|(_, c)| c.clone()).collect()
    };
    let (first_message_id, seeded, last_inbound) = {
        let mut store = open_store(&paths)?;
        let seeded = if store.count("conversations")? == 0 {
            sandbox::seed::seed(&mut store, &customers, now_ms(), 7)?
        } else {
            Default::default()
        };
        // This run's emulators are new: Telegram's update ids start again and its message
        // ids must not collide with the stored ones; WhatsApp must know each window.
        store.reset_sync(ChannelKind::Telegram)?;
        store.reset_sync(ChannelKind::Vk)?;
        let mut last_inbound = Vec::new();
        for c in on(ChannelKind::WhatsApp) {
            let wa = sandbox::whatsapp::wa_id(&c);
            if let Some(id) = store.find_conversation(ChannelKind::WhatsApp, &wa)? {
                last_inbound.push((wa, store.conversation(id)?.last_inbound_at.unwrap_or(0)));
            }
        }
        (store.max_numeric_external_id(ChannelKind::Telegram)? + 1000, seeded, last_inbound)
    };
    let reply_delay = Some((Duration::from_millis(1500), Duration::from_secs(4)));
    let token = "demo:sandbox-token";
    let options = EmulatorOptions {
        reply_delay,
        ambient_every: Some(Duration::from_secs(40)),
        first_message_id,
        seed: now_ms() as u64,
        clickable: seeded.clickable,
        ..EmulatorOptions::default()
    };
    let loopback: std::net::SocketAddr = "127.0.0.1:0".parse()?;
    let telegram = TelegramEmulator::start(loopback, token, on(ChannelKind::Telegram), options).await?;
    for chat in seeded.blocked {
        telegram.block_quietly(chat);
    }
    config.channels.telegram = Some(TelegramConfig::new(Secret::new(token), telegram.url()));

    // WhatsApp and Viber push to the engine's webhook server, on a free loopback port.
    let webhook = webhook_port()?;
    config.webhook.listen = webhook;
    let (wa_token, phone, app_secret) = ("demo-whatsapp-token", "109876543210987", "demo-app-secret");
    let wa_options = sandbox::whatsapp::WhatsAppOptions { reply_delay, seed: now_ms() as u64 };
    let whatsapp = sandbox::whatsapp::WhatsAppEmulator::start(
        loopback,
        wa_token,
        phone,
        app_secret,
        on(ChannelKind::WhatsApp),
        wa_options,
    )
    .await?;
    whatsapp.set_webhook(&format!("http://{webhook}/webhook/whatsapp"));
    for (wa, at) in last_inbound {
        whatsapp.set_last_inbound(&wa, at);
    }
    config.channels.whatsapp = Some(crate::config::WhatsAppConfig {
        token: Secret::new(wa_token),
        phone_number_id: phone.into(),
        app_secret: Secret::new(app_secret),
        verify_token: Secret::new("demo-verify"),
        api_url: whatsapp.url(),
        api_version: "v25.0".into(),
        welcome: None,
        rate_limits: true,
        templates: sandbox::seed::templates(),
    });
    let vb_token = "demo-viber-token";
    let vb_options = sandbox::viber::ViberOptions { reply_delay, seed: now_ms() as u64 };
    let viber = sandbox::viber::ViberEmulator::start(loopback, vb_token, on(ChannelKind::Viber), vb_options).await?;
    viber.set_webhook(&format!("http://{webhook}/webhook/viber"));
    for c in on(ChannelKind::Viber) {
        let user = sandbox::viber::user_id(&c);
        if !seeded.unsubscribed.contains(&user) {
            viber.subscribe_quietly(&user);
        }
    }
    config.channels.viber = Some(crate::config::ViberConfig {
        token: Secret::new(vb_token),
        api_url: viber.url(),
        sender_name: "Switchboard Demo".into(),
        welcome: Some("Здравствуйте! Напишите, чем помочь. Hi! Tell us how we can help.".into()),
        rate_limits: true,
        public_url: Some(format!("http://{webhook}")),
    });
    let (vk_token, group) = ("demo-vk-token", 171_104_414);
    let vk_options = sandbox::vk::VkOptions { reply_delay, seed: now_ms() as u64, max_wait: None };
    let vk = sandbox::vk::VkEmulator::start(loopback, vk_token, group, on(ChannelKind::Vk), vk_options).await?;
    config.channels.vk = Some(crate::config::VkConfig::new(Secret::new(vk_token), group as u64, vk.url()));
    config.automation = sandbox::seed::automation();
    // The simulated platforms live in this process, so the engine does too.
    let look = crate::cli::look(&paths, &config)?;
    let console = app::Console { engine: app::EngineMode::InProcess, ..console(&paths, config, look)? };
    let result = app::run(console).await;
    drop((telegram, whatsapp, viber, vk));
    if !keep_data {
        // Printed after the console has given the terminal back.
        eprintln!(
            "switchboard: the demo's workspace, its store and its logs ({}), is removed now; \
             `--demo --data-dir DIR` keeps one",
            data_dir.display()
        );
    }
    result
}

/// `--demo --training`: a workspace of its own with the team's canned replies, the
/// Telegram emulator with the scenarios' customers (who say only what the scenarios
/// say), and the scenarios played one after another, each scored in its conversation
/// (see `training`).
pub async fn training(paths: &Paths, keep_data: bool, file: Option<&Path>) -> anyhow::Result<()> {
    let scenarios = crate::training::load(file)?;
    let (_temp, paths) = workspace(paths, keep_data, "switchboard-training-")?;
    let mut config = Config::load(&paths.config_file, paths.config_required)?;
    {
        let mut store = open_store(&paths)?;
        sandbox::seed::canned_library(&mut store, now_ms())?;
        store.reset_sync(ChannelKind::Telegram)?;
    }
    let token = "training:sandbox-token";
    let options = EmulatorOptions { reply_delay: None, ambient_every: None, ..EmulatorOptions::default() };
    let loopback: std::net::SocketAddr = "127.0.0.1:0".parse()?;
    let customers = crate::training::customers(&scenarios);
    let telegram = TelegramEmulator::start(loopback, token, customers, options).await?;
    config.channels = Default::default();
    config.channels.telegram = Some(TelegramConfig::new(Secret::new(token), telegram.url()));
    config.webhook.listen = loopback;
    let spell = config.spell.clone();
    let look = crate::cli::look(&paths, &config)?;
    let console = app::Console { engine: app::EngineMode::InProcess, ..console(&paths, config, look)? };
    let store = crate::store::SharedStore::new(open_store(&paths)?);
    let runner = tokio::spawn(async move {
        let speller = tokio::task::spawn_blocking(move || crate::spell::dictionaries::load_all(&spell).0)
            .await
            .unwrap_or_default();
        crate::training::run(store, telegram, scenarios, speller).await;
    });
    let result = app::run(console).await;
    runner.abort();
    result
}

/// Where a demo keeps its store and logs: `--data-dir` when given, else a temporary
/// directory (removed when the returned guard drops).
fn workspace(paths: &Paths, keep_data: bool, prefix: &str) -> anyhow::Result<(Option<tempfile::TempDir>, Paths)> {
    let temp = if keep_data { None } else { Some(tempfile::Builder::new().prefix(prefix).tempdir()?) };
    let data_dir = temp.as_ref().map(|t| t.path().to_path_buf()).unwrap_or_else(|| paths.data_dir.clone());
    let paths = Paths {
        log_dir: data_dir.join("logs"),
        data_dir,
        config_file: paths.config_file.clone(),
        config_required: paths.config_required,
    };
    Ok((temp, paths))
}

/// A free loopback port for the engine's webhook server, which binds it only later. It is
/// taken below the range the system hands out for `:0` and outgoing connections: from
/// there, the emulators' sockets started meanwhile could take it first (it happened).
fn webhook_port() -> anyhow::Result<std::net::SocketAddr> {
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next().and_then(|low| low.parse::<u16>().ok()))
        .unwrap_or(32768);
    let start = 20_000 + (std::process::id() % 5_000) as u16;
    let below = (start..ephemeral.max(start)).chain(20_000..start);
    for port in below {
        if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            return Ok(listener.local_addr()?);
        }
    }
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}
