//! `doctor` against the emulators: working tokens, the URLs to reach, registering
//! Viber's webhook (whose probe the engine answers), VK's Long Poll settings, and a token
//! that does not work.

use switchboard::channels::{Channel, ViberChannel};
use switchboard::config::{Config, Secret, TelegramConfig, ViberConfig, WebhookConfig, WhatsAppConfig};
use switchboard::model::ChannelKind;
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::viber::{ViberEmulator, ViberOptions};
use switchboard::sandbox::whatsapp::{WhatsAppEmulator, WhatsAppOptions};
use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
use switchboard::sync::{Engine, EngineLock};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_every_channel_and_registers_viber() {
    let loopback = "127.0.0.1:0".parse().unwrap();
    let tg = TelegramEmulator::start(loopback, "1:tg", demo_customers(1), EmulatorOptions::default()).await.unwrap();
    let wa = WhatsAppEmulator::start(loopback, "wa-token", "1098765", "app-secret", vec![], WhatsAppOptions::default())
        .await
        .unwrap();
    let vb = ViberEmulator::start(loopback, "vb-token", vec![], ViberOptions::default()).await.unwrap();
    let viber = ViberConfig {
        token: Secret::new("vb-token"),
        api_url: vb.url(),
        sender_name: "Shop".into(),
        welcome: None,
        rate_limits: true,
        public_url: None,
    };
    // The engine answers Viber's probe when set_webhook registers the URL.
    let dir = tempfile::tempdir().unwrap();
    let lock = EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let webhook = WebhookConfig { listen: loopback, max_body_bytes: 1 << 20, ..Default::default() };
    let channels = vec![Channel::Viber(ViberChannel::new(&viber).unwrap())];
    let engine = Engine::start(lock, &dir.path().join("switchboard.db"), channels, &webhook).unwrap();
    let public = format!("http://{}", engine.webhook_addr().unwrap());

    let mut config = Config::default();
    config.channels.telegram = Some(TelegramConfig::new(Secret::new("1:tg"), tg.url()));
    config.channels.whatsapp = Some(WhatsAppConfig {
        token: Secret::new("wa-token"),
        phone_number_id: "1098765".into(),
        app_secret: Secret::new("app-secret"),
        verify_token: Secret::new("v"),
        api_url: wa.url(),
        api_version: "v25.0".into(),
        welcome: None,
        rate_limits: true,
        templates: vec![],
    });
    config.channels.viber = Some(viber.clone());
    let checks = switchboard::doctor::run(&config, Some(&public), true).await;
    assert_eq!(checks.len(), 3);
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    assert!(checks[0].text.contains("@switchboard_demo_bot") && checks[0].text.contains("polling"));
    assert!(checks[1].text.contains(&format!("{public}/webhook/whatsapp")), "{}", checks[1].text);
    assert!(checks[2].text.contains("registered with set_webhook"), "{}", checks[2].text);
    let set = vb.calls().into_iter().find(|c| c.method == "set_webhook").unwrap();
    assert_eq!(set.body["url"], format!("{public}/webhook/viber"));
    // The probe was delivered and answered 200.
    for _ in 0..100 {
        if vb.webhooks_pending() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(vb.webhooks_pending(), 0);

    config.channels.viber = Some(ViberConfig { token: Secret::new("wrong"), ..viber });
    config.channels.telegram = None;
    config.channels.whatsapp = None;
    let checks = switchboard::doctor::run(&config, None, false).await;
    assert_eq!((checks[0].channel, checks[0].ok), (ChannelKind::Viber, false));
    assert!(checks[0].text.contains("rejected the bot token"), "{}", checks[0].text);
    assert!(!checks[0].text.contains("wrong"), "the token never prints");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_vk_and_says_what_to_switch_on() {
    use switchboard::config::VkConfig;
    use switchboard::sandbox::vk::{VkEmulator, VkOptions};
    let vk = VkEmulator::start("127.0.0.1:0".parse().unwrap(), "vk-token", 171104414, vec![], VkOptions::default())
        .await
        .unwrap();
    let mut config = Config::default();
    config.channels.vk = Some(VkConfig::new(Secret::new("vk-token"), 171104414, vk.url()));
    let check = |config: &Config| {
        let config = config.clone();
        async move { switchboard::doctor::run(&config, None, false).await.remove(0) }
    };
    let ok = check(&config).await;
    assert!(ok.ok && ok.text.contains("Switchboard Demo, long polling"), "{ok:?}");
    vk.set_long_poll_settings(serde_json::json!({"is_enabled": false}));
    let off = check(&config).await;
    assert!(!off.ok && off.text.contains("Long Poll is off") && off.text.contains("5.199"), "{off:?}");
    vk.set_long_poll_settings(serde_json::json!({"is_enabled": 1, "events": {"message_new": 1, "message_reply": 1}}));
    let some = check(&config).await;
    assert!(!some.ok && some.text.contains("message_event") && some.text.contains("message_allow"), "{some:?}");
    config.channels.vk = Some(VkConfig::new(Secret::new("wrong-token"), 171104414, vk.url()));
    let bad = check(&config).await;
    assert!(!bad.ok && bad.text.contains("token does not work") && !bad.text.contains("wrong-token"), "{bad:?}");
}
