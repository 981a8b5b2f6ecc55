//! A file to attach, checked against a channel before anything is queued: that it is a
//! readable regular file, whether it goes as a photo (a picture format the channel
//! shows, by its content, not its name, within the photo limit) or as a document, and
//! that it is not larger than the channel takes.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::ChannelKind;

/// Where files attached in the console wait to be sent (and are served to Viber, which
/// fetches by URL): beside the store, each in a directory of its own random name.
pub fn attachments_dir(store_file: &Path) -> PathBuf {
    store_file.with_file_name("attachments")
}

/// Where a customer's files are saved when an agent opens them.
pub fn downloads_dir(store_file: &Path) -> PathBuf {
    store_file.with_file_name("downloads")
}

/// Whether `token` is an attachment directory's name: 32 lower-case hex digits.
pub fn is_attachment_token(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub path: PathBuf,
    /// `photo` or `document`.
    pub kind: &'static str,
    pub size: u64,
    /// The file's name, as the customer sees a document's.
    pub name: String,
}

/// A picture format by its first bytes: `jpeg`, `png`, `gif`, `webp`.
pub fn picture_format(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xFF, 0xD8, 0xFF, ..] => Some("jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("png"),
        [b'G', b'I', b'F', b'8', ..] => Some("gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("webp"),
        _ => None,
    }
}

/// The media type of a picture, by its first bytes (`image/png`), or None.
pub fn picture_mime(head: &[u8]) -> Option<&'static str> {
    picture_format(head).map(|f| match f {
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => "image/jpeg",
    })
}

/// How a size reads: `812 KB`, `3.4 MB`.
pub fn size_text(bytes: u64) -> String {
    if bytes < 1024 * 1024 {
        format!("{} KB", bytes.div_ceil(1024))
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

impl Attachment {
    /// The file at `path` as `channel` would take it, or why it would not.
    pub fn check(path: &Path, channel: ChannelKind) -> Result<Attachment, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("{shown} is not a file"));
        }
        let mut head = [0u8; 16];
        let read = std::fs::File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .map_err(|e| format!("{shown}: cannot read it: {e}"))?;
        let rules = channel.rules();
        let media = rules.media;
        let size = meta.len();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
        if size == 0 {
            return Err(format!("{name} is empty"));
        }
        let picture = picture_format(&head[..read]).filter(|f| media.photo_types.contains(f));
        let kind = match picture {
            Some(_) if size <= media.photo_max => "photo",
            _ if size <= media.document_max => "document",
            _ => {
                return Err(format!(
                    "{name} is {}; {} takes files of at most {}",
                    size_text(size),
                    rules.name,
                    size_text(media.document_max)
                ));
            }
        };
        Ok(Attachment { path: path.to_path_buf(), kind, size, name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_goes_as_a_photo_by_its_content_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let jpeg = dir.path().join("фото.jpg");
        std::fs::write(&jpeg, [0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0]).unwrap();
        let a = Attachment::check(&jpeg, ChannelKind::Telegram).unwrap();
        assert_eq!((a.kind, a.name.as_str(), a.size), ("photo", "фото.jpg", 8));
        // A text file named .jpg is a document; so is a GIF on Telegram (not a photo type there).
        let fake = dir.path().join("fake.jpg");
        std::fs::write(&fake, "not a picture").unwrap();
        assert_eq!(Attachment::check(&fake, ChannelKind::WhatsApp).unwrap().kind, "document");
        let gif = dir.path().join("a.gif");
        std::fs::write(&gif, b"GIF89a......").unwrap();
        assert_eq!(Attachment::check(&gif, ChannelKind::Telegram).unwrap().kind, "document");
        assert_eq!(Attachment::check(&gif, ChannelKind::Viber).unwrap().kind, "photo");
        // Over Viber's 1 MB for pictures: a document; over its 50 MB: refused, with sizes.
        let big = dir.path().join("big.png");
        let f = std::fs::File::create(&big).unwrap();
        std::io::Write::write_all(&mut &f, &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]).unwrap();
        f.set_len(2 * 1024 * 1024).unwrap();
        assert_eq!(Attachment::check(&big, ChannelKind::Viber).unwrap().kind, "document");
        f.set_len(51 * 1024 * 1024).unwrap();
        let why = Attachment::check(&big, ChannelKind::Viber).unwrap_err();
        assert!(why.contains("is 51.0 MB; Viber takes files of at most 50.0 MB"), "{why}");
        assert!(Attachment::check(dir.path(), ChannelKind::Telegram).unwrap_err().contains("is not a file"));
        assert!(Attachment::check(&dir.path().join("none"), ChannelKind::Telegram).is_err());
        std::fs::write(dir.path().join("empty"), "").unwrap();
        assert!(Attachment::check(&dir.path().join("empty"), ChannelKind::Vk).unwrap_err().contains("is empty"));
    }
}
