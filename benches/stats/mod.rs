//! What the bench binaries share: the generated store they measure on, and what they
//! compute of their timings (milliseconds, the median, the p99).

// Each bench binary uses what it needs of these.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

/// Fills a new store at `path` as `switchboard generate` does with `size`, says what and
/// how long, and checkpoints so every figure reads the database file, not a long WAL.
pub fn generate_store(path: &Path, size: switchboard::generate::Size) {
    let started = Instant::now();
    switchboard::store::Store::open(path).expect("the schema");
    let mut conn = rusqlite::Connection::open(path).expect("a connection");
    let g = switchboard::generate::generate(&mut conn, size).expect("generating");
    println!(
        "generated {} contacts, {} conversations, {} messages in {:.1} s",
        g.contacts,
        g.conversations,
        g.messages,
        started.elapsed().as_secs_f64()
    );
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
}

/// The 1M store a bench measures on, at `path`: a copy of `--store FILE` when given
/// (copied, since benches write to it), else generated; then checkpointed, so every
/// figure reads the database file, not a long WAL.
pub fn store_at(path: &Path, args: &[String]) {
    match args.iter().position(|a| a == "--store") {
        Some(i) => {
            std::fs::copy(&args[i + 1], path).expect("copying the store");
        }
        None => generate_store(path, Default::default()),
    }
    rusqlite::Connection::open(path)
        .and_then(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)"))
        .expect("checkpoint");
}

/// A size line (`VmHWM`, `VmRSS`) of a process's `/proc/<pid>/status` (`self` for this
/// one), in MB.
pub fn status_mb(pid: &str, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn p99(v: &mut [Duration]) -> Duration {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}
