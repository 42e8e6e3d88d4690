//! Identifiers. Each has one constructor that validates, so a value of these types is always well formed.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::crypto::random_string;
use crate::InvalidInput;

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Whether `c` is in [`LOWER_ALNUM`], by range rather than by searching it: ids are checked on every
/// authenticated request.
fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidInput;
            fn try_from(v: String) -> Result<Self, InvalidInput> {
                $name::parse(&v)
            }
        }
        impl std::str::FromStr for $name {
            type Err = InvalidInput;
            fn from_str(v: &str) -> Result<Self, InvalidInput> {
                $name::parse(v)
            }
        }
    };
}

string_id!(
    /// A tenant's name: two lowercase letters and three digits, like `ab123`.
    AccountName
);
string_id!(
    /// An OAuth client id: 24 characters of `[a-z0-9]`.
    ClientId
);
string_id!(
    /// A user's opaque id: `usr_` and 20 characters of `[a-z0-9]`.
    UserId
);
string_id!(
    /// The public id of an API key, sent in `X-Api-Key`: `kgk_` and 20 characters of `[a-z0-9]`.
    ApiKeyId
);
string_id!(
    /// A domain key: public by design, `kgd_` and 20 characters of `[a-z0-9]`.
    DomainKeyId
);
string_id!(
    /// The management id of a legacy static key (not the key itself): `kgl_` and 20 characters.
    LegacyKeyId
);

impl AccountName {
    pub fn parse(v: &str) -> Result<Self, InvalidInput> {
        let b = v.as_bytes();
        let ok = b.len() == 5
            && b[..2].iter().all(u8::is_ascii_lowercase)
            && b[2..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(Self(v.to_owned()))
        } else {
            Err(InvalidInput::new(
                "account",
                "must be two lowercase letters and three digits, like ab123",
            ))
        }
    }
}

impl ClientId {
    pub const LEN: usize = 24;

    pub fn generate() -> Self {
        Self(random_string(LOWER_ALNUM, Self::LEN))
    }

    pub fn parse(v: &str) -> Result<Self, InvalidInput> {
        if v.len() == Self::LEN && v.bytes().all(is_lower_alnum) {
            Ok(Self(v.to_owned()))
        } else {
            Err(InvalidInput::new(
                "client_id",
                "must be 24 characters of a-z and 0-9",
            ))
        }
    }
}

/// Ids made of a readable prefix and 20 random characters of `[a-z0-9]`, so every kind is recognisable
/// at a glance and no two kinds can be confused.
macro_rules! prefixed_id {
    ($name:ident, $prefix:literal, $field:literal) => {
        impl $name {
            pub const PREFIX: &'static str = $prefix;
            const RANDOM_LEN: usize = 20;

            pub fn generate() -> Self {
                Self(format!(
                    "{}{}",
                    Self::PREFIX,
                    random_string(LOWER_ALNUM, Self::RANDOM_LEN)
                ))
            }

            pub fn parse(v: &str) -> Result<Self, InvalidInput> {
                let ok = v
                    .strip_prefix(Self::PREFIX)
                    .is_some_and(|rest| rest.len() == Self::RANDOM_LEN && rest.bytes().all(is_lower_alnum));
                if ok {
                    Ok(Self(v.to_owned()))
                } else {
                    Err(InvalidInput::new(
                        $field,
                        concat!(
                            "must look like ",
                            $prefix,
                            " followed by 20 characters of a-z and 0-9"
                        ),
                    ))
                }
            }
        }
    };
}

prefixed_id!(UserId, "usr_", "user_id");
prefixed_id!(ApiKeyId, "kgk_", "api_key");
prefixed_id!(DomainKeyId, "kgd_", "domain_key");
prefixed_id!(LegacyKeyId, "kgl_", "legacy_key");

/// An opaque random id for rows nobody types by hand (grants, admin tokens, signing keys, JWT ids).
pub fn opaque_id(prefix: &str) -> String {
    format!("{prefix}{}", random_string(LOWER_ALNUM, 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names() {
        assert!(AccountName::parse("ab123").is_ok());
        for bad in ["AB123", "a1234", "abc12", "ab12", "ab1234", "", "ab12x", "äb123"] {
            assert!(AccountName::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn generated_ids_parse() {
        let c = ClientId::generate();
        assert_eq!(ClientId::parse(c.as_str()).unwrap(), c);
        assert_ne!(ClientId::generate(), c);
        let u = UserId::generate();
        assert_eq!(UserId::parse(u.as_str()).unwrap(), u);
        assert!(ClientId::parse("ABCDEFGHIJKLMNOPQRSTUVWX").is_err());
        assert!(UserId::parse("usr_short").is_err());
        let k = ApiKeyId::generate();
        assert_eq!(ApiKeyId::parse(k.as_str()).unwrap(), k);
        assert!(
            ApiKeyId::parse(c.as_str()).is_err(),
            "client ids and key ids never look alike"
        );
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<AccountName>("\"zz999\"").is_ok());
        assert!(serde_json::from_str::<AccountName>("\"nope\"").is_err());
    }
}
