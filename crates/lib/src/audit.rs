//! The audit log: security events, written by the service layer as things happen.

use keygate_core::ids::AccountName;
use keygate_core::time::now;
use keygate_store::NewAuditEvent;
use serde_json::Value;

use crate::Keygate;

/// Who performs an operation, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A request to the admin API, by the id of its admin token.
    AdminToken(String),
    /// `keygate admin` on the server's database.
    Cli,
    /// Keygate itself (reuse detection, scheduled rotation, seeding the demo).
    System,
    /// A user signed in to the developer portal, by id.
    User(String),
    /// A credential acting by itself, named `kind:id` (`legacy_key:kgl_…`).
    Credential(String),
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::AdminToken(id) => write!(f, "admin_token:{id}"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Credential(name) => f.write_str(name),
        }
    }
}

impl Keygate {
    /// Records an event. A failure to record is logged, not returned: the change it describes has
    /// already been committed, and failing the request would only hide that it happened.
    pub async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        account: Option<&AccountName>,
        details: Value,
    ) {
        let event = NewAuditEvent {
            at: now(),
            account: account.cloned(),
            actor: actor.to_string(),
            action: action.to_owned(),
            target: target.to_owned(),
            details: details.to_string(),
        };
        if let Err(e) = self.store().append_audit(&event).await {
            tracing::error!(error = %e, action, target, "could not write an audit event");
        }
    }
}
