//! Exactly one engine per store: it holds an exclusive OS lock on a file beside the
//! database for as long as it runs, and writes its pid there for the consoles that
//! cannot take the lock. The OS drops the lock when the process dies, however it dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The held lock. Dropping it releases the lock.
#[derive(Debug)]
pub struct EngineLock {
    _file: File,
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
                Ok(Some(EngineLock { _file: file }))
            }
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// The pid of the process that holds (or last held) the lock.
    pub fn holder(path: &Path) -> Option<u32> {
        let mut text = String::new();
        File::open(path).ok()?.read_to_string(&mut text).ok()?;
        text.trim().parse().ok()
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
        drop(first);
        assert!(EngineLock::try_acquire(&path).unwrap().is_some());
    }
}
