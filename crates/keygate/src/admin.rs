//! `keygate admin …`: management straight on the store, so it works on a running server's database
//! (SQLite included) and its changes take effect there at once.

use std::io::BufRead;

use clap::{Args, Subcommand};
use keygate_core::model::{AccountStatus, AppStatus, ClientType, RateLimit, Role, UserStatus};
use keygate_lib::api_keys::{AuditFilter, CreateApiKey, SetAssertionKey};
use keygate_lib::domain_keys::CreateDomainKey;
use keygate_lib::legacy::CreateLegacyKey;
use keygate_lib::manage::{CreateAccount, CreateApp, CreateUser, UpdateAccount, UpdateApp, UpdateUser};
use keygate_lib::{Actor, Keygate, ManageError, Manager};

use crate::output::Output;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Print machine-readable JSON
    #[arg(long, global = true)]
    pub json: bool,
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

fn read_password() -> Result<String, ManageError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        ManageError::Invalid(keygate_core::InvalidInput::new(
            "password",
            format!("cannot read stdin: {e}"),
        ))
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub async fn run(kg: &Keygate, args: AdminArgs) -> Result<(), ManageError> {
    let out = Output { json: args.json };
    let kg = &kg.manage(Actor::Cli);
    match args.command {
        AdminCommand::Accounts(cmd) => accounts(kg, out, cmd).await,
        AdminCommand::Users(cmd) => users(kg, out, cmd).await,
        AdminCommand::Apps(cmd) => apps(kg, out, cmd).await,
        AdminCommand::Tokens(cmd) => tokens(kg, out, cmd).await,
        AdminCommand::Keys(cmd) => keys(kg, out, cmd).await,
        AdminCommand::ApiKeys(cmd) => api_keys(kg, out, cmd).await,
        AdminCommand::DomainKeys(cmd) => domain_keys(kg, out, cmd).await,
        AdminCommand::LegacyKeys(cmd) => legacy_keys(kg, out, cmd).await,
        AdminCommand::Audit(args) => audit(kg, out, args).await,
    }
}

async fn accounts(kg: &Manager<'_>, out: Output, cmd: AccountCmd) -> Result<(), ManageError> {
    let status = |s| UpdateAccount {
        status: Some(s),
        ..Default::default()
    };
    match cmd {
        AccountCmd::Create { name, display_name } => {
            out.record(&kg.create_account(CreateAccount { name, display_name }).await?)
        }
        AccountCmd::List => out.table(&kg.list_accounts().await?, ACCOUNT_COLUMNS),
        AccountCmd::Show { name } => out.record(&kg.get_account(&name).await?),
        AccountCmd::Rename { name, display_name } => out.record(
            &kg.update_account(
                &name,
                UpdateAccount {
                    display_name: Some(display_name),
                    ..Default::default()
                },
            )
            .await?,
        ),
        AccountCmd::BasicAuth { name, state } => out.record(
            &kg.update_account(
                &name,
                UpdateAccount {
                    basic_auth: Some(state == "on"),
                    ..Default::default()
                },
            )
            .await?,
        ),
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
            let update = UpdateAccount {
                rate_limit: Some(rate_limit),
                ..Default::default()
            };
            out.record(&kg.update_account(&name, update).await?)
        }
        AccountCmd::Suspend { name } => {
            out.record(&kg.update_account(&name, status(AccountStatus::Suspended)).await?)
        }
        AccountCmd::Activate { name } => {
            out.record(&kg.update_account(&name, status(AccountStatus::Active)).await?)
        }
    }
    Ok(())
}

async fn users(kg: &Manager<'_>, out: Output, cmd: UserCmd) -> Result<(), ManageError> {
    let status = |s| UpdateUser {
        status: Some(s),
        ..Default::default()
    };
    match cmd {
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
            let user = kg
                .create_user(
                    &account,
                    CreateUser {
                        email,
                        password: password.clone(),
                        role,
                    },
                )
                .await?;
            if generated {
                let mut v = serde_json::to_value(&user).unwrap_or_default();
                v["password"] = serde_json::Value::String(password);
                out.record(&v);
                out.secret_notice("generated password");
            } else {
                out.record(&user);
            }
        }
        UserCmd::List { account } => out.table(&kg.list_users(&account).await?, USER_COLUMNS),
        UserCmd::Show { id } => out.record(&kg.get_user(&id).await?),
        UserCmd::SetRole { id, role } => out.record(
            &kg.update_user(
                &id,
                UpdateUser {
                    role: Some(role),
                    ..Default::default()
                },
            )
            .await?,
        ),
        UserCmd::SetPassword { id } => {
            let password = read_password()?;
            out.record(
                &kg.update_user(
                    &id,
                    UpdateUser {
                        password: Some(password),
                        ..Default::default()
                    },
                )
                .await?,
            )
        }
        UserCmd::Suspend { id } => out.record(&kg.update_user(&id, status(UserStatus::Suspended)).await?),
        UserCmd::Activate { id } => out.record(&kg.update_user(&id, status(UserStatus::Active)).await?),
    }
    Ok(())
}

fn non_empty(v: Vec<String>) -> Option<Vec<String>> {
    (!v.is_empty()).then_some(v)
}

async fn apps(kg: &Manager<'_>, out: Output, cmd: AppCmd) -> Result<(), ManageError> {
    let status = |s| UpdateApp {
        status: Some(s),
        ..Default::default()
    };
    match cmd {
        AppCmd::Create {
            name,
            client_type,
            owner,
            fields,
        } => {
            let created = kg
                .create_app(CreateApp {
                    name,
                    client_type,
                    owner_account: owner,
                    redirect_uris: fields.redirect_uris,
                    allowed_origins: fields.origins,
                    allowed_scopes: fields.scopes,
                    access_token_ttl: fields.access_ttl,
                    refresh_token_ttl: fields.refresh_ttl,
                })
                .await?;
            let has_secret = created.client_secret.is_some();
            out.record(&created);
            if has_secret {
                out.secret_notice("client_secret");
            }
        }
        AppCmd::List { owner } => out.table(&kg.list_apps(owner.as_deref()).await?, APP_COLUMNS),
        AppCmd::Show { client_id } => out.record(&kg.get_app(&client_id).await?),
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
            out.record(&kg.update_app(&client_id, req).await?)
        }
        AppCmd::Suspend { client_id } => {
            out.record(&kg.update_app(&client_id, status(AppStatus::Suspended)).await?)
        }
        AppCmd::Activate { client_id } => {
            out.record(&kg.update_app(&client_id, status(AppStatus::Active)).await?)
        }
        AppCmd::Revoke { client_id } => {
            out.record(&kg.update_app(&client_id, status(AppStatus::Revoked)).await?)
        }
        AppCmd::RotateSecret { client_id, grace } => {
            out.record(&kg.rotate_app_secret(&client_id, grace).await?);
            out.secret_notice("client_secret");
        }
    }
    Ok(())
}

async fn tokens(kg: &Manager<'_>, out: Output, cmd: TokenCmd) -> Result<(), ManageError> {
    match cmd {
        TokenCmd::Create { name } => {
            out.record(&kg.create_admin_token(&name).await?);
            out.secret_notice("admin token secret");
        }
        TokenCmd::List => out.table(&kg.list_admin_tokens().await?, TOKEN_COLUMNS),
        TokenCmd::Revoke { id } => {
            kg.revoke_admin_token(&id).await?;
            out.done(&format!("revoked admin token {id}"));
        }
    }
    Ok(())
}

async fn keys(kg: &Manager<'_>, out: Output, cmd: KeyCmd) -> Result<(), ManageError> {
    match cmd {
        KeyCmd::List => out.table(&kg.list_signing_keys().await?, KEY_COLUMNS),
        KeyCmd::Rotate => out.table(&kg.rotate_signing_keys().await?, KEY_COLUMNS),
    }
    Ok(())
}

async fn api_keys(kg: &Manager<'_>, out: Output, cmd: ApiKeyCmd) -> Result<(), ManageError> {
    match cmd {
        ApiKeyCmd::Create {
            account,
            name,
            user,
            scopes,
            hs256_assertions,
        } => {
            let assertion_alg = hs256_assertions.then_some(keygate_core::model::AssertionAlg::HS256);
            out.record(
                &kg.create_api_key(
                    &account,
                    CreateApiKey {
                        name,
                        user_id: user,
                        scopes,
                        assertion_alg,
                    },
                )
                .await?,
            );
            out.secret_notice("secret");
        }
        ApiKeyCmd::List { account } => out.table(&kg.list_api_keys(&account).await?, API_KEY_COLUMNS),
        ApiKeyCmd::Show { id } => out.record(&kg.get_api_key(&id).await?),
        ApiKeyCmd::SetAssertionKey { id, alg, jwk } => {
            let text = std::fs::read_to_string(&jwk).map_err(|e| {
                ManageError::Invalid(keygate_core::InvalidInput::new(
                    "public_key",
                    format!("{}: {e}", jwk.display()),
                ))
            })?;
            let public_key = serde_json::from_str(&text).map_err(|e| {
                ManageError::Invalid(keygate_core::InvalidInput::new(
                    "public_key",
                    format!("not JSON: {e}"),
                ))
            })?;
            out.record(
                &kg.set_api_key_assertion(&id, Some(SetAssertionKey { alg, public_key }))
                    .await?,
            )
        }
        ApiKeyCmd::ClearAssertionKey { id } => out.record(&kg.set_api_key_assertion(&id, None).await?),
        ApiKeyCmd::Rotate { id, grace } => {
            out.record(&kg.rotate_api_key(&id, grace).await?);
            out.secret_notice("secret");
        }
        ApiKeyCmd::Revoke { id } => out.record(&kg.revoke_api_key(&id).await?),
    }
    Ok(())
}

async fn audit(kg: &Manager<'_>, out: Output, args: AuditArgs) -> Result<(), ManageError> {
    let filter = AuditFilter {
        account: args.account,
        action: args.action,
        before: args.before,
        limit: Some(args.limit),
    };
    out.table(&kg.list_audit(filter).await?, AUDIT_COLUMNS);
    Ok(())
}

async fn domain_keys(kg: &Manager<'_>, out: Output, cmd: DomainKeyCmd) -> Result<(), ManageError> {
    match cmd {
        DomainKeyCmd::Create {
            account,
            name,
            api_key,
            origins,
            scopes,
        } => out.record(
            &kg.create_domain_key(
                &account,
                CreateDomainKey {
                    name,
                    api_key_id: api_key,
                    origins,
                    scopes,
                },
            )
            .await?,
        ),
        DomainKeyCmd::List { account } => {
            out.table(&kg.list_domain_keys(&account).await?, DOMAIN_KEY_COLUMNS)
        }
        DomainKeyCmd::Show { id } => out.record(&kg.get_domain_key(&id).await?),
        DomainKeyCmd::Revoke { id } => out.record(&kg.revoke_domain_key(&id).await?),
    }
    Ok(())
}

async fn legacy_keys(kg: &Manager<'_>, out: Output, cmd: LegacyKeyCmd) -> Result<(), ManageError> {
    match cmd {
        LegacyKeyCmd::Create { account, name } => {
            out.record(&kg.create_legacy_key(&account, CreateLegacyKey { name }).await?);
            out.secret_notice("key_value");
        }
        LegacyKeyCmd::List { account } => {
            out.table(&kg.list_legacy_keys(&account).await?, LEGACY_KEY_COLUMNS)
        }
        LegacyKeyCmd::Revoke { id } => out.record(&kg.revoke_legacy_key(&id).await?),
    }
    Ok(())
}
