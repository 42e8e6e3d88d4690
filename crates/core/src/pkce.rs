//! PKCE (RFC 7636). Only S256 exists here: `plain` offers no protection once the request leaks.

use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;

use crate::InvalidInput;

fn valid_chars(v: &str) -> bool {
    v.bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~'))
}

/// A `code_challenge` for S256 is the base64url SHA-256 of the verifier: 43 characters.
pub fn validate_challenge(challenge: &str) -> Result<(), InvalidInput> {
    if challenge.len() == 43 && valid_chars(challenge) {
        Ok(())
    } else {
        Err(InvalidInput::new(
            "code_challenge",
            "must be the 43-character base64url SHA-256 of the verifier",
        ))
    }
}

pub fn validate_verifier(verifier: &str) -> Result<(), InvalidInput> {
    if (43..=128).contains(&verifier.len()) && valid_chars(verifier) {
        Ok(())
    } else {
        Err(InvalidInput::new(
            "code_verifier",
            "must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
        ))
    }
}

pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    validate_verifier(verifier).is_ok()
        && bool::from(s256_challenge(verifier).as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(s256_challenge(verifier), challenge);
        assert!(verify_s256(verifier, challenge));
        assert!(!verify_s256(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX",
            challenge
        ));
        assert!(validate_challenge(challenge).is_ok());
        assert!(validate_challenge("short").is_err());
        assert!(validate_verifier("has spaces in it which are not allowed at all, nope").is_err());
    }
}
