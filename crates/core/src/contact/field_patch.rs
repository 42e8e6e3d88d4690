//! The tri-state every patchable field carries.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::rules::clean;

/// One field of a patch: absent on the wire = `Keep`, `null` = `Clear`, a value = `Set`. A blank string
/// also clears, since that is how XML-RPC callers empty a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }

    pub(super) fn set(&self) -> Option<&T> {
        match self {
            Patch::Set(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> Patch<Vec<T>> {
    /// `Set` for a non-empty list, `Keep` for an empty one (nothing to merge).
    pub fn unless_empty(v: Vec<T>) -> Self {
        if v.is_empty() {
            Patch::Keep
        } else {
            Patch::Set(v)
        }
    }
}

impl Patch<String> {
    /// Applies to an optional text, cleaning what is set.
    pub(super) fn apply_text(&self, target: &mut Option<String>) {
        match self {
            Patch::Keep => {}
            Patch::Clear => *target = None,
            Patch::Set(v) => *target = clean(v),
        }
    }

    /// The cleaned value being set, if a non-blank one is.
    pub(super) fn value(&self) -> Option<String> {
        self.set().and_then(|v| clean(v))
    }
}

// Absent fields never reach these: `#[serde(default)]` turns them into `Keep`.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Patch::Clear, Patch::Set))
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Set(v) => v.serialize(s),
            Patch::Keep | Patch::Clear => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Deserialize, Serialize)]
    struct Probe {
        #[serde(default, skip_serializing_if = "Patch::is_keep")]
        v: Patch<String>,
    }

    #[test]
    fn absent_null_and_value() {
        let probe = |json: &str| serde_json::from_str::<Probe>(json).unwrap().v;
        assert_eq!(probe("{}"), Patch::Keep);
        assert_eq!(probe(r#"{"v":null}"#), Patch::Clear);
        assert_eq!(probe(r#"{"v":"x"}"#), Patch::Set("x".into()));
        let out = |v| serde_json::to_string(&Probe { v }).unwrap();
        assert_eq!(out(Patch::Keep), "{}");
        assert_eq!(out(Patch::Clear), r#"{"v":null}"#);
        assert_eq!(out(Patch::Set("x".into())), r#"{"v":"x"}"#);
        assert!(Patch::<i64>::Keep.is_keep() && !Patch::<i64>::Clear.is_keep());
        assert_eq!(Patch::Set(3).set(), Some(&3));
        assert_eq!(Patch::<i64>::Clear.set(), None);
    }

    #[test]
    fn text_is_cleaned() {
        let mut target = Some("old".to_owned());
        Patch::Keep.apply_text(&mut target);
        assert_eq!(target.as_deref(), Some("old"));
        Patch::Set(" new ".to_owned()).apply_text(&mut target);
        assert_eq!(target.as_deref(), Some("new"));
        Patch::Set("  ".to_owned()).apply_text(&mut target);
        assert_eq!(target, None, "blank clears");
        target = Some("x".into());
        Patch::Clear.apply_text(&mut target);
        assert_eq!(target, None);
        assert_eq!(Patch::Set(" a ".to_owned()).value().as_deref(), Some("a"));
        assert_eq!(Patch::Set(" ".to_owned()).value(), None);
        assert_eq!(Patch::unless_empty(Vec::<i64>::new()), Patch::Keep);
        assert_eq!(Patch::unless_empty(vec![2]), Patch::Set(vec![2]));
    }
}
