//! Signing keys: generation, encryption at rest, the JWKS, and rotation.
//!
//! A key is published as `next` long before it signs anything, so verifiers that cache the JWKS already
//! know it when rotation promotes it to `current`; a retired key stays published until every token it
//! signed has expired. Every node holds an in-memory copy of the key set, swapped atomically on reload,
//! so signing and verifying take no lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use keygate_core::claims::ACCESS_TOKEN_TYP;
use keygate_core::crypto::Sealer;
use keygate_core::ids::opaque_id;
use keygate_core::model::{KeyState, SigningAlgorithm, SigningKeyRecord};
use keygate_core::time::now;
use keygate_store::Store;
use serde_json::{json, Value};

use crate::jws::JwsSigner;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate a {0} key")]
    Generate(SigningAlgorithm),
    #[error("signing key {kid} cannot be decrypted: is this the master key the keys were created with?")]
    Decrypt { kid: String },
    #[error("signing key {kid} is unusable: {reason}")]
    Unusable { kid: String, reason: String },
    #[error("the store holds no current signing key")]
    NoCurrentKey,
    #[error(transparent)]
    Store(#[from] keygate_store::StoreError),
}

pub fn jwt_algorithm(alg: SigningAlgorithm) -> Algorithm {
    match alg {
        SigningAlgorithm::ES256 => Algorithm::ES256,
        SigningAlgorithm::EdDSA => Algorithm::EdDSA,
        SigningAlgorithm::RS256 => Algorithm::RS256,
    }
}

/// A freshly generated key pair: PKCS#8 private key and public JWK.
fn generate(alg: SigningAlgorithm, kid: &str) -> Result<(Vec<u8>, Value), KeyError> {
    let rng = SystemRandom::new();
    let err = |_| KeyError::Generate(alg);
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    match alg {
        SigningAlgorithm::ES256 => {
            let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(err)?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref())
                .map_err(|_| KeyError::Generate(alg))?;
            // Uncompressed SEC1 point: 0x04 || X || Y.
            let point = pair.public_key().as_ref();
            let (x, y) = point.get(1..).ok_or(KeyError::Generate(alg))?.split_at(32);
            let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y),
                             "kid": kid, "alg": "ES256", "use": "sig"});
            Ok((doc.as_ref().to_vec(), jwk))
        }
        SigningAlgorithm::EdDSA => {
            let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(err)?;
            let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).map_err(|_| KeyError::Generate(alg))?;
            let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref()),
                             "kid": kid, "alg": "EdDSA", "use": "sig"});
            Ok((doc.as_ref().to_vec(), jwk))
        }
        SigningAlgorithm::RS256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(err)?;
            let der: Pkcs8V1Der = pair.as_der().map_err(err)?;
            let public = pair.public_key();
            let jwk = json!({"kty": "RSA",
                             "n": b64(public.modulus().big_endian_without_leading_zero()),
                             "e": b64(public.exponent().big_endian_without_leading_zero()),
                             "kid": kid, "alg": "RS256", "use": "sig"});
            Ok((der.as_ref().to_vec(), jwk))
        }
    }
}

/// A new key record, its private half sealed under the master key (bound to its kid).
pub fn new_key_record(
    alg: SigningAlgorithm,
    state: KeyState,
    sealer: &Sealer,
    now: i64,
) -> Result<SigningKeyRecord, KeyError> {
    let kid = opaque_id("");
    let (pkcs8, jwk) = generate(alg, &kid)?;
    Ok(SigningKeyRecord {
        sealed_private_key: Some(sealer.seal(kid.as_bytes(), &pkcs8)),
        kid,
        algorithm: alg,
        state,
        public_jwk: jwk.to_string(),
        created_at: now,
        activated_at: (state == KeyState::Current).then_some(now),
        retired_at: None,
        publish_until: None,
    })
}

pub(crate) fn decoding_key(jwk: &Value) -> Result<DecodingKey, String> {
    let field = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("JWK lacks {name}"))
    };
    let r = match field("kty")? {
        "EC" => DecodingKey::from_ec_components(field("x")?, field("y")?),
        "OKP" => DecodingKey::from_ed_components(field("x")?),
        "RSA" => DecodingKey::from_rsa_components(field("n")?, field("e")?),
        other => return Err(format!("unsupported kty {other}")),
    };
    r.map_err(|e| e.to_string())
}

pub struct Signer {
    pub kid: String,
    /// Signs access tokens (`typ` `at+jwt`).
    pub access_tokens: JwsSigner,
}

pub struct Verifier {
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

/// One consistent view of the keys: who signs, who verifies, and the JWKS document.
pub struct KeySet {
    pub signer: Signer,
    /// foldhash rather than SipHash: every bearer check served from the cache of verified tokens looks
    /// its key id up here, and only Keygate's own ids are ever inserted (looking up an id a token chose
    /// cannot flood a bucket).
    pub verifiers: HashMap<String, Verifier, foldhash::fast::RandomState>,
    pub jwks: Arc<str>,
    pub records: Vec<SigningKeyRecord>,
}

impl KeySet {
    fn build(records: Vec<SigningKeyRecord>, sealer: &Sealer, now: i64) -> Result<Self, KeyError> {
        let mut verifiers = HashMap::default();
        let mut published = Vec::new();
        let mut signer = None;
        for r in &records {
            if r.publish_until.is_some_and(|t| t < now) {
                continue;
            }
            let unusable = |reason: String| KeyError::Unusable {
                kid: r.kid.clone(),
                reason,
            };
            let jwk: Value = serde_json::from_str(&r.public_jwk).map_err(|e| unusable(e.to_string()))?;
            let key = decoding_key(&jwk).map_err(unusable)?;
            verifiers.insert(
                r.kid.clone(),
                Verifier {
                    algorithm: jwt_algorithm(r.algorithm),
                    key,
                },
            );
            published.push(jwk);
            if r.state == KeyState::Current {
                let sealed = r
                    .sealed_private_key
                    .as_ref()
                    .ok_or_else(|| unusable("no private key".into()))?;
                let pkcs8 = sealer
                    .open(r.kid.as_bytes(), sealed)
                    .map_err(|_| KeyError::Decrypt { kid: r.kid.clone() })?;
                let access_tokens =
                    JwsSigner::new(r.algorithm, &r.kid, ACCESS_TOKEN_TYP, &pkcs8).map_err(unusable)?;
                signer = Some(Signer {
                    kid: r.kid.clone(),
                    access_tokens,
                });
            }
        }
        let signer = signer.ok_or(KeyError::NoCurrentKey)?;
        let jwks: Arc<str> = json!({ "keys": published }).to_string().into();
        Ok(Self {
            signer,
            verifiers,
            jwks,
            records,
        })
    }

    pub fn current(&self) -> Option<&SigningKeyRecord> {
        self.records.iter().find(|r| r.state == KeyState::Current)
    }

    fn next(&self) -> Option<&SigningKeyRecord> {
        self.records.iter().find(|r| r.state == KeyState::Next)
    }
}

/// How often a node re-reads the keys at most when it meets an unknown `kid`.
const UNKNOWN_KID_RELOAD_INTERVAL: i64 = 5;

pub struct Keyring {
    store: Arc<dyn Store>,
    sealer: Sealer,
    algorithm: SigningAlgorithm,
    /// How long retired keys stay published: the longest token lifetime plus leeway and reload lag.
    retire_publish_for: i64,
    keys: ArcSwap<KeySet>,
    last_reload: AtomicI64,
}

impl Keyring {
    /// Loads the keys, creating the first `current` and `next` keys on a brand-new store.
    pub async fn open(
        store: Arc<dyn Store>,
        sealer: Sealer,
        algorithm: SigningAlgorithm,
        retire_publish_for: i64,
    ) -> Result<Self, KeyError> {
        let t = now();
        let mut records = store.list_signing_keys().await?;
        if records.is_empty() {
            let first = [
                new_key_record(algorithm, KeyState::Current, &sealer, t)?,
                new_key_record(algorithm, KeyState::Next, &sealer, t)?,
            ];
            if store.bootstrap_signing_keys(&first).await? {
                tracing::info!(algorithm = %algorithm, "created the first signing keys");
            }
            records = store.list_signing_keys().await?;
        }
        let set = KeySet::build(records, &sealer, t)?;
        Ok(Self {
            store,
            sealer,
            algorithm,
            retire_publish_for,
            keys: ArcSwap::from_pointee(set),
            last_reload: AtomicI64::new(t),
        })
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.keys.load_full()
    }

    /// Re-reads the keys from the store (another node or the CLI may have rotated them).
    pub async fn reload(&self) -> Result<(), KeyError> {
        let t = now();
        let set = KeySet::build(self.store.list_signing_keys().await?, &self.sealer, t)?;
        self.keys.store(Arc::new(set));
        self.last_reload.store(t, Ordering::Relaxed);
        Ok(())
    }

    /// Reloads after meeting an unknown `kid`, at most every few seconds so garbage tokens cannot turn
    /// into a flood of store reads.
    pub async fn reload_for_unknown_kid(&self) -> bool {
        let t = now();
        let last = self.last_reload.load(Ordering::Relaxed);
        if t - last < UNKNOWN_KID_RELOAD_INTERVAL
            || self
                .last_reload
                .compare_exchange(last, t, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return false;
        }
        match self.reload().await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "reloading signing keys failed");
                false
            }
        }
    }

    /// Promotes `next` to `current`, retires the old current and publishes a new `next`. Returns false
    /// when another node rotated first (the keys are reloaded either way).
    pub async fn rotate(&self) -> Result<bool, KeyError> {
        self.reload().await?;
        let set = self.current();
        let current = set.current().ok_or(KeyError::NoCurrentKey)?;
        let next = set.next().ok_or(KeyError::NoCurrentKey)?;
        let t = now();
        let new_next = new_key_record(self.algorithm, KeyState::Next, &self.sealer, t)?;
        let rotated = self
            .store
            .rotate_signing_keys(&current.kid, &next.kid, &new_next, t + self.retire_publish_for, t)
            .await?;
        self.reload().await?;
        if rotated {
            tracing::info!(retired = %current.kid, current = %next.kid, "rotated signing keys");
        }
        Ok(rotated)
    }

    /// Rotates when the current key is older than `interval` (0: never).
    pub async fn rotate_if_due(&self, interval: i64) -> Result<bool, KeyError> {
        if interval <= 0 {
            return Ok(false);
        }
        let due = self
            .current()
            .current()
            .map(|c| c.activated_at.unwrap_or(c.created_at) + interval <= now())
            .unwrap_or(false);
        if due {
            self.rotate().await
        } else {
            Ok(false)
        }
    }
}
