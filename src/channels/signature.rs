//! Webhook signatures: HMAC-SHA256 over the raw body, compared in constant time. WhatsApp
//! signs with the app secret (`X-Hub-Signature-256: sha256=<hex>`), Viber with the bot
//! token (`X-Viber-Content-Signature: <hex>`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `body` under `key`, in lowercase hex.
pub fn hmac_sha256_hex(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// True when `given_hex` is the signature of `body` under `key` (case-insensitive hex).
pub fn verify(key: &[u8], body: &[u8], given_hex: &str) -> bool {
    let Some(given) = decode_hex(given_hex.trim()) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&given).is_ok()
}

/// Compares a secret without stopping at the first difference, so timing tells nothing.
pub fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known answer from Viber's official Python SDK tests.
    #[test]
    fn viber_known_answer() {
        let key = b"44dafb7e0f40021e-61a47a1e6778d187-f2c5a676a07050b3";
        let body = br#"{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}"#;
        let expected = "d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef";
        assert_eq!(hmac_sha256_hex(key, body), expected);
        assert!(verify(key, body, expected));
        assert!(verify(key, body, &expected.to_uppercase()));
        assert!(!verify(key, &body[1..], expected));
        assert!(!verify(key, body, "zz"));
    }
}
