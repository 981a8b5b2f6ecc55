//! The store: one SQLite file, the single source of truth. `Store` owns one connection;
//! every process and task that touches the store opens its own (WAL lets readers and one
//! writer work at once). The queries live in one file per table group.

mod agents;
mod automation;
mod campaign_results;
mod campaigns;
mod canned;
mod changes;
mod contact_card;
mod contacts;
mod conversations;
mod csat;
mod customer_actions;
mod drafts;
mod ingest;
mod merge;
mod messages;
mod migrations;
mod outbox;
mod people;
mod polls;
mod receipts;
mod reports;
mod search;
mod segments;
mod spell_words;

pub use crate::model::{StopPolicy, default_confirmations};
pub use agents::{AgentRow, PRESENCE_FRESH, human_author, is_machine};
pub use automation::{AutoMessage, BOT, Fire, Fired};
pub use campaign_results::VariantResults;
pub use campaigns::{CampaignStatus, Fate, NewCampaign, NewRecipient, RecipientConsent, ReviewFacts};
pub use canned::{Canned, CannedFile};
pub use changes::{Change, DELETE_WITHIN};
pub use contact_card::{ConsentState, ContactCard, ConversationBrief, Identity, STAGES};
pub use contacts::{ContactRow, ImportReport};
pub use conversations::{ConversationFilter, ConversationRow, ListKey, Mention};
pub use csat::{Resolved, Score};
pub use ingest::{IngestReport, IngestRules, OutboundRecord};
pub use merge::{MergePreview, Split};
pub use messages::{MEDIA_KINDS, MediaMessage, MessageKey, MessageRow, TimelineRow};
pub use migrations::SCHEMA_VERSION;
pub use outbox::{OutboxItem, PRIORITY_CAMPAIGN, PRIORITY_REPLY, SendTarget, Sent};
pub use people::{LinkEvent, PhoneRow, Suggestion};
pub use polls::{OPTION_MAX, Poll, Tally};
pub use reports::{
    BlockRef, BlockTime, CampaignRow, CsatRow, NewClientRow, ReplyRef, ReportSplit, ResolutionRef, StageRow, VolumeRow,
};
pub use search::{SearchHit, fts_expression, query_words};
pub use segments::{Condition, Member, Reach, SampleRow, Segment};

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

/// Why the store could not do what was asked. Each variant reads as a sentence.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("the store at {path} was written by a newer switchboard (schema {found}, this build knows {known})")]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error("cannot create the store at {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error(
        "the store file {path} is empty (0 bytes), so it holds no switchboard store: it may have been truncated or \
         copied while in use. Restore it from a backup, or delete it to start a new store"
    )]
    Empty { path: PathBuf },
    #[error("migration {version} failed: {source}")]
    Migration { version: i64, source: rusqlite::Error },
    #[error("the disk is full: nothing was changed ({0})")]
    DiskFull(rusqlite::Error),
    #[error("{0}")]
    NotFound(String),
    #[error("the engine's writer has stopped: nothing was stored")]
    WriterStopped,
    #[error("store error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull(e),
            _ => StoreError::Sqlite(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Reads column `i` as one of the enums stored by name (channel, status, direction).
fn text_enum<T>(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T: std::str::FromStr<Err = crate::model::UnknownValue>,
{
    row.get::<_, String>(i)?
        .parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

/// One connection to the store, with the schema migrated to the current version.
pub struct Store {
    conn: Connection,
    /// What ingest applies: the STOP keywords and the phone-number links.
    rules: IngestRules,
}

impl Store {
    /// Opens (creating if needed) the store file and brings its schema up to date.
    ///
    /// A new store is built beside its final name and linked into place only when whole,
    /// so no process ever sees a half-made one, and an existing empty file can only be
    /// damage (a truncation, a failed copy): it is refused rather than silently opened
    /// as a new, empty store.
    pub fn open(path: &Path) -> Result<Store> {
        let open_err = |source| StoreError::Open { path: path.into(), source };
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path)?,
            Ok(meta) if meta.len() == 0 && !wal_has_data(path) => {
                return Err(StoreError::Empty { path: path.into() });
            }
            _ => {}
        }
        let conn = Connection::open(path).map_err(open_err)?;
        // The busy timeout comes first: switching to WAL takes a lock too.
        conn.busy_timeout(Duration::from_secs(30)).map_err(open_err)?;
        // WAL so consoles can read while the engine writes.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        Self::configure(conn, path)
    }

    /// A private store in memory, with the real migrations: for tests.
    pub fn open_in_memory() -> Result<Store> {
        let conn =
            Connection::open_in_memory().map_err(|source| StoreError::Open { path: ":memory:".into(), source })?;
        Self::configure(conn, Path::new(":memory:"))
    }

    fn configure(mut conn: Connection, path: &Path) -> Result<Store> {
        let open_err = |source| StoreError::Open { path: path.into(), source };
        // A writer waits its turn rather than fail. The longest turn is a campaign launch,
        // all in one transaction: 2.4 s for 50,000 messages here (BENCHMARKS.md), twice
        // that for 100,000, so the engine's ingest must be willing to wait far longer.
        conn.busy_timeout(Duration::from_secs(30)).map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        // Checkpoint the WAL every 40 MB rather than every 4 MB. Inbound messages touch
        // pages all over the indexes, and each checkpoint writes them back and syncs:
        // checkpointing a tenth as often made inserts into a 1,000,000-message store
        // about a quarter faster (BENCHMARKS.md), for a larger WAL between checkpoints.
        conn.pragma_update(None, "wal_autocheckpoint", 10_000).map_err(open_err)?;
        add_functions(&conn).map_err(open_err)?;
        // Every commit in this process tells the consoles in it at once (`commits`);
        // other processes' commits reach them by `data_version`.
        conn.commit_hook(Some(|| {
            commit_signal().send_modify(|n| *n = n.wrapping_add(1));
            false
        }))
        .map_err(open_err)?;
        let mut store = Store { conn, rules: IngestRules::default() };
        migrations::migrate(&mut store.conn, path)?;
        Ok(store)
    }

    /// A write transaction that takes the write lock at once. A deferred one that reads
    /// first cannot upgrade after another connection commits (SQLITE_BUSY_SNAPSHOT, and
    /// no busy timeout helps); an immediate one waits its turn instead.
    fn write(&mut self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
    }

    /// Leaves WAL checkpoints to a checkpointer of their own (the engine's), so no write
    /// on this connection ever stops to copy the log into the database.
    pub fn leave_checkpoints_to_checkpointer(&self) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // When this connection starts the log again after a checkpoint, the file is cut
        // back to 64 MB rather than kept at the longest it ever was.
        self.conn.pragma_update(None, "journal_size_limit", 64 << 20)?;
        Ok(())
    }

    /// The keywords that opt a customer out, and the confirmation they get.
    pub fn set_stop_policy(&mut self, policy: StopPolicy) {
        self.rules.stop = policy;
    }

    /// Everything ingest applies to what it stores.
    pub fn set_ingest_rules(&mut self, rules: IngestRules) {
        self.rules = rules;
    }

    /// Finishes copying the write-ahead log into the database so that the next write
    /// starts the log from its beginning (the engine's writer, when the checkpointer says
    /// the log is long). Waits at most a moment for readers; true when it was done.
    pub fn restart_log(&self) -> Result<bool> {
        self.conn.busy_timeout(Duration::from_millis(100))?;
        let done = self.conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0));
        self.conn.busy_timeout(Duration::from_secs(30))?;
        Ok(done? == 0)
    }

    /// Changes whenever another connection commits: the cheap way a console notices
    /// what the engine or another console wrote.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// After a full disk: moves the write-ahead log into the database and truncates it,
    /// which frees its space. True when that completed; false when readers still need
    /// the log or the disk has no room for the database to take its pages yet.
    pub fn reclaim_log(&self) -> Result<bool> {
        let (busy, frames, done): (i64, i64, i64) =
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(busy == 0 && frames == done)
    }

    /// The connection, for the batch tools (export) that stream their own queries.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A numeric cursor kept in `sync_state`; the first time, what `start` (a query of
    /// one number) says, written so the next call finds it.
    pub(crate) fn numeric_cursor(&self, key: (&str, &str), start: &str) -> Result<i64> {
        if let Some(v) = self.sync_value(key.0, key.1)? {
            return Ok(v.parse().unwrap_or(0));
        }
        let first: i64 = self.conn.query_row(start, [], |r| r.get(0))?;
        set_sync_value(&self.conn, key.0, key.1, &first.to_string())?;
        Ok(first)
    }

    /// A per-channel cursor such as the Telegram update offset.
    pub fn sync_value(&self, channel: &str, key: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT value FROM sync_state WHERE channel = ?1 AND key = ?2", [channel, key], |r| r.get(0))
            .optional()?)
    }

    /// How many rows a table has; for tests and the demo seed check.
    pub fn count(&self, table: &str) -> Result<i64> {
        // The table name cannot be bound; only names from this fixed list are accepted.
        const TABLES: [&str; 6] = ["contacts", "conversations", "messages", "outbox", "message_events", "identities"];
        let table = TABLES
            .into_iter()
            .find(|t| *t == table)
            .ok_or_else(|| StoreError::NotFound(format!("no table named {table}")))?;
        Ok(self.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    }
}

/// Writes a value of `sync_state` (a cursor), on the store's connection or in a transaction.
fn set_sync_value(conn: &Connection, channel: &str, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state(channel, key, value) VALUES (?1, ?2, ?3) \
         ON CONFLICT(channel, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(rusqlite::params![channel, key, value])?;
    Ok(())
}

/// The SQL functions the store's queries use, on `conn`: `fold(text)`, case folding in
/// every script (see `text::fold`). Public for tools that run the same SQL on a
/// connection of their own (the benchmarks' baselines).
fn commit_signal() -> &'static tokio::sync::watch::Sender<u64> {
    static SIGNAL: std::sync::OnceLock<tokio::sync::watch::Sender<u64>> = std::sync::OnceLock::new();
    SIGNAL.get_or_init(|| tokio::sync::watch::channel(0).0)
}

/// Changes when any store connection in this process commits: what a console waits on
/// to show what the engine running in its process just stored, without polling.
pub fn commits() -> tokio::sync::watch::Receiver<u64> {
    commit_signal().subscribe()
}

pub fn add_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function("fold", 1, FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|s| crate::text::fold(&s)))
    })?;
    // What the search index holds of a message (see migration 006).
    conn.create_scalar_function(
        "searchable",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(ctx.get::<Option<String>>(0)?.map(|s| crate::text::searchable(&s).into_owned())),
    )
}

/// Builds a new store under a temporary name in the same directory, then links it to
/// `path`. When another process won the race, its store stands and this one is dropped.
fn create(path: &Path) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let io_err = |source: std::io::Error| StoreError::Create { path: path.into(), source };
    // Created as SQLite would create it (0666 less the umask), not privately as a
    // temporary file is: agents on other accounts may share this store.
    let staging = Staging(dir.join(format!(".switchboard-new-{}-{}.db", std::process::id(), unique())));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&staging.0).map_err(io_err)?;
    {
        let conn = Connection::open(&staging.0).map_err(|source| StoreError::Open { path: path.into(), source })?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|source| StoreError::Open { path: path.into(), source })?;
        Store::configure(conn, path)?;
        // Dropped here: the last connection checkpoints the WAL into the file.
    }
    match std::fs::hard_link(&staging.0, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_err(e)),
    }
}

/// A store being built; removed when dropped (linked into place first, or abandoned).
struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        for suffix in ["-wal", "-shm"] {
            let mut side = self.0.as_os_str().to_owned();
            side.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(side));
        }
    }
}

/// A number no other store being built in this process has.
fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Whether a write-ahead log beside `path` holds pages: then a 0-byte main file is a
/// store whose first writes have not been checkpointed yet, not damage.
fn wal_has_data(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(Path::new(&wal)).is_ok_and(|m| m.len() > 0)
}

/// A store connection shared by the tasks of one component (the engine's sender, a
/// console). Every call runs on the blocking pool, so SQLite never stalls the async loop.
#[derive(Clone)]
pub struct SharedStore(std::sync::Arc<std::sync::Mutex<Store>>);

impl SharedStore {
    pub fn new(store: Store) -> SharedStore {
        SharedStore(std::sync::Arc::new(std::sync::Mutex::new(store)))
    }

    pub async fn run<T, F>(&self, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> T + Send + 'static,
    {
        let store = self.0.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves the connection usable: SQLite rolled
            // back whatever transaction was open.
            let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .expect("a store task panicked")
    }
}
