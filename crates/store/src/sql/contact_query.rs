//! Listing contacts: a [`ContactQuery`] translated into one SQL text for both backends. Only column
//! names and `$n` placeholders are ever written into the text; every value is bound.

use keygate_core::contact::{ContactOrder, FieldMatch, OrderDirection, OrderField};
use keygate_core::email::normalize;
use keygate_core::ids::AccountName;

use super::contact_rows::{contact_columns, ContactRow};
use super::SqlStore;
use crate::{ContactColumn, ContactPage, ContactQuery, Result};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Text(String),
    Int(i64),
}

/// A `WHERE` clause and the values of its placeholders, `$1` first.
#[derive(Debug, Clone)]
struct Clause {
    sql: String,
    args: Vec<Arg>,
}

impl Clause {
    /// Adds a value and returns its placeholder.
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    fn and(&mut self, condition: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
    }
}

/// The column a filter reads, and whether it holds integers (the others hold text).
fn column(c: ContactColumn) -> (&'static str, bool) {
    use ContactColumn as C;
    match c {
        C::Id => ("id", true),
        C::GivenName => ("given_name", false),
        C::MiddleName => ("middle_name", false),
        C::FamilyName => ("family_name", false),
        C::Company => ("company", false),
        C::JobTitle => ("job_title", false),
        C::Email1 => ("email1", false),
        C::Email2 => ("email2", false),
        C::Email3 => ("email3", false),
        C::Phone1 => ("phone1", false),
        C::Locality => ("locality", false),
        C::Region => ("region", false),
        C::PostalCode => ("postal_code", false),
        C::CountryCode => ("country_code", false),
        C::Source => ("source", false),
        C::CreatedAt => ("created_at", true),
        C::UpdatedAt => ("updated_at", true),
    }
}

/// The condition of one filter, as [`FieldMatch::matches`] decides: case-insensitive text, `%` the only
/// wildcard, and empty fields matching only `Null`.
fn condition(w: &mut Clause, c: ContactColumn, m: &FieldMatch) -> String {
    let (col, integer) = column(c);
    match (m, integer) {
        (FieldMatch::Null, false) => format!("({col} IS NULL OR {col} = '')"),
        // Never true: the integer columns are never empty.
        (FieldMatch::Null, true) => format!("{col} IS NULL"),
        (FieldMatch::Exact(v), true) => match v.parse::<i64>() {
            Ok(n) => format!("{col} = {}", w.arg(Arg::Int(n))),
            Err(_) => "1 = 0".to_owned(),
        },
        (FieldMatch::Exact(v), false) => format!("LOWER({col}) = LOWER({})", w.arg(Arg::Text(v.clone()))),
        (FieldMatch::Like(_), true) => {
            let p = w.arg(Arg::Text(m.like_pattern().unwrap_or_default()));
            format!("CAST({col} AS TEXT) LIKE {p} ESCAPE '\\'")
        }
        (FieldMatch::Like(_), false) => {
            let p = w.arg(Arg::Text(m.like_pattern().unwrap_or_default()));
            format!("LOWER({col}) LIKE LOWER({p}) ESCAPE '\\'")
        }
    }
}

fn where_clause(account: &AccountName, q: &ContactQuery) -> Clause {
    let mut w = Clause {
        sql: "WHERE account = $1".to_owned(),
        args: vec![Arg::Text(account.as_str().to_owned())],
    };
    for (c, m) in &q.filters {
        let cond = condition(&mut w, *c, m);
        w.and(&cond);
    }
    if let Some(email) = &q.email {
        let p = w.arg(Arg::Text(normalize(email)));
        w.and(&format!(
            "(email1_norm = {p} OR email2_norm = {p} OR email3_norm = {p})"
        ));
    }
    if let Some(since) = q.updated_since {
        let p = w.arg(Arg::Int(since));
        w.and(&format!("updated_at >= {p}"));
    }
    if let Some(until) = q.updated_until {
        let p = w.arg(Arg::Int(until));
        w.and(&format!("updated_at < {p}"));
    }
    w
}

/// `ORDER BY` as [`ContactOrder::compare`]: empty keys first ascending (an explicit flag, so that both
/// backends agree whatever their NULL order), then the key (Rust-folded shadow columns, compared byte by
/// byte), then id, all in the same direction.
fn order_by(o: ContactOrder) -> String {
    let dir = match o.direction {
        OrderDirection::Ascending => "ASC",
        OrderDirection::Descending => "DESC",
    };
    let keys: &[&str] = match o.field {
        OrderField::Id => &[],
        OrderField::DateCreated => &["created_at"],
        OrderField::LastUpdated => &["updated_at"],
        OrderField::Email => &["CASE WHEN sort_email IS NULL THEN 0 ELSE 1 END", "sort_email"],
        OrderField::Name => &[
            "CASE WHEN sort_family_name IS NULL THEN 0 ELSE 1 END",
            "sort_family_name",
            "CASE WHEN sort_given_name IS NULL THEN 0 ELSE 1 END",
            "sort_given_name",
        ],
    };
    let keys: Vec<String> = keys.iter().chain(&["id"]).map(|k| format!("{k} {dir}")).collect();
    keys.join(", ")
}

/// Binds every value of `$args` (a `&[Arg]`) to `$query`, in order.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::Int(n) => q.bind(*n),
            };
        }
        q
    }};
}

pub(super) async fn list(db: &SqlStore, account: &AccountName, q: &ContactQuery) -> Result<ContactPage> {
    let w = where_clause(account, q);
    let count_sql = format!("SELECT COUNT(*) FROM contacts {}", w.sql);
    let mut page = w.clone();
    let limit = page.arg(Arg::Int(i64::from(q.limit)));
    let offset = page.arg(Arg::Int(i64::try_from(q.offset).unwrap_or(i64::MAX)));
    let list_sql = format!(
        "SELECT {} FROM contacts {} ORDER BY {} LIMIT {limit} OFFSET {offset}",
        contact_columns!(),
        page.sql,
        order_by(q.order)
    );
    let (total, rows) = dispatch!(db, |pool| {
        let total = bind_args!(sqlx::query_scalar::<_, i64>(&count_sql), &w.args)
            .fetch_one(pool)
            .await?;
        let rows = bind_args!(sqlx::query_as::<_, ContactRow>(&list_sql), &page.args)
            .fetch_all(pool)
            .await?;
        (total, rows)
    });
    Ok(ContactPage {
        contacts: rows.into_iter().map(TryFrom::try_from).collect::<Result<_>>()?,
        total: u64::try_from(total).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_never_written() {
        let account = AccountName::parse("ab123").unwrap();
        let q = ContactQuery {
            filters: vec![
                (ContactColumn::GivenName, FieldMatch::Exact("x' OR 1=1 --".into())),
                (ContactColumn::Id, FieldMatch::Exact("7".into())),
                (ContactColumn::Id, FieldMatch::Exact("seven".into())),
                (ContactColumn::Company, FieldMatch::Like("a_b%".into())),
                (ContactColumn::Locality, FieldMatch::Null),
            ],
            email: Some(" Ann@X.io ".into()),
            updated_since: Some(5),
            ..ContactQuery::default()
        };
        let w = where_clause(&account, &q);
        assert_eq!(
            w.sql,
            "WHERE account = $1 AND LOWER(given_name) = LOWER($2) AND id = $3 AND 1 = 0 \
             AND LOWER(company) LIKE LOWER($4) ESCAPE '\\' AND (locality IS NULL OR locality = '') \
             AND (email1_norm = $5 OR email2_norm = $5 OR email3_norm = $5) AND updated_at >= $6"
        );
        assert_eq!(
            w.args,
            [
                Arg::Text("ab123".into()),
                Arg::Text("x' OR 1=1 --".into()),
                Arg::Int(7),
                Arg::Text("a\\_b%".into()),
                Arg::Text("ann@x.io".into()),
                Arg::Int(5),
            ]
        );
    }

    #[test]
    fn orders_end_with_the_id() {
        let order = |field, direction| order_by(ContactOrder { field, direction });
        assert_eq!(order(OrderField::Id, OrderDirection::Descending), "id DESC");
        assert_eq!(
            order(OrderField::LastUpdated, OrderDirection::Ascending),
            "updated_at ASC, id ASC"
        );
        assert!(
            order(OrderField::Name, OrderDirection::Descending).ends_with("sort_given_name DESC, id DESC")
        );
    }
}
