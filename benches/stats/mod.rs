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
