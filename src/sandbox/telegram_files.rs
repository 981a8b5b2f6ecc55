//! The emulator's files, as the Bot API serves them: `getFile` names a path for a file
//! id, and `/file/bot<token>/<path>` gives its bytes (the token in the URL is the only
//! key). A photo's bytes are a small JPEG, a document's a line of text, so what is
//! fetched can be checked for what it claims to be.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::telegram::{Emu, err, lock, ok};

/// The bytes a file id stands for: photo ids (`AgAC…`) are JPEGs.
pub fn bytes_of(file_id: &str) -> (Vec<u8>, &'static str) {
    if file_id.starts_with("AgAC") {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00];
        jpeg.extend_from_slice(file_id.as_bytes());
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        (jpeg, "image/jpeg")
    } else {
        (format!("document {file_id}\n").into_bytes(), "application/octet-stream")
    }
}

/// `getFile`: the file's path on the file server.
pub(super) fn get_file(params: &Map<String, Value>) -> Response {
    let Some(id) = params.get("file_id").and_then(Value::as_str).filter(|id| !id.is_empty()) else {
        return err(400, "Bad Request: file_id is empty", None);
    };
    if id.contains('/') {
        return err(400, "Bad Request: invalid file_id", None);
    }
    let (bytes, _) = bytes_of(id);
    let dir = if id.starts_with("AgAC") { "photos" } else { "documents" };
    ok(
        json!({"file_id": id, "file_unique_id": format!("u-{id}"), "file_size": bytes.len(), "file_path": format!("{dir}/{id}")}),
    )
}

/// `/file/bot<token>/<path>`.
pub(super) async fn file(State(emu): State<Emu>, Path((bot, path)): Path<(String, String)>) -> Response {
    if bot.strip_prefix("bot") != Some(lock(&emu).token.as_str()) {
        return err(401, "Unauthorized", None);
    }
    let Some(id) = path.rsplit('/').next().filter(|id| !id.is_empty()) else {
        return err(404, "Not Found", None);
    };
    let (bytes, kind) = bytes_of(id);
    ([(header::CONTENT_TYPE, kind)], bytes).into_response()
}
