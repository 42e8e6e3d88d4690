//! Human passwords: Argon2id, deliberately slow (unlike machine secrets, see `secret`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::crypto::random_bytes;
use crate::InvalidInput;

pub const MIN_LEN: usize = 10;
const MAX_LEN: usize = 1024;

/// A PHC-format Argon2id hash. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordDigest(pub String);

impl std::fmt::Debug for PasswordDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordDigest(..)")
    }
}

pub fn validate(password: &str) -> Result<(), InvalidInput> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(InvalidInput::new(
            "password",
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    if password.len() > MAX_LEN {
        return Err(InvalidInput::new(
            "password",
            format!("must be at most {MAX_LEN} bytes"),
        ));
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<PasswordDigest, InvalidInput> {
    validate(password)?;
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| InvalidInput::new("password", e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| PasswordDigest(h.to_string()))
        .map_err(|e| InvalidInput::new("password", e.to_string()))
}

pub fn verify(password: &str, digest: &PasswordDigest) -> bool {
    if password.len() > MAX_LEN {
        return false;
    }
    match PasswordHash::new(&digest.0) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real verification, so a login for an unknown email is not faster than one
/// with a wrong password (which would reveal which emails exist).
pub fn verify_against_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<PasswordDigest>> = std::sync::OnceLock::new();
    if let Some(d) = DUMMY.get_or_init(|| hash("dummy password for timing").ok()) {
        let _ = verify(password, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let d = hash("correct horse battery").unwrap();
        assert!(d.0.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &d));
        assert!(!verify("correct horse batterx", &d));
        assert!(!verify("x", &PasswordDigest("garbage".into())));
        assert!(hash("short").is_err());
    }
}
