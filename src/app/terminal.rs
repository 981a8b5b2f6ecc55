//! Taking and giving back the terminal: raw mode, the alternate screen, bracketed paste
//! and (optionally) the mouse. The terminal is restored on quit, on panic, on a signal,
//! around a Ctrl-Z suspend, and while the agent's own editor has it.

use std::io::{self, Stdout, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste, EnableFocusChange,
    EnableMouseCapture,
};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Whether the mouse was captured, so restoring knows what to undo (also from the panic
/// hook, which has no other state).
static MOUSE: AtomicBool = AtomicBool::new(false);

pub fn enter(mouse: bool) -> io::Result<Tui> {
    MOUSE.store(mouse, Ordering::SeqCst);
    enable_raw_mode()?;
    let mut out = stdout();
    // Focus events say when a desktop notification is worth sending.
    execute!(out, EnterAlternateScreen, EnableBracketedPaste, EnableFocusChange, cursor::Hide)?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    Terminal::new(CrosstermBackend::new(out))
}

/// Gives the terminal back as it was. Safe to call more than once.
pub fn leave() -> io::Result<()> {
    let mut out = stdout();
    if MOUSE.load(Ordering::SeqCst) {
        execute!(out, DisableMouseCapture)?;
    }
    execute!(out, DisableBracketedPaste, DisableFocusChange, LeaveAlternateScreen, cursor::Show)?;
    disable_raw_mode()
}

/// A panic on the console's own thread restores the terminal before the message prints,
/// so it can be read. A panic anywhere else (an engine task, a store call on the blocking
/// pool) must not write over the screen: it goes to the log, and the console shows it in
/// the status bar at its next tick (`take_background_panic`).
pub fn install_panic_hook() {
    let console_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == console_thread {
            let _ = leave();
            previous(info);
            return;
        }
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let place = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::error!(panic = %what, %place, "a background task failed");
        if let Ok(mut last) = BACKGROUND_PANIC.lock() {
            *last = Some(format!("internal error in a background task (see the log): {what}"));
        }
    }));
}

/// The last background panic not yet shown.
static BACKGROUND_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// The last background panic, once: for the status bar.
pub fn take_background_panic() -> Option<String> {
    BACKGROUND_PANIC.lock().ok().and_then(|mut last| last.take())
}

/// What the console gives the screen up for, and takes it back after.
pub enum Away<'a> {
    /// Ctrl-Z, until `fg`.
    Suspend,
    /// The agent's editor on this file, until it ends.
    Editor(&'a std::path::Path),
}

/// The real terminal's way to go away and come back.
pub fn away(terminal: &mut Tui, what: Away<'_>) -> io::Result<()> {
    match what {
        Away::Suspend => suspend(terminal),
        Away::Editor(path) => {
            leave()?;
            let edited = run_editor(&editor_command(&|k| std::env::var(k).ok()), path);
            let mouse = MOUSE.load(Ordering::SeqCst);
            *terminal = enter(mouse)?;
            terminal.clear()?;
            edited
        }
    }
}

/// `$VISUAL`, else `$EDITOR`, else `vi`.
pub fn editor_command(env: &dyn Fn(&str) -> Option<String>) -> String {
    ["VISUAL", "EDITOR"].iter().filter_map(|k| env(k)).find(|e| !e.trim().is_empty()).unwrap_or_else(|| "vi".into())
}

/// Runs `editor FILE` through the shell, so an editor given with its arguments
/// (`code --wait`, `emacs -nw`) works; the file's name is passed as an argument, never
/// pasted into the command.
pub fn run_editor(editor: &str, path: &std::path::Path) -> io::Result<()> {
    let status = on_file(editor, path).status()?;
    if status.success() { Ok(()) } else { Err(io::Error::other(format!("`{editor}` ended with {status}"))) }
}

/// `program FILE` through the shell (a program given with its arguments works), the
/// file's name passed as an argument, never pasted into the command.
pub fn on_file(program: &str, path: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new("sh");
    command.arg("-c").arg(format!("{program} \"$1\"")).arg("sh").arg(path);
    command
}

/// Ctrl-Z: give the terminal back, stop until `fg`, then take it again.
#[cfg(unix)]
pub fn suspend(terminal: &mut Tui) -> io::Result<()> {
    leave()?;
    // SAFETY: raising a signal on our own process has no memory-safety preconditions.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    let mouse = MOUSE.load(Ordering::SeqCst);
    *terminal = enter(mouse)?;
    terminal.clear()
}

#[cfg(not(unix))]
pub fn suspend(_terminal: &mut Tui) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_is_visual_then_editor_then_vi() {
        let env = |visual: Option<&str>, editor: Option<&str>| {
            let (v, e) = (visual.map(str::to_string), editor.map(str::to_string));
            editor_command(&move |k| if k == "VISUAL" { v.clone() } else { e.clone() })
        };
        assert_eq!(env(Some("code --wait"), Some("nano")), "code --wait");
        assert_eq!(env(Some(" "), Some("nano")), "nano");
        assert_eq!(env(None, None), "vi");
    }
}
