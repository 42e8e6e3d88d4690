//! Compact JWS signing (RFC 7515) with a private key parsed once, when the key set is loaded.
//!
//! Written here rather than left to `jsonwebtoken::encode`, because that function parses the PKCS#8
//! private key again on every call (for ECDSA it also recomputes and checks the public point), which cost
//! more than the signature itself on the token endpoint. The serialisation is three base64url parts
//! joined by dots; tokens are still verified with jsonwebtoken, and the tests verify them independently.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::{Error, ErrorKind};
use keygate_core::model::SigningAlgorithm;
use serde::Serialize;
use serde_json::json;

enum PrivateKey {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

/// Signs JWTs of one `typ` with one key.
pub struct JwsSigner {
    key: PrivateKey,
    /// The first part of every token, which depends only on the key and the type.
    encoded_header: String,
    rng: SystemRandom,
}

impl JwsSigner {
    /// `pkcs8`: the private key as stored (PKCS#8 DER).
    pub fn new(alg: SigningAlgorithm, kid: &str, typ: &str, pkcs8: &[u8]) -> Result<Self, String> {
        let key = match alg {
            SigningAlgorithm::ES256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map(PrivateKey::Ecdsa)
                .map_err(|e| e.to_string())?,
            SigningAlgorithm::EdDSA => Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
                .map(PrivateKey::Ed25519)
                .map_err(|e| e.to_string())?,
            SigningAlgorithm::RS256 => RsaKeyPair::from_pkcs8(pkcs8)
                .map(PrivateKey::Rsa)
                .map_err(|e| e.to_string())?,
        };
        let header = json!({"typ": typ, "alg": alg.as_str(), "kid": kid});
        Ok(Self {
            key,
            encoded_header: URL_SAFE_NO_PAD.encode(header.to_string()),
            rng: SystemRandom::new(),
        })
    }

    /// `claims` as a signed compact JWS.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, Error> {
        let claims = serde_json::to_vec(claims)?;
        let mut token = String::with_capacity(self.encoded_header.len() + claims.len() * 4 / 3 + 380);
        token.push_str(&self.encoded_header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let signature = self.signature(token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    fn signature(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| Error::from(ErrorKind::Signing("the signing key refused to sign".into()));
        Ok(match &self.key {
            PrivateKey::Ecdsa(pair) => pair.sign(&self.rng, message).map_err(failed)?.as_ref().to_vec(),
            PrivateKey::Ed25519(pair) => pair.sign(message).as_ref().to_vec(),
            PrivateKey::Rsa(pair) => {
                let mut out = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut out)
                    .map_err(failed)?;
                out
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use aws_lc_rs::signature::{KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    use super::*;

    #[test]
    fn tokens_verify_with_the_public_key_and_carry_the_header() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let public = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .unwrap()
            .public_key()
            .as_ref()
            .to_vec();
        let signer = JwsSigner::new(SigningAlgorithm::ES256, "k1", "at+jwt", pkcs8.as_ref()).unwrap();
        let token = signer.sign(&json!({"sub": "u1", "n": 1})).unwrap();

        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let part = |i: usize| URL_SAFE_NO_PAD.decode(parts[i]).unwrap();
        let header: serde_json::Value = serde_json::from_slice(&part(0)).unwrap();
        assert_eq!(header, json!({"typ": "at+jwt", "alg": "ES256", "kid": "k1"}));
        let claims: serde_json::Value = serde_json::from_slice(&part(1)).unwrap();
        assert_eq!(claims, json!({"sub": "u1", "n": 1}));
        let signed = format!("{}.{}", parts[0], parts[1]);
        let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public);
        key.verify(signed.as_bytes(), &part(2)).unwrap();
        assert!(
            key.verify(b"another message", &part(2)).is_err(),
            "the signature is of the message"
        );
    }

    #[test]
    fn a_key_of_another_algorithm_is_refused() {
        let rng = SystemRandom::new();
        let ed = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        assert!(JwsSigner::new(SigningAlgorithm::ES256, "k", "at+jwt", ed.as_ref()).is_err());
        assert!(JwsSigner::new(SigningAlgorithm::EdDSA, "k", "at+jwt", ed.as_ref()).is_ok());
    }
}
