//! `TestApp`: the real console (`app::run_on`, the same loop the terminal runs) on a test
//! terminal, driven by keys, read by its screen, on a clock the test moves. Each runs on
//! a thread of its own with its own runtime, as a console runs in its own process, so
//! two of them on one store are two agents.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Size};
use switchboard::app::{self, Console, EngineMode};
use switchboard::config::Config;
use switchboard::keymap::Keymap;
use switchboard::model::Millis;
use switchboard::theme::Styles;

/// How long `wait_for` waits before it fails, showing the screen.
const PATIENCE: Duration = Duration::from_secs(10);

/// A test terminal the console draws on while the test reads it.
#[derive(Clone)]
struct SharedBackend(Arc<Mutex<TestBackend>>);

impl Backend for SharedBackend {
    type Error = std::convert::Infallible;

    fn draw<'a, I: Iterator<Item = (u16, u16, &'a Cell)>>(&mut self, content: I) -> Result<(), Self::Error> {
        self.0.lock().unwrap().draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.0.lock().unwrap().get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.0.lock().unwrap().set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.0.lock().unwrap().clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.0.lock().unwrap().size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.0.lock().unwrap().window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().flush()
    }
}

/// The cells of row `y` a terminal shows: those a wide character covers are left out.
fn visible(buffer: &Buffer, y: u16) -> impl Iterator<Item = (u16, &ratatui::buffer::Cell)> {
    let mut covered = 0;
    (0..buffer.area.width).filter_map(move |x| {
        if covered > 0 {
            covered -= 1;
            return None;
        }
        let cell = &buffer[(x, y)];
        covered = unicode_width::UnicodeWidthStr::width(cell.symbol()).saturating_sub(1);
        Some((x, cell))
    })
}

pub struct TestApp {
    keys: UnboundedSender<io::Result<Event>>,
    backend: SharedBackend,
    /// How far this console's clock is from the wall clock.
    clock: Arc<AtomicI64>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// A console for `agent` on the store in `dir` (no channels, so no engine), 120x36,
    /// its clock starting at `now` and running from there.
    pub fn start(dir: &Path, agent: &str, now: Millis) -> TestApp {
        let mut config = Config::default();
        config.engine.refresh_ms = 50;
        config.ui.agent_name = agent.into();
        config.ui.notify = switchboard::config::NotifyKind::Off;
        TestApp::with(dir, config, now)
    }

    pub fn with(dir: &Path, config: Config, now: Millis) -> TestApp {
        TestApp::launch(dir, config, Vec::new(), now, "false".into())
    }

    /// A console whose agent's editor is `editor` (a shell command run with the draft's
    /// file as its argument).
    pub fn with_editor(dir: &Path, agent: &str, now: Millis, editor: &str) -> TestApp {
        let mut config = Config::default();
        config.engine.refresh_ms = 50;
        config.ui.agent_name = agent.into();
        TestApp::launch(dir, config, Vec::new(), now, editor.into())
    }

    /// A console whose engine runs in it, on these channels (an emulator's, say).
    pub fn with_channels(
        dir: &Path,
        config: Config,
        channels: Vec<switchboard::channels::Channel>,
        now: Millis,
    ) -> TestApp {
        TestApp::launch(dir, config, channels, now, "false".into())
    }

    fn launch(
        dir: &Path,
        mut config: Config,
        channels: Vec<switchboard::channels::Channel>,
        now: Millis,
        editor: String,
    ) -> TestApp {
        // The clock runs as the wall clock does, `advance` jumps it: heartbeats and
        // notices go on while a test moves time.
        let clock = Arc::new(AtomicI64::new(now - switchboard::model::now_ms()));
        // No test reads the machine's own dictionaries: spell-check is on only where a
        // test names its dictionaries.
        if config.spell.dictionaries.is_empty() {
            config.spell.enabled = false;
        }
        let time = clock.clone();
        let console = Console {
            store_path: dir.join("switchboard.db"),
            lock_path: dir.join("engine.lock"),
            consoles_path: dir.join("consoles.lock"),
            keymap: Keymap::new(&config.keys).expect("the keys"),
            config,
            styles: Styles::load("dark", false).expect("the dark theme"),
            channels,
            engine: EngineMode::InProcess,
            clock: Arc::new(move || switchboard::model::now_ms() + time.load(Ordering::SeqCst)),
        };
        let backend = SharedBackend(Arc::new(Mutex::new(TestBackend::new(120, 36))));
        let (keys, events) = unbounded::<io::Result<Event>>();
        let drawn = backend.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async move {
                let mut terminal = Terminal::new(drawn)?;
                // The agent's editor is the test's command, run on the file as the
                // console runs $EDITOR; a suspend does nothing.
                let away = move |_: &mut Terminal<SharedBackend>, what: app::terminal::Away<'_>| match what {
                    app::terminal::Away::Editor(path) => app::terminal::run_editor(&editor, path),
                    app::terminal::Away::Suspend => Ok(()),
                };
                app::run_on(console, &mut terminal, events, away).await
            })
        });
        TestApp { keys, backend, clock, thread: Some(thread) }
    }

    /// Types `text`, a key per character.
    pub fn send_keys(&self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    pub fn press(&self, code: KeyCode) {
        self.press_with(code, KeyModifiers::NONE);
    }

    pub fn press_with(&self, code: KeyCode, mods: KeyModifiers) {
        self.keys.unbounded_send(Ok(Event::Key(KeyEvent::new(code, mods)))).expect("the console is running");
    }

    /// Moves this console's clock on; its next tick (within a second) sees the new time.
    pub fn advance(&self, ms: Millis) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    /// The screen as text, a line per row, as a terminal shows it: a wide character
    /// covers the cell after it, whatever that cell last held (the backend keeps what
    /// was there, as a terminal's memory does, but nobody sees it).
    pub fn screen(&self) -> String {
        let backend = self.backend.0.lock().unwrap();
        let buffer: &Buffer = backend.buffer();
        (0..buffer.area.height)
            .map(|y| visible(buffer, y).map(|(_, c)| c.symbol()).collect::<String>() + "\n")
            .collect()
    }

    /// The runs of text drawn in `style` (its colour and modifiers), left to right and
    /// top to bottom.
    pub fn drawn_in(&self, style: ratatui::style::Style) -> Vec<String> {
        let backend = self.backend.0.lock().unwrap();
        let buffer: &Buffer = backend.buffer();
        let mut runs = Vec::new();
        for y in 0..buffer.area.height {
            let mut run = String::new();
            for (_, cell) in visible(buffer, y) {
                let matches = style.fg.is_none_or(|c| cell.fg == c) && cell.modifier.contains(style.add_modifier);
                if matches {
                    run.push_str(cell.symbol());
                } else if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
            }
            if !run.is_empty() {
                runs.push(run);
            }
        }
        runs
    }

    /// Waits until the screen shows `text`, and returns the screen; fails showing it.
    pub async fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("`{text}`"), |screen| screen.contains(text)).await
    }

    /// Waits until `done` holds for the screen.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = std::time::Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if start.elapsed() > PATIENCE {
                let ended = self.thread.as_ref().is_some_and(|t| t.is_finished());
                let state = if ended { " (the console has ended)" } else { "" };
                panic!("waited {PATIENCE:?} for {what}{state}; the screen:\n{screen}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Quits (twice when a draft asks) and waits for the console to end.
    pub async fn quit(mut self) {
        // The second is for a console that asks first; one that did not may be gone by
        // then, and the key has nowhere to go.
        for _ in 0..2 {
            let key = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
            let _ = self.keys.unbounded_send(Ok(Event::Key(key)));
        }
        let thread = self.thread.take().expect("running");
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .expect("joined")
            .expect("the console did not panic")
            .expect("the console ended cleanly");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // A test that failed midway: end the console so its thread does not outlive it.
        if self.thread.is_some() {
            self.keys.close_channel();
        }
    }
}
