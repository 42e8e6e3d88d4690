//! `GET /v1/contacts`: filters, order, and `limit`/`offset` paging with `next`/`previous` links.

use axum::http::Uri;
use keygate_core::contact::{ContactOrder, FieldMatch};
use keygate_core::time::parse_rfc3339;
use keygate_core::InvalidInput;
use keygate_store::{ContactColumn, ContactQuery};

use crate::error::Problem;

const PARAMS: &[&str] = &[
    "limit",
    "offset",
    "email",
    "given_name",
    "family_name",
    "since",
    "until",
    "order",
    "order_direction",
];

/// The query parameters, for the OpenAPI document (the handler reads them by name from [`PARAMS`]).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListQuery {
    /// Page size, 1 to 1000; default 50.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// How many matching contacts to skip; default 0.
    offset: Option<u64>,
    /// Contacts holding this address in any slot (case-insensitive).
    email: Option<String>,
    /// Case-insensitive; `%` is a wildcard; `~null~` (or empty) matches an empty name.
    given_name: Option<String>,
    /// As `given_name`.
    family_name: Option<String>,
    /// Updated at or after: RFC 3339 (`2026-11-25T10:20:30Z`) or Unix seconds.
    since: Option<String>,
    /// Updated before: RFC 3339 or Unix seconds.
    until: Option<String>,
    /// Default `id`.
    #[param(inline)]
    order: Option<keygate_core::contact::OrderField>,
    /// Default `ASCENDING`.
    #[param(inline)]
    order_direction: Option<keygate_core::contact::OrderDirection>,
}

/// The query string as a contact query. Unknown or repeated parameters are refused by name, so a typo
/// never silently widens a sync.
pub fn parse(query: Option<&str>) -> Result<ContactQuery, Problem> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|_| Problem::bad_request("the query string is not valid form encoding"))?;
    let mut seen = Vec::new();
    for (name, _) in &pairs {
        if !PARAMS.contains(&name.as_str()) {
            return Err(Problem::bad_request(format!(
                "unknown query parameter {name:?}; known: {}",
                PARAMS.join(", ")
            )));
        }
        if seen.contains(name) {
            return Err(Problem::bad_request(format!(
                "query parameter {name:?} is repeated"
            )));
        }
        seen.push(name.clone());
    }
    let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let mut q = ContactQuery::default();
    if let Some(v) = get("limit") {
        q.limit = number("limit", v)?;
    }
    if let Some(v) = get("offset") {
        q.offset = number("offset", v)?;
    }
    q.email = get("email").map(keygate_core::email::normalize);
    for (param, column) in [
        ("given_name", ContactColumn::GivenName),
        ("family_name", ContactColumn::FamilyName),
    ] {
        if let Some(v) = get(param) {
            q.filters.push((column, FieldMatch::parse(v)));
        }
    }
    q.updated_since = get("since").map(|v| time("since", v)).transpose()?;
    q.updated_until = get("until").map(|v| time("until", v)).transpose()?;
    q.order = ContactOrder::parse(get("order"), get("order_direction"))?;
    Ok(q)
}

fn number<T: std::str::FromStr>(field: &'static str, v: &str) -> Result<T, Problem> {
    v.parse()
        .map_err(|_| InvalidInput::new(field, "must be a non-negative whole number").into())
}

/// RFC 3339 (`2026-11-25T10:20:30Z`) or Unix seconds.
fn time(field: &'static str, v: &str) -> Result<i64, Problem> {
    v.parse::<i64>().ok().or_else(|| parse_rfc3339(v)).ok_or_else(|| {
        InvalidInput::new(
            field,
            "must be an RFC 3339 time such as 2026-11-25T10:20:30Z, or Unix seconds",
        )
        .into()
    })
}

/// The same request at another offset, as an absolute URL under the server's public URL.
pub fn page_link(public_url: &str, uri: &Uri, offset: u64) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    pairs.retain(|(k, _)| k != "offset");
    pairs.push(("offset".into(), offset.to_string()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{public_url}{}?{query}", uri.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unknown_and_repeated_parameters() {
        assert!(parse(Some("limit=5&given_nmae=x"))
            .unwrap_err()
            .detail
            .contains("given_nmae"));
        assert!(parse(Some("limit=5&limit=6"))
            .unwrap_err()
            .detail
            .contains("repeated"));
        let q = parse(Some(
            "limit=5&offset=10&since=2026-11-25T00:00:00Z&email=Ann%40X.io",
        ))
        .unwrap();
        assert_eq!((q.limit, q.offset, q.updated_since), (5, 10, Some(1_795_564_800)));
        assert_eq!(q.email.as_deref(), Some("ann@x.io"));
        assert_eq!(
            parse(Some("until=1700000000")).unwrap().updated_until,
            Some(1_700_000_000)
        );
        assert_eq!(parse(Some("since=yesterday")).unwrap_err().field, Some("since"));
    }

    #[test]
    fn documented_parameters_are_the_parameters() {
        use utoipa::IntoParams;
        let names: Vec<String> = ListQuery::into_params(|| None)
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, PARAMS);
    }

    #[test]
    fn links_keep_the_filters() {
        let uri: Uri = "/crm/rest/v1/contacts?limit=2&given_name=Ann&offset=4"
            .parse()
            .unwrap();
        assert_eq!(
            page_link("https://kg.example", &uri, 6),
            "https://kg.example/crm/rest/v1/contacts?limit=2&given_name=Ann&offset=6"
        );
    }
}
