//! Importing 100,000 contacts from CSV (target: at least 20,000 rows/s), next to a
//! baseline measured in the same run: the same contacts, identities and tags inserted by
//! plain prepared statements in one transaction, with no parsing, matching or consent.
//! A second import of the same file (every row matched, nothing changed) is timed too:
//! it is the path that grew quadratically before contacts had a phone index.
//!
//! `cargo bench --bench import` (add `-- N` for another row count).

use std::time::Instant;

use rusqlite::{Connection, params};
use switchboard::store::Store;

const TARGET_PER_SECOND: f64 = 20_000.0;

fn main() {
    let rows: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let csv = file(rows);
    let dir = tempfile::tempdir().expect("a temp dir");

    let mut store = Store::open(&dir.path().join("import.db")).expect("the store");
    let t = Instant::now();
    let (good, bad) = switchboard::import::parse(csv.as_bytes(), std::path::Path::new("bench.csv")).expect("csv");
    assert!(bad.is_empty(), "{:?}", &bad[..bad.len().min(3)]);
    let report = store.import_contacts(&good, switchboard::model::now_ms()).expect("the import");
    let first = t.elapsed();
    assert_eq!(report.created, rows);
    let t = Instant::now();
    let (good, _) = switchboard::import::parse(csv.as_bytes(), std::path::Path::new("bench.csv")).expect("csv");
    let again = store.import_contacts(&good, switchboard::model::now_ms()).expect("the second import");
    let second = t.elapsed();
    assert_eq!(again.unchanged, rows);
    drop(store);

    // The baseline writes to a store with the same schema, settings and indexes.
    let path = dir.path().join("baseline.db");
    drop(Store::open(&path).expect("the baseline store"));
    let mut conn = Connection::open(&path).expect("a connection");
    switchboard::store::add_functions(&conn).expect("the store's SQL functions");
    conn.pragma_update(None, "synchronous", "NORMAL").expect("pragma");
    conn.pragma_update(None, "wal_autocheckpoint", 10_000).expect("pragma");
    let t = Instant::now();
    baseline(&mut conn, rows);
    let base = t.elapsed();

    let rate = |d: std::time::Duration| rows as f64 / d.as_secs_f64();
    println!("import of {rows} contacts from CSV (name, phone, identity, tags, consent, one attribute):");
    println!("  switchboard import, new      {:>9.0} rows/s   ({:.2} s)", rate(first), first.as_secs_f64());
    println!(
        "  switchboard import, again    {:>9.0} rows/s   ({:.2} s, all unchanged)",
        rate(second),
        second.as_secs_f64()
    );
    println!("  baseline: plain inserts      {:>9.0} rows/s   ({:.2} s)", rate(base), base.as_secs_f64());
    println!(
        "  ratio {:.2} of the baseline; target at least {TARGET_PER_SECOND:.0} rows/s: {}",
        rate(first) / rate(base),
        if rate(first).min(rate(second)) >= TARGET_PER_SECOND { "met" } else { "MISSED" }
    );
}

/// A CSV of `rows` contacts: Russian and English names, distinct phones, a Telegram
/// identity, two tags, marketing consent and a city.
fn file(rows: usize) -> String {
    let mut out = String::from("name,phone,channel,external_id,tags,consent,consent_at,city\r\n");
    for i in 0..rows {
        let name = if i % 2 == 0 { format!("Анна Петрова {i}") } else { format!("James Reed {i}") };
        let consent = if i % 3 == 0 { "no" } else { "yes" };
        out.push_str(&format!(
            "{name},+7916{i:07},telegram,{},vip;wholesale,{consent},2026-03-10,Казань\r\n",
            1_000_000 + i
        ));
    }
    out
}

fn baseline(conn: &mut Connection, rows: usize) {
    let tx = conn.transaction().expect("a transaction");
    {
        let mut contact = tx
            .prepare("INSERT INTO contacts(display_name, phone, attributes, source, created_at) VALUES (?1, ?2, ?3, 'import', 0)")
            .expect("sql");
        let mut identity = tx
            .prepare(
                "INSERT INTO identities(contact_id, channel, external_id, created_at) VALUES (?1, 'telegram', ?2, 0)",
            )
            .expect("sql");
        let mut tag = tx.prepare("INSERT OR IGNORE INTO tags(name) VALUES (?1)").expect("sql");
        let mut tagged = tx
            .prepare("INSERT INTO contact_tags(contact_id, tag_id) SELECT ?1, id FROM tags WHERE name = ?2")
            .expect("sql");
        let mut consent = tx
            .prepare(
                "INSERT INTO consent_events(contact_id, channel, purpose, action, source, at) \
                 VALUES (?1, 'telegram', 'marketing', ?2, 'import', 0)",
            )
            .expect("sql");
        for i in 0..rows {
            let name = if i % 2 == 0 { format!("Анна Петрова {i}") } else { format!("James Reed {i}") };
            contact.execute(params![name, format!("+7916{i:07}"), r#"{"city":"Казань"}"#]).expect("insert");
            let id = tx.last_insert_rowid();
            identity.execute(params![id, (1_000_000 + i).to_string()]).expect("insert");
            for t in ["vip", "wholesale"] {
                tag.execute([t]).expect("insert");
                tagged.execute(params![id, t]).expect("insert");
            }
            consent.execute(params![id, if i % 3 == 0 { "opt_out" } else { "opt_in" }]).expect("insert");
        }
    }
    tx.commit().expect("commit");
}
