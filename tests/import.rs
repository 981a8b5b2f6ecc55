//! Importing contacts from CSV: every column, bad rows named by line, nothing imported
//! when a row is bad (unless --skip-invalid), and a re-import that changes nothing.

use std::path::Path;

use switchboard::import::parse;
use switchboard::store::Store;

const GOOD: &str = "name,phone,channel,external_id,tags,consent,consent_source,consent_at,locale,city,plan
Анна Петрова,+79161234567,telegram,111222333,vip;ru,yes,signup form,2026-03-01,ru,Kazan,gold
\"Carter, Liam\",+12025550143,whatsapp,12025550143,vip,no,asked by phone,2026-03-02T10:00:00Z,en,Austin,
Ирина Голубева,,viber,01234567890A=,,,,,ru,,silver
Walk-in customer,,,,walk-in,,,,,Kazan,
";

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn every_column_lands_and_a_reimport_changes_nothing() {
    let (rows, bad) = parse(GOOD.as_bytes(), Path::new("contacts.csv")).unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    let mut store = Store::open_in_memory().unwrap();
    let first = store.import_contacts(&rows, switchboard::model::now_ms()).unwrap();
    assert_eq!((first.created, first.updated, first.consent_events), (4, 0, 2));
    assert_eq!(count(&store, "SELECT count(*) FROM identities"), 3);
    assert_eq!(count(&store, "SELECT count(*) FROM contact_tags"), 4);
    let city: String = store
        .conn()
        .query_row(
            "SELECT json_extract(attributes, '$.city') FROM contacts WHERE display_name = 'Carter, Liam'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(city, "Austin");
    let consent: (String, String, String, i64) = store
        .conn()
        .query_row(
            "SELECT e.action, e.source, e.evidence, e.at FROM consent_events e JOIN identities i ON i.contact_id = e.contact_id \
             WHERE i.external_id = '111222333'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(consent, ("opt_in".into(), "import".into(), "signup form".into(), 1_772_323_200_000));

    let snapshot = |store: &Store| {
        [
            "SELECT count(*) FROM contacts",
            "SELECT count(*) FROM identities",
            "SELECT count(*) FROM consent_events",
            "SELECT count(*) FROM contact_tags",
            "SELECT count(*) FROM tags",
            "SELECT sum(length(attributes)) FROM contacts",
        ]
        .map(|sql| count(store, sql))
    };
    let before = snapshot(&store);
    let again = store.import_contacts(&rows, switchboard::model::now_ms()).unwrap();
    assert_eq!((again.created, again.updated, again.unchanged, again.consent_events), (0, 0, 4, 0));
    assert_eq!(snapshot(&store), before, "the same file changes nothing");
}

#[test]
fn bad_rows_are_named_by_line_and_reason() {
    let csv = "name,channel,external_id,consent,consent_at
Good,telegram,1,yes,2026-03-01
No channel,telegramm,2,,
Bad date,telegram,3,yes,01.03.2026
,telegram,4,,
Twice,telegram,1,,
Opinion,telegram,5,maybe,
Floating consent,,,yes,
";
    let (rows, bad) = parse(csv.as_bytes(), Path::new("c.csv")).unwrap();
    assert_eq!(rows.len(), 1);
    let shown: Vec<String> = bad.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "line 3: unknown channel `telegramm` (expected one of: telegram, whatsapp, viber, vk)",
            "line 4: consent_at `01.03.2026` is not a date (2026-03-10 or RFC 3339)",
            "line 5: the name is empty",
            "line 6: duplicate identity telegram:1 (also on line 2)",
            "line 7: consent `maybe` is not yes, no or empty",
            "line 8: consent is per channel: give the channel and external_id it is for",
        ]
    );
    assert!(parse("phone\n1\n".as_bytes(), Path::new("x.csv")).unwrap_err().to_string().contains("no `name` column"));
}

#[test]
fn the_cli_imports_nothing_from_a_file_with_bad_rows_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("empty.toml");
    std::fs::write(&config, "").unwrap();
    let file = dir.path().join("contacts.csv");
    std::fs::write(&file, format!("{GOOD}Broken,,telegramm,9,,,,,,,\n")).unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["import", "contacts"])
            .arg(&file)
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = run(&[]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("line 6: unknown channel `telegramm`") && err.contains("nothing was imported"), "{err}");
    let db = dir.path().join("switchboard.db");
    if db.exists() {
        assert_eq!(count(&Store::open(&db).unwrap(), "SELECT count(*) FROM contacts"), 0);
    }
    let partial = run(&["--skip-invalid"]);
    assert!(partial.status.success(), "{}", String::from_utf8_lossy(&partial.stderr));
    assert!(String::from_utf8_lossy(&partial.stdout).contains("4 new contacts"));
    assert_eq!(count(&Store::open(&db).unwrap(), "SELECT count(*) FROM contacts"), 4);
}
