//! The records Keygate manages. The store persists them; the protocol layers read them.

use crate::ids::{AccountName, ApiKeyId, ClientId, DomainKeyId, LegacyKeyId, UserId};
use crate::password::PasswordDigest;
use crate::scope::ScopeSet;
use crate::InvalidInput;

/// A string-backed enum with one spelling shared by the database, the APIs and the CLI.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        // By hand: the derive cannot read a `rename` that comes through a macro.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::openapi::string_enum(&[$($text),+])
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(v: &str) -> Result<Self, InvalidInput> {
                match v {
                    $($text => Ok($name::$variant),)+
                    _ => Err(InvalidInput::new($field, format!(
                        "must be one of: {}", [$($text),+].join(", ")))),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $name {
            type Err = InvalidInput;
            fn from_str(v: &str) -> Result<Self, InvalidInput> { $name::parse(v) }
        }
    };
}

text_enum!(AccountStatus, "status" { Active = "active", Suspended = "suspended" });
text_enum!(UserStatus, "status" { Active = "active", Suspended = "suspended" });
text_enum!(
    /// `revoked` is final; `suspended` can be lifted.
    AppStatus, "status" { Active = "active", Suspended = "suspended", Revoked = "revoked" }
);
text_enum!(Role, "role" { Admin = "admin", Member = "member" });
text_enum!(
    /// Keys are never suspended, only revoked: a revoked key is dead for good.
    KeyStatus, "status" { Active = "active", Revoked = "revoked" }
);
text_enum!(
    /// How an API key signs JWT assertions (RFC 7523): with its secret (HS256) or a registered public key.
    AssertionAlg, "alg" { HS256 = "HS256", ES256 = "ES256", EdDSA = "EdDSA", RS256 = "RS256" }
);

/// What verifies an API key's JWT assertions. The algorithm is pinned: an assertion with any other `alg`
/// is refused.
#[derive(Clone, PartialEq, Eq)]
pub struct AssertionKey {
    pub alg: AssertionAlg,
    /// The registered public key as a JWK (ES256, EdDSA, RS256).
    pub public_jwk: Option<String>,
    /// HS256 needs the shared secret itself, not a hash: it is kept sealed under the master key, and only
    /// for keys whose owner chose HS256.
    pub sealed_secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionKey")
            .field("alg", &self.alg)
            .field("public_jwk", &self.public_jwk)
            .finish_non_exhaustive()
    }
}
text_enum!(ClientType, "client_type" { Confidential = "confidential", Public = "public" });
text_enum!(SigningAlgorithm, "algorithm" { ES256 = "ES256", EdDSA = "EdDSA", RS256 = "RS256" });
text_enum!(
    /// A signing key's life: published as `next`, signing as `current`, then published as `retired`
    /// until every token it signed has expired.
    KeyState, "state" { Next = "next", Current = "current", Retired = "retired" }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: AccountName,
    pub display_name: String,
    pub status: AccountStatus,
    /// Whether the account's users may call the resource APIs with HTTP Basic (off by default).
    pub basic_auth: bool,
    /// The account's own rate limit for each of its credentials; `None` means the server's default.
    pub rate_limit: Option<RateLimit>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A token bucket: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub account: AccountName,
    /// As entered; uniqueness is on the lowercase form.
    pub email: String,
    pub password: PasswordDigest,
    pub role: Role,
    pub status: UserStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The keyed hash of a secret and the last four characters listings may show.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecret {
    pub hash: Vec<u8>,
    pub last4: String,
    /// For a previous secret kept valid during rotation: when it stops working.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StoredSecret(…{}, expires_at: {:?})",
            self.last4, self.expires_at
        )
    }
}

/// A developer app: an OAuth client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub client_id: ClientId,
    pub name: String,
    pub client_type: ClientType,
    /// Required for client_credentials: the account such tokens act for.
    pub owner_account: Option<AccountName>,
    pub redirect_uris: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_scopes: ScopeSet,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    pub status: AppStatus,
    pub secret: Option<StoredSecret>,
    pub previous_secret: Option<StoredSecret>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A credential for the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    pub id: String,
    pub name: String,
    pub secret: StoredSecret,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A JWT signing key. The private key is PKCS#8 DER sealed with the master key; it is wiped once
/// the key is retired (only the public half is needed from then on).
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    pub state: KeyState,
    /// The public JWK as JSON.
    pub public_jwk: String,
    pub sealed_private_key: Option<Vec<u8>>,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
    /// For retired keys: when the JWKS may drop it.
    pub publish_until: Option<i64>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("state", &self.state)
            .field("created_at", &self.created_at)
            .field("activated_at", &self.activated_at)
            .field("retired_at", &self.retired_at)
            .field("publish_until", &self.publish_until)
            .finish_non_exhaustive()
    }
}

/// An issued authorization code, stored by its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub code_hash: Vec<u8>,
    pub client_id: ClientId,
    pub account: AccountName,
    pub user_id: UserId,
    pub redirect_uri: String,
    /// Whether the authorization request named the redirect URI (then the token request must repeat it).
    pub redirect_uri_explicit: bool,
    pub scope: ScopeSet,
    pub code_challenge: Option<String>,
    /// The grant the exchange will create; known up front so a replayed code can revoke it.
    pub grant_id: String,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
}

/// An authorization grant: what a user allowed an app. Refresh tokens and access tokens belong to it;
/// revoking it revokes them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub client_id: ClientId,
    pub account: AccountName,
    pub user_id: UserId,
    pub scope: ScopeSet,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: Vec<u8>,
    pub grant_id: String,
    pub scope: ScopeSet,
    pub created_at: i64,
    pub expires_at: i64,
    /// Set when it was exchanged for a successor; presenting it again after the grace window is reuse.
    pub rotated_at: Option<i64>,
}

/// An API key with a secret: a server-side integration's credential, exchanged for access tokens at
/// `POST /auth`. It acts as one user of its account, or as the account itself (a service key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub account: AccountName,
    pub name: String,
    /// `None`: a service key acting as the account.
    pub user_id: Option<UserId>,
    pub scopes: ScopeSet,
    pub status: KeyStatus,
    pub secret: StoredSecret,
    pub previous_secret: Option<StoredSecret>,
    /// Set when the key may sign JWT assertions.
    pub assertion: Option<AssertionKey>,
    pub created_at: i64,
    pub updated_at: i64,
    pub revoked_at: Option<i64>,
}

/// One sign-in with an API key: the tokens of a refresh chain share it, and it ends at `expires_at`
/// (the maximum session length) however often the token is refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySession {
    pub id: String,
    pub key_id: ApiKeyId,
    /// Set when the session was opened with a domain key; its tokens are bound to `origin`.
    pub domain_key_id: Option<DomainKeyId>,
    pub origin: Option<String>,
    pub account: AccountName,
    pub user_id: Option<UserId>,
    pub scope: ScopeSet,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// A security event: who did what to which credential. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Assigned by the store, increasing.
    pub id: i64,
    pub at: i64,
    /// The account the event concerns, when it concerns one.
    pub account: Option<AccountName>,
    /// Who acted: `admin_token:adm_…`, `cli`, `system`, `user:usr_…`, `api_key:kgk_…`.
    pub actor: String,
    /// What happened, `noun.verb`: `app.created`, `api_key.revoked`, `account.suspended`…
    pub action: String,
    /// What it happened to: a client id, key id, user id, account name.
    pub target: String,
    /// Further facts as a JSON object.
    pub details: String,
}

/// A domain key: the browser-side credential. Public by design (it ships in web pages), so it is only
/// good from the web origins it lists, and only through the API key it is bound to, whose subject it
/// acts as with at most its own scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainKey {
    pub id: DomainKeyId,
    pub account: AccountName,
    pub api_key_id: ApiKeyId,
    pub name: String,
    /// Origin patterns (`https://shop.example.com`, `https://*.example.com`).
    pub origins: Vec<String>,
    pub scopes: ScopeSet,
    pub status: KeyStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub revoked_at: Option<i64>,
}

/// A legacy static key (Infusionsoft's "encrypted key"): it authenticates every call by itself, with no
/// token exchange, acting as its account with full access. Deprecated: new ones are off by default,
/// existing ones keep working until revoked, and every use is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyKey {
    pub id: LegacyKeyId,
    pub account: AccountName,
    pub name: String,
    /// The keyed hash of the key itself; it is looked up by this hash.
    pub secret: StoredSecret,
    pub status: KeyStatus,
    pub use_count: i64,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub revoked_at: Option<i64>,
}
