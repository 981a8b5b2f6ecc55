//! Property tests: no input panics. Arbitrary bytes, arbitrary JSON and mutations of the
//! recorded fixtures go to each channel's decoder and webhook route; arbitrary strings
//! go to the filter parser, the template renderer, the time zone parser, the config
//! loader, the CSV importer and the spell-check's dictionary reader. Each gives a clear error or a stored result that
//! round-trips through export.
//!
//! CI runs a few dozen cases each (seconds in all). A long run:
//! `PROPTEST_CASES=20000 cargo test --release --test properties` (see the README).

use std::path::Path;

use proptest::prelude::*;
use serde_json::{Value, json};
use switchboard::campaign::plan::Zone;
use switchboard::campaign::{Filter, Template};
use switchboard::channels::TelegramChannel;
use switchboard::channels::viber::decode as viber_decode;
use switchboard::channels::vk::decode as vk_decode;
use switchboard::channels::whatsapp::decode as whatsapp_decode;
use switchboard::config::{Config, Secret, TelegramConfig};
use switchboard::export::{ExportKind, Format, export};
use switchboard::model::InboundEvent;
use switchboard::store::Store;

/// Cases per property: `PROPTEST_CASES` when set, else a number CI runs in seconds.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Any JSON value, a few levels deep, with the awkward numbers and strings real
/// payloads and hostile ones carry.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "text",
            "message",
            "edit",
            "image",
            "interactive",
            "button",
            "reaction",
            "1700000000",
            "79161234567",
            "\u{1b}[2J",
            "я",
            "👨‍👩‍👧",
            "9223372036854775808",
            "-1",
            "null",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    any::<String>(),
                    prop::sample::select(vec![
                        "type",
                        "id",
                        "from",
                        "timestamp",
                        "text",
                        "body",
                        "message",
                        "edit",
                        "chat",
                        "date",
                        "message_id",
                        "update_id",
                        "event",
                        "sender",
                        "user",
                        "user_id",
                        "message_token",
                    ])
                    .prop_map(String::from),
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every fixture of one channel, parsed.
fn fixtures(channel: &str) -> Vec<Value> {
    let dir = format!("{}/tests/fixtures/{channel}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

/// Replaces the node at a pseudo-random path (chosen by `pick`) with `with`.
fn mutate(mut value: Value, pick: &[usize], with: Value) -> Value {
    fn walk(v: &mut Value, pick: &[usize], with: Value) {
        let children: Vec<&mut Value> = match v {
            Value::Object(m) => m.values_mut().collect(),
            Value::Array(a) => a.iter_mut().collect(),
            _ => Vec::new(),
        };
        match (pick.split_first(), children.len()) {
            (Some((&i, rest)), n) if n > 0 => {
                let mut children = children;
                let child = children.swap_remove(i % n);
                if rest.is_empty() || i % 3 == 0 {
                    *child = with;
                } else {
                    walk(child, rest, with);
                }
            }
            _ => *v = with,
        }
    }
    walk(&mut value, pick, with);
    value
}

/// A fixture of `channel` with one node replaced by arbitrary JSON.
fn mutated(channel: &'static str) -> impl Strategy<Value = Value> {
    let all = fixtures(channel);
    (0..all.len(), prop::collection::vec(any::<usize>(), 1..8), any_json())
        .prop_map(move |(i, pick, with)| mutate(all[i].clone(), &pick, with))
}

/// Stores the events, then checks that every stored message comes back out of the
/// export exactly.
fn store_and_export(events: &[InboundEvent]) {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(events, None, switchboard::model::now_ms()).expect("decoded events always store");
    store.ingest(events, None, switchboard::model::now_ms()).expect("and store again, as a redelivery");
    let mut out = Vec::new();
    let n = export(&store, ExportKind::Messages, Format::Jsonl, &mut out).unwrap();
    assert_eq!(n as i64, store.count("messages").unwrap());
    let mut stmt = store.conn().prepare("SELECT id, body FROM messages ORDER BY id").unwrap();
    let stored: Vec<(i64, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    let exported: Vec<(i64, String)> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["id"].as_i64().unwrap(), v["text"].as_str().unwrap().to_string())
        })
        .collect();
    let mut exported = exported;
    exported.sort();
    assert_eq!(exported, stored);
    let mut csv = Vec::new();
    export(&store, ExportKind::Messages, Format::Csv, &mut csv).unwrap();
    for kind in [ExportKind::Contacts, ExportKind::Conversations, ExportKind::Consent] {
        export(&store, kind, Format::Csv, &mut Vec::new()).unwrap();
    }
}

fn telegram(v: &Value) -> Vec<InboundEvent> {
    let channel = TelegramChannel::new(&TelegramConfig::new(Secret::new("1:x"), "http://127.0.0.1:9")).unwrap();
    channel.decode(v)
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn whatsapp_decodes_any_json(body in any_json()) {
        if let Ok(events) = whatsapp_decode::decode(&body) {
            store_and_export(&events);
        }
    }

    #[test]
    fn whatsapp_decodes_mutated_fixtures(body in mutated("whatsapp")) {
        if let Ok(events) = whatsapp_decode::decode(&body) {
            store_and_export(&events);
        }
    }

    #[test]
    fn viber_decodes_any_json(body in any_json()) {
        if let Ok(events) = viber_decode::decode(&body) {
            store_and_export(&events);
        }
    }

    #[test]
    fn viber_decodes_mutated_fixtures(body in mutated("viber")) {
        if let Ok(events) = viber_decode::decode(&body) {
            store_and_export(&events);
        }
    }

    #[test]
    fn vk_decodes_any_json(body in any_json()) {
        if let Ok(events) = vk_decode::decode(&body) {
            store_and_export(&events);
        }
    }

    #[test]
    fn vk_decodes_mutated_fixtures(body in mutated("vk")) {
        if let Ok(events) = vk_decode::decode(&body) {
            store_and_export(&events);
        }
    }

    #[test]
    fn telegram_decodes_any_json(update in any_json()) {
        store_and_export(&telegram(&update));
    }

    #[test]
    fn telegram_decodes_mutated_fixtures(update in mutated("telegram")) {
        store_and_export(&telegram(&update));
    }

    #[test]
    fn decoders_take_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
            let _ = whatsapp_decode::decode(&v);
            let _ = viber_decode::decode(&v);
            let _ = vk_decode::decode(&v);
            let _ = telegram(&v);
        }
    }

    #[test]
    fn the_filter_parser_errors_or_gives_sql_the_store_runs(input in filter_text()) {
        if let Ok(filter) = Filter::parse(&input) {
            let store = Store::open_in_memory().unwrap();
            store.count_members(&filter.condition(switchboard::model::now_ms())).expect("a parsed filter always runs");
        }
    }

    #[test]
    fn the_filter_parser_takes_any_string(input in any::<String>()) {
        if let Ok(filter) = Filter::parse(&input) {
            let store = Store::open_in_memory().unwrap();
            store.count_members(&filter.condition(switchboard::model::now_ms())).expect("a parsed filter always runs");
        }
    }

    #[test]
    fn templates_parse_and_render_anything(source in template_text(), name in any::<String>(), attr in any::<String>()) {
        if let Ok(t) = Template::parse(&source) {
            let attributes: serde_json::Map<String, Value> =
                [("city".to_string(), json!(attr)), ("n".to_string(), json!(5))].into_iter().collect();
            let fields = switchboard::campaign::template::Fields {
                name: &name, phone: Some("+79161234567"), stage: "lead", attributes: Some(&attributes), agent: Some("Мария"),
            };
            let _ = t.render(&fields);
        }
    }

    #[test]
    fn time_zones_parse_or_are_refused(input in zone_text()) {
        let _ = Zone::parse(&input);
    }

    #[test]
    fn the_config_loader_errors_or_loads(text in config_text()) {
        let _ = Config::parse(&text, Path::new("prop.toml"));
    }

    #[test]
    fn csv_imports_error_or_store(text in csv_text()) {
        if let Ok((good, _bad)) = switchboard::import::parse(text.as_bytes(), Path::new("prop.csv")) {
            let mut store = Store::open_in_memory().unwrap();
            store.import_contacts(&good, switchboard::model::now_ms()).expect("checked rows always import");
            let mut out = Vec::new();
            export(&store, ExportKind::Contacts, Format::Csv, &mut out).unwrap();
            // What was exported reads back, row for row (no contacts: no header, nothing).
            if store.count("contacts").unwrap() == 0 {
                return Ok(());
            }
            let (again, bad) = switchboard::import::parse(out.as_slice(), Path::new("export.csv")).unwrap();
            prop_assert!(bad.is_empty(), "{bad:?}");
            prop_assert_eq!(again.len(), store.count("contacts").unwrap() as usize);
        }
    }
}

/// Text made mostly of the filter language's own pieces, so parses get deep.
fn filter_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "(",
        ")",
        " ",
        "OR",
        "-",
        "\"",
        "channel:telegram",
        "channel:",
        "tag:ОПТ",
        "tag:\"big spender\"",
        "stage:lead",
        "lang:ru",
        "inbound<30d",
        "inbound>",
        "consent:marketing",
        "attr:city=казань",
        "attr:",
        "source:",
        "x:y",
        "ё",
        "€",
        ":",
        "=",
        "<",
        ">",
    ]);
    prop::collection::vec(piece, 0..200).prop_map(|v| v.concat())
}

fn template_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "{{",
        "}}",
        "{",
        "}",
        "|",
        "first_name",
        "name",
        "attr.city",
        "attr.",
        "phone",
        "stage",
        "Привет ",
        "€",
        " ",
        "{{first_name|друг}}",
        "{{attr.n}}",
        "👋",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn zone_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "+",
        "-",
        ":",
        "UTC",
        "GMT",
        "0",
        "1",
        "3",
        "12",
        "59",
        "99",
        "€",
        "ü",
        "Europe/Moscow",
        " ",
        "/",
        "٣",
    ]);
    prop_oneof![prop::collection::vec(piece, 0..8).prop_map(|v| v.concat()), any::<String>()]
}

fn config_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "[channels.telegram]\n",
        "[channels.whatsapp]\n",
        "[channels.viber]\n",
        "[campaigns]\n",
        "[ui]\n",
        "[webhook]\n",
        "[keys.list]\n",
        "[[channels.whatsapp.templates]]\n",
        "token = ",
        "\"",
        "\"\"\"",
        "env:",
        "1:x",
        "123",
        "\n",
        "=",
        "default_time_zone = ",
        "\"+€1\"",
        "quiet_hours = \"25:00-09:00\"",
        "brake_share = 5\n",
        "mode = \"webhook\"\n",
        "secret_token = ",
        "listen = \"127.0.0.1:0\"\n",
        "[",
        "]",
        "api_url = \"http://x\"\n",
        "theme = \"nope\"\n",
        "open = \"ctrl-q\"\n",
        "\u{7}",
    ]);
    prop_oneof![prop::collection::vec(piece, 0..30).prop_map(|v| v.concat()), any::<String>()]
}

fn csv_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "name,phone,channel,external_id,tags,consent,consent_at,city\r\n",
        "name,id,identities,phones,time_zone,stage,attributes,created_at\n",
        "name\n",
        "telegram:42;whatsapp:79161234567",
        "+79161234567 (whatsapp)",
        "8 916 123-45-67",
        "{\"\"email\"\":\"\"a@b\"\"}",
        "Europe/Moscow",
        "9223372036854775807",
        "Анна",
        ",",
        "\"",
        "\r\n",
        "\n",
        "\r",
        "+7916",
        "telegram",
        "fax",
        "12345",
        "vip;wholesale",
        "yes",
        "no",
        "2026-03-10",
        "=cmd",
        "",
        ";",
        "\u{0}",
    ]);
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

/// Signs `body` as Meta and Viber do: hex HMAC-SHA256.
fn sign(key: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Every webhook route, signed correctly so the bytes reach the decoder: the answer is
/// 200, 400 or 413, never a 5xx or a dropped connection, and the server keeps serving.
#[test]
fn webhook_routes_answer_any_signed_body() {
    use switchboard::channels::{Channel, ViberChannel, WhatsAppChannel};
    use switchboard::config::{TelegramMode, ViberConfig, VkConfig, VkMode, WebhookConfig, WhatsAppConfig};
    use switchboard::sync::{Engine, EngineLock};
    const APP_SECRET: &str = "app-secret";
    const VIBER_TOKEN: &str = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f";
    const TG_SECRET: &str = "hook_secret";
    const VK_SECRET: &str = "vk_secret";
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = runtime.block_on(async {
        let lock = EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
        let dead = "http://127.0.0.1:9";
        let tg = TelegramConfig {
            mode: TelegramMode::Webhook,
            secret_token: Some(Secret::new(TG_SECRET)),
            ..TelegramConfig::new(Secret::new("1:x"), dead)
        };
        let wa = WhatsAppConfig {
            token: Secret::new("t"),
            phone_number_id: "1".into(),
            app_secret: Secret::new(APP_SECRET),
            verify_token: Secret::new("v"),
            api_url: dead.into(),
            api_version: "v25.0".into(),
            welcome: None,
            rate_limits: true,
            templates: vec![],
        };
        let vb = ViberConfig {
            token: Secret::new(VIBER_TOKEN),
            api_url: dead.into(),
            sender_name: "Shop".into(),
            welcome: Some("Привет".into()),
            rate_limits: true,
            public_url: None,
        };
        let vk = VkConfig {
            mode: VkMode::Callback,
            secret: Some(Secret::new(VK_SECRET)),
            confirmation: Some("c0nf1rm".into()),
            ..VkConfig::new(Secret::new("vk-token"), 171104414, dead)
        };
        let channels = vec![
            Channel::Telegram(TelegramChannel::new(&tg).unwrap()),
            Channel::WhatsApp(WhatsAppChannel::new(&wa).unwrap()),
            Channel::Viber(ViberChannel::new(&vb).unwrap()),
            Channel::Vk(switchboard::channels::VkChannel::new(&vk).unwrap()),
        ];
        let webhook =
            WebhookConfig { listen: "127.0.0.1:0".parse().unwrap(), max_body_bytes: 64 * 1024, ..Default::default() };
        Engine::start(lock, &dir.path().join("switchboard.db"), channels, &webhook).unwrap()
    });
    let base = format!("http://{}", engine.webhook_addr().unwrap());
    let client = reqwest::Client::new();
    let bodies = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        any_json().prop_map(|v| v.to_string().into_bytes()),
        mutated("whatsapp").prop_map(|v| v.to_string().into_bytes()),
        mutated("viber").prop_map(|v| v.to_string().into_bytes()),
        mutated("telegram").prop_map(|v| v.to_string().into_bytes()),
        mutated("vk").prop_map(|v| v.to_string().into_bytes()),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(config(48));
    runner
        .run(&bodies, |body| {
            let answers = runtime.block_on(async {
                let post = |path: &str, header: (&str, String)| {
                    client.post(format!("{base}{path}")).header(header.0, header.1).body(body.clone()).send()
                };
                let wa =
                    post("/webhook/whatsapp", ("X-Hub-Signature-256", format!("sha256={}", sign(APP_SECRET, &body))));
                let vb = post("/webhook/viber", ("X-Viber-Content-Signature", sign(VIBER_TOKEN, &body)));
                let tg = post("/webhook/telegram", ("X-Telegram-Bot-Api-Secret-Token", TG_SECRET.to_string()));
                // VK's secret is a field of the body: put it in an object, so the body
                // itself is what is tried.
                let vk_body = match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(mut o)) => {
                        o.insert("secret".into(), Value::from(VK_SECRET));
                        Value::Object(o).to_string().into_bytes()
                    }
                    _ => body.clone(),
                };
                let vk = client.post(format!("{base}/webhook/vk")).body(vk_body).send();
                let (wa, vb, tg, vk) = futures::join!(wa, vb, tg, vk);
                [wa, vb, tg, vk].map(|a| a.map(|r| r.status().as_u16()).map_err(|e| e.to_string()))
            });
            for answer in answers {
                let status = answer.map_err(TestCaseError::fail)?;
                prop_assert!([200, 400, 403, 413].contains(&status), "answered {status}");
            }
            Ok(())
        })
        .unwrap();
    drop(engine);
}

proptest! {
    #![proptest_config(config(256))]

    /// Whatever an agent types as a snooze time is read or refused, and a time read is
    /// ahead of now.
    #[test]
    fn typed_snooze_times_never_panic(text in ".{0,40}", now in 0i64..4_102_444_800_000, offset in -14i32..=14) {
        let tz = chrono::FixedOffset::east_opt(offset * 3600).unwrap();
        if let Ok(t) = switchboard::model::when::parse(&text, now, tz) {
            prop_assert!(t > now, "{text:?} read as {t} at {now}");
        }
    }

    /// Whatever is given as a report's dates (`--from`, `--to`, or typed on the Reports
    /// screen) is read or refused by name, in any zone, and a period read is not empty;
    /// its days and a business clock over it never panic either.
    #[test]
    fn report_periods_are_read_or_refused(
        from in "(\\PC{0,30}|[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}|[+-]?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)",
        to in proptest::option::of("(\\PC{0,30}|[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2})"),
        now in -62_000_000_000_000i64..250_000_000_000_000,
        zone in prop::sample::select(vec!["Europe/Moscow", "UTC", "+05:30", "America/St_Johns", "-12:00"]),
    ) {
        let zone = switchboard::model::Zone::parse(zone).unwrap();
        match switchboard::report::Period::parse(Some(&from), to.as_deref(), now, zone) {
            Ok(p) => {
                prop_assert!(p.from < p.to, "{from:?} {to:?} gave {p:?}");
                let _ = p.days(zone);
            }
            Err(e) => prop_assert!(e.starts_with("--from") || e.starts_with("--to"), "{e}"),
        }
        let _ = switchboard::report::Period::last_days(30, now, zone).days(zone);
    }

    /// What the search index holds of any text: no control character but newlines and
    /// tabs, and the text's own words.
    #[test]
    fn searchable_text_has_no_controls_and_keeps_plain_words(text in "(\\PC|[\u{0}-\u{1f}\u{7f}-\u{9f}]){0,80}") {
        let plain = switchboard::text::searchable(&text);
        prop_assert!(!plain.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{plain:?}");
        if !text.chars().any(char::is_control) {
            prop_assert_eq!(plain.as_ref(), text.as_str());
        }
    }
}

proptest! {
    #![proptest_config(config(96))]

    /// Any file given to `canned import`: refused with a reason, or saved and rendered
    /// for a customer without a panic.
    #[test]
    fn canned_files_import_or_are_refused(name in ".{0,12}", shortcut in "[a-zа-я/ _-]{0,8}", body in ".{0,60}") {
        let text = format!(
            "[[canned]]\nname = {}\nshortcut = {}\nbody = {}\n",
            toml::Value::String(name), toml::Value::String(shortcut.clone()), toml::Value::String(body)
        );
        let mut store = Store::open_in_memory().unwrap();
        if let Ok(file) = toml::from_str::<switchboard::store::CannedFile>(&text)
            && let Ok(Ok(n)) = store.import_canned(&file, 0)
        {
            prop_assert_eq!(n, 1);
            use switchboard::model::{ChannelKind, ChatRef, InboundMessage, Peer};
            let chat = ChatRef { channel: ChannelKind::Telegram, external_chat_id: "42".into(), is_group: false, title: "Анна".into() };
            let from = Peer { external_id: "42".into(), display_name: "Анна".into(), username: None, locale: None };
            let message = InboundMessage::text(chat, from, "1".into(), "x".into(), 0);
            store.ingest(&[InboundEvent::Message(message)], None, 0).unwrap();
            let id = store.find_conversation(switchboard::model::ChannelKind::Telegram, "42").unwrap().unwrap();
            let which = file.canned[0].name.clone();
            let _ = store.render_canned(&which, id, "maria").unwrap();
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Any bytes as a dictionary's two files: read, or refused with the file's name.
    /// Whatever reads, checks and suggests without a panic.
    #[test]
    fn dictionaries_load_or_are_refused(
        aff in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            ".{0,120}".prop_map(|s| format!("SET UTF-8\nTRY абв\nSFX A Y 1\nSFX A 0 {s}\n").into_bytes()),
        ],
        dic in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            ".{0,120}".prop_map(|s| format!("2\n{s}\nслово/A\n").into_bytes()),
        ],
        word in ".{0,30}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        let found = switchboard::spell::dictionaries::Found {
            language: "ru_RU".into(),
            aff: dir.path().join("ru_RU.aff"),
            dic: dir.path().join("ru_RU.dic"),
        };
        std::fs::write(&found.aff, &aff).unwrap();
        std::fs::write(&found.dic, &dic).unwrap();
        match switchboard::spell::dictionaries::load(&found) {
            Err(e) => prop_assert!(e.contains("ru_RU."), "{}", e),
            Ok(language) => {
                let speller = switchboard::spell::Speller::new(vec![language]);
                for w in switchboard::spell::words(&word) {
                    let _ = speller.check(w.text);
                    let _ = speller.suggest(w.text);
                }
            }
        }
    }

    /// Any text splits into words whose ranges are the words.
    #[test]
    fn words_point_into_the_text(text in ".{0,80}") {
        for w in switchboard::spell::words(&text) {
            prop_assert_eq!(&text[w.start..w.end], w.text);
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Any text, digits and separators most of all, reads as an E.164 number that reads
    /// back as itself, or is refused with a reason; never a panic.
    #[test]
    fn phone_numbers_normalize_or_are_refused(
        text in "(\\+|00|8|tel:)?[0-9 ()./-]{0,20}|\\PC{0,30}",
        region in prop::sample::select(vec!["", "RU", "DE", "US", "GB", "IN"]),
    ) {
        use switchboard::model::phone::{Region, normalize};
        let region = Region::parse(region).unwrap();
        match normalize(&text, region) {
            Ok(e164) => {
                prop_assert!(e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()), "{e164}");
                prop_assert_eq!(normalize(&e164, Region::default()), Ok(e164.clone()));
            }
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }
}
