//! Short-lived, MAC-protected form tickets. The consent form carries what the user is agreeing to in one;
//! any node can check it (they share the master key), nobody can forge or alter it, and it expires.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub fn seal<T: Serialize>(key: &hmac::Key, payload: &T) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap_or_default());
    let tag = URL_SAFE_NO_PAD.encode(hmac::sign(key, body.as_bytes()));
    format!("{body}.{tag}")
}

pub fn open<T: DeserializeOwned>(key: &hmac::Key, ticket: &str) -> Option<T> {
    let (body, tag) = ticket.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    hmac::verify(key, body.as_bytes(), &tag).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tamper_proof() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[1; 32]);
        let t = seal(&key, &("a", 1));
        assert_eq!(open::<(String, i32)>(&key, &t), Some(("a".into(), 1)));
        let other = hmac::Key::new(hmac::HMAC_SHA256, &[2; 32]);
        assert_eq!(open::<(String, i32)>(&other, &t), None);
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(b"[\"a\",2]"),
            t.split_once('.').unwrap().1
        );
        assert_eq!(open::<(String, i32)>(&key, &forged), None);
        assert_eq!(open::<(String, i32)>(&key, "garbage"), None);
    }
}
