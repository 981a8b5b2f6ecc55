//! The WAL checkpointer: one background connection that copies the write-ahead log into
//! the database while the engine works, so no request pays for copying the log and the
//! log never holds much that is not in the database yet.
//!
//! After writes it checkpoints passively (never waiting on readers or writers); once the
//! store has been quiet for a moment it truncates the log to nothing. That is also how a
//! full disk heals: while writes fail nothing changes, so the checkpointer keeps trying
//! to truncate, and as soon as space is freed the log's pages move into the database and
//! its file shrinks, instead of the log growing into whatever space was freed.
//!
//! Passive checkpoints alone never let a busy log start again: the log restarts from its
//! beginning only when a write begins with every page already copied, and under a steady
//! stream of writes some page always was written after the copy began (a 20,000-call
//! burst grew the log to 500 MB). So once the log is long the checkpointer raises
//! `LongLog`, and the engine's writer, between two groups, finishes the checkpoint
//! itself: only the pages written since the last passive pass are left to copy, and its
//! next write starts the log again. When the writer is idle the checkpointer does it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;

/// How often the checkpointer looks at the store. The engine's own connections never
/// checkpoint (`sync::engine_store`), so this is what keeps the log short.
const EVERY: Duration = Duration::from_millis(250);
/// Quiet ticks before the log is truncated: two seconds without a write.
const QUIET_TICKS: u32 = 8;
/// Log pages (of 4 KB) past which the log should start again: 128 MB. Each restart
/// holds the writer for 40–60 ms on the 1,000,000-message store (the first of a burst
/// up to 200 ms), so not too often; a checkpoint every 100 ms and a restart every 64 MB
/// cost the webhook bench a fifth of its rate.
const LONG_LOG_PAGES: i64 = 32_768;

/// Raised by the checkpointer when the log is long; the writer that sees it restarts the
/// log (`Store::restart_log`) and lowers it.
#[derive(Clone, Default)]
pub struct LongLog(Arc<AtomicBool>);

impl LongLog {
    /// True once per raise: the caller is the one to restart the log.
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }

    fn raise(&self) -> bool {
        self.0.swap(true, Ordering::AcqRel)
    }
}

/// What one checkpoint did: `(busy, log frames, frames checkpointed)` as SQLite reports.
pub fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
}

/// Runs until aborted.
pub async fn run(store_path: PathBuf, long_log: LongLog) {
    let mut wal = store_path.clone().into_os_string();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    let opened = tokio::task::spawn_blocking(move || {
        let conn = Connection::open(&store_path)?;
        conn.busy_timeout(Duration::from_millis(200))?;
        Ok::<_, rusqlite::Error>(conn)
    })
    .await;
    let mut conn = match opened {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return tracing::error!(error = %e, "the checkpointer cannot open the store"),
        Err(e) => return tracing::error!(error = %e, "the checkpointer cannot start"),
    };
    let mut last_version = None;
    let mut quiet = 0u32;
    let mut ticker = tokio::time::interval(EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticker.tick().await;
        let (wal, long_log) = (wal.clone(), long_log.clone());
        let step = tokio::task::spawn_blocking(move || {
            let version: Option<i64> = conn.query_row("PRAGMA data_version", [], |r| r.get(0)).ok();
            let changed = version != last_version;
            let quiet = if changed { 0 } else { quiet.saturating_add(1) };
            // After writes, passively; once quiet, truncate, and go on trying while the
            // log has anything in it (a full disk that has not healed yet). An empty log
            // is left alone: truncating it every second would be a write for nothing.
            let mode = match (changed, quiet >= QUIET_TICKS) {
                (true, _) => Some("PASSIVE"),
                (false, true) if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) => Some("TRUNCATE"),
                _ => None,
            };
            let result = mode.map(|mode| match checkpoint(&conn, mode) {
                // Still raised from the last look: no writer came by to restart the log,
                // so the store is quiet enough for the checkpointer to do it.
                Ok((_, pages, _)) if pages > LONG_LOG_PAGES && long_log.raise() => {
                    long_log.take();
                    ("RESTART", checkpoint(&conn, "RESTART"))
                }
                result => (mode, result),
            });
            (conn, version, quiet, result)
        })
        .await;
        let Ok((c, version, q, result)) = step else { return };
        (conn, last_version, quiet) = (c, version, q);
        match result {
            Some((mode, Err(e))) => tracing::debug!(error = %e, mode, "checkpoint not done"),
            Some((mode, Ok((busy, frames, done)))) => tracing::trace!(busy, frames, done, mode, "checkpoint"),
            None => {}
        }
    }
}
