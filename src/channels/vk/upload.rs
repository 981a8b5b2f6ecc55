//! Photos and documents for VK: the file (a local path, or an http(s) URL fetched first,
//! 50 MB at most) is posted to the upload server VK names and saved, and the attachment
//! string to send comes back (`photo<owner>_<id>_<key>`, `doc<owner>_<id>`).

use serde_json::Value;

use super::{VkChannel, decode};
use crate::channels::SendError;

impl VkChannel {
    /// Uploads a photo for `peer` (`photos.getMessagesUploadServer`, the upload,
    /// `photos.saveMessagesPhoto`): the attachment to send, `photo<owner>_<id>_<key>`.
    pub(super) async fn upload_photo(&self, peer: &str, source: &str) -> Result<String, SendError> {
        let server = self.call("photos.getMessagesUploadServer", &[("peer_id", peer.to_string())]).await?;
        let uploaded = self.upload(&server, "photo", source).await?;
        let field = |k: &str| {
            uploaded[k].as_str().map(str::to_string).or_else(|| decode::int(&uploaded[k]).map(|i| i.to_string()))
        };
        let (Some(photo), Some(server), Some(hash)) = (field("photo"), field("server"), field("hash")) else {
            return Err(SendError::Permanent(format!("VK did not take the photo: {uploaded}")));
        };
        let saved =
            self.call("photos.saveMessagesPhoto", &[("photo", photo), ("server", server), ("hash", hash)]).await?;
        let p = &saved[0];
        match (decode::int(&p["owner_id"]), decode::int(&p["id"])) {
            (Some(owner), Some(id)) => Ok(match p["access_key"].as_str() {
                Some(key) => format!("photo{owner}_{id}_{key}"),
                None => format!("photo{owner}_{id}"),
            }),
            _ => Err(SendError::Permanent("photos.saveMessagesPhoto gave no photo".into())),
        }
    }

    /// Uploads a document for `peer` (`docs.getMessagesUploadServer`, the upload,
    /// `docs.save`): the attachment to send, `doc<owner>_<id>`.
    pub(super) async fn upload_document(&self, peer: &str, source: &str) -> Result<String, SendError> {
        let params = [("type", "doc".to_string()), ("peer_id", peer.to_string())];
        let server = self.call("docs.getMessagesUploadServer", &params).await?;
        let uploaded = self.upload(&server, "file", source).await?;
        let Some(file) = uploaded["file"].as_str() else {
            return Err(SendError::Permanent(format!("VK did not take the document: {uploaded}")));
        };
        let title = file_name(source);
        let saved = self.call("docs.save", &[("file", file.to_string()), ("title", title)]).await?;
        let d = &saved["doc"];
        match (decode::int(&d["owner_id"]), decode::int(&d["id"])) {
            (Some(owner), Some(id)) => Ok(format!("doc{owner}_{id}")),
            _ => Err(SendError::Permanent("docs.save gave no document".into())),
        }
    }

    /// Posts the file at `source` (a local path, or an http(s) URL fetched first) to the
    /// upload server VK named, as the multipart `field`.
    async fn upload(&self, server: &Value, field: &str, source: &str) -> Result<Value, SendError> {
        let Some(url) = server["upload_url"].as_str() else {
            return Err(SendError::Retry { after: None, reason: "VK gave no upload_url".into() });
        };
        let bytes = self.read(source).await?;
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name(source));
        let form = reqwest::multipart::Form::new().part(field.to_string(), part);
        let answer = self
            .http
            .post(url)
            .multipart(form)
            .send()
            .await
            .map_err(|e| SendError::Retry { after: None, reason: format!("upload: {}", e.without_url()) })?;
        answer
            .json()
            .await
            .map_err(|e| SendError::Retry { after: None, reason: format!("upload answer: {}", e.without_url()) })
    }

    /// The file to send: read from disk, or fetched (at most 50 MB, VK's limit for a
    /// document).
    async fn read(&self, source: &str) -> Result<Vec<u8>, SendError> {
        const MAX: usize = 50 * 1024 * 1024;
        if source.starts_with("https://") || source.starts_with("http://") {
            let response =
                self.http.get(source).send().await.and_then(reqwest::Response::error_for_status).map_err(|e| {
                    SendError::Retry { after: None, reason: format!("fetching the file: {}", e.without_url()) }
                })?;
            if response.content_length().is_some_and(|n| n > MAX as u64) {
                return Err(SendError::Permanent("the file is over 50 MB, VK's limit".into()));
            }
            let bytes = response.bytes().await.map_err(|e| SendError::Retry {
                after: None,
                reason: format!("fetching the file: {}", e.without_url()),
            })?;
            return Ok(bytes.to_vec());
        }
        let bytes = tokio::fs::read(source)
            .await
            .map_err(|e| SendError::Permanent(format!("cannot read the file to send: {e}")))?;
        if bytes.len() > MAX {
            return Err(SendError::Permanent("the file is over 50 MB, VK's limit".into()));
        }
        Ok(bytes)
    }
}

/// The last part of a path or URL, as the file's name.
fn file_name(source: &str) -> String {
    let name = source.rsplit(['/', '\\']).next().unwrap_or("").split(['?', '#']).next().unwrap_or("");
    if name.is_empty() { "file".into() } else { name.to_string() }
}
