//! Group commit: one writer stores everything the engine receives (webhook calls and
//! polled batches, from every channel). Batches that arrive while it is busy wait, and
//! are stored together in the next transaction, so a burst of calls shares commits
//! instead of queueing for the write lock one by one; no batch is held back to wait for
//! company. Each caller is answered only after its own batch has committed, so a
//! webhook call is still acknowledged only once its data is on disk, and a crash keeps
//! or loses a batch whole, with the cursor that covers it.
//!
//! The writer leaves WAL checkpoints to the engine's checkpointer (`checkpoint`), which
//! copies the log concurrently; the writer only finishes a checkpoint, between two
//! groups, when the checkpointer says the log is long and should start again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{mpsc, oneshot};

use super::checkpoint::LongLog;
use crate::model::{InboundEvent, now_ms};
use crate::store::{IngestReport, Store, StoreError};

/// A cursor to advance with a batch: (channel, key, value).
pub type Cursor = (&'static str, &'static str, String);

/// At most this many events go into one transaction, so a group never holds the write
/// lock (which consoles and the senders also take) for long.
const MOST_EVENTS: usize = 2_000;

struct Job {
    events: Vec<InboundEvent>,
    cursor: Option<Cursor>,
    answer: oneshot::Sender<Result<IngestReport, StoreError>>,
}

/// The way to the writer; cheap to clone. The writer stops when the last clone is dropped.
#[derive(Clone)]
pub struct Ingestor {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Ingestor {
    /// Starts the writer on a thread of its own, with its own connection. `disk_full` is
    /// shared with the status board: set while the disk is full, cleared once the log's
    /// space has been reclaimed. `long_log` is the checkpointer's call to restart the log.
    pub fn start(store: Store, disk_full: Arc<AtomicBool>, long_log: LongLog) -> std::io::Result<Ingestor> {
        let (jobs, queue) = mpsc::unbounded_channel();
        std::thread::Builder::new().name("ingest".into()).spawn(move || write(store, queue, &disk_full, &long_log))?;
        Ok(Ingestor { jobs })
    }

    /// Stores `events` and advances `cursor` atomically; returns once they have committed.
    /// An error means nothing of this batch was stored.
    pub async fn ingest(&self, events: Vec<InboundEvent>, cursor: Option<Cursor>) -> Result<IngestReport, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.jobs.send(Job { events, cursor, answer }).map_err(|_| StoreError::WriterStopped)?;
        answered.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// The writer: takes the first batch waiting, and every batch queued behind it up to
/// `MOST_EVENTS`, and stores them in one transaction.
fn write(mut store: Store, mut queue: mpsc::UnboundedReceiver<Job>, disk_full: &AtomicBool, long_log: &LongLog) {
    while let Some(first) = queue.blocking_recv() {
        if long_log.take() {
            match store.restart_log() {
                Ok(done) => tracing::trace!(done, "log restarted"),
                Err(e) => tracing::debug!(error = %e, "cannot restart the log"),
            }
        }
        let mut events = first.events.len();
        let mut group = vec![first];
        while events < MOST_EVENTS
            && let Ok(job) = queue.try_recv()
        {
            events += job.events.len();
            group.push(job);
        }
        if let Err(e) = reclaim_after_full_disk(&store, disk_full) {
            for job in group {
                let _ = job.answer.send(Err(StoreError::DiskFull(e.clone_full())));
            }
            continue;
        }
        let batches: Vec<_> = group.iter().map(|j| (j.events.as_slice(), j.cursor.clone())).collect();
        let results = store.ingest_together(&batches, now_ms());
        if results.iter().any(|r| matches!(r, Err(StoreError::DiskFull(_)))) {
            disk_full.store(true, Ordering::SeqCst);
            // Frees the log's space at once if the database has room for its pages.
            if let Ok(true) = store.reclaim_log() {
                disk_full.store(false, Ordering::SeqCst);
            }
        }
        if group.len() > 1 {
            tracing::trace!(batches = group.len(), events, "group commit");
        }
        for (job, result) in group.into_iter().zip(results) {
            // A caller that stopped waiting (its connection closed) is no error here: the
            // platform delivers again, and the copy is recognised.
            let _ = job.answer.send(result);
        }
    }
}

/// After a full disk, the log is reclaimed before anything else is written, so freed
/// space goes to the database rather than to a log that grows into it. An error: the
/// disk is still full, and nothing should be tried.
fn reclaim_after_full_disk(store: &Store, disk_full: &AtomicBool) -> Result<(), FullDisk> {
    if !disk_full.load(Ordering::SeqCst) {
        return Ok(());
    }
    match store.reclaim_log() {
        Ok(true) => disk_full.store(false, Ordering::SeqCst),
        Ok(false) => {}
        Err(StoreError::DiskFull(e)) => return Err(FullDisk(e.to_string())),
        Err(e) => tracing::debug!(error = %e, "cannot reclaim the log yet"),
    }
    Ok(())
}

/// A full disk met while reclaiming, told to every batch of the group.
struct FullDisk(String);

impl FullDisk {
    fn clone_full(&self) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), Some(self.0.clone()))
    }
}
