//! `keygate serve --demo`: a demo account, admin user, developer app and admin token, so a newcomer can
//! run the whole flow at once. Secrets are printed once, when created, like every other secret.

use keygate_core::crypto::random_string;
use keygate_core::model::{ClientType, Role};
use keygate_lib::manage::{CreateAccount, CreateApp, CreateUser};
use keygate_lib::{Actor, Keygate, ManageError};

pub const DEMO_ACCOUNT: &str = "dm001";
pub const DEMO_EMAIL: &str = "admin@demo.test";

pub struct DemoCredentials {
    pub account: String,
    pub email: String,
    pub password: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub admin_token: String,
}

/// Seeds the demo once; `None` if it already exists (its secrets were shown when it was created).
pub async fn seed(kg: &Keygate, public_url: &str) -> Result<Option<DemoCredentials>, ManageError> {
    let keygate = kg.manage(Actor::System);
    if keygate.get_account(DEMO_ACCOUNT).await.is_ok() {
        return Ok(None);
    }
    keygate
        .create_account(CreateAccount {
            name: DEMO_ACCOUNT.into(),
            display_name: Some("Demo Company".into()),
        })
        .await?;
    let password = random_string(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", 16);
    keygate
        .create_user(
            DEMO_ACCOUNT,
            CreateUser {
                email: DEMO_EMAIL.into(),
                password: password.clone(),
                role: Role::Admin,
            },
        )
        .await?;
    let redirect_uri = format!("{public_url}/demo/callback");
    let app = keygate
        .create_app(CreateApp {
            name: "Demo app".into(),
            client_type: ClientType::Confidential,
            owner_account: Some(DEMO_ACCOUNT.into()),
            redirect_uris: vec![redirect_uri.clone()],
            allowed_origins: vec![],
            allowed_scopes: Some("contacts.read contacts.write hooks".into()),
            access_token_ttl: None,
            refresh_token_ttl: None,
        })
        .await?;
    let token = keygate.create_admin_token("demo").await?;
    Ok(Some(DemoCredentials {
        account: DEMO_ACCOUNT.into(),
        email: DEMO_EMAIL.into(),
        password,
        client_id: app.app.client_id,
        client_secret: app.client_secret.unwrap_or_default(),
        redirect_uri,
        admin_token: token.secret,
    }))
}
