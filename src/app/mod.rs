//! The console: one loop where terminal input, store changes, engine status and the
//! clock meet in one `tokio::select!`; `update` turns each into state changes and
//! effects; `effects` performs them, and this loop redraws after each batch.

pub mod action;
pub mod campaign_panel;
pub mod contact_panel;
mod conversation;
mod effects;
mod list;
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
    pub config: Config,
    pub styles: Styles,
    pub keymap: Keymap,
    /// The configured channels, for the engine this console runs if it can.
    pub channels: Vec<Channel>,
}

/// How often a client console tries to take over the engine of a store whose engine
/// went away.
const TAKEOVER_EVERY: Duration = Duration::from_secs(5);

pub async fn run(console: Console) -> anyhow::Result<()> {
    terminal::install_panic_hook();
    let mut tui = terminal::enter(console.config.ui.mouse).context("taking the terminal")?;
    let result = run_on(console, &mut tui, EventStream::new(), terminal::suspend).await;
    terminal::leave().ok();
    result
}

/// The console on any backend and input stream: the terminal in `run`, a `TestBackend`
/// and scripted events in the tests. `suspend` handles Ctrl-Z.
pub async fn run_on<B, S>(
    console: Console,
    tui: &mut Terminal<B>,
    mut events: S,
    mut suspend: impl FnMut(&mut Terminal<B>) -> std::io::Result<()>,
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let store = SharedStore::new(Store::open(&console.store_path).context("opening the store")?);
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let mut engine = try_start_engine(&console, &tx)?;

    let size = tui.size().map(|s| (s.width, s.height)).unwrap_or((80, 24));
    let tz = chrono::Local::now().offset().fix();
    let mut state = AppState::new(console.keymap.clone(), console.config.ui.agent_name.clone(), now_ms(), tz, size);
    state.templates = console.config.channels.whatsapp.as_ref().map(|w| w.templates.clone()).unwrap_or_default();
    state.engine = engine_view(&console, engine.as_ref());
    state.policy = console.config.campaigns.clone();

    let mut refresh = tokio::time::interval(Duration::from_millis(console.config.engine.refresh_ms.max(50)));
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut takeover = tokio::time::interval(TAKEOVER_EVERY);
    let mut data_version = store.run(|s| s.data_version()).await.unwrap_or(0);
    let mut signals = Signals::new()?;

    let mut effects = list::refresh(&mut state);
    effects.push(update::load_campaigns(&state));
    effects.push(Effect::LoadDrafts { agent: state.agent.clone() });
    // Draw only after something happened: idle checks and ignored events draw nothing.
    let mut dirty = true;
    loop {
        for effect in effects.drain(..) {
            match effect {
                Effect::Quit => return keep_drafts(&store, &state).await,
                Effect::Suspend => {
                    suspend(tui)?;
                    dirty = true;
                }
                other => effects::perform(other, &store, &tx, engine.as_ref()),
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
            _ = refresh.tick() => {
                let version = store.run(|s| s.data_version()).await.unwrap_or(data_version);
                if version == data_version {
                    continue;
                }
                data_version = version;
                Action::StoreChanged
            }
            _ = clock.tick() => match terminal::take_background_panic() {
                Some(message) => Action::Error(message),
                None => Action::Tick(now_ms()),
            },
            _ = takeover.tick(), if engine.is_none() && !console.channels.is_empty() => {
                engine = try_start_engine(&console, &tx)?;
                Action::Engine(engine_view(&console, engine.as_ref()))
            }
            _ = signals.recv() => return keep_drafts(&store, &state).await,
        };
        effects = update(&mut state, action);
        dirty = true;
        // Take everything else that is already waiting before drawing again.
        while let Ok(action) = rx.try_recv() {
            effects.extend(update(&mut state, action));
        }
    }
}

/// On the way out: every draft is written and waited for, whatever was saved before.
async fn keep_drafts(store: &SharedStore, state: &AppState) -> anyhow::Result<()> {
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
        _ => None,
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
    let stop = console.config.consent.stop_policy();
    let engine =
        Engine::start_with_stop(lock, &console.store_path, console.channels.clone(), &console.config.webhook, &stop)
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

fn engine_view(console: &Console, engine: Option<&Engine>) -> EngineView {
    match engine {
        Some(e) => EngineView::InProcess(e.status().borrow().clone()),
        None if console.channels.is_empty() && EngineLock::holder(&console.lock_path).is_none() => {
            EngineView::NoChannels
        }
        None => EngineView::Client { pid: EngineLock::holder(&console.lock_path) },
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
