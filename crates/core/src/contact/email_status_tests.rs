use super::*;

fn record(status: EmailStatus) -> EmailStatusRecord {
    EmailStatusRecord {
        email: "ann@example.com".into(),
        status,
        reason: "earlier".into(),
        opted_out_by: (status == EmailStatus::OptedOut).then_some(OptOutBy::Contact),
        changed_at: 10,
    }
}

fn changed_in(outcome: OptInOutcome) -> EmailStatusRecord {
    match outcome {
        OptInOutcome::Changed(r) => r,
        other => panic!("expected a change, got {other:?}"),
    }
}

#[test]
fn marketable_states_and_codes() {
    use EmailStatus::*;
    let marketable: Vec<_> = EmailStatus::ALL
        .iter()
        .filter(|s| s.marketable())
        .copied()
        .collect();
    assert_eq!(
        marketable,
        [Unconfirmed, Confirmed, ConfirmedLegacy, UnengagedMarketable]
    );
    assert_eq!(Confirmed.opt_status_code(), 2);
    for s in [Unconfirmed, ConfirmedLegacy, UnengagedMarketable] {
        assert_eq!(s.opt_status_code(), 1, "{s}");
    }
    for s in EmailStatus::ALL.iter().filter(|s| !s.marketable()) {
        assert_eq!(s.opt_status_code(), 0, "{s}");
    }
    assert_eq!(
        serde_json::to_string(&UnengagedNonMarketable).unwrap(),
        r#""unengaged_non_marketable""#
    );
    assert_eq!(EmailStatus::parse("spam_complaint").unwrap(), SpamComplaint);
    assert_eq!(
        OptOutBy::parse("list_unsubscribe").unwrap(),
        OptOutBy::ListUnsubscribe
    );
}

#[test]
fn opt_in_a_new_address() {
    let r = changed_in(opt_in(None, " Ann@Example.com ", "  ", false, 100).unwrap());
    assert_eq!(r.email, "ann@example.com");
    assert_eq!(r.status, EmailStatus::Unconfirmed);
    assert_eq!(r.reason, "API Opt In");
    assert_eq!((r.opted_out_by, r.changed_at), (None, 100));
    let r = changed_in(opt_in(None, "ann@example.com", "webform", true, 100).unwrap());
    assert_eq!((r.status, r.reason.as_str()), (EmailStatus::Confirmed, "webform"));
}

#[test]
fn opt_in_again_changes_nothing_unless_it_confirms() {
    use EmailStatus::*;
    for s in [Unconfirmed, ConfirmedLegacy, UnengagedMarketable, Confirmed] {
        let current = record(s);
        assert_eq!(
            opt_in(Some(&current), "ann@example.com", "", false, 100).unwrap(),
            OptInOutcome::Unchanged
        );
    }
    let current = record(Confirmed);
    assert_eq!(
        opt_in(Some(&current), "ann@example.com", "", true, 100).unwrap(),
        OptInOutcome::Unchanged
    );
    for s in [Unconfirmed, ConfirmedLegacy, UnengagedMarketable] {
        let current = record(s);
        let r = changed_in(opt_in(Some(&current), "ann@example.com", "confirmed link", true, 100).unwrap());
        assert_eq!((r.status, r.changed_at), (Confirmed, 100), "{s}");
    }
}

#[test]
fn opt_in_never_overrides_a_refusal() {
    for s in EmailStatus::ALL.iter().filter(|s| !s.marketable()) {
        let current = record(*s);
        for double in [false, true] {
            let outcome = opt_in(Some(&current), "ann@example.com", "", double, 100).unwrap();
            assert_eq!(outcome, OptInOutcome::Refused(*s));
        }
    }
}

#[test]
fn opt_out_from_anywhere_once() {
    for s in EmailStatus::ALL.iter().filter(|s| **s != EmailStatus::OptedOut) {
        let current = record(*s);
        let OptOutOutcome::Changed(r) =
            opt_out(Some(&current), "ann@example.com", "", OptOutBy::Admin, 200).unwrap()
        else {
            panic!("{s} did not opt out");
        };
        assert_eq!(r.status, EmailStatus::OptedOut);
        assert_eq!(r.opted_out_by, Some(OptOutBy::Admin));
        assert_eq!((r.reason.as_str(), r.changed_at), ("API Opt Out", 200));
    }
    let current = record(EmailStatus::OptedOut);
    let again = opt_out(Some(&current), "ann@example.com", "again", OptOutBy::System, 300).unwrap();
    assert_eq!(again, OptOutOutcome::Unchanged);
    let OptOutOutcome::Changed(r) =
        opt_out(None, "New@x.io", " bounced twice ", OptOutBy::System, 5).unwrap()
    else {
        panic!("a new address opts out");
    };
    assert_eq!(
        (r.email.as_str(), r.reason.as_str()),
        ("new@x.io", "bounced twice")
    );
}

#[test]
fn transitions_refuse_bad_input() {
    assert_eq!(
        opt_in(None, "not-an-email", "", false, 1).unwrap_err().field,
        "email"
    );
    assert_eq!(
        opt_out(None, "", "", OptOutBy::Contact, 1).unwrap_err().field,
        "email"
    );
    let long = "r".repeat(256);
    assert_eq!(
        opt_in(None, "a@x.io", &long, false, 1).unwrap_err().field,
        "reason"
    );
    assert_eq!(
        opt_out(None, "a@x.io", &long, OptOutBy::Contact, 1)
            .unwrap_err()
            .field,
        "reason"
    );
}

#[test]
fn keap_wire_names() {
    use EmailStatus::*;
    let wire = |s| record(s).keap_status();
    assert_eq!(wire(Unconfirmed), "SingleOptIn");
    assert_eq!(wire(Confirmed), "DoubleOptin");
    assert_eq!(wire(ConfirmedLegacy), "Confirmed");
    assert_eq!(wire(Bounced), "Bounce");
    assert_eq!(wire(SpamComplaint), "Spam");
    assert_eq!(wire(Lockdown), "Lockdown");
    let mut out = record(OptedOut);
    assert_eq!(out.keap_status(), "Manual");
    for (by, name) in [
        (OptOutBy::Admin, "Admin"),
        (OptOutBy::System, "System"),
        (OptOutBy::ListUnsubscribe, "ListUnsubscribe"),
    ] {
        out.opted_out_by = Some(by);
        assert_eq!(out.keap_status(), name);
    }
    out.opted_out_by = None;
    assert_eq!(out.keap_status(), "System");
}
