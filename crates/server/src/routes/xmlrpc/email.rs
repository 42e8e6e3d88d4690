//! `APIEmailService.*`: opt-in status by address, as Infusionsoft answers it.

use keygate_core::contact::OptOutBy;
use keygate_lib::contacts::ContactError;
use keygate_lib::tokens::Principal;
use keygate_lib::Keygate;
use keygate_xmlrpc::Value;

use super::fault::Fault;
use super::params::Params;

/// `optIn` and `optOut` answer `false`, not a fault, when nothing changed: the address already had that
/// status, was opted out (an opt-out is never reversed through the API), or belongs to no contact.
fn unchanged(r: Result<bool, ContactError>) -> Result<Value, Fault> {
    match r {
        Ok(changed) => Ok(Value::Boolean(changed)),
        Err(ContactError::OptInRefused { .. } | ContactError::UnknownEmail(_)) => Ok(Value::Boolean(false)),
        Err(e) => Err(e.into()),
    }
}

pub async fn email_service(kg: &Keygate, p: &Principal, name: &str, a: Params<'_>) -> Result<Value, Fault> {
    match name {
        "optIn" => {
            a.arity(1, 2, "an email address and a reason")?;
            let reason = a.optional_string(1, "reason")?.unwrap_or_default();
            unchanged(kg.opt_in(p, a.string(0, "email")?, reason).await)
        }
        "optOut" => {
            a.arity(1, 2, "an email address and a reason")?;
            let reason = a.optional_string(1, "reason")?.unwrap_or_default();
            unchanged(
                kg.opt_out(p, a.string(0, "email")?, reason, OptOutBy::Admin)
                    .await,
            )
        }
        "getOptStatus" => {
            a.arity(1, 1, "an email address")?;
            let record = kg.email_status(p, a.string(0, "email")?).await?;
            Ok(Value::Int(
                record.map_or(0, |r| i64::from(r.status.opt_status_code())),
            ))
        }
        _ => Err(Fault::no_such_method(a.method)),
    }
}
