//! How contacts are searched and ordered: the matching rules of XML-RPC `DataService.query` and the
//! REST `order` parameter, as data the store can evaluate in memory or push into SQL.

use std::cmp::Ordering;

use super::model::Contact;
use crate::InvalidInput;

/// One value of a query struct. Matching is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldMatch {
    /// The whole value, as given.
    Exact(String),
    /// `%` matches any run of characters (including none); everything else is literal.
    Like(String),
    /// `~null~` (or an empty value): the field is empty.
    Null,
}

impl FieldMatch {
    pub fn parse(v: &str) -> Self {
        if v.is_empty() || v.eq_ignore_ascii_case("~null~") {
            FieldMatch::Null
        } else if v.contains('%') {
            FieldMatch::Like(v.to_owned())
        } else {
            FieldMatch::Exact(v.to_owned())
        }
    }

    /// Whether a field holding `value` (`None` = empty) matches. Empty fields match only `Null`.
    pub fn matches(&self, value: Option<&str>) -> bool {
        let value = value.filter(|v| !v.is_empty());
        match (self, value) {
            (FieldMatch::Null, v) => v.is_none(),
            (_, None) => false,
            (FieldMatch::Exact(want), Some(v)) => want.to_lowercase() == v.to_lowercase(),
            (FieldMatch::Like(p), Some(v)) => wildcard(&p.to_lowercase(), &v.to_lowercase()),
        }
    }

    /// The pattern for `LOWER(column) LIKE LOWER(?) ESCAPE '\'`: literal `\`, `_` (and `%` of an exact
    /// value) are escaped, a wildcard `%` is kept. Case is left alone: the caller folds both sides in
    /// SQL, since SQLite's LIKE folds ASCII only and PostgreSQL's not at all. `Null` has no pattern: it
    /// is `column IS NULL OR column = ''`.
    pub fn like_pattern(&self) -> Option<String> {
        let (text, wildcard) = match self {
            FieldMatch::Null => return None,
            FieldMatch::Exact(v) => (v, false),
            FieldMatch::Like(p) => (p, true),
        };
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c == '\\' || c == '_' || (c == '%' && !wildcard) {
                out.push('\\');
            }
            out.push(c);
        }
        Some(out)
    }
}

/// `%`-wildcard match of already folded strings.
fn wildcard(pattern: &str, value: &str) -> bool {
    let mut parts = pattern.split('%');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = parts.collect();
    let Some(last) = parts.pop() else {
        return rest.is_empty(); // no `%`: the prefix had to be everything
    };
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.ends_with(last)
}

wire_enum!(
    /// REST `order`.
    OrderField, "order" {
        Id = "id", DateCreated = "date_created", LastUpdated = "last_updated", Email = "email",
        Name = "name",
    }
);
wire_enum!(
    /// REST `order_direction`.
    OrderDirection, "order_direction" { Ascending = "ASCENDING", Descending = "DESCENDING" }
);

/// A listing's order. Ties (and empty values, which sort first ascending) are broken by id in the
/// same direction, so pages never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactOrder {
    pub field: OrderField,
    pub direction: OrderDirection,
}

impl Default for ContactOrder {
    fn default() -> Self {
        Self {
            field: OrderField::Id,
            direction: OrderDirection::Ascending,
        }
    }
}

impl ContactOrder {
    /// From the query parameters, case-insensitively; either missing takes the default (`id`,
    /// `ASCENDING`).
    pub fn parse(order: Option<&str>, direction: Option<&str>) -> Result<Self, InvalidInput> {
        let mut out = Self::default();
        if let Some(o) = order {
            out.field = OrderField::parse(&o.trim().to_ascii_lowercase())?;
        }
        if let Some(d) = direction {
            out.direction = OrderDirection::parse(&d.trim().to_ascii_uppercase())?;
        }
        Ok(out)
    }

    /// In-memory equivalent of the store's `ORDER BY`: `email` is the primary address and `name` is
    /// family then given name, both lowercased.
    pub fn compare(&self, a: &Contact, b: &Contact) -> Ordering {
        let by = match self.field {
            OrderField::Id => Ordering::Equal,
            OrderField::DateCreated => a.created_at.cmp(&b.created_at),
            OrderField::LastUpdated => a.updated_at.cmp(&b.updated_at),
            OrderField::Email => email_key(a).cmp(&email_key(b)),
            OrderField::Name => name_key(a).cmp(&name_key(b)),
        };
        let ord = by.then(a.id.cmp(&b.id));
        match self.direction {
            OrderDirection::Ascending => ord,
            OrderDirection::Descending => ord.reverse(),
        }
    }
}

fn email_key(c: &Contact) -> Option<String> {
    c.primary_email().map(crate::email::normalize)
}

fn name_key(c: &Contact) -> (Option<String>, Option<String>) {
    let fold = |v: &Option<String>| v.as_deref().map(str::to_lowercase);
    (fold(&c.family_name), fold(&c.given_name))
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
