//! The effects that touch files: listing a directory for the path picker, copying an
//! attached file beside the store and queuing it, and fetching a customer's file
//! through its channel into a directory (then opening it).

use tokio::sync::mpsc;

use super::action::{Action, Effect};
use crate::channels::Channel;
use crate::model::{Attachment, Outgoing};
use crate::store::SharedStore;
use crate::sync::Engine;

pub(super) fn perform(
    effect: Effect,
    store: SharedStore,
    tx: mpsc::UnboundedSender<Action>,
    engine: Option<&Engine>,
    channels: &[Channel],
) {
    match effect {
        Effect::ListDir { query } => {
            tokio::task::spawn_blocking(move || {
                let result = super::attach::list(&query);
                let _ = tx.send(Action::Listed { query, result });
            });
        }
        Effect::LoadMedia { conversation, limit } => {
            tokio::spawn(async move {
                match store.run(move |s| s.media_messages(conversation, limit)).await {
                    Ok(messages) => drop(tx.send(Action::MediaLoaded(messages))),
                    Err(e) => drop(tx.send(Action::Error(format!("cannot read the customer's files: {e}")))),
                }
            });
        }
        Effect::Attach { conversation, channel, path, caption, author, dir } => {
            let wake = engine.map(Engine::waker);
            tokio::spawn(async move {
                let prepared = {
                    let caption = caption.clone();
                    tokio::task::spawn_blocking(move || prepare(&path, channel, &dir, caption))
                        .await
                        .unwrap_or_else(|e| Err(format!("the copy stopped: {e}")))
                };
                let (outgoing, said) = match prepared {
                    Ok(prepared) => prepared,
                    Err(why) => return drop(tx.send(Action::NotAttached { caption, why })),
                };
                let queued = store
                    .run(move |s| {
                        let now = crate::model::now_ms();
                        s.enqueue_message(conversation, &outgoing, &author, crate::store::PRIORITY_REPLY, now)
                    })
                    .await;
                if let Some(wake) = wake {
                    wake.notify_waiters();
                }
                match queued {
                    Ok(_) => drop(tx.send(Action::Done(Ok(said)))),
                    Err(e) => drop(tx.send(Action::NotAttached { caption, why: e.to_string() })),
                }
                let _ = tx.send(Action::StoreChanged);
            });
        }
        Effect::Download { choice, dir, open, opener } => {
            let Some(channel) = channels.iter().find(|c| c.kind() == choice.channel).cloned() else {
                let why =
                    format!("{} is not configured here: its files cannot be fetched", choice.channel.display_name());
                let _ = tx.send(Action::Done(Err(why)));
                return;
            };
            tokio::spawn(async move {
                let result = download(&channel, &choice, &dir, open, opener.as_deref()).await;
                let _ = tx.send(Action::Done(result));
            });
        }
        _ => {}
    }
}

/// Checks the file for the channel and copies it to `dir/<random>/<name>`, where it
/// waits to be sent (a file moved or changed after this goes as it was): the message to
/// queue, and what to tell the agent.
fn prepare(
    path: &std::path::Path,
    channel: crate::model::ChannelKind,
    dir: &std::path::Path,
    caption: String,
) -> Result<(Outgoing, String), String> {
    let attachment = Attachment::check(path, channel)?;
    let place = dir.join(token());
    std::fs::create_dir_all(&place).map_err(|e| format!("cannot make {}: {e}", place.display()))?;
    let copy = place.join(&attachment.name);
    std::fs::copy(path, &copy).map_err(|e| format!("cannot copy it beside the store: {e}"))?;
    let said = format!(
        "{} ({}) queued as a {} for {}",
        crate::text::sanitize(&attachment.name, false),
        crate::model::size_text(attachment.size),
        attachment.kind,
        channel.display_name()
    );
    let outgoing = Outgoing {
        kind: attachment.kind.into(),
        text: caption,
        attachment: Some(copy.to_string_lossy().into_owned()),
        buttons: Vec::new(),
    };
    Ok((outgoing, said))
}

/// A name nobody can guess (the directory is served to Viber by URL): 128 bits from
/// the OS's randomly keyed hasher, the clock and a counter.
fn token() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.write_u64(n);
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        h.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}

/// Fetches the file, keeps it in `dir` and opens it: what to tell the agent.
async fn download(
    channel: &Channel,
    choice: &super::media::MediaChoice,
    dir: &std::path::Path,
    open: bool,
    opener: Option<&str>,
) -> Result<String, String> {
    let got = channel.download(&choice.message.kind, &choice.message.media).await?;
    let fallback = format!("{}-{}", choice.message.kind, choice.message.id.0);
    let name = crate::channels::media::safe_name(&got.name, &fallback, &got);
    let (dir, bytes) = (dir.to_path_buf(), got.bytes);
    let path = tokio::task::spawn_blocking(move || super::media::keep(&dir, &name, &bytes))
        .await
        .map_err(|e| format!("saving stopped: {e}"))?
        .map_err(|e| format!("cannot save it: {e}"))?;
    let shown = crate::text::sanitize(&path.display().to_string(), false);
    match opener.filter(|_| open) {
        None if open => Ok(format!("saved to {shown} (no display here to open it on)")),
        None => Ok(format!("saved to {shown}")),
        Some(opener) => match super::media::run_opener(opener, &path) {
            Ok(()) => Ok(format!("opened {shown}")),
            Err(e) => Err(format!("saved to {shown}, but `{opener}` did not start: {e}")),
        },
    }
}
