//! The scope registry: the one place that knows which scopes exist.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::InvalidInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "contacts.read")]
    ContactsRead,
    #[serde(rename = "contacts.write")]
    ContactsWrite,
    #[serde(rename = "hooks")]
    Hooks,
    #[serde(rename = "impersonate")]
    Impersonate,
    /// Everything; what Infusionsoft-era clients ask for.
    #[serde(rename = "full")]
    Full,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::ContactsRead,
        Scope::ContactsWrite,
        Scope::Hooks,
        Scope::Impersonate,
        Scope::Full,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::ContactsRead => "contacts.read",
            Scope::ContactsWrite => "contacts.write",
            Scope::Hooks => "hooks",
            Scope::Impersonate => "impersonate",
            Scope::Full => "full",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Scope::ContactsRead => "Read contacts and their email status",
            Scope::ContactsWrite => "Create, change and delete contacts and opt emails in or out",
            Scope::Hooks => "Manage REST Hook subscriptions",
            Scope::Impersonate => "Act as another user of the same account",
            Scope::Full => "Full access to everything the account can do",
        }
    }

    pub fn parse(v: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == v)
    }

    /// Scopes a member (non-admin) user can never hold, whatever an app asks for.
    pub fn requires_admin(self) -> bool {
        matches!(self, Scope::Impersonate)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, written on the wire as a space-separated list (RFC 6749 §3.3). A bit per scope of
/// [`Scope::ALL`]: every authenticated request builds one, and a bit set costs no allocation.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(u8);

fn bit(s: Scope) -> u8 {
    1 << (s as u8)
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl ScopeSet {
    pub fn all() -> Self {
        Self::from_scopes(Scope::ALL)
    }

    /// What apps and keys may request unless configured otherwise: every scope a member could grant.
    /// Neither `impersonate` nor `full` (which contains it) is given by default.
    pub fn member_default() -> Self {
        Self::from_scopes([Scope::ContactsRead, Scope::ContactsWrite, Scope::Hooks])
    }

    /// Parses a space-separated list; unknown scopes are an error naming them.
    pub fn parse(v: &str) -> Result<Self, InvalidInput> {
        let mut set = 0;
        let mut unknown = Vec::new();
        for part in v.split(' ').filter(|p| !p.is_empty()) {
            match Scope::parse(part) {
                Some(s) => set |= bit(s),
                None => unknown.push(part),
            }
        }
        if unknown.is_empty() {
            Ok(Self(set))
        } else {
            Err(InvalidInput::new(
                "scope",
                format!("unknown scope: {}", unknown.join(", ")),
            ))
        }
    }

    pub fn from_scopes(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self(scopes.into_iter().fold(0, |set, s| set | bit(s)))
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// In the order of [`Scope::ALL`].
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        Scope::ALL.into_iter().filter(|s| self.contains(*s))
    }

    pub fn contains(&self, s: Scope) -> bool {
        self.0 & bit(s) != 0
    }

    /// Whether a holder of this set may do what `required` guards (`full` implies every scope).
    pub fn permits(&self, required: Scope) -> bool {
        self.contains(required) || self.contains(Scope::Full)
    }

    /// Whether every scope of `other` is permitted by this set.
    pub fn covers(&self, other: &ScopeSet) -> bool {
        other.iter().all(|s| self.permits(s))
    }

    /// The scopes of `self` that `allowed` permits.
    pub fn restricted_to(&self, allowed: &ScopeSet) -> ScopeSet {
        Self::from_scopes(self.iter().filter(|s| allowed.permits(*s)))
    }

    /// The scope a client asked for (`None` or empty: all of `ceiling`), refused if it names unknown
    /// scopes or reaches beyond `ceiling` (RFC 6749 §3.3, `invalid_scope`).
    pub fn resolve_request(requested: Option<&str>, ceiling: &ScopeSet) -> Result<ScopeSet, InvalidInput> {
        let asked = ScopeSet::parse(requested.unwrap_or_default())?;
        if asked.is_empty() {
            return Ok(ceiling.clone());
        }
        if !ceiling.covers(&asked) {
            return Err(InvalidInput::new("scope", format!("may only include: {ceiling}")));
        }
        Ok(asked)
    }

    pub fn without(&self, pred: impl Fn(Scope) -> bool) -> ScopeSet {
        Self::from_scopes(self.iter().filter(|s| !pred(*s)))
    }
}

/// Room for every scope at once, space-separated: checked when this compiles.
const WIRE_MAX: usize = 64;
const _: () = {
    let mut len = 0;
    let mut i = 0;
    while i < Scope::ALL.len() {
        len += Scope::ALL[i].as_str().len() + 1;
        i += 1;
    }
    assert!(len <= WIRE_MAX);
};

impl ScopeSet {
    /// The wire form, written into `buf` rather than through `fmt`: every token issued and every
    /// `/v1/me` writes one, and the formatting machinery costs several times the copy.
    fn wire<'b>(&self, buf: &'b mut [u8; WIRE_MAX]) -> &'b str {
        let mut len = 0;
        for s in self.iter() {
            let name = s.as_str().as_bytes();
            if len > 0 {
                buf[len] = b' ';
                len += 1;
            }
            buf[len..len + name.len()].copy_from_slice(name);
            len += name.len();
        }
        // Scope names and spaces only: always UTF-8.
        std::str::from_utf8(&buf[..len]).unwrap_or_default()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire(&mut [0; WIRE_MAX]))
    }
}

impl Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.wire(&mut [0; WIRE_MAX]))
    }
}

impl<'de> Deserialize<'de> for ScopeSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ScopeSet::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let s = ScopeSet::parse("contacts.write  contacts.read").unwrap();
        assert_eq!(s.to_string(), "contacts.read contacts.write");
        let err = ScopeSet::parse("contacts.read admin root").unwrap_err();
        assert!(err.message.contains("admin, root"));
        assert!(ScopeSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn every_set_prints_its_scopes_in_order_and_parses_back() {
        for bits in 0..(1u8 << Scope::ALL.len()) {
            let set = ScopeSet(bits);
            let joined: Vec<&str> = set.iter().map(Scope::as_str).collect();
            assert_eq!(set.to_string(), joined.join(" "), "bits {bits:#b}");
            assert_eq!(
                serde_json::to_string(&set).unwrap(),
                format!("\"{}\"", joined.join(" "))
            );
            assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
        }
        assert_eq!(
            ScopeSet::all().to_string(),
            "contacts.read contacts.write hooks impersonate full"
        );
    }

    #[test]
    fn full_permits_everything() {
        let full = ScopeSet::parse("full").unwrap();
        assert!(full.permits(Scope::Hooks));
        assert!(full.covers(&ScopeSet::all()));
        let read = ScopeSet::parse("contacts.read").unwrap();
        assert!(!read.permits(Scope::ContactsWrite));
        let wanted = ScopeSet::parse("contacts.read contacts.write").unwrap();
        assert_eq!(wanted.restricted_to(&read).to_string(), "contacts.read");
        assert_eq!(wanted.restricted_to(&full), wanted);
    }

    #[test]
    fn resolve_request_within_ceiling() {
        let ceiling = ScopeSet::parse("contacts.read hooks").unwrap();
        assert_eq!(ScopeSet::resolve_request(None, &ceiling).unwrap(), ceiling);
        assert_eq!(ScopeSet::resolve_request(Some(" "), &ceiling).unwrap(), ceiling);
        assert_eq!(
            ScopeSet::resolve_request(Some("hooks"), &ceiling)
                .unwrap()
                .to_string(),
            "hooks"
        );
        assert!(ScopeSet::resolve_request(Some("contacts.write"), &ceiling).is_err());
        assert!(ScopeSet::resolve_request(Some("bogus"), &ceiling).is_err());
    }
}
