//! XML-RPC, Infusionsoft-compatible (`POST /xmlrpc`, `/api/xmlrpc`, `/crm/xmlrpc/v1`): existing clients
//! work unmodified, with the same contacts, credentials and scopes as REST.
//!
//! The first parameter of every call is the credential: a legacy key or an access token. Newer clients
//! send `Authorization: Bearer` (or Basic, or `X-Legacy-Key`) and a placeholder there; a header then wins
//! and the parameter is ignored. Older OAuth-era clients put the token in an `access_token` query
//! parameter, which also wins (and, like every query string, never reaches a log line).

mod contacts;
mod email;
mod fault;
mod params;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use keygate_lib::tokens::Principal;
use keygate_xmlrpc::{Limits, Value};

use crate::caller;
use crate::client_addr::ClientAddr;
use crate::routes::table::Routes;
use crate::state::AppState;
use fault::Fault;
use params::Params;

/// Where the endpoint is served; the OpenAPI document describes the first and copies it to the others.
pub const PATHS: [&str; 3] = ["/xmlrpc", "/api/xmlrpc", "/crm/xmlrpc/v1"];

pub fn router() -> Routes {
    PATHS
        .iter()
        .fold(Routes::new(), |routes, path| routes.post(path, endpoint))
}

/// Every method served, for `system.listMethods`.
const METHODS: &[&str] = &[
    "APIEmailService.getOptStatus",
    "APIEmailService.optIn",
    "APIEmailService.optOut",
    "ContactService.add",
    "ContactService.addToGroup",
    "ContactService.addWithDupCheck",
    "ContactService.delete",
    "ContactService.findByEmail",
    "ContactService.load",
    "ContactService.removeFromGroup",
    "ContactService.update",
    "DataService.add",
    "DataService.count",
    "DataService.delete",
    "DataService.findByField",
    "DataService.load",
    "DataService.query",
    "DataService.update",
    "system.listMethods",
    "system.multicall",
];

/// At most this many calls in one `system.multicall`.
const MAX_MULTICALL: usize = 100;

/// How the calls of one request authenticate.
struct Session<'a> {
    s: &'a AppState,
    headers: &'a HeaderMap,
    addr: Option<std::net::IpAddr>,
    /// The credential of a header or the `access_token` query parameter, which replaces the key
    /// parameter of every call.
    fixed: Option<Result<Arc<Principal>, Fault>>,
    used_legacy_key: AtomicBool,
}

impl Session<'_> {
    async fn principal(&self, key: Option<&Value>) -> Result<Arc<Principal>, Fault> {
        let p = match (&self.fixed, key) {
            (Some(fixed), _) => fixed.clone()?,
            (None, Some(Value::String(k))) if k.starts_with("kglk_") => {
                self.used_legacy_key.store(true, Ordering::Relaxed);
                caller::from_legacy_key(self.s, k, self.addr).await?
            }
            (None, Some(Value::String(token))) => {
                caller::from_token(self.s, token.trim().as_bytes(), self.headers).await?
            }
            (None, _) => {
                return Err(Fault::invalid_key(
                    "The first parameter must be your key: a legacy key or an access token",
                ))
            }
        };
        caller::charge(self.s, &p)?;
        Ok(p)
    }
}

/// The XML-RPC endpoint.
///
/// Infusionsoft-compatible XML-RPC: `ContactService.*`, `DataService.*` (table `Contact`),
/// `APIEmailService.*`, `system.listMethods` and `system.multicall`. The first parameter of every call is
/// the credential (a legacy key or an access token) unless a header carries one (`Authorization`,
/// `X-Legacy-Key`) or the query has `access_token`; then the parameter is a placeholder. Every answer,
/// faults included, is 200 `text/xml`; answers to legacy keys carry `Deprecation` (and `Sunset`).
#[utoipa::path(
    post,
    path = "/xmlrpc",
    tag = "xmlrpc",
    operation_id = "xmlrpc",
    params(("access_token" = Option<String>, Query, description = "An access token, as older OAuth-era clients send it")),
    request_body(content = String, content_type = "text/xml", description = "An XML-RPC `methodCall`",
        example = json!("<?xml version=\"1.0\"?><methodCall><methodName>ContactService.load</methodName><params><param><value><string>KEY</string></value></param><param><value><int>42</int></value></param><param><value><array><data><value><string>FirstName</string></value></data></array></value></param></params></methodCall>")),
    security(("bearer" = []), ("basic" = []), ("legacyKey" = []), ()),
    responses((status = 200, description = "An XML-RPC `methodResponse`: the result, or a fault (`faultCode`, `faultString`)", body = String, content_type = "text/xml"))
)]
pub(crate) async fn endpoint(
    State(s): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let call = match keygate_xmlrpc::parse_call(&body, &Limits::default()) {
        Ok(call) => call,
        Err(e) => return reply(&s, Err(Fault::parse(e)), false),
    };
    let fixed = match caller::from_headers(&s, &headers, addr).await {
        Some(r) => Some(r.map_err(Fault::from)),
        None => match query_token(&uri) {
            Some(token) => Some(
                caller::from_token(&s, token.as_bytes(), &headers)
                    .await
                    .map_err(Fault::from),
            ),
            None => None,
        },
    };
    let session = Session {
        s: &s,
        headers: &headers,
        addr,
        fixed,
        used_legacy_key: AtomicBool::new(false),
    };
    let result = if call.method == "system.multicall" {
        multicall(&session, &call.params).await
    } else {
        run(&session, &call.method, &call.params).await
    };
    reply(&s, result, session.used_legacy_key.load(Ordering::Relaxed))
}

fn query_token(uri: &Uri) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query()?).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v)
}

/// Faults travel with 200, as XML-RPC has them.
fn reply(s: &AppState, result: Result<Value, Fault>, legacy: bool) -> Response {
    let body = match result {
        Ok(v) => keygate_xmlrpc::response(&v),
        Err(f) => keygate_xmlrpc::fault(f.code, &f.message),
    };
    let mut res = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        body,
    )
        .into_response();
    if legacy {
        res.headers_mut().extend(caller::deprecation_headers(s));
    }
    res
}

async fn run(session: &Session<'_>, method: &str, params: &[Value]) -> Result<Value, Fault> {
    if method == "system.listMethods" {
        return Ok(Value::Array(
            METHODS.iter().map(|m| Value::String((*m).into())).collect(),
        ));
    }
    let Some((service, name)) = method.split_once('.') else {
        return Err(Fault::no_such_method(method));
    };
    if !METHODS.contains(&method) {
        return Err(Fault::no_such_method(method));
    }
    let p = session.principal(params.first()).await?;
    let args = Params {
        method,
        values: params.get(1..).unwrap_or_default(),
    };
    let kg = &session.s.keygate;
    match service {
        "ContactService" => contacts::contact_service(kg, &p, name, args).await,
        "DataService" => contacts::data_service(kg, &p, name, args).await,
        "APIEmailService" => email::email_service(kg, &p, name, args).await,
        _ => Err(Fault::no_such_method(method)),
    }
}

/// `system.multicall`: an array of `{methodName, params}`; each answer is `[value]` or a fault struct.
async fn multicall(session: &Session<'_>, params: &[Value]) -> Result<Value, Fault> {
    let calls = match params {
        [Value::Array(calls)] => calls,
        _ => {
            return Err(Fault::invalid_parameter(
                "system.multicall takes one array of calls",
            ))
        }
    };
    if calls.len() > MAX_MULTICALL {
        return Err(Fault::invalid_parameter(format!(
            "system.multicall takes at most {MAX_MULTICALL} calls"
        )));
    }
    let mut answers = Vec::with_capacity(calls.len());
    for call in calls {
        let method = call.get("methodName").and_then(Value::as_str);
        let args = call.get("params").and_then(Value::as_array);
        let result = match (method, args) {
            (Some("system.multicall"), _) => {
                Err(Fault::invalid_parameter("system.multicall cannot be nested"))
            }
            (Some(m), Some(a)) => Box::pin(run(session, m, a)).await,
            _ => Err(Fault::invalid_parameter(
                "each call of system.multicall is a struct with methodName and params",
            )),
        };
        answers.push(match result {
            Ok(v) => Value::Array(vec![v]),
            Err(f) => Value::Struct(vec![
                ("faultCode".into(), Value::Int(i64::from(f.code))),
                ("faultString".into(), Value::String(f.message)),
            ]),
        });
    }
    Ok(Value::Array(answers))
}
