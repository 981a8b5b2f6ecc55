//! Attachments both ways, against the emulators: a file attached in the console goes
//! out as a photo or a document (Telegram uploads it; WhatsApp uploads it to
//! `/PHONE_ID/media` and sends it by id; Viber gets a URL the webhook server serves);
//! a customer's photo or file is fetched through its channel (Telegram's getFile,
//! WhatsApp's media URL with the token), checked, saved and opened.

mod common;

use std::time::Duration;

use common::app::TestApp;
use common::eventually;
use crossterm::event::{KeyCode, KeyModifiers};
use serde_json::json;
use switchboard::channels::{Channel, TelegramChannel, ViberChannel, WhatsAppChannel};
use switchboard::config::{Config, Secret, TelegramConfig, ViberConfig, WhatsAppConfig};
use switchboard::model::{ChannelKind, Content, now_ms};
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::telegram_updates::Said;
use switchboard::sandbox::whatsapp::{WhatsAppEmulator, WhatsAppOptions, wa_id};
use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
use switchboard::store::OutboxItem;

const TOKEN: &str = "123:test-token";
const WA_TOKEN: &str = "wa-secret-token";
const PHONE: &str = "109876543210987";
const WAIT: Duration = Duration::from_secs(20);
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 2, 3, 0xFF, 0xD9];

fn whatsapp(url: &str) -> WhatsAppChannel {
    WhatsAppChannel::new(&WhatsAppConfig {
        token: Secret::new(WA_TOKEN),
        phone_number_id: PHONE.into(),
        app_secret: Secret::new("app-secret"),
        verify_token: Secret::new("verify-me"),
        api_url: url.into(),
        api_version: "v25.0".into(),
        welcome: None,
        rate_limits: false,
        templates: vec![],
    })
    .unwrap()
}

async fn wa_emulator() -> WhatsAppEmulator {
    let customers = demo_customers(2);
    WhatsAppEmulator::start(
        "127.0.0.1:0".parse().unwrap(),
        WA_TOKEN,
        PHONE,
        "app-secret",
        customers,
        WhatsAppOptions::default(),
    )
    .await
    .unwrap()
}

fn item(channel: ChannelKind, chat: &str, content: Content, caption: &str) -> OutboxItem {
    OutboxItem { content, body: caption.into(), ..OutboxItem::text(channel, chat, caption) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_uploads_a_local_file_and_sends_it_by_id() {
    let emu = wa_emulator().await;
    let wa = whatsapp(&emu.url());
    let anna = wa_id(&demo_customers(2)[0]);
    emu.customer_says(&anna, "Пришлите фото");
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("заказ.jpg");
    std::fs::write(&photo, JPEG).unwrap();
    let pdf = dir.path().join("счёт.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 test").unwrap();

    let source = photo.to_string_lossy().into_owned();
    wa.send(&item(ChannelKind::WhatsApp, &anna, Content::Photo { source }, "Ваш заказ")).await.unwrap();
    let source = pdf.to_string_lossy().into_owned();
    wa.send(&item(ChannelKind::WhatsApp, &anna, Content::Document { source }, "")).await.unwrap();

    let sent = emu.sent();
    assert_eq!(sent.len(), 2);
    let image = &sent[0].body["image"];
    assert_eq!(image["caption"], "Ваш заказ");
    assert!(image.get("link").is_none(), "{image}");
    let (bytes, mime) = emu.media(image["id"].as_str().unwrap()).expect("the upload is kept");
    assert_eq!((bytes.as_slice(), mime.as_str()), (JPEG, "image/jpeg"));
    let document = &sent[1].body["document"];
    assert_eq!(document["filename"], "счёт.pdf");
    let (bytes, mime) = emu.media(document["id"].as_str().unwrap()).unwrap();
    assert_eq!((bytes.as_slice(), mime.as_str()), (b"%PDF-1.4 test".as_slice(), "application/pdf"));

    // A file gone before it is sent fails for good, saying which.
    let gone = dir.path().join("нет.jpg").to_string_lossy().into_owned();
    let err = wa.send(&item(ChannelKind::WhatsApp, &anna, Content::Photo { source: gone }, "")).await.unwrap_err();
    assert!(err.to_string().contains("нет.jpg"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_whatsapp_photo_is_fetched_with_the_token_and_checked() {
    let emu = wa_emulator().await;
    let channel = Channel::WhatsApp(whatsapp(&emu.url()));
    let anna = wa_id(&demo_customers(2)[0]);
    emu.customer_sends_media(&anna, "image", "image/jpeg", JPEG.to_vec(), "вот");
    // The media JSON as the decoder keeps it: the id first.
    let ids: Vec<String> = (0..10_000u64).map(|n| format!("{}", 1_000_000_000_000 + n)).collect();
    let id = ids.iter().find(|id| emu.media(id).is_some()).unwrap().clone();
    let media = json!({"id": id, "mime_type": "image/jpeg", "sha256": "x"}).to_string();
    let got = channel.download("photo", &media).await.unwrap();
    assert_eq!(got.bytes, JPEG);
    assert_eq!(got.content_type.as_deref(), Some("image/jpeg"));

    // Something that is not a picture, sent as a photo, is refused; so is an unknown id,
    // and the token never shows in the error.
    emu.customer_sends_media(&anna, "image", "text/html", b"<html>login</html>".to_vec(), "");
    let html = ids.iter().filter(|id| emu.media(id).is_some()).nth(1).unwrap().clone();
    let err = channel.download("photo", &json!({"id": html}).to_string()).await.unwrap_err();
    assert!(err.contains("is not one (text/html)"), "{err}");
    let err = channel.download("photo", &json!({"id": "404"}).to_string()).await.unwrap_err();
    assert!(!err.contains(WA_TOKEN), "{err}");
    let err = channel.download("photo", "{}").await.unwrap_err();
    assert!(err.contains("no WhatsApp media id"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viber_is_given_a_url_the_webhook_server_serves() {
    let dir = tempfile::tempdir().unwrap();
    let token = "0123456789abcdef0123456789abcdef";
    let place = dir.path().join("attachments").join(token);
    std::fs::create_dir_all(&place).unwrap();
    let file = place.join("прайс лист.pdf");
    std::fs::write(&file, b"%PDF-1.4").unwrap();
    let config = |public_url: Option<&str>| ViberConfig {
        token: Secret::new("vb-token"),
        api_url: "http://127.0.0.1:9".into(),
        sender_name: "Shop".into(),
        welcome: None,
        rate_limits: false,
        public_url: public_url.map(str::to_string),
    };
    let vb = ViberChannel::new(&config(Some("https://support.example.com/"))).unwrap();
    let source = file.to_string_lossy().into_owned();
    let body =
        vb.body(&item(ChannelKind::Viber, "vb-user==", Content::Document { source: source.clone() }, "")).unwrap();
    assert_eq!(
        body["media"],
        format!(
            "https://support.example.com/media/{token}/%D0%BF%D1%80%D0%B0%D0%B9%D1%81%20%D0%BB%D0%B8%D1%81%D1%82.pdf"
        )
    );
    assert_eq!((body["size"].as_u64(), body["file_name"].as_str()), (Some(8), Some("прайс лист.pdf")));
    let err = ViberChannel::new(&config(None))
        .unwrap()
        .body(&item(ChannelKind::Viber, "vb-user==", Content::Document { source }, ""))
        .unwrap_err();
    assert!(err.to_string().contains("set [channels.viber] public_url"), "{err}");

    // The engine's webhook server serves the file, and nothing outside the directory.
    let lock = switchboard::sync::EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let webhook = switchboard::config::WebhookConfig { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
    let channel = Channel::Viber(ViberChannel::new(&config(Some("https://support.example.com"))).unwrap());
    let engine =
        switchboard::sync::Engine::start(lock, &dir.path().join("switchboard.db"), vec![channel], &webhook).unwrap();
    let addr = engine.webhook_addr().unwrap();
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        async move { http.get(format!("http://{addr}{path}")).send().await.unwrap() }
    };
    let served = get(format!("/media/{token}/%D0%BF%D1%80%D0%B0%D0%B9%D1%81%20%D0%BB%D0%B8%D1%81%D1%82.pdf")).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().as_ref(), b"%PDF-1.4");
    for path in [
        format!("/media/{token}/..%2F..%2Fswitchboard.db"),
        format!("/media/{token}/..%2F..%2Fengine.lock"),
        "/media/notatoken/x.pdf".to_string(),
        format!("/media/{token}/missing.pdf"),
        format!("/media/{token}/.hidden"),
    ] {
        assert_eq!(get(path.clone()).await.status(), 404, "{path}");
    }
}

/// A console on the Telegram emulator, its opener a script that notes what it opened.
fn console(dir: &std::path::Path, url: &str, opened: &std::path::Path) -> TestApp {
    let mut config = Config::default();
    config.engine.refresh_ms = 50;
    config.ui.agent_name = "Мария".into();
    config.ui.notify = switchboard::config::NotifyKind::Off;
    config.ui.opener = format!("sh -c 'echo \"$0\" > {}'", opened.display());
    let telegram = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new(TOKEN), url) };
    let channel = Channel::Telegram(TelegramChannel::new(&telegram).unwrap());
    TestApp::with_channels(dir, config, vec![channel], now_ms())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_attaches_a_file_and_opens_the_customers_photo() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let opened = files.path().join("opened.txt");
    let emu =
        TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, demo_customers(1), EmulatorOptions::default())
            .await
            .unwrap();
    let chat = demo_customers(1)[0].id;
    emu.customer_says(chat, "Здравствуйте, вот фото брака");
    emu.customer_does(chat, Said::Photo { caption: Some("трещина на крышке".into()) });
    let app = console(dir.path(), &emu.url(), &opened);
    app.wait_for("трещина на крышке").await;

    // o: the customer's files, newest first; Enter fetches, saves and opens it.
    app.press(KeyCode::Enter);
    app.press(KeyCode::Esc);
    app.press(KeyCode::Tab);
    app.send_keys("o");
    app.wait_for("Open a file of the customer's").await;
    app.wait_for("[photo").await;
    app.press(KeyCode::Enter);
    app.wait_for("opened ").await;
    let path = eventually(WAIT, || std::fs::read_to_string(&opened).ok().filter(|p| !p.trim().is_empty())).await;
    let path = std::path::PathBuf::from(path.expect("the opener ran").trim());
    assert!(path.starts_with(dir.path().join("downloads")), "{}", path.display());
    let saved = std::fs::read(&path).unwrap();
    assert_eq!(&saved[..3], &[0xFF, 0xD8, 0xFF], "a JPEG, as getFile's file");

    // Alt-A: a file by path (typed, with the directory listed as it is typed); the
    // draft goes as its caption.
    let pdf = files.path().join("счёт 42.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 invoice").unwrap();
    app.press(KeyCode::Tab);
    app.send_keys("Счёт во вложении");
    app.press_with(KeyCode::Char('a'), KeyModifiers::ALT);
    app.wait_for("Attach a file").await;
    app.send_keys(&format!("{}/сч", files.path().display()));
    app.wait_for("счёт 42.pdf").await;
    app.press(KeyCode::Enter);
    app.wait_for("счёт 42.pdf (1 KB) queued as a docum").await;
    let sent = emu.wait_for_sent(1, WAIT).await;
    assert_eq!((sent[0].method.as_str(), sent[0].text.as_str()), ("sendDocument", "Счёт во вложении"));
    assert_eq!(sent[0].file.as_ref().unwrap()["uploaded"], "счёт 42.pdf");
    // The copy beside the store is what went; the original may go away.
    std::fs::remove_file(&pdf).unwrap();
    app.wait_for("✓ sent").await;

    // A file over the channel's limit is refused, and the caption comes back.
    let big = files.path().join("big.bin");
    std::fs::File::create(&big).unwrap().set_len(51 * 1024 * 1024).unwrap();
    app.send_keys("большой");
    app.press_with(KeyCode::Char('a'), KeyModifiers::ALT);
    app.wait_for("Attach a file").await;
    // The picker opens where the last file came from, listed: the name's start is enough.
    app.wait_for("opened.txt").await;
    app.send_keys("big");
    app.wait_until("only big.bin listed", |s| s.contains("big.bin") && !s.contains("opened.txt")).await;
    app.press(KeyCode::Enter);
    app.wait_for("not attached: big.bin is 51.0 MB; Telegram takes").await;
    app.wait_for("┃большой").await;
    app.quit().await;
}
