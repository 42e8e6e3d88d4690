//! `keygate admin …`: every command is an admin API call, made in process over the configured database
//! (so it works on a running server's database, SQLite included, with immediate effect), or with
//! `--server URL` to a running server, authenticated by `KEYGATE_ADMIN_TOKEN`.

use std::io::BufRead;

use axum::http::Method;
use clap::{Args, Subcommand};
use keygate_core::model::{AccountStatus, AppStatus, ClientType, RateLimit, Role, UserStatus};
use keygate_lib::api_keys::{AuditFilter, CreateApiKey, SetAssertionKey};
use keygate_lib::domain_keys::CreateDomainKey;
use keygate_lib::legacy::CreateLegacyKey;
use keygate_lib::manage::{CreateAccount, CreateApp, CreateUser, UpdateAccount, UpdateApp, UpdateUser};
use serde::Serialize;
use serde_json::{json, Value};

use crate::output::Output;
use crate::transport::Transport;

type Result<T> = std::result::Result<T, String>;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Print machine-readable JSON
    #[arg(long, global = true)]
    pub json: bool,
    /// Manage a running server through its admin API (with the admin token in KEYGATE_ADMIN_TOKEN)
    /// instead of the configured database
    #[arg(long, global = true, env = "KEYGATE_SERVER", value_name = "URL")]
    pub server: Option<String>,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Accounts (tenants)
    #[command(subcommand)]
    Accounts(AccountCmd),
    /// Users of an account
    #[command(subcommand)]
    Users(UserCmd),
    /// Developer apps (OAuth clients)
    #[command(subcommand)]
    Apps(AppCmd),
    /// Admin API tokens
    #[command(subcommand)]
    Tokens(TokenCmd),
    /// JWT signing keys
    #[command(subcommand)]
    Keys(KeyCmd),
    /// API keys with a secret, for server-side integrations
    #[command(subcommand, name = "api-keys")]
    ApiKeys(ApiKeyCmd),
    /// Legacy static keys (deprecated): usage and revocation
    #[command(subcommand, name = "legacy-keys")]
    LegacyKeys(LegacyKeyCmd),
    /// Domain keys: public, origin-bound keys for browser integrations
    #[command(subcommand, name = "domain-keys")]
    DomainKeys(DomainKeyCmd),
    /// The audit log of security events, newest first
    Audit(AuditArgs),
}

#[derive(Debug, Subcommand)]
pub enum LegacyKeyCmd {
    /// Create one (only while legacy_keys.allow_new is on); the key is shown once
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
    },
    /// The account's legacy keys with their use counts
    List {
        #[arg(long)]
        account: String,
    },
    Revoke {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DomainKeyCmd {
    /// Create a domain key bound to an API key of the account and to web origins
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        /// The API key whose subject it acts as
        #[arg(long, value_name = "KEY_ID")]
        api_key: String,
        /// A web origin it works from (repeatable): https://shop.example.com or https://*.example.com
        #[arg(long = "origin", value_name = "ORIGIN", required = true)]
        origins: Vec<String>,
        /// Space-separated scopes, within the API key's [default: contacts.read]
        #[arg(long)]
        scopes: Option<String>,
    },
    List {
        #[arg(long)]
        account: String,
    },
    Show {
        id: String,
    },
    /// Revoke for good: its tokens stop working and its origins lose CORS access at once
    Revoke {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCmd {
    /// Create a key (its secret is shown once); with --user it acts as that user, else as the account
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_name = "USER_ID")]
        user: Option<String>,
        /// Space-separated scopes the key may grant
        #[arg(long)]
        scopes: Option<String>,
        /// Let the key sign JWT assertions with its secret (HS256)
        #[arg(long)]
        hs256_assertions: bool,
    },
    List {
        #[arg(long)]
        account: String,
    },
    Show {
        id: String,
    },
    /// Register the public key (a JWK file) that verifies the key's JWT assertions
    SetAssertionKey {
        id: String,
        #[arg(long)]
        alg: keygate_core::model::AssertionAlg,
        #[arg(long, value_name = "FILE")]
        jwk: std::path::PathBuf,
    },
    /// Stop the key signing JWT assertions
    ClearAssertionKey {
        id: String,
    },
    /// Issue a new secret (shown once); the old one works for --grace seconds
    Rotate {
        id: String,
        #[arg(long)]
        grace: Option<i64>,
    },
    /// Revoke for good: every token issued through the key stops working at once
    Revoke {
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[arg(long)]
    account: Option<String>,
    /// An action such as api_key.revoked, or a kind such as api_key.
    #[arg(long)]
    action: Option<String>,
    /// Only events older than this id (for paging)
    #[arg(long)]
    before: Option<i64>,
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// Create an account named like ab123
    Create {
        name: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    List,
    Show {
        name: String,
    },
    /// Change the display name
    Rename {
        name: String,
        display_name: String,
    },
    /// Stop every credential of the account at once
    Suspend {
        name: String,
    },
    /// Allow or refuse HTTP Basic (email and password) on the resource APIs for the account's users
    BasicAuth {
        name: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    Activate {
        name: String,
    },
    /// Give the account's credentials their own rate limit, or (`--default`) the server's again
    RateLimit {
        name: String,
        /// Sustained requests a minute for each credential of the account
        #[arg(long, required_unless_present = "default", conflicts_with = "default")]
        per_minute: Option<u32>,
        /// Requests a credential may make at once (defaults to a fifteenth of the minute's, at least 1)
        #[arg(long, requires = "per_minute")]
        burst: Option<u32>,
        #[arg(long)]
        default: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user; the password is read from stdin with --password-stdin, or generated and shown once
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "member")]
        role: Role,
        #[arg(long)]
        password_stdin: bool,
    },
    List {
        #[arg(long)]
        account: String,
    },
    Show {
        id: String,
    },
    SetRole {
        id: String,
        role: Role,
    },
    /// Read a new password from stdin
    SetPassword {
        id: String,
    },
    Suspend {
        id: String,
    },
    Activate {
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct AppFields {
    /// Redirect URI (repeatable); matched exactly
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// Allowed web origin (repeatable), like https://app.example.com
    #[arg(long = "origin", value_name = "ORIGIN")]
    origins: Vec<String>,
    /// Space-separated scopes the app may request
    #[arg(long)]
    scopes: Option<String>,
    /// Access-token lifetime in seconds
    #[arg(long)]
    access_ttl: Option<i64>,
    /// Refresh-token lifetime in seconds
    #[arg(long)]
    refresh_ttl: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum AppCmd {
    /// Register an app; a confidential app's secret is shown once
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "type", default_value = "confidential")]
        client_type: ClientType,
        /// Owning account (needed for client_credentials)
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        fields: AppFields,
    },
    List {
        #[arg(long)]
        owner: Option<String>,
    },
    Show {
        client_id: String,
    },
    /// Change settings; lists given replace the stored ones
    Update {
        client_id: String,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: AppFields,
    },
    Suspend {
        client_id: String,
    },
    Activate {
        client_id: String,
    },
    /// Revoke for good: the app's tokens stop working at once
    Revoke {
        client_id: String,
    },
    /// Issue a new secret (shown once); the old one works for --grace seconds
    RotateSecret {
        client_id: String,
        #[arg(long)]
        grace: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create an admin API token (shown once)
    Create {
        #[arg(long)]
        name: String,
    },
    List,
    Revoke {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    List,
    /// Promote the published next key to signing and publish a new next key
    Rotate,
}

const ACCOUNT_COLUMNS: &[&str] = &["name", "display_name", "status"];
const USER_COLUMNS: &[&str] = &["id", "email", "role", "status"];
const APP_COLUMNS: &[&str] = &[
    "client_id",
    "name",
    "client_type",
    "owner_account",
    "status",
    "secret_last4",
];
const TOKEN_COLUMNS: &[&str] = &["id", "name", "last4", "revoked_at"];
const API_KEY_COLUMNS: &[&str] = &[
    "id",
    "name",
    "acts_as",
    "user_id",
    "scopes",
    "status",
    "secret_last4",
];
const DOMAIN_KEY_COLUMNS: &[&str] = &["id", "name", "api_key_id", "origins", "scopes", "status"];
const LEGACY_KEY_COLUMNS: &[&str] = &["id", "name", "status", "use_count", "last_used_at", "key_last4"];
const AUDIT_COLUMNS: &[&str] = &["id", "at", "actor", "action", "target", "account"];
const KEY_COLUMNS: &[&str] = &["kid", "algorithm", "state", "created_at", "publish_until"];

fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("password: cannot read stdin: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// A request body from one of the admin API's request types.
fn body<T: Serialize>(req: &T) -> Option<Value> {
    serde_json::to_value(req).ok()
}

/// A path segment from user input, percent-encoded so it cannot change the path.
fn seg(s: &str) -> String {
    let encoded = serde_urlencoded::to_string([("", s)]).unwrap_or_default();
    encoded.trim_start_matches('=').replace('+', "%20")
}

/// The admin API's list bodies are `{"<field>": [...]}`.
fn items(v: &Value, field: &str) -> Vec<Value> {
    v[field].as_array().cloned().unwrap_or_default()
}

pub async fn run(t: &Transport, args: AdminArgs) -> Result<()> {
    let out = Output { json: args.json };
    match args.command {
        AdminCommand::Accounts(cmd) => accounts(t, out, cmd).await,
        AdminCommand::Users(cmd) => users(t, out, cmd).await,
        AdminCommand::Apps(cmd) => apps(t, out, cmd).await,
        AdminCommand::Tokens(cmd) => tokens(t, out, cmd).await,
        AdminCommand::Keys(cmd) => keys(t, out, cmd).await,
        AdminCommand::ApiKeys(cmd) => api_keys(t, out, cmd).await,
        AdminCommand::DomainKeys(cmd) => domain_keys(t, out, cmd).await,
        AdminCommand::LegacyKeys(cmd) => legacy_keys(t, out, cmd).await,
        AdminCommand::Audit(args) => audit(t, out, args).await,
    }
}

async fn accounts(t: &Transport, out: Output, cmd: AccountCmd) -> Result<()> {
    let update = |name: &str, req: UpdateAccount| {
        let path = format!("/admin/v1/accounts/{}", seg(name));
        async move { t.call(Method::PATCH, &path, body(&req)).await }
    };
    let status = |s| UpdateAccount {
        status: Some(s),
        ..Default::default()
    };
    let v = match cmd {
        AccountCmd::Create { name, display_name } => {
            let req = CreateAccount { name, display_name };
            t.call(Method::POST, "/admin/v1/accounts", body(&req)).await?
        }
        AccountCmd::List => {
            let v = t.call(Method::GET, "/admin/v1/accounts", None).await?;
            out.table(&items(&v, "accounts"), ACCOUNT_COLUMNS);
            return Ok(());
        }
        AccountCmd::Show { name } => {
            t.call(Method::GET, &format!("/admin/v1/accounts/{}", seg(&name)), None)
                .await?
        }
        AccountCmd::Rename { name, display_name } => {
            let req = UpdateAccount {
                display_name: Some(display_name),
                ..Default::default()
            };
            update(&name, req).await?
        }
        AccountCmd::BasicAuth { name, state } => {
            let req = UpdateAccount {
                basic_auth: Some(state == "on"),
                ..Default::default()
            };
            update(&name, req).await?
        }
        AccountCmd::RateLimit {
            name,
            per_minute,
            burst,
            ..
        } => {
            let rate_limit = per_minute.map(|per_minute| RateLimit {
                per_minute,
                burst: burst.unwrap_or((per_minute / 15).max(1)),
            });
            let req = UpdateAccount {
                rate_limit: Some(rate_limit),
                ..Default::default()
            };
            update(&name, req).await?
        }
        AccountCmd::Suspend { name } => update(&name, status(AccountStatus::Suspended)).await?,
        AccountCmd::Activate { name } => update(&name, status(AccountStatus::Active)).await?,
    };
    out.record(&v);
    Ok(())
}

async fn users(t: &Transport, out: Output, cmd: UserCmd) -> Result<()> {
    let update = |id: &str, req: UpdateUser| {
        let path = format!("/admin/v1/users/{}", seg(id));
        async move { t.call(Method::PATCH, &path, body(&req)).await }
    };
    let status = |s| UpdateUser {
        status: Some(s),
        ..Default::default()
    };
    let v = match cmd {
        UserCmd::Create {
            account,
            email,
            role,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                (read_password()?, false)
            } else {
                (
                    keygate_core::crypto::random_string(
                        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789",
                        16,
                    ),
                    true,
                )
            };
            let req = CreateUser {
                email,
                password: password.clone(),
                role,
            };
            let path = format!("/admin/v1/accounts/{}/users", seg(&account));
            let mut user = t.call(Method::POST, &path, body(&req)).await?;
            if generated {
                user["password"] = Value::String(password);
                out.record(&user);
                out.secret_notice("generated password");
                return Ok(());
            }
            user
        }
        UserCmd::List { account } => {
            let v = t
                .call(
                    Method::GET,
                    &format!("/admin/v1/accounts/{}/users", seg(&account)),
                    None,
                )
                .await?;
            out.table(&items(&v, "users"), USER_COLUMNS);
            return Ok(());
        }
        UserCmd::Show { id } => {
            t.call(Method::GET, &format!("/admin/v1/users/{}", seg(&id)), None)
                .await?
        }
        UserCmd::SetRole { id, role } => {
            let req = UpdateUser {
                role: Some(role),
                ..Default::default()
            };
            update(&id, req).await?
        }
        UserCmd::SetPassword { id } => {
            let req = UpdateUser {
                password: Some(read_password()?),
                ..Default::default()
            };
            update(&id, req).await?
        }
        UserCmd::Suspend { id } => update(&id, status(UserStatus::Suspended)).await?,
        UserCmd::Activate { id } => update(&id, status(UserStatus::Active)).await?,
    };
    out.record(&v);
    Ok(())
}

fn non_empty(v: Vec<String>) -> Option<Vec<String>> {
    (!v.is_empty()).then_some(v)
}

async fn apps(t: &Transport, out: Output, cmd: AppCmd) -> Result<()> {
    let update = |id: &str, req: UpdateApp| {
        let path = format!("/admin/v1/apps/{}", seg(id));
        async move { t.call(Method::PATCH, &path, body(&req)).await }
    };
    let status = |s| UpdateApp {
        status: Some(s),
        ..Default::default()
    };
    let v = match cmd {
        AppCmd::Create {
            name,
            client_type,
            owner,
            fields,
        } => {
            let req = CreateApp {
                name,
                client_type,
                owner_account: owner,
                redirect_uris: fields.redirect_uris,
                allowed_origins: fields.origins,
                allowed_scopes: fields.scopes,
                access_token_ttl: fields.access_ttl,
                refresh_token_ttl: fields.refresh_ttl,
            };
            let created = t.call(Method::POST, "/admin/v1/apps", body(&req)).await?;
            out.record(&created);
            if !created["client_secret"].is_null() {
                out.secret_notice("client_secret");
            }
            return Ok(());
        }
        AppCmd::List { owner } => {
            let query = owner.map(|o| format!("?owner={}", seg(&o))).unwrap_or_default();
            let v = t
                .call(Method::GET, &format!("/admin/v1/apps{query}"), None)
                .await?;
            out.table(&items(&v, "apps"), APP_COLUMNS);
            return Ok(());
        }
        AppCmd::Show { client_id } => {
            t.call(Method::GET, &format!("/admin/v1/apps/{}", seg(&client_id)), None)
                .await?
        }
        AppCmd::Update {
            client_id,
            name,
            fields,
        } => {
            let req = UpdateApp {
                name,
                redirect_uris: non_empty(fields.redirect_uris),
                allowed_origins: non_empty(fields.origins),
                allowed_scopes: fields.scopes,
                access_token_ttl: fields.access_ttl.map(Some),
                refresh_token_ttl: fields.refresh_ttl.map(Some),
                status: None,
            };
            update(&client_id, req).await?
        }
        AppCmd::Suspend { client_id } => update(&client_id, status(AppStatus::Suspended)).await?,
        AppCmd::Activate { client_id } => update(&client_id, status(AppStatus::Active)).await?,
        AppCmd::Revoke { client_id } => update(&client_id, status(AppStatus::Revoked)).await?,
        AppCmd::RotateSecret { client_id, grace } => {
            let path = format!("/admin/v1/apps/{}/rotate-secret", seg(&client_id));
            out.record(
                &t.call(Method::POST, &path, Some(json!({"grace_seconds": grace})))
                    .await?,
            );
            out.secret_notice("client_secret");
            return Ok(());
        }
    };
    out.record(&v);
    Ok(())
}

async fn tokens(t: &Transport, out: Output, cmd: TokenCmd) -> Result<()> {
    match cmd {
        TokenCmd::Create { name } => {
            out.record(
                &t.call(Method::POST, "/admin/v1/tokens", Some(json!({"name": name})))
                    .await?,
            );
            out.secret_notice("admin token secret");
        }
        TokenCmd::List => {
            let v = t.call(Method::GET, "/admin/v1/tokens", None).await?;
            out.table(&items(&v, "tokens"), TOKEN_COLUMNS);
        }
        TokenCmd::Revoke { id } => {
            t.call(Method::DELETE, &format!("/admin/v1/tokens/{}", seg(&id)), None)
                .await?;
            out.done(&format!("revoked admin token {id}"));
        }
    }
    Ok(())
}

async fn keys(t: &Transport, out: Output, cmd: KeyCmd) -> Result<()> {
    let v = match cmd {
        KeyCmd::List => t.call(Method::GET, "/admin/v1/keys", None).await?,
        KeyCmd::Rotate => t.call(Method::POST, "/admin/v1/keys/rotate", None).await?,
    };
    out.table(&items(&v, "keys"), KEY_COLUMNS);
    Ok(())
}

async fn api_keys(t: &Transport, out: Output, cmd: ApiKeyCmd) -> Result<()> {
    let at = |id: &str, rest: &str| format!("/admin/v1/api-keys/{}{rest}", seg(id));
    let v = match cmd {
        ApiKeyCmd::Create {
            account,
            name,
            user,
            scopes,
            hs256_assertions,
        } => {
            let req = CreateApiKey {
                name,
                user_id: user,
                scopes,
                assertion_alg: hs256_assertions.then_some(keygate_core::model::AssertionAlg::HS256),
            };
            let path = format!("/admin/v1/accounts/{}/api-keys", seg(&account));
            out.record(&t.call(Method::POST, &path, body(&req)).await?);
            out.secret_notice("secret");
            return Ok(());
        }
        ApiKeyCmd::List { account } => {
            let v = t
                .call(
                    Method::GET,
                    &format!("/admin/v1/accounts/{}/api-keys", seg(&account)),
                    None,
                )
                .await?;
            out.table(&items(&v, "api_keys"), API_KEY_COLUMNS);
            return Ok(());
        }
        ApiKeyCmd::Show { id } => t.call(Method::GET, &at(&id, ""), None).await?,
        ApiKeyCmd::SetAssertionKey { id, alg, jwk } => {
            let text =
                std::fs::read_to_string(&jwk).map_err(|e| format!("public_key: {}: {e}", jwk.display()))?;
            let public_key = serde_json::from_str(&text).map_err(|e| format!("public_key: not JSON: {e}"))?;
            let req = SetAssertionKey { alg, public_key };
            t.call(Method::PUT, &at(&id, "/assertion-key"), body(&req))
                .await?
        }
        ApiKeyCmd::ClearAssertionKey { id } => {
            t.call(Method::DELETE, &at(&id, "/assertion-key"), None).await?
        }
        ApiKeyCmd::Rotate { id, grace } => {
            out.record(
                &t.call(
                    Method::POST,
                    &at(&id, "/rotate"),
                    Some(json!({"grace_seconds": grace})),
                )
                .await?,
            );
            out.secret_notice("secret");
            return Ok(());
        }
        ApiKeyCmd::Revoke { id } => t.call(Method::DELETE, &at(&id, ""), None).await?,
    };
    out.record(&v);
    Ok(())
}

async fn audit(t: &Transport, out: Output, args: AuditArgs) -> Result<()> {
    let filter = AuditFilter {
        account: args.account,
        action: args.action,
        before: args.before,
        limit: Some(args.limit),
    };
    let query = serde_urlencoded::to_string(&filter).map_err(|e| e.to_string())?;
    let v = t
        .call(Method::GET, &format!("/admin/v1/audit?{query}"), None)
        .await?;
    out.table(&items(&v, "events"), AUDIT_COLUMNS);
    Ok(())
}

async fn domain_keys(t: &Transport, out: Output, cmd: DomainKeyCmd) -> Result<()> {
    let v = match cmd {
        DomainKeyCmd::Create {
            account,
            name,
            api_key,
            origins,
            scopes,
        } => {
            let req = CreateDomainKey {
                name,
                api_key_id: api_key,
                origins,
                scopes,
            };
            let path = format!("/admin/v1/accounts/{}/domain-keys", seg(&account));
            t.call(Method::POST, &path, body(&req)).await?
        }
        DomainKeyCmd::List { account } => {
            let v = t
                .call(
                    Method::GET,
                    &format!("/admin/v1/accounts/{}/domain-keys", seg(&account)),
                    None,
                )
                .await?;
            out.table(&items(&v, "domain_keys"), DOMAIN_KEY_COLUMNS);
            return Ok(());
        }
        DomainKeyCmd::Show { id } => {
            t.call(Method::GET, &format!("/admin/v1/domain-keys/{}", seg(&id)), None)
                .await?
        }
        DomainKeyCmd::Revoke { id } => {
            t.call(
                Method::DELETE,
                &format!("/admin/v1/domain-keys/{}", seg(&id)),
                None,
            )
            .await?
        }
    };
    out.record(&v);
    Ok(())
}

async fn legacy_keys(t: &Transport, out: Output, cmd: LegacyKeyCmd) -> Result<()> {
    match cmd {
        LegacyKeyCmd::Create { account, name } => {
            let req = CreateLegacyKey { name };
            let path = format!("/admin/v1/accounts/{}/legacy-keys", seg(&account));
            out.record(&t.call(Method::POST, &path, body(&req)).await?);
            out.secret_notice("key_value");
        }
        LegacyKeyCmd::List { account } => {
            let v = t
                .call(
                    Method::GET,
                    &format!("/admin/v1/accounts/{}/legacy-keys", seg(&account)),
                    None,
                )
                .await?;
            out.table(&items(&v, "legacy_keys"), LEGACY_KEY_COLUMNS);
        }
        LegacyKeyCmd::Revoke { id } => out.record(
            &t.call(
                Method::DELETE,
                &format!("/admin/v1/legacy-keys/{}", seg(&id)),
                None,
            )
            .await?,
        ),
    }
    Ok(())
}
