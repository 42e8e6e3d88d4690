//! The contacts resource: every door (REST, XML-RPC) calls these, so scopes, account isolation,
//! optimistic concurrency and the opt-in rules are enforced once.
//!
//! Reading needs `contacts.read` (or `contacts.write`, which implies it); changing needs
//! `contacts.write`; `full` allows both. A contact of another account reads exactly like a missing one.

use keygate_core::contact::email_status::{self, OptInOutcome, OptOutOutcome};
use keygate_core::contact::{
    Contact, ContactInput, ContactPatch, DuplicateOption, EmailStatus, EmailStatusRecord, OptOutBy,
};
use keygate_core::email;
use keygate_core::scope::Scope;
use keygate_core::time::now;
use keygate_core::InvalidInput;
use keygate_store::{ContactPage, ContactQuery, ContactWrite, StoreError, CONTACT_OPT_IN, CONTACT_OPT_OUT};

use crate::tokens::Principal;
use crate::Keygate;

/// The most contacts one page may hold.
pub const MAX_PAGE: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("this credential lacks the {} scope", .0.as_str())]
    MissingScope(Scope),
    #[error("contact {0} not found")]
    NotFound(i64),
    #[error("no contact of this account has the email address {0}")]
    UnknownEmail(String),
    #[error("the contact has changed: it is now at version {current}; read it again and retry")]
    Stale { current: i64 },
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    /// An opted-out (or otherwise non-marketable) address stays so through the API.
    #[error("{email} is {status} and cannot be opted in through the API; the contact must confirm again")]
    OptInRefused { email: String, status: EmailStatus },
    #[error("{0}")]
    Store(#[from] StoreError),
}

type Result<T> = std::result::Result<T, ContactError>;

fn require(p: &Principal, scope: Scope) -> Result<()> {
    let ok =
        p.scope.permits(scope) || (scope == Scope::ContactsRead && p.scope.permits(Scope::ContactsWrite));
    if ok {
        Ok(())
    } else {
        Err(ContactError::MissingScope(scope))
    }
}

fn written<T>(w: ContactWrite<T>, id: i64) -> Result<T> {
    match w {
        ContactWrite::Done(v) => Ok(v),
        ContactWrite::NotFound => Err(ContactError::NotFound(id)),
        ContactWrite::Stale { current_version } => Err(ContactError::Stale {
            current: current_version,
        }),
        ContactWrite::Invalid(i) => Err(ContactError::Invalid(i)),
    }
}

impl Keygate {
    pub async fn create_contact(&self, p: &Principal, input: ContactInput) -> Result<Contact> {
        require(p, Scope::ContactsWrite)?;
        let contact = input.into_contact(0, now())?;
        Ok(self.store().create_contact(&p.account, &contact).await?)
    }

    pub async fn get_contact(&self, p: &Principal, id: i64) -> Result<Contact> {
        require(p, Scope::ContactsRead)?;
        self.store()
            .get_contact(&p.account, id)
            .await?
            .ok_or(ContactError::NotFound(id))
    }

    /// [`Keygate::get_contact`] with its primary address's status ([`Keygate::email_status`]), in one read.
    pub async fn get_contact_with_status(
        &self,
        p: &Principal,
        id: i64,
    ) -> Result<(Contact, Option<EmailStatusRecord>)> {
        require(p, Scope::ContactsRead)?;
        self.store()
            .get_contact_with_status(&p.account, id)
            .await?
            .ok_or(ContactError::NotFound(id))
    }

    pub async fn list_contacts(&self, p: &Principal, query: &ContactQuery) -> Result<ContactPage> {
        require(p, Scope::ContactsRead)?;
        if query.limit == 0 || query.limit > MAX_PAGE {
            return Err(InvalidInput::new("limit", format!("must be between 1 and {MAX_PAGE}")).into());
        }
        Ok(self.store().list_contacts(&p.account, query).await?)
    }

    /// Applies `patch` if the contact is still at `if_version` (when given).
    pub async fn update_contact(
        &self,
        p: &Principal,
        id: i64,
        if_version: Option<i64>,
        patch: &ContactPatch,
    ) -> Result<Contact> {
        require(p, Scope::ContactsWrite)?;
        patch.validate()?;
        let change = |c: &mut Contact| patch.apply(c, now());
        written(
            self.store()
                .update_contact(&p.account, id, if_version, &change)
                .await?,
            id,
        )
    }

    pub async fn delete_contact(&self, p: &Principal, id: i64, if_version: Option<i64>) -> Result<()> {
        require(p, Scope::ContactsWrite)?;
        written(self.store().delete_contact(&p.account, id, if_version).await?, id)
    }

    /// Creates the contact, or updates the one it duplicates; says which (`true`: created).
    pub async fn upsert_contact(
        &self,
        p: &Principal,
        input: &ContactInput,
        option: DuplicateOption,
    ) -> Result<(Contact, bool)> {
        require(p, Scope::ContactsWrite)?;
        input.validate()?;
        written(
            self.store()
                .upsert_contact(&p.account, input, option, now())
                .await?,
            0,
        )
    }

    /// The status of an address, if it has one: an address never opted in or out has none (and cannot be
    /// marketed to).
    pub async fn email_status(&self, p: &Principal, address: &str) -> Result<Option<EmailStatusRecord>> {
        require(p, Scope::ContactsRead)?;
        email::validate(address.trim())?;
        Ok(self
            .store()
            .get_email_status(&p.account, &email::normalize(address))
            .await?)
    }

    /// Single opt-in. `Ok(true)` when the status changed; `Ok(false)` when the address was already
    /// marketable (as Infusionsoft's `optIn` answers false after the first time).
    pub async fn opt_in(&self, p: &Principal, address: &str, reason: &str) -> Result<bool> {
        require(p, Scope::ContactsWrite)?;
        let refused = std::sync::Mutex::new(None);
        let change = |current: Option<&EmailStatusRecord>| match email_status::opt_in(
            current,
            address,
            reason,
            false,
            now(),
        )? {
            OptInOutcome::Changed(r) => Ok(Some(r)),
            OptInOutcome::Unchanged => Ok(None),
            OptInOutcome::Refused(status) => {
                if let Ok(mut r) = refused.lock() {
                    *r = Some(status);
                }
                Ok(None)
            }
        };
        let outcome = self.change_status(p, address, CONTACT_OPT_IN, &change).await?;
        if let Some(status) = refused.lock().ok().and_then(|r| *r) {
            return Err(ContactError::OptInRefused {
                email: email::normalize(address),
                status,
            });
        }
        Ok(outcome)
    }

    /// Opts an address out; irreversible through the API. `Ok(false)` when it already was.
    pub async fn opt_out(&self, p: &Principal, address: &str, reason: &str, by: OptOutBy) -> Result<bool> {
        require(p, Scope::ContactsWrite)?;
        let change = |current: Option<&EmailStatusRecord>| {
            Ok(
                match email_status::opt_out(current, address, reason, by, now())? {
                    OptOutOutcome::Changed(r) => Some(r),
                    OptOutOutcome::Unchanged => None,
                },
            )
        };
        self.change_status(p, address, CONTACT_OPT_OUT, &change).await
    }

    async fn change_status(
        &self,
        p: &Principal,
        address: &str,
        event_key: &str,
        change: keygate_store::EmailStatusChange<'_>,
    ) -> Result<bool> {
        email::validate(address.trim())?;
        let normalized = email::normalize(address);
        match self
            .store()
            .change_email_status(&p.account, &normalized, event_key, change)
            .await?
        {
            ContactWrite::Done(changed) => Ok(changed.is_some()),
            ContactWrite::NotFound => Err(ContactError::UnknownEmail(normalized)),
            ContactWrite::Invalid(i) => Err(i.into()),
            ContactWrite::Stale { current_version } => Err(ContactError::Stale {
                current: current_version,
            }),
        }
    }
}
