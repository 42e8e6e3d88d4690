//! Whether an address may receive marketing, as a state machine. Consent is kept per address (not per
//! contact): two contacts sharing an address share its opt-out. The API may grant consent only to an
//! address that never refused it; an opt-out is final through the API (the person must re-confirm).

use serde::{Deserialize, Serialize};

use crate::InvalidInput;

wire_enum!(EmailStatus, "email_status" {
    /// Single opt-in.
    Unconfirmed = "unconfirmed",
    /// Double opt-in: the person confirmed.
    Confirmed = "confirmed",
    /// Confirmed before double opt-in was tracked.
    ConfirmedLegacy = "confirmed_legacy",
    UnengagedMarketable = "unengaged_marketable",
    /// No evidence of consent.
    NonMarketable = "non_marketable",
    UnengagedNonMarketable = "unengaged_non_marketable",
    OptedOut = "opted_out",
    Bounced = "bounced",
    HardBounce = "hard_bounce",
    SpamComplaint = "spam_complaint",
    Invalid = "invalid",
    Lockdown = "lockdown",
});

wire_enum!(
    /// Who opted an address out.
    OptOutBy, "opted_out_by" {
        Contact = "contact", Admin = "admin", System = "system", ListUnsubscribe = "list_unsubscribe",
    }
);

impl EmailStatus {
    pub fn marketable(self) -> bool {
        matches!(
            self,
            Self::Unconfirmed | Self::Confirmed | Self::ConfirmedLegacy | Self::UnengagedMarketable
        )
    }

    /// `APIEmailService.getOptStatus`: 2 double opt-in, 1 any other marketable state, 0 the rest. An
    /// address with no record answers 0 too.
    pub fn opt_status_code(self) -> i32 {
        match self {
            Self::Confirmed => 2,
            s if s.marketable() => 1,
            _ => 0,
        }
    }
}

/// The current consent of one address, with why and when it last changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailStatusRecord {
    /// Normalised (trimmed, lowercase): the key the store looks records up by.
    pub email: String,
    pub status: EmailStatus,
    pub reason: String,
    /// Set while `status` is `opted_out`.
    pub opted_out_by: Option<OptOutBy>,
    pub changed_at: i64,
}

impl EmailStatusRecord {
    /// Keap's REST `email_status` spelling. Our states map one to one except `opted_out`, which Keap
    /// spells by who did it: `Manual` (the contact), `Admin`, `System`, `ListUnsubscribe`; an opt-out
    /// of unknown origin reads `System`. `unconfirmed` is `SingleOptIn`, `confirmed` `DoubleOptin`,
    /// `confirmed_legacy` `Confirmed`, `bounced` `Bounce`, `spam_complaint` `Spam`.
    pub fn keap_status(&self) -> &'static str {
        match self.status {
            EmailStatus::Unconfirmed => "SingleOptIn",
            EmailStatus::Confirmed => "DoubleOptin",
            EmailStatus::ConfirmedLegacy => "Confirmed",
            EmailStatus::UnengagedMarketable => "UnengagedMarketable",
            EmailStatus::NonMarketable => "NonMarketable",
            EmailStatus::UnengagedNonMarketable => "UnengagedNonMarketable",
            EmailStatus::OptedOut => match self.opted_out_by {
                Some(OptOutBy::Contact) => "Manual",
                Some(OptOutBy::Admin) => "Admin",
                Some(OptOutBy::ListUnsubscribe) => "ListUnsubscribe",
                Some(OptOutBy::System) | None => "System",
            },
            EmailStatus::Bounced => "Bounce",
            EmailStatus::HardBounce => "HardBounce",
            EmailStatus::SpamComplaint => "Spam",
            EmailStatus::Invalid => "Invalid",
            EmailStatus::Lockdown => "Lockdown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptInOutcome {
    /// Store this record; `optIn` answers true.
    Changed(EmailStatusRecord),
    /// Already opted in at least as strongly; `optIn` answers false.
    Unchanged,
    /// The address refused or cannot receive mail (the current status); `optIn` answers false.
    Refused(EmailStatus),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptOutOutcome {
    Changed(EmailStatusRecord),
    /// Already opted out; the first opt-out's reason and actor stay.
    Unchanged,
}

pub const DEFAULT_OPT_IN_REASON: &str = "API Opt In";
pub const DEFAULT_OPT_OUT_REASON: &str = "API Opt Out";

/// Grants consent. A new address becomes `unconfirmed`, or `confirmed` when `double` (the person
/// confirmed); a marketable address is upgraded to `confirmed` by a double opt-in and otherwise left
/// alone. Every non-marketable state refuses: only the person can undo an opt-out or a complaint.
pub fn opt_in(
    current: Option<&EmailStatusRecord>,
    email: &str,
    reason: &str,
    double: bool,
    now: i64,
) -> Result<OptInOutcome, InvalidInput> {
    let email = checked(email)?;
    let reason = reason_or(reason, DEFAULT_OPT_IN_REASON)?;
    let status = match current.map(|r| r.status) {
        Some(s) if !s.marketable() => return Ok(OptInOutcome::Refused(s)),
        Some(EmailStatus::Confirmed) => return Ok(OptInOutcome::Unchanged),
        Some(_) if !double => return Ok(OptInOutcome::Unchanged),
        _ if double => EmailStatus::Confirmed,
        _ => EmailStatus::Unconfirmed,
    };
    Ok(OptInOutcome::Changed(EmailStatusRecord {
        email,
        status,
        reason,
        opted_out_by: None,
        changed_at: now,
    }))
}

/// Withdraws consent, from any state; idempotent.
pub fn opt_out(
    current: Option<&EmailStatusRecord>,
    email: &str,
    reason: &str,
    by: OptOutBy,
    now: i64,
) -> Result<OptOutOutcome, InvalidInput> {
    let email = checked(email)?;
    let reason = reason_or(reason, DEFAULT_OPT_OUT_REASON)?;
    if current.is_some_and(|r| r.status == EmailStatus::OptedOut) {
        return Ok(OptOutOutcome::Unchanged);
    }
    Ok(OptOutOutcome::Changed(EmailStatusRecord {
        email,
        status: EmailStatus::OptedOut,
        reason,
        opted_out_by: Some(by),
        changed_at: now,
    }))
}

fn checked(email: &str) -> Result<String, InvalidInput> {
    crate::email::validate(email.trim())?;
    Ok(crate::email::normalize(email))
}

/// The reason kept with the change, trimmed; blank takes the API's default wording.
fn reason_or(reason: &str, default: &str) -> Result<String, InvalidInput> {
    let r = reason.trim();
    super::rules::text("reason", r, super::rules::MAX_TEXT_CHARS)?;
    Ok(if r.is_empty() { default } else { r }.to_owned())
}

#[cfg(test)]
#[path = "email_status_tests.rs"]
mod tests;
