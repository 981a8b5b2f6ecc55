//! The emulator's media endpoints, as the Cloud API has them: `POST /PHONE_ID/media`
//! (multipart: `messaging_product`, `type`, `file`) answers a media id; `GET /MEDIA_ID`
//! answers a short-lived URL, which gives the bytes only with the bearer token.

use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Shared, bearer, error, lock};

/// A file the emulator holds.
#[derive(Debug, Clone)]
pub struct Media {
    pub bytes: Vec<u8>,
    pub mime: String,
}

/// The largest upload taken (the Cloud API's documents go to 100 MB; the emulator's
/// tests need far less).
const LARGEST: usize = 16 * 1024 * 1024;

pub(super) async fn upload(
    State(shared): State<Arc<Shared>>,
    Path((_, phone)): Path<(String, String)>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    {
        let state = lock(&shared);
        if bearer(&headers) != Some(state.token.as_str()) {
            return error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token.");
        }
        if phone != state.phone_number_id {
            return error(StatusCode::BAD_REQUEST, 100, "(#100) Unsupported post request: unknown phone number id");
        }
    }
    let (mut product, mut kind, mut file) = (None, None, None);
    while let Ok(Some(field)) = form.next_field().await {
        match field.name().unwrap_or_default() {
            "messaging_product" => product = field.text().await.ok(),
            "type" => kind = field.text().await.ok(),
            "file" => file = field.bytes().await.ok(),
            _ => {}
        }
    }
    let (Some(kind), Some(file)) = (kind, file) else {
        return error(StatusCode::BAD_REQUEST, 100, "(#100) The parameter file is required.");
    };
    if product.as_deref() != Some("whatsapp") {
        return error(StatusCode::BAD_REQUEST, 100, "(#100) The parameter messaging_product is required.");
    }
    if file.is_empty() || file.len() > LARGEST {
        return error(StatusCode::BAD_REQUEST, 131053, "(#131053) Media upload error");
    }
    let mut state = lock(&shared);
    state.next += 1;
    let id = format!("{}", 2_000_000_000_000 + state.next);
    state.media.insert(id.clone(), Media { bytes: file.to_vec(), mime: kind });
    axum::Json(json!({ "id": id })).into_response()
}

/// `GET /MEDIA_ID`: where to fetch it, on this emulator's own address.
pub(super) fn info(id: &str, media: &Media, headers: &HeaderMap) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    axum::Json(json!({
        "messaging_product": "whatsapp", "id": id, "mime_type": media.mime,
        "sha256": "ZmFrZQ==", "file_size": media.bytes.len(),
        "url": format!("http://{host}/media-download/{id}"),
    }))
    .into_response()
}

/// The URL from `GET /MEDIA_ID`: the bytes, for the bearer of the token only.
pub(super) async fn download(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&shared);
    if bearer(&headers) != Some(state.token.as_str()) {
        return error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token.");
    }
    match state.media.get(&id) {
        Some(m) => ([(header::CONTENT_TYPE, m.mime.clone())], m.bytes.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, 100, "(#100) Unknown media"),
    }
}
