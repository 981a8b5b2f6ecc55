//! A customer's photo, document, voice or video, fetched through its channel's adapter:
//! Telegram's `getFile`, WhatsApp's media URL with the bearer token, Viber's and VK's
//! media URLs. Each download is capped at the channel's size, and what arrives is
//! checked against what the message said it was (a photo must be a picture).

use std::time::Duration;

use serde_json::Value;

use super::Channel;

/// A file fetched for the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub bytes: Vec<u8>,
    /// As the server said it.
    pub content_type: Option<String>,
    /// A name to save it under (the platform's, or made from its kind), not yet made safe.
    pub name: String,
}

impl Channel {
    /// Fetches the attachment of a stored message of `kind`, its `media` JSON as stored.
    pub async fn download(&self, kind: &str, media: &str) -> Result<Downloaded, String> {
        let media: Value = serde_json::from_str(media).map_err(|_| "the message keeps nothing to fetch".to_string())?;
        let max = self.kind().rules().media.download_max;
        let got = match self {
            Channel::Telegram(c) => c.download(&media, max).await,
            Channel::WhatsApp(c) => c.download(&media, max).await,
            Channel::Viber(c) => c.download(&media, max).await,
            Channel::Vk(c) => c.download(&media, max).await,
        }?;
        check_kind(kind, &got)?;
        Ok(got)
    }
}

/// GETs `url` (with a bearer token when given), refusing more than `max` bytes, whether
/// the server says so up front or only sends them. Errors never carry the URL (it may
/// hold a token).
pub(crate) async fn fetch(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    max: u64,
) -> Result<(Vec<u8>, Option<String>), String> {
    let mut request = http.get(url).timeout(Duration::from_secs(120));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let mut response = request.send().await.map_err(|e| format!("cannot fetch it: {}", e.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered {status}"));
    }
    let too_large = |n: u64| format!("it is {}; this console fetches at most {}", size(n), size(max));
    if let Some(n) = response.content_length().filter(|n| *n > max) {
        return Err(too_large(n));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase());
    let mut bytes = Vec::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|e| format!("the download broke off: {}", e.without_url()))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > max {
            return Err(too_large(bytes.len() as u64));
        }
    }
    Ok((bytes, content_type))
}

fn size(n: u64) -> String {
    crate::model::size_text(n)
}

/// Whether what arrived is what the message said: a photo or sticker is a picture, a
/// voice message or audio is sound, a video is a video. Documents may be anything.
fn check_kind(kind: &str, got: &Downloaded) -> Result<(), String> {
    let declared = got.content_type.as_deref().unwrap_or("");
    let picture = crate::model::picture_format(&got.bytes).is_some();
    let ok = match kind {
        "photo" | "sticker" => picture,
        "voice" | "audio" => {
            declared.starts_with("audio/")
                || got.bytes.starts_with(b"OggS")
                || got.bytes.starts_with(b"ID3")
                || declared == "application/octet-stream"
        }
        "video" | "video_note" => {
            declared.starts_with("video/")
                || got.bytes.get(4..8) == Some(b"ftyp")
                || declared == "application/octet-stream"
        }
        _ => true,
    };
    if got.bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if ok {
        Ok(())
    } else {
        let said = if declared.is_empty() { "something else".to_string() } else { declared.to_string() };
        Err(format!("the {kind} the platform sent is not one ({said}); it was not saved"))
    }
}

/// A file name that is safe to create in the downloads directory: no directories, no
/// control characters, no leading dot, not empty; `fallback` (with an extension from
/// the content) when the platform gave none.
pub fn safe_name(name: &str, fallback: &str, got: &Downloaded) -> String {
    let cleaned: String =
        name.chars().map(|c| if c.is_control() || matches!(c, '/' | '\\' | ':' | '\0') { '_' } else { c }).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    let cleaned: String = cleaned.chars().take(120).collect();
    if !cleaned.is_empty() {
        return cleaned;
    }
    let ext = match crate::model::picture_format(&got.bytes) {
        Some(p) => p.replace("jpeg", "jpg"),
        None => match got.content_type.as_deref() {
            Some("audio/ogg") => "ogg".into(),
            Some("video/mp4") => "mp4".into(),
            Some("application/pdf") => "pdf".into(),
            _ => "bin".into(),
        },
    };
    format!("{fallback}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn got(bytes: &[u8], content_type: Option<&str>) -> Downloaded {
        Downloaded { bytes: bytes.to_vec(), content_type: content_type.map(str::to_string), name: String::new() }
    }

    #[test]
    fn what_arrives_must_be_what_the_message_said() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2];
        assert!(check_kind("photo", &got(&jpeg, Some("image/jpeg"))).is_ok());
        let html = got(b"<html>login</html>", Some("text/html"));
        assert!(check_kind("photo", &html).unwrap_err().contains("(text/html)"));
        assert!(check_kind("voice", &got(b"OggS\0\0", None)).is_ok());
        assert!(check_kind("voice", &html).is_err());
        assert!(check_kind("document", &html).is_ok());
        assert!(check_kind("document", &got(b"", None)).is_err());
    }

    #[test]
    fn names_are_safe_to_create() {
        let jpeg = got(&[0xFF, 0xD8, 0xFF, 0xE0], Some("image/jpeg"));
        assert_eq!(safe_name("../../etc/passwd", "photo-1", &jpeg), "_.._etc_passwd");
        assert_eq!(safe_name("счёт\u{1b}[31m.pdf", "x", &jpeg), "счёт_[31m.pdf");
        assert_eq!(safe_name("", "photo-7", &jpeg), "photo-7.jpg");
        assert_eq!(safe_name(" .hidden", "x", &jpeg), "hidden");
    }
}
