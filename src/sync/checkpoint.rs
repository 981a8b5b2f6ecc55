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
        let wal = wal.clone();
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
            let result = mode.map(|mode| (mode, checkpoint(&conn, mode)));
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
