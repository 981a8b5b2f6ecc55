//! The console: one loop where terminal input, store changes, engine status and the
//! clock meet in one `tokio::select!`; `update` turns each into state changes and
//! effects; `effects` performs them, and this loop redraws after each batch.

pub mod action;
pub mod attach;
pub mod automation;
pub mod campaign_panel;
mod campaign_preview;
pub mod canned;
mod composer;
pub mod contact_panel;
mod conversation;
mod effects;
pub mod emoji;
mod file_effects;
mod list;
pub mod macros;
pub mod media;
pub mod notify;
pub mod overlay;
mod panel_effects;
pub mod person;
pub mod picker;
pub mod polls;
mod presence;
pub mod reports;
pub mod search;
pub mod spell;
pub mod state;
pub mod terminal;
pub mod update;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use chrono::Offset;
use crossterm::event::{Event, EventStream};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

pub use action::{Action, Effect, MessageRequest};
pub use effects::read_messages;
pub use state::{AppState, EngineView, Focus};
pub use update::update;

use crate::channels::Channel;
use crate::config::Config;
use crate::keymap::Keymap;
use crate::model::now_ms;
use crate::store::{SharedStore, Store};
use crate::sync::{Engine, EngineLock};
use crate::theme::Styles;

/// What the console needs to start.
pub struct Console {
    pub store_path: PathBuf,
    pub lock_path: PathBuf,
    /// Where consoles show they are attached (see `sync::ConsolePresence`).
    pub consoles_path: PathBuf,
    pub config: Config,
    pub styles: Styles,
    pub keymap: Keymap,
    /// The configured channels, for the engine.
    pub channels: Vec<Channel>,
    pub engine: EngineMode,
    /// What time it is: the wall clock, or a test's.
    pub clock: Clock,
}

/// The console's clock: `real_clock()` but in tests, which move time instead of waiting.
pub type Clock = std::sync::Arc<dyn Fn() -> crate::model::Millis + Send + Sync>;

pub fn real_clock() -> Clock {
    std::sync::Arc::new(now_ms)
}

/// Where the engine runs when no process runs it yet.
#[derive(Debug, Clone)]
pub enum EngineMode {
    /// In this console's process (the demo, whose simulated platforms live here too,
    /// and the tests).
    InProcess,
    /// In a process of its own, started with this command (`serve --for-consoles`),
    /// which stops a few seconds after the last console leaves. The engine then goes on
    /// while a console is suspended or quits, and no console's exit stops anyone's sync.
    OwnProcess(SpawnEngine),
}

/// How to start `switchboard serve --for-consoles` for this store.
#[derive(Debug, Clone)]
pub struct SpawnEngine {
    pub exe: PathBuf,
    pub config: PathBuf,
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl SpawnEngine {
    /// Starts the engine in its own session (so the terminal's Ctrl-C, Ctrl-Z and hang-up
    /// never reach it), with nothing on the console's screen: it logs to files.
    fn spawn(&self) -> std::io::Result<()> {
        let mut command = std::process::Command::new(&self.exe);
        command
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["serve", "--for-consoles", "--log-dir"])
            .arg(&self.log_dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: setsid is async-signal-safe and only detaches the child.
            unsafe {
                command.pre_exec(|| {
                    libc::setsid();
                    Ok(())
                });
            }
        }
        let mut child = command.spawn()?;
        tracing::info!(pid = child.id(), "started the engine for the consoles");
        // Reaped when it ends, so it never lingers as a zombie while this console runs.
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

/// How often the console checks that an engine runs, and starts or takes over one: a
/// probe of a lock and a read of a line, cheap enough to keep the status bar current.
const ENGINE_CHECK_EVERY: Duration = Duration::from_millis(250);
/// The least time between two reloads for commits in this process.
const COALESCE: Duration = Duration::from_millis(30);
/// How long a started engine has to take the lock before the console tries again.
const SPAWN_PATIENCE: Duration = Duration::from_secs(5);

pub async fn run(console: Console) -> anyhow::Result<()> {
    terminal::install_panic_hook();
    let mut tui = terminal::enter(console.config.ui.mouse).context("taking the terminal")?;
    let result = run_on(console, &mut tui, EventStream::new(), terminal::away).await;
    terminal::leave().ok();
    result
}

/// The console on any backend and input stream: the terminal in `run`, a `TestBackend`
/// and scripted events in the tests. `away` gives the screen up and takes it back
/// (Ctrl-Z, the agent's editor).
pub async fn run_on<B, S>(
    console: Console,
    tui: &mut Terminal<B>,
    mut events: S,
    mut away: impl FnMut(&mut Terminal<B>, terminal::Away<'_>) -> std::io::Result<()>,
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let mut own = Store::open(&console.store_path).context("opening the store")?;
    // A number an agent types in the card is read with the configured region.
    own.set_ingest_rules(console.config.ingest_rules());
    let store = SharedStore::new(own);
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let _presence = crate::sync::ConsolePresence::attach(&console.consoles_path).context("attaching to the store")?;
    let mut engine = match console.engine {
        EngineMode::InProcess => try_start_engine(&console, &tx)?,
        EngineMode::OwnProcess(_) => None,
    };
    let mut last_spawn: Option<tokio::time::Instant> = None;

    let size = tui.size().map(|s| (s.width, s.height)).unwrap_or((80, 24));
    let tz = chrono::Local::now().offset().fix();
    let time = console.clock.clone();
    let mut state = AppState::new(console.keymap.clone(), console.config.ui.agent_name.clone(), time(), tz, size);
    state.notify = notify::pick(console.config.ui.notify, &|k| std::env::var(k).ok());
    state.templates = console.config.channels.whatsapp.as_ref().map(|w| w.templates.clone()).unwrap_or_default();
    state.engine = engine_view(&console, engine.as_ref());
    state.policy = console.config.campaigns.clone();

    let mut refresh = tokio::time::interval(Duration::from_millis(console.config.engine.refresh_ms.max(50)));
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut engine_check = tokio::time::interval(ENGINE_CHECK_EVERY);
    let mut data_version = store.run(|s| s.data_version()).await.unwrap_or(0);
    let mut commits = crate::store::commits();
    let mut reload_at: Option<tokio::time::Instant> = None;
    let mut last_reload = tokio::time::Instant::now();
    let mut signals = Signals::new()?;

    let mut effects = list::refresh(&mut state);
    effects.push(update::load_campaigns(&state));
    effects.push(Effect::LoadDrafts { agent: state.agent.clone() });
    state.spell.before_send = console.config.spell.before_send;
    state.attachments_dir = crate::model::attachments_dir(&console.store_path);
    state.automation = console.config.automation.rules();
    state.schedule = console.config.automation.schedule();
    state.report = crate::report::Context::new(&console.config, state.schedule.clone());
    state.downloads_dir = crate::model::downloads_dir(&console.store_path);
    state.opener = media::opener(&console.config.ui.opener, &|k| std::env::var(k).ok());
    state.spell.style = console.styles.composer_misspelled;
    effects.push(Effect::LoadSpeller(console.config.spell.clone()));
    effects.push(Effect::LoadRemembered { agent: state.agent.clone() });
    effects.push(Effect::LoadMacros);
    // Draw only after something happened: idle checks and ignored events draw nothing.
    let mut dirty = true;
    loop {
        for effect in effects.drain(..) {
            match effect {
                Effect::Quit => return keep_drafts(&store, &state).await,
                Effect::Suspend => {
                    away(tui, terminal::Away::Suspend)?;
                    dirty = true;
                }
                Effect::ExternalEditor { text } => {
                    let _ = tx.send(Action::Edited(edit_outside(tui, &mut away, &text)));
                    dirty = true;
                }
                other => effects::perform(other, &store, &tx, engine.as_ref(), &console.channels),
            }
        }
        if std::mem::take(&mut dirty) {
            tui.draw(|frame| crate::ui::draw(frame, &state, &console.styles))?;
        }

        let action = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => match to_action(event) {
                    Some(action) => action,
                    None => continue,
                },
                Some(Err(e)) => Action::Error(format!("terminal input: {e}")),
                None => return keep_drafts(&store, &state).await,
            },
            Some(action) = rx.recv() => action,
            // A commit in this process (the engine running here) shows soon, at most
            // one reload per COALESCE however fast the engine commits.
            Ok(()) = commits.changed(), if reload_at.is_none() => {
                reload_at = Some(last_reload + COALESCE);
                continue;
            }
            _ = tokio::time::sleep_until(reload_at.unwrap_or_else(tokio::time::Instant::now)), if reload_at.is_some() => {
                reload_at = None;
                last_reload = tokio::time::Instant::now();
                match store_changed(&store, &mut data_version).await {
                    Some(action) => action,
                    None => continue,
                }
            }
            // Other processes' commits (another console, the engine's own process).
            _ = refresh.tick() => {
                last_reload = tokio::time::Instant::now();
                match store_changed(&store, &mut data_version).await {
                    Some(action) => action,
                    None => continue,
                }
            }
            _ = clock.tick() => match terminal::take_background_panic() {
                Some(message) => Action::Error(message),
                None => Action::Tick(time()),
            },
            _ = engine_check.tick(), if engine.is_none() && !console.channels.is_empty() => {
                let mut view = engine_view(&console, None);
                if view == EngineView::NoEngine {
                    match &console.engine {
                        EngineMode::InProcess => engine = try_start_engine(&console, &tx)?,
                        EngineMode::OwnProcess(spawn) => {
                            if last_spawn.is_none_or(|at| at.elapsed() >= SPAWN_PATIENCE) {
                                last_spawn = Some(tokio::time::Instant::now());
                                if let Err(e) = spawn.spawn() {
                                    tracing::error!(error = %e, "cannot start the engine");
                                }
                            }
                        }
                    }
                    // Only an engine started here, in this process, shows at once.
                    if engine.is_some() {
                        view = engine_view(&console, engine.as_ref());
                    }
                }
                if view == state.engine {
                    continue;
                }
                Action::Engine(view)
            }
            _ = signals.recv() => return keep_drafts(&store, &state).await,
        };
        effects = update(&mut state, action);
        dirty |= !state.unchanged;
        // Take everything else that is already waiting before drawing again.
        while let Ok(action) = rx.try_recv() {
            effects.extend(update(&mut state, action));
            dirty |= !state.unchanged;
        }
    }
}

/// The draft in the agent's editor: written to a private temporary file, the screen
/// given up while the editor runs, the file read back.
fn edit_outside<B: Backend>(
    tui: &mut Terminal<B>,
    away: &mut impl FnMut(&mut Terminal<B>, terminal::Away<'_>) -> std::io::Result<()>,
    text: &str,
) -> Result<String, String> {
    let file = tempfile::Builder::new()
        .prefix("switchboard-draft-")
        .suffix(".txt")
        .tempfile()
        .map_err(|e| format!("cannot make a file for the editor: {e}"))?;
    std::fs::write(file.path(), text).map_err(|e| format!("cannot write the draft for the editor: {e}"))?;
    away(tui, terminal::Away::Editor(file.path())).map_err(|e| format!("the editor: {e}"))?;
    let edited = std::fs::read_to_string(file.path()).map_err(|e| format!("cannot read what the editor wrote: {e}"))?;
    // Editors end a file with a newline the agent did not mean as part of the message.
    Ok(edited.trim_end_matches(['\n', '\r']).to_string())
}

/// `StoreChanged` when another connection has committed since `seen` (SQLite's
/// `data_version`), which it then records.
async fn store_changed(store: &SharedStore, seen: &mut i64) -> Option<Action> {
    let version = store.run(|s| s.data_version()).await.unwrap_or(*seen);
    if version == *seen {
        return None;
    }
    *seen = version;
    Some(Action::StoreChanged)
}

/// On the way out: every draft is written and waited for, whatever was saved before.
async fn keep_drafts(store: &SharedStore, state: &AppState) -> anyhow::Result<()> {
    // On the way out: this console is no longer anywhere (the others stop showing it).
    let console = state.console_id.clone();
    if let Err(e) = store.run(move |s| s.leave(&console)).await {
        tracing::debug!(error = %e, "cannot clear this console's presence; it expires on its own");
    }
    let drafts = state.current_drafts();
    if drafts.is_empty() {
        return Ok(());
    }
    let agent = state.agent.clone();
    store.run(move |s| s.save_drafts(&agent, &drafts, now_ms())).await.context("keeping the drafts")?;
    Ok(())
}

fn to_action(event: Event) -> Option<Action> {
    match event {
        Event::Key(key) => Some(Action::Key(key)),
        Event::Paste(text) => Some(Action::Paste(text)),
        Event::Mouse(m) => Some(Action::Mouse(m)),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        Event::FocusGained => Some(Action::Focus(true)),
        Event::FocusLost => Some(Action::Focus(false)),
    }
}

/// Runs the engine here if no other process does; its status reaches the loop as actions.
fn try_start_engine(console: &Console, tx: &mpsc::UnboundedSender<Action>) -> anyhow::Result<Option<Engine>> {
    if console.channels.is_empty() {
        return Ok(None);
    }
    let Some(lock) = EngineLock::try_acquire(&console.lock_path).context("taking the engine lock")? else {
        return Ok(None);
    };
    let rules = console.config.ingest_rules();
    let config = &console.config;
    let engine = Engine::start_with(
        lock,
        &console.store_path,
        console.channels.clone(),
        &config.webhook,
        &rules,
        &config.assignment,
        &config.automation,
    )
    .context("starting the engine")?;
    let mut status = engine.status();
    let tx = tx.clone();
    tokio::spawn(async move {
        loop {
            let map = status.borrow_and_update().clone();
            if tx.send(Action::Engine(EngineView::InProcess(map))).is_err() || status.changed().await.is_err() {
                break;
            }
        }
    });
    Ok(Some(engine))
}

/// What the status bar says of the engine: always what is true now, never a pid that
/// is gone.
fn engine_view(console: &Console, engine: Option<&Engine>) -> EngineView {
    if let Some(e) = engine {
        return EngineView::InProcess(e.status().borrow().clone());
    }
    match crate::sync::engine_elsewhere(&console.lock_path) {
        Some((pid, channels)) => EngineView::Client { pid, channels },
        None if console.channels.is_empty() => EngineView::NoChannels,
        None => EngineView::NoEngine,
    }
}

/// SIGTERM and SIGHUP end the console cleanly (the terminal is restored on the way out).
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals { term: signal(SignalKind::terminate())?, hup: signal(SignalKind::hangup())? })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}
