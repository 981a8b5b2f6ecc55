//! Helpers shared by the integration tests: inbound events, stores, waiting with a bound.

#![allow(dead_code)]

use std::time::Duration;

use switchboard::model::{ChannelKind, ChatRef, InboundEvent, InboundMessage, Millis, Peer};

/// A text message from customer `user` in their private Telegram chat.
pub fn inbound(user: i64, name: &str, message_id: i64, text: &str, at: Millis) -> InboundEvent {
    let chat = ChatRef {
        channel: ChannelKind::Telegram,
        external_chat_id: user.to_string(),
        is_group: false,
        title: name.into(),
    };
    let from = Peer { external_id: user.to_string(), display_name: name.into(), username: None, locale: None };
    InboundEvent::Message(InboundMessage::text(chat, from, message_id.to_string(), text.into(), at))
}

/// Polls `check` until it returns Some or `timeout` passes.
pub async fn eventually<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `switchboard serve` on a store, as a child process the test can SIGKILL.
pub fn serve(config: &std::path::Path, data: &std::path::Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .arg("serve")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the switchboard binary runs")
}
