//! Randomness, key derivation and encryption at rest, all on aws-lc-rs (the same provider that signs
//! JWTs, so the binary carries one crypto library).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::InvalidInput;

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system RNG only fails when the OS cannot supply entropy; nothing sensible can continue then.
    #[allow(clippy::expect_used)]
    SystemRandom::new()
        .fill(&mut out)
        .expect("operating system RNG failed");
    out
}

/// `len` characters drawn uniformly from `alphabet` (rejection sampling, so no modulo bias).
pub fn random_string(alphabet: &[u8], len: usize) -> String {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<64>() {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// URL-safe random token of `N` bytes of entropy.
pub fn random_token<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// The operator's root secret. Every other server-side key is derived from it with HKDF under a distinct
/// label, so compromising one derived key (say, the pepper) reveals nothing about the others.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// What a derived key is for; the label is part of the derivation.
#[derive(Debug, Clone, Copy)]
pub enum KeyPurpose {
    SecretPepper,
    SigningKeyEncryption,
    FormTickets,
    AssertionSecrets,
    HookSecrets,
}

impl KeyPurpose {
    fn label(self) -> &'static [u8] {
        match self {
            KeyPurpose::SecretPepper => b"keygate v1 secret pepper",
            KeyPurpose::SigningKeyEncryption => b"keygate v1 signing key encryption",
            KeyPurpose::FormTickets => b"keygate v1 form tickets",
            KeyPurpose::AssertionSecrets => b"keygate v1 assertion secrets",
            KeyPurpose::HookSecrets => b"keygate v1 hook signing secrets",
        }
    }
}

struct Len32;
impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        Self(random_bytes::<32>())
    }

    /// Parses the base64 form written to `master.key` or given in configuration.
    pub fn from_base64(text: &str) -> Result<Self, InvalidInput> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| InvalidInput::new("master_key", "must be base64"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| InvalidInput::new("master_key", "must decode to exactly 32 bytes"))?;
        Ok(Self(key))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    pub fn derive(&self, purpose: KeyPurpose) -> [u8; 32] {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"keygate").extract(&self.0);
        let mut out = [0u8; 32];
        // expand/fill only fail for output lengths over 255 * 32 bytes; ours is 32.
        #[allow(clippy::expect_used)]
        prk.expand(&[purpose.label()], Len32)
            .and_then(|okm| okm.fill(&mut out))
            .expect("HKDF output length is fixed and valid");
        out
    }
}

#[derive(Debug, thiserror::Error)]
#[error("decryption failed: wrong master key or corrupted data")]
pub struct DecryptError;

/// AES-256-GCM with a random nonce stored in front of the ciphertext. `context` is authenticated but
/// not stored, binding a ciphertext to its row (a key id) so rows cannot be swapped.
pub struct Sealer(LessSafeKey);

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        #[allow(clippy::expect_used)]
        let unbound = UnboundKey::new(&AES_256_GCM, &key).expect("32-byte key is valid for AES-256");
        Self(LessSafeKey::new(unbound))
    }

    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = random_bytes::<NONCE_LEN>();
        let mut buf = plaintext.to_vec();
        #[allow(clippy::expect_used)]
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut buf)
            .expect("AES-GCM sealing only fails on absurd lengths");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, DecryptError> {
        if sealed.len() < NONCE_LEN {
            return Err(DecryptError);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| DecryptError)?;
        let mut buf = ct.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(context), &mut buf)
            .map_err(|_| DecryptError)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_round_trip_and_derivation() {
        let k = MasterKey::generate();
        let again = MasterKey::from_base64(&k.to_base64()).unwrap();
        assert_eq!(
            k.derive(KeyPurpose::SecretPepper),
            again.derive(KeyPurpose::SecretPepper)
        );
        assert_ne!(
            k.derive(KeyPurpose::SecretPepper),
            k.derive(KeyPurpose::SigningKeyEncryption)
        );
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn seal_and_open() {
        let s = Sealer::new(MasterKey::generate().derive(KeyPurpose::SigningKeyEncryption));
        let sealed = s.seal(b"kid1", b"private");
        assert_eq!(s.open(b"kid1", &sealed).unwrap(), b"private");
        assert!(s.open(b"kid2", &sealed).is_err(), "context must be authenticated");
        let other = Sealer::new(MasterKey::generate().derive(KeyPurpose::SigningKeyEncryption));
        assert!(other.open(b"kid1", &sealed).is_err());
        assert!(s.open(b"kid1", &sealed[..5]).is_err());
    }

    #[test]
    fn random_string_uses_alphabet() {
        let s = random_string(b"ab", 100);
        assert_eq!(s.len(), 100);
        assert!(s.contains('a') && s.contains('b'));
    }
}
