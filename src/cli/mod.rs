//! The command line: the console by default, and small batch tools over the same
//! library (`serve`, `demo`, `export`, `send`, `import`, `segment`, `campaign`, `doctor`,
//! `sandbox`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

mod automation;
mod campaign;
mod canned;
mod contacts;
mod conversations;
mod poll;
mod report;
mod serve;

use anyhow::{Context, bail};
use chrono::Offset;
use clap::{Parser, Subcommand};

use crate::app::{self, Console, EngineMode, SpawnEngine};
use crate::channels::{Channel, TelegramChannel, ViberChannel, WhatsAppChannel};
use crate::config::{Config, Paths};
use crate::export::{ExportKind, Format};
use crate::keymap::Keymap;
use crate::model::{Button, ChannelKind, Outgoing};
use crate::sandbox::{self, EmulatorOptions, TelegramEmulator};
use crate::store::{SendTarget, Store};
use crate::sync::EngineLock;
use crate::theme::Styles;

#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Talk to your customers on Telegram, WhatsApp, Viber and VK from a terminal"
)]
pub struct Cli {
    /// The config file (default: the platform config dir's switchboard/config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the store lives (default: the platform data dir). Logs go to DIR/logs.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Open the console on a demo workspace with simulated customers; no tokens needed.
    #[arg(long)]
    pub demo: bool,
    /// With --demo: practice on scripted customers, each answer scored (the scenarios of
    /// FILE, or training/scenarios.toml).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    pub training: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the sync engine without a console (for a server, systemd or tmux).
    Serve {
        /// Stop once no console has been attached to the store for a few seconds: how
        /// the console starts the engine it needs (not for a server).
        #[arg(long, hide = true)]
        for_consoles: bool,
        /// Where to log (the console passes its own log directory).
        #[arg(long, hide = true, value_name = "DIR")]
        log_dir: Option<PathBuf>,
    },
    /// The same as --demo.
    Demo,
    /// Write messages, contacts, conversations or the consent ledger to stdout.
    Export {
        what: ExportKind,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
    },
    /// Queue a message; the engine delivers it, wherever it runs.
    Send {
        #[arg(long, value_parser = parse_channel)]
        channel: ChannelKind,
        /// The platform's chat id.
        #[arg(long)]
        chat: String,
        /// The text, or the caption of a photo or document.
        #[arg(long, default_value = "")]
        text: String,
        /// Send a photo: an http(s) URL the platform downloads, or a local file.
        #[arg(long, conflicts_with = "document")]
        photo: Option<String>,
        /// Send a document: an http(s) URL the platform downloads, or a local file.
        #[arg(long)]
        document: Option<String>,
        /// A button under the message: TEXT=https://… opens a link, TEXT=DATA comes back
        /// as a click carrying DATA. Each --button is a row of its own; `|` puts several
        /// in one row.
        #[arg(long = "button")]
        buttons: Vec<String>,
        /// WhatsApp: send this approved template (from the config) instead of text, as a
        /// customer whose 24-hour window has closed needs.
        #[arg(long, conflicts_with_all = ["photo", "document"])]
        template: Option<String>,
        /// A parameter of the template, in order ({{1}}, {{2}} …).
        #[arg(long = "param", requires = "template")]
        params: Vec<String>,
    },
    /// Import contacts from a CSV file (see the README for the columns).
    Import {
        /// What to import: `contacts`.
        what: ImportKind,
        file: PathBuf,
        /// Import the good rows even when some are bad (they are reported).
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Saved filters of contacts (see the README for the filter language).
    Segment {
        #[command(subcommand)]
        command: campaign::SegmentCommand,
    },
    /// Automation rules ([automation] in the config) and when each last fired.
    Automation {
        #[command(subcommand)]
        command: automation::AutomationCommand,
    },
    /// Polls: create, list, send to a chat, results (a campaign sends one to a segment).
    Poll {
        #[command(subcommand)]
        command: poll::PollCommand,
    },
    /// The team's canned replies: list, add, remove, import FILE.toml, export.
    Canned {
        #[command(subcommand)]
        command: canned::CannedCommand,
    },
    /// Preview, launch, pause, resume, cancel campaigns; their status and results.
    Campaign {
        #[command(subcommand)]
        command: campaign::CampaignCommand,
    },
    /// A report for a period: response-times, new-clients, funnel, campaigns, csat or
    /// engagement (definitions in the README, "Reports").
    Report(report::ReportArgs),
    /// One contact: merge another into it (preview with --dry-run), split an identity
    /// off, say two are different people, record a number, show its links.
    Contact {
        #[command(subcommand)]
        command: contacts::ContactCommand,
    },
    /// Contacts that may be one person (`contacts duplicates`).
    Contacts {
        #[command(subcommand)]
        command: contacts::ContactsCommand,
    },
    /// Conversations, most recent first, by status, assignee and channel.
    Conversations {
        /// open, pending, snoozed or resolved.
        #[arg(long)]
        status: Option<String>,
        /// An agent's name, `me` (ui.agent_name) or `none`.
        #[arg(long)]
        assignee: Option<String>,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: conversations::ListFormat,
    },
    /// Act on one conversation: assign, snooze, resolve, reopen, note.
    Conversation {
        /// Its id (the first column of `switchboard conversations`).
        id: i64,
        #[command(subcommand)]
        command: conversations::ConversationCommand,
    },
    /// The agents the store knows: online, available, open conversations. With
    /// --available or --away, marks one on or off duty for auto-assignment.
    Agents {
        /// Mark this agent (`me`: ui.agent_name) available without a console open.
        #[arg(long, value_name = "NAME", conflicts_with = "away")]
        available: Option<String>,
        /// Mark this agent away: on duty only while a console of theirs is open.
        #[arg(long, value_name = "NAME")]
        away: Option<String>,
    },
    /// Messages with every word, newest first (the last word may be unfinished).
    Search {
        words: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Fill an empty store with a realistic generated history (for benchmarks and for
    /// trying the console on a long one). Deterministic from --seed.
    Generate {
        #[arg(long, default_value_t = 50_000)]
        contacts: usize,
        #[arg(long, default_value_t = 20_000)]
        conversations: usize,
        #[arg(long, default_value_t = 1_000_000)]
        messages: usize,
        /// Messages of the longest conversation, within --messages.
        #[arg(long, default_value_t = 100_000)]
        longest: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Check each channel's token and say which URL each platform must reach.
    Doctor {
        /// The public https URL that reaches the webhook server (through your proxy).
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// Register the webhooks that can be set by API (Viber; Telegram in webhook mode)
        /// at --public-url.
        #[arg(long, requires = "public_url")]
        set_webhook: bool,
    },
    /// Run the Telegram emulator with scripted customers on a loopback port.
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        /// The bot token the emulator accepts.
        #[arg(long, default_value = "sandbox:token")]
        token: String,
        /// How many scripted customers.
        #[arg(long, default_value_t = 30)]
        customers: usize,
        /// Customers answer the bot but never write first.
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportKind {
    Contacts,
}

pub(crate) fn parse_channel(s: &str) -> Result<ChannelKind, String> {
    s.parse().map_err(|e: crate::model::UnknownValue| e.to_string())
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(dispatch(cli))
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let demo = cli.demo || matches!(cli.command, Some(Command::Demo));
    let paths = Paths::resolve(cli.config.as_deref(), cli.data_dir.as_deref())?;
    if let Some(file) = cli.training {
        let file = (!file.is_empty()).then(|| PathBuf::from(file));
        return crate::demo::training(&paths, cli.data_dir.is_some(), file.as_deref()).await;
    }
    if demo {
        return crate::demo::run(&paths, cli.data_dir.is_some()).await;
    }
    let config = Config::load(&paths.config_file, paths.config_required)?;
    // Every command checks the whole config, the console's look and keys included, so a
    // mistake shows in `doctor`, `send` or `serve` and not only when the console starts.
    let look = look(&paths, &config)?;
    match cli.command {
        None | Some(Command::Demo) => {
            let console = console(&paths, config, look)?;
            app::run(console).await
        }
        Some(Command::Serve { for_consoles, log_dir }) => {
            let paths = Paths { log_dir: log_dir.unwrap_or(paths.log_dir), ..paths };
            serve::serve(&paths, config, for_consoles).await
        }
        Some(Command::Export { what, format }) => {
            let store = open_store(&paths)?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            crate::export::export(&store, what, format, &mut out)?;
            Ok(())
        }
        Some(Command::Send { channel, chat, text, photo, document, buttons, template, params }) => {
            let out = match template {
                Some(name) => template_message(&config, channel, &name, params)?,
                None => {
                    let out = outgoing(text, photo, document, &buttons)?;
                    out.check(channel).map_err(anyhow::Error::msg)?;
                    out
                }
            };
            send(&paths, channel, chat, out)
        }
        Some(Command::Import { what: ImportKind::Contacts, file, skip_invalid }) => {
            let (rows, bad) = crate::import::read(&file, config.contacts.default_region)?;
            for b in &bad {
                eprintln!("{}: {b}", file.display());
            }
            if !bad.is_empty() && !skip_invalid {
                bail!("{} bad rows: nothing was imported (fix them, or pass --skip-invalid)", bad.len());
            }
            let mut store = open_store(&paths)?;
            let r = store.import_contacts(&rows, crate::model::now_ms())?;
            println!(
                "{} rows: {} new contacts, {} updated, {} unchanged, {} consent events; {} bad rows skipped",
                rows.len(),
                r.created,
                r.updated,
                r.unchanged,
                r.consent_events,
                bad.len()
            );
            Ok(())
        }
        Some(Command::Contact { command }) => {
            let mut store = open_store(&paths)?;
            contacts::contact(&mut store, command, &config, &mut std::io::stdout().lock())
        }
        Some(Command::Contacts { command }) => {
            contacts::contacts(&open_store(&paths)?, command, &mut std::io::stdout().lock())
        }
        Some(Command::Search { words, limit }) => {
            let store = open_store(&paths)?;
            let tz = chrono::Local::now().offset().fix();
            for hit in store.search(&words.join(" "), None, limit)? {
                let when = chrono::DateTime::from_timestamp_millis(hit.sent_at).unwrap_or_default().with_timezone(&tz);
                println!(
                    "{}  {}  {}: {}",
                    when.format("%Y-%m-%d %H:%M"),
                    hit.channel.badge(),
                    crate::text::sanitize(&hit.title, false),
                    crate::text::sanitize(&hit.body, false)
                );
            }
            Ok(())
        }
        Some(Command::Generate { contacts, conversations, messages, longest, seed }) => {
            let store = open_store(&paths)?;
            if store.count("contacts")? > 0 || store.count("messages")? > 0 {
                bail!("the store in {} is not empty: generate into a new --data-dir", paths.data_dir.display());
            }
            drop(store);
            let started = std::time::Instant::now();
            let mut conn = rusqlite::Connection::open(paths.store_file())?;
            let size =
                crate::generate::Size { contacts, conversations, messages, longest: longest.min(messages), seed };
            let g = crate::generate::generate(&mut conn, size)?;
            println!(
                "{} contacts, {} conversations, {} messages, {} consent events, {} campaigns in {:.1} s",
                g.contacts,
                g.conversations,
                g.messages,
                g.consent_events,
                g.campaigns,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Some(Command::Conversations { status, assignee, channel, format }) => {
            let which = conversations::which(status, assignee, channel, &config)?;
            conversations::list(&open_store(&paths)?, &which, format)
        }
        Some(Command::Conversation { id, command }) => {
            conversations::act(&mut open_store(&paths)?, id, command, &config)
        }
        Some(Command::Agents { available, away }) => {
            conversations::agents(&open_store(&paths)?, available, away, &config)
        }
        Some(Command::Report(args)) => report::run(&open_store(&paths)?, &config, args),
        Some(Command::Canned { command }) => canned::run(&mut open_store(&paths)?, command),
        Some(Command::Poll { command }) => poll::run(&paths, command),
        Some(Command::Automation { command: automation::AutomationCommand::List }) => {
            automation::list(&open_store(&paths)?, &config)
        }
        Some(Command::Segment { command }) => campaign::segment(&paths, command),
        Some(Command::Campaign { command }) => campaign::campaign(&paths, &config, command),
        Some(Command::Doctor { public_url, set_webhook }) => {
            let (store_ok, store_text) = crate::doctor::store_check(&paths.store_file());
            println!("{:<9} {:<4} {}", "store", if store_ok { "ok" } else { "FAIL" }, store_text);
            // Spell-check is a help, not a requirement: "off" is no failure.
            let (spell_ok, spell_text) = crate::doctor::spell_check(&config.spell);
            println!("{:<9} {:<4} {}", "spell", if spell_ok { "ok" } else { "off" }, spell_text);
            if config.channels.telegram.is_none()
                && config.channels.whatsapp.is_none()
                && config.channels.viber.is_none()
                && config.channels.vk.is_none()
            {
                bail!("no channel is configured in {}: see config.example.toml", paths.config_file.display());
            }
            let checks = crate::doctor::run(&config, public_url.as_deref(), set_webhook).await;
            for c in &checks {
                println!("{:<9} {:<4} {}", c.channel.as_str(), if c.ok { "ok" } else { "FAIL" }, c.text);
            }
            if checks.iter().any(|c| !c.ok) {
                bail!("some channels do not work");
            }
            if !store_ok {
                bail!("the store needs attention");
            }
            Ok(())
        }
        Some(Command::Sandbox { listen, token, customers, quiet }) => {
            let options = EmulatorOptions {
                reply_delay: Some((Duration::from_millis(1500), Duration::from_secs(4))),
                ambient_every: (!quiet).then_some(Duration::from_secs(40)),
                ..EmulatorOptions::default()
            };
            let emulator =
                TelegramEmulator::start(listen, &token, sandbox::customers::demo_customers(customers), options).await?;
            println!("Telegram emulator on {} (token `{token}`); Ctrl-C stops it.", emulator.url());
            println!("Control: POST /sandbox/pause, /sandbox/resume, /sandbox/say?chat=ID&text=…; GET /sandbox/sent");
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
    }
}

pub(crate) fn open_store(paths: &Paths) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&paths.data_dir)
        .with_context(|| format!("creating the data directory {}", paths.data_dir.display()))?;
    Ok(Store::open(&paths.store_file())?)
}

fn channels(config: &Config) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::new();
    // A channel's own welcome wins; `[automation.welcome]` greets on the others.
    let welcome = config.automation.welcome.as_ref().filter(|w| w.enabled).map(|w| w.text.clone());
    if let Some(tg) = &config.channels.telegram {
        channels.push(Channel::Telegram(TelegramChannel::new(tg).map_err(anyhow::Error::msg)?));
    }
    if let Some(wa) = &config.channels.whatsapp {
        let wa = crate::config::WhatsAppConfig { welcome: wa.welcome.clone().or(welcome.clone()), ..wa.clone() };
        channels.push(Channel::WhatsApp(WhatsAppChannel::new(&wa).map_err(anyhow::Error::msg)?));
    }
    if let Some(vb) = &config.channels.viber {
        let vb = crate::config::ViberConfig { welcome: vb.welcome.clone().or(welcome), ..vb.clone() };
        channels.push(Channel::Viber(ViberChannel::new(&vb).map_err(anyhow::Error::msg)?));
    }
    if let Some(vk) = &config.channels.vk {
        channels.push(Channel::Vk(crate::channels::VkChannel::new(vk).map_err(anyhow::Error::msg)?));
    }
    Ok(channels)
}

/// The keymap and the theme the config asks for; an error names the file, the line and
/// the key.
pub(crate) fn look(paths: &Paths, config: &Config) -> anyhow::Result<(Keymap, Styles)> {
    let text = std::fs::read_to_string(&paths.config_file).unwrap_or_default();
    let file = paths.config_file.display();
    let at = |table: &str, key: &str| {
        crate::config::line_of(&text, table, key).map(|l| format!("line {l}, ")).unwrap_or_default()
    };
    let keymap = Keymap::new(&config.keys).map_err(|e| {
        // The message begins with the key it is about: `keys.list.open: …`.
        let key = e.split(':').next().unwrap_or("");
        let (table, name) = key.rsplit_once('.').unwrap_or(("keys", key));
        anyhow::anyhow!("in {file}: {}{e}", at(table, name))
    })?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let styles = Styles::load(&config.ui.theme, no_color)
        .map_err(|e| anyhow::anyhow!("in {file}: {}key `ui.theme`: {e}", at("ui", "theme")))?;
    Ok((keymap, styles))
}

/// The console for `config`, with the keymap and theme `look` made of it.
pub(crate) fn console(paths: &Paths, config: Config, (keymap, styles): (Keymap, Styles)) -> anyhow::Result<Console> {
    open_store(paths)?;
    crate::logging::init(&paths.log_dir, &config.log.level)?;
    // The engine runs in a process of its own, started for the consoles; where this
    // binary cannot be found again, in this one.
    let engine = match std::env::current_exe() {
        Ok(exe) => EngineMode::OwnProcess(SpawnEngine {
            exe,
            config: paths.config_file.clone(),
            data_dir: paths.data_dir.clone(),
            log_dir: paths.log_dir.clone(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "cannot find this program again: the engine runs in the console");
            EngineMode::InProcess
        }
    };
    Ok(Console {
        store_path: paths.store_file(),
        lock_path: paths.lock_file(),
        consoles_path: paths.consoles_file(),
        channels: channels(&config)?,
        config,
        styles,
        keymap,
        engine,
        clock: crate::app::real_clock(),
    })
}

/// The message `send` was asked for. A local file is made absolute: the engine that
/// sends it may run in another directory.
fn outgoing(
    text: String,
    photo: Option<String>,
    document: Option<String>,
    buttons: &[String],
) -> anyhow::Result<Outgoing> {
    let (kind, attachment) = match (photo, document) {
        (Some(p), _) => ("photo", Some(p)),
        (None, Some(d)) => ("document", Some(d)),
        (None, None) => ("text", None),
    };
    let attachment = match attachment {
        Some(a) if a.starts_with("http://") || a.starts_with("https://") => Some(a),
        Some(path) => {
            let absolute = std::fs::canonicalize(&path).with_context(|| format!("--{kind} {path}"))?;
            Some(absolute.to_string_lossy().into_owned())
        }
        None => None,
    };
    let buttons = Button::parse_rows(buttons).map_err(anyhow::Error::msg)?;
    Ok(Outgoing { kind: kind.into(), text, attachment, buttons })
}

/// A WhatsApp template message from the configured templates.
fn template_message(
    config: &Config,
    channel: ChannelKind,
    name: &str,
    params: Vec<String>,
) -> anyhow::Result<Outgoing> {
    if channel != ChannelKind::WhatsApp {
        bail!("--template is for WhatsApp");
    }
    let templates = config.channels.whatsapp.as_ref().map(|w| w.templates.as_slice()).unwrap_or_default();
    let t = crate::campaign::plan::find_template(templates, name, params.len()).map_err(anyhow::Error::msg)?;
    Ok(t.outgoing(params))
}

pub(crate) fn send(paths: &Paths, channel: ChannelKind, chat: String, out: Outgoing) -> anyhow::Result<()> {
    channel.check_chat_id(&chat).map_err(|e| anyhow::anyhow!("--chat: {e}"))?;
    let mut store = open_store(paths)?;
    let (_, message) =
        store.enqueue_to_chat(&SendTarget { channel, chat_id: chat }, &out, "script", crate::model::now_ms())?;
    println!("{message}");
    // Probe the lock: if we can take it, no engine is running to deliver the message.
    if EngineLock::try_acquire(&paths.lock_file())?.is_some() {
        eprintln!(
            "switchboard: message {message} is queued; no engine runs for this store, so it goes out when \
             `switchboard` or `switchboard serve` starts"
        );
    }
    Ok(())
}
