//! Helpers shared by the integration tests: inbound events, stores, waiting with a bound.

#![allow(dead_code)]

pub mod app;

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

/// Automation that asks how it went on every resolve, once a month per contact, in
/// Russian, with a comment taken for ten minutes after the press.
pub fn csat_automation() -> switchboard::automation::AutomationConfig {
    switchboard::automation::AutomationConfig {
        csat: Some(switchboard::automation::CsatConfig {
            enabled: true,
            question: "Как мы справились?".into(),
            every_days: 30,
            comment_minutes: 10,
            whatsapp_template: None,
        }),
        ..Default::default()
    }
}

/// A webhook server on a free loopback port.
pub fn loopback_webhook() -> switchboard::config::WebhookConfig {
    switchboard::config::WebhookConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        max_body_bytes: 1 << 20,
        ..Default::default()
    }
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

/// The `switchboard` binary run once with `config` and `data` and these arguments.
pub fn cli(config: &std::path::Path, data: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("the switchboard binary runs")
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

/// A Bot API stand-in on loopback that answers every getUpdates at once with `updates`
/// (a JSON `result`) and getMe with `me`, and records each request as `method body`.
/// Hand-written HTTP/1.1 with `connection: close`: small enough to answer anything.
pub async fn fake_bot_api(
    me: &'static str,
    updates: &'static str,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let log = log.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 8192];
                let body_start = loop {
                    if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&request[..body_start]).to_string();
                let length = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                while request.len() < body_start + length {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let method = head.split_whitespace().nth(1).unwrap_or("").rsplit('/').next().unwrap_or("").to_string();
                let body = String::from_utf8_lossy(&request[body_start..]).to_string();
                log.lock().unwrap().push(format!("{method} {body}"));
                let result = if method.eq_ignore_ascii_case("getupdates") { updates } else { me };
                let answer = format!("{{\"ok\":true,\"result\":{result}}}");
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

/// The rows an SQL query gives, each as JSON values (for comparing with `json!`).
pub fn rows(store: &switchboard::store::Store, sql: &str) -> Vec<Vec<serde_json::Value>> {
    use serde_json::{Value, json};
    let mut stmt = store.conn().prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        Ok((0..n)
            .map(|i| match r.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(v) => json!(v),
                rusqlite::types::ValueRef::Real(v) => json!(v),
                rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                rusqlite::types::ValueRef::Blob(_) => Value::Null,
            })
            .collect())
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}
