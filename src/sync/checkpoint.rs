//! The WAL checkpointer: one background connection that copies the write-ahead log into
//! the database while the engine works, so no request pays for a checkpoint and the log
//! never holds much that is not in the database yet.
//!
//! After writes it checkpoints passively (never waiting on readers or writers); once the
//! store has been quiet for a moment it truncates the log to nothing. That is also how a
//! full disk heals: while writes fail nothing changes, so the checkpointer keeps trying
//! to truncate, and as soon as space is freed the log's pages move into the database and
//! its file shrinks, instead of the log growing into whatever space was freed.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::Connection;

/// How often the checkpointer looks at the store.
const EVERY: Duration = Duration::from_secs(1);
/// Quiet ticks before the log is truncated.
const QUIET_TICKS: u32 = 2;

/// What one checkpoint did: `(busy, log frames, frames checkpointed)` as SQLite reports.
pub fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
}

/// Runs until aborted.
pub async fn run(store_path: PathBuf) {
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
        let step = tokio::task::spawn_blocking(move || {
            let version: Option<i64> = conn.query_row("PRAGMA data_version", [], |r| r.get(0)).ok();
            let changed = version != last_version;
            let quiet = if changed { 0 } else { quiet.saturating_add(1) };
            let mode = if quiet >= QUIET_TICKS { "TRUNCATE" } else { "PASSIVE" };
            // Truncating an empty log every second would be a write for nothing.
            let result = if changed || quiet == QUIET_TICKS || wal_has_frames(&conn) {
                Some(checkpoint(&conn, mode))
            } else {
                None
            };
            (conn, version, quiet, mode, result)
        })
        .await;
        let Ok((c, version, q, mode, result)) = step else { return };
        (conn, last_version, quiet) = (c, version, q);
        match result {
            Some(Err(e)) => tracing::debug!(error = %e, mode, "checkpoint not done"),
            Some(Ok((busy, frames, done))) => tracing::trace!(busy, frames, done, mode, "checkpoint"),
            None => {}
        }
    }
}

/// Whether the log still holds frames (a cheap passive checkpoint of nothing says so).
fn wal_has_frames(conn: &Connection) -> bool {
    checkpoint(conn, "PASSIVE").is_ok_and(|(_, frames, _)| frames > 0)
}
