//! Versioned schema migrations, embedded in the binary and applied in order, each in its
//! own transaction; `PRAGMA user_version` records the last one applied.

use std::path::Path;

use rusqlite::Connection;

use super::{Result, StoreError};

/// Every migration, in order. Version N is the N-th entry. Never edit one that shipped:
/// add a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/001_init.sql"),
    include_str!("../../migrations/002_telegram.sql"),
    include_str!("../../migrations/003_campaigns.sql"),
    include_str!("../../migrations/004_trust.sql"),
    include_str!("../../migrations/005_workflow.sql"),
    include_str!("../../migrations/006_agents.sql"),
    include_str!("../../migrations/007_spell.sql"),
    include_str!("../../migrations/008_macros.sql"),
    include_str!("../../migrations/009_automation.sql"),
    include_str!("../../migrations/010_csat.sql"),
    include_str!("../../migrations/011_polls.sql"),
    include_str!("../../migrations/012_reports.sql"),
    include_str!("../../migrations/013_search_prefixes.sql"),
    include_str!("../../migrations/014_folded_titles.sql"),
    include_str!("../../migrations/015_people.sql"),
];

/// Work a migration needs beyond its SQL, run in its transaction after it.
fn after(version: i64, tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    match version {
        12 => super::reports::backfill(tx),
        15 => super::people::backfill(tx),
        _ => Ok(()),
    }
}

/// The schema version of a store with every migration applied.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let known = SCHEMA_VERSION;
    // Up to date (every open but the first): no write lock needed.
    if conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? == known {
        return Ok(());
    }
    // The version is read inside the write transaction that applies the next migration,
    // so two processes opening one store at once take turns: the second finds the work
    // done instead of running it again ("table already exists").
    loop {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|source| StoreError::Migration { version: 0, source })?;
        let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > known {
            return Err(StoreError::TooNew { path: path.into(), found, known });
        }
        let Some(sql) = MIGRATIONS.get(found as usize) else { return Ok(()) };
        let version = found + 1;
        tx.execute_batch(sql).map_err(|source| StoreError::Migration { version, source })?;
        after(version, &tx).map_err(|source| StoreError::Migration { version, source })?;
        tx.pragma_update(None, "user_version", version).map_err(|source| StoreError::Migration { version, source })?;
        tx.commit().map_err(|source| StoreError::Migration { version, source })?;
    }
}
