//! Keystroke to screen in a real terminal. The release binary runs the console in a
//! pseudo-terminal (200x60) on the 1,000,000-message store, as an agent's terminal would
//! run it, and the bench times each key from its write to the last byte of the frame the
//! console writes in answer:
//!
//! - first frame: from starting the process to the list drawn (baseline: the same binary
//!   started with `--version`, to its exit);
//! - a composer keystroke (a letter, then Backspace);
//! - PageUp in the 100,000-message conversation;
//! - a key that changes nothing (F12): the bytes the console writes for it (none, since
//!   it does not draw when nothing changed) and the processor time it spends on one;
//! - the console's peak resident memory after every screen was opened, then after 20
//!   campaign previews to everyone in the store;
//!
//! each beside the pty's own floor: `cat` in raw mode echoing the same bytes.
//!
//! `cargo bench --bench pty` (`-- --store FILE` reuses a generated store; it is copied
//! first, since the bench writes one message to it).

mod stats;

use stats::{median, ms, p99};

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use switchboard::model::{ChannelKind, ChatRef, InboundEvent, InboundMessage, Peer, now_ms};
use switchboard::store::Store;

const SIZE: (u16, u16) = (200, 60);
/// Output that stops for this long is a whole frame.
const QUIET: Duration = Duration::from_millis(5);
const KEYS: usize = 500;
const F12: &[u8] = b"\x1b[24~";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("switchboard.db");
    stats::store_at(&path, &args);
    longest_first(&path);
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").expect("a config");
    let exe = Path::new(env!("CARGO_BIN_EXE_switchboard"));
    let console_args =
        ["--config", config.to_str().expect("a path"), "--data-dir", dir.path().to_str().expect("a path")];

    println!("\n{:<58} {:>12} {:>12} {:>8}  target", "figure", "switchboard", "baseline", "ratio");
    let mut echo = Pty::spawn(Path::new("cat"), &[], true);
    echo.settle(Duration::from_millis(100));
    let mut floor: Vec<Duration> = (0..KEYS).map(|_| echo.press(b"a").0).collect();
    echo.stop();

    first_frame(exe, &console_args);

    let mut console = Pty::spawn(exe, &console_args, false);
    console.settle(Duration::from_millis(500));
    // Open the longest conversation (first in the list; opening it puts the cursor in the
    // composer), go to the conversation pane (Shift-Tab), and page up through it.
    console.press(b"\r");
    console.settle(Duration::from_millis(300));
    console.press(b"\x1b[Z");
    console.settle(Duration::from_millis(100));
    let mut page_up: Vec<Duration> = (0..300).map(|_| console.press(b"\x1b[5~").0).collect();
    // Into the composer: a letter at a time, then Backspace each away.
    console.press(b"r");
    console.settle(Duration::from_millis(100));
    let mut typed: Vec<Duration> = (0..KEYS / 2).map(|_| console.press(b"a").0).collect();
    typed.extend((0..KEYS / 2).map(|_| console.press(b"\x7f").0));
    let (bytes, cpu, idle) = nothing_keys(&mut console);
    console.stop();
    let (opened, previews) = memory_after_previews(exe, &console_args);

    let floor_p99 = p99(&mut floor);
    println!("{:<58} {:>9.3} ms", "pty echo floor (cat, raw mode), p99", ms(floor_p99));
    println!("{:<58} {:>9.3} ms", "pty echo floor (cat, raw mode), median", ms(median(&mut floor)));
    let row = |name: &str, ours: Duration, target: &str| {
        println!(
            "{name:<58} {:>9.3} ms {:>9.3} ms {:>7.2}x  {target}",
            ms(ours),
            ms(floor_p99),
            ours.as_secs_f64() / floor_p99.as_secs_f64()
        );
    };
    row("composer keystroke to its frame, p99 (baseline: floor)", p99(&mut typed), "< 1 ms");
    row("  median", median(&mut typed), "");
    row("PageUp in the 100,000-message conversation, p99", p99(&mut page_up), "");
    row("  median", median(&mut page_up), "");
    println!(
        "{:<58} {:>9.3} ms {:>9.3} ms {:>8}  < 0.3 ms",
        "a key that changes nothing: processor time per key (idle)", cpu, idle, ""
    );
    println!("{:<58} {:>9} B", "  bytes written for 1,000 such keys", bytes);
    println!(
        "{:<58} {:>9.1} MB {:>9.1} MB {:>7.2}x  < 40 MB",
        "peak resident, every screen opened, then 20 previews",
        previews,
        opened,
        previews / opened
    );
}

/// The console's peak resident memory (`VmHWM`): after opening every screen (the
/// baseline), then after 20 previews of a campaign to everyone in the store (50,000
/// contacts on the generated store), each waited for.
fn memory_after_previews(exe: &Path, args: &[&str]) -> (f64, f64) {
    let mut console = Pty::spawn(exe, args, false);
    console.settle(Duration::from_millis(500));
    // The contact card, automation, reports, search, the palette, help: each opened,
    // let load, and closed.
    for key in [&b"\x1bOQ"[..], b"\x1bOS", b"\x1b[15~", b"/", b"\x0b", b"\x1bOP"] {
        console.master.write_all(key).expect("a key");
        console.settle(Duration::from_millis(400));
        console.master.write_all(b"\x1b").expect("Esc");
        console.settle(Duration::from_millis(200));
    }
    let opened = console.peak();
    // The campaign panel: no filter (everyone), a name, a text; then preview 20 times.
    console.master.write_all(b"\x1bOR").expect("F3");
    console.settle(Duration::from_millis(500));
    console.master.write_all("\tbench\tПривет, {{first_name|друг}}!".as_bytes()).expect("the form");
    console.settle(Duration::from_millis(300));
    for _ in 0..20 {
        console.master.write_all(b"\x10").expect("Ctrl-P");
        console.settle(Duration::from_millis(700));
    }
    let previews = console.peak();
    console.stop();
    (opened, previews)
}

/// Makes the longest conversation the newest, so it opens first in the list.
fn longest_first(path: &Path) {
    let mut store = Store::open(path).expect("the store");
    let (channel, chat, title): (String, String, String) = store
        .conn()
        .query_row(
            "SELECT c.channel, c.external_chat_id, c.title FROM conversations c WHERE c.id = \
             (SELECT conversation_id FROM messages GROUP BY conversation_id ORDER BY count(*) DESC LIMIT 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the longest conversation");
    let channel: ChannelKind = channel.parse().expect("a channel");
    let chat_ref = ChatRef { channel, external_chat_id: chat.clone(), is_group: false, title: title.clone() };
    let from = Peer { external_id: chat, display_name: title, username: None, locale: None };
    let message = InboundMessage::text(chat_ref, from, "pty-bench-1".into(), "Есть новости? 📦".into(), now_ms());
    store.ingest(&[InboundEvent::Message(message)], None, now_ms()).expect("a message");
    store.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
}

/// Start to the list drawn, ten times; beside it, the binary's own start (`--version`).
fn first_frame(exe: &Path, args: &[&str]) {
    let mut ours = Vec::new();
    let mut base = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let mut console = Pty::spawn(exe, args, false);
        let last = console.settle(Duration::from_millis(300));
        ours.push(last.map_or(Duration::MAX, |at| at - started));
        console.stop();
        let started = Instant::now();
        let status = Command::new(exe).arg("--version").stdout(Stdio::null()).status().expect("the binary");
        assert!(status.success());
        base.push(started.elapsed());
    }
    let (ours, base) = (median(&mut ours), median(&mut base));
    println!(
        "{:<58} {:>9.3} ms {:>9.3} ms {:>7.2}x",
        "first frame in a terminal, start to list drawn, median",
        ms(ours),
        ms(base),
        ours.as_secs_f64() / base.as_secs_f64()
    );
}

/// 1,000 presses of F12, 2 ms apart: the bytes the console wrote for them, and its
/// processor time per key against the same span with no keys (both in ms per key).
fn nothing_keys(console: &mut Pty) -> (usize, f64, f64) {
    const N: usize = 1_000;
    const GAP: Duration = Duration::from_millis(2);
    console.settle(Duration::from_millis(100));
    let idle = {
        let before = console.cpu();
        std::thread::sleep(GAP * N as u32);
        console.cpu() - before
    };
    let before = console.cpu();
    for _ in 0..N {
        console.master.write_all(F12).expect("a key");
        std::thread::sleep(GAP);
    }
    std::thread::sleep(Duration::from_millis(50));
    let busy = console.cpu() - before;
    let mut bytes = 0;
    while let Ok((_, chunk)) = console.output.try_recv() {
        bytes += chunk.len();
    }
    (bytes, busy / N as f64, idle / N as f64)
}

/// A program running in a pseudo-terminal, and what it writes, as it arrives.
struct Pty {
    master: std::fs::File,
    child: Child,
    output: mpsc::Receiver<(Instant, Vec<u8>)>,
}

impl Pty {
    fn spawn(program: &Path, args: &[&str], raw: bool) -> Pty {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize { ws_row: SIZE.1, ws_col: SIZE.0, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: openpty writes two descriptors into the integers given.
        let opened = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and are owned here alone.
        let (master, slave) = unsafe { (std::fs::File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        if raw {
            // SAFETY: a termios read from and written to the descriptor just opened.
            unsafe {
                let mut t: libc::termios = std::mem::zeroed();
                libc::tcgetattr(slave.as_raw_fd(), &mut t);
                libc::cfmakeraw(&mut t);
                libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t);
            }
        }
        let mut command = Command::new(program);
        command
            .args(args)
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .stdin(Stdio::from(slave.try_clone().expect("a descriptor")))
            .stdout(Stdio::from(slave.try_clone().expect("a descriptor")))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec: a new session,
        // with the terminal as its controlling terminal.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = command.spawn().expect("the program");
        drop(command);
        let (tx, output) = mpsc::channel();
        let mut reader = master.try_clone().expect("a descriptor");
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        });
        Pty { master, child, output }
    }

    /// Waits until the output has been quiet for `quiet`; when its last byte came.
    fn settle(&mut self, quiet: Duration) -> Option<Instant> {
        let mut last = None;
        while let Ok((at, _)) = self.output.recv_timeout(quiet) {
            last = Some(at);
        }
        last
    }

    /// Writes `keys`; the time to the last byte of the answer (the output until it is
    /// quiet), and how many bytes.
    fn press(&mut self, keys: &[u8]) -> (Duration, usize) {
        while self.output.try_recv().is_ok() {}
        let started = Instant::now();
        self.master.write_all(keys).expect("a key");
        let Ok((mut last, first)) = self.output.recv_timeout(Duration::from_secs(5)) else {
            panic!("no answer to {keys:?} within 5 s");
        };
        let mut bytes = first.len();
        while let Ok((at, chunk)) = self.output.recv_timeout(QUIET) {
            last = at;
            bytes += chunk.len();
        }
        (last - started, bytes)
    }

    /// The processor time the program has used, in ms.
    fn cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("the program's stat");
        // The fields after the name (which is in parentheses and may hold spaces).
        let fields: Vec<&str> = stat.rsplit_once(')').expect("a stat line").1.split_whitespace().collect();
        // SAFETY: sysconf only reads a constant.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        let (utime, stime): (f64, f64) = (fields[11].parse().expect("utime"), fields[12].parse().expect("stime"));
        (utime + stime) * 1000.0 / ticks
    }

    /// The program's peak resident memory so far, in MB.
    fn peak(&self) -> f64 {
        stats::status_mb(&self.child.id().to_string(), "VmHWM")
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
