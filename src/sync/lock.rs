//! The locks beside the store. Exactly one engine per store: it holds an exclusive OS
//! lock on `engine.lock` for as long as it runs, and writes there its pid and how each
//! channel is doing, for the consoles. Every console holds a shared lock on
//! `consoles.lock`, so an engine started for the consoles can tell when the last one has
//! gone. The OS drops a lock when its process dies, however it dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The held lock. Dropping it releases the lock.
#[derive(Debug)]
pub struct EngineLock {
    file: File,
}

impl EngineLock {
    /// Takes the lock, or returns None when another process holds it.
    pub fn try_acquire(path: &Path) -> std::io::Result<Option<EngineLock>> {
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0)?;
                file.seek(SeekFrom::Start(0))?;
                write!(file, "{}", std::process::id())?;
                file.flush()?;
                Ok(Some(EngineLock { file }))
            }
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// The pid of the process that holds (or last held) the lock.
    pub fn holder(path: &Path) -> Option<u32> {
        let mut text = String::new();
        File::open(path).ok()?.read_to_string(&mut text).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Takes the lock, trying for a moment: consoles probe it (`is_held`) with a shared
    /// lock held for microseconds, and a probe must not turn an engine away.
    pub fn acquire_patiently(path: &Path) -> std::io::Result<Option<EngineLock>> {
        for _ in 0..50 {
            if let Some(lock) = Self::try_acquire(path)? {
                return Ok(Some(lock));
            }
            if Self::holder(path).is_some_and(|pid| pid != std::process::id()) && Self::is_held_by_engine(path) {
                return Ok(None);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok(None)
    }

    /// Whether an engine holds the lock: held, and held over several looks (a probe
    /// holds it for microseconds only).
    fn is_held_by_engine(path: &Path) -> bool {
        (0..3).all(|_| {
            let held = Self::is_held(path);
            std::thread::sleep(std::time::Duration::from_millis(2));
            held
        })
    }

    /// Whether some process holds the lock now (a pid in the file proves nothing: the
    /// process may be gone).
    pub fn is_held(path: &Path) -> bool {
        let Ok(file) = File::open(path) else { return false };
        matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
    }

    /// Writes `status` (one line of JSON) after the pid, for consoles in other
    /// processes. Written in place, so a full disk does not take the file's block away.
    pub fn publish(&self, status: &str) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        let text = format!("{}\n{}\n", std::process::id(), status.replace('\n', " "));
        self.file.write_all_at(text.as_bytes(), 0)?;
        self.file.set_len(text.len() as u64)
    }

    /// What the engine holding the lock last published: its pid and status line. None
    /// when no process holds it.
    pub fn published(path: &Path) -> Option<(u32, String)> {
        if !Self::is_held(path) {
            return None;
        }
        let mut text = String::new();
        File::open(path).ok()?.read_to_string(&mut text).ok()?;
        let mut lines = text.lines();
        let pid = lines.next()?.trim().parse().ok()?;
        Some((pid, lines.next().unwrap_or("").to_string()))
    }
}

/// A console's presence: a shared lock on `consoles.lock`, held while it runs.
#[derive(Debug)]
pub struct ConsolePresence {
    _file: File,
}

impl ConsolePresence {
    pub fn attach(path: &Path) -> std::io::Result<ConsolePresence> {
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        file.lock_shared()?;
        Ok(ConsolePresence { _file: file })
    }

    /// Whether any console is attached to the store (false when the file is missing).
    pub fn any(path: &Path) -> bool {
        let Ok(file) = OpenOptions::new().read(true).write(true).open(path) else { return false };
        matches!(file.try_lock(), Err(TryLockError::WouldBlock))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.lock");
        let first = EngineLock::try_acquire(&path).unwrap().expect("first takes it");
        assert!(EngineLock::try_acquire(&path).unwrap().is_none());
        assert_eq!(EngineLock::holder(&path), Some(std::process::id()));
        assert!(EngineLock::is_held(&path));
        first.publish(r#"{"telegram":"ok"}"#).unwrap();
        assert_eq!(EngineLock::published(&path), Some((std::process::id(), r#"{"telegram":"ok"}"#.to_string())));
        drop(first);
        assert!(!EngineLock::is_held(&path));
        assert_eq!(EngineLock::published(&path), None, "a pid without a holder is no engine");
        assert!(EngineLock::try_acquire(&path).unwrap().is_some());
    }

    #[test]
    fn consoles_are_seen_while_attached() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consoles.lock");
        assert!(!ConsolePresence::any(&path));
        let a = ConsolePresence::attach(&path).unwrap();
        let b = ConsolePresence::attach(&path).unwrap();
        assert!(ConsolePresence::any(&path));
        drop(a);
        assert!(ConsolePresence::any(&path));
        drop(b);
        assert!(!ConsolePresence::any(&path));
    }
}
