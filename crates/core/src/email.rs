use crate::InvalidInput;

/// Checks the shape of an address (one `@`, a dotted domain, no spaces, sane lengths). Deliverability
/// is not ours to judge; a clear refusal of obvious garbage is.
pub fn validate(email: &str) -> Result<(), InvalidInput> {
    let bad = |m: &str| Err(InvalidInput::new("email", m.to_owned()));
    if email.len() > 254 {
        return bad("must be at most 254 characters");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return bad("must contain @");
    };
    if local.is_empty() || local.len() > 64 {
        return bad("the part before @ must be 1 to 64 characters");
    }
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if !domain_ok {
        return bad("the domain after @ is not a valid host name");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) || local.contains('@') {
        return bad("must not contain spaces, control characters or a second @");
    }
    Ok(())
}

/// The form used for uniqueness: emails are unique per account case-insensitively.
pub fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(validate("ann@example.com").is_ok());
        assert!(validate("a.b+c@sub.example.co").is_ok());
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "an n@example.com",
            "a@b@c.com",
        ] {
            assert!(validate(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(normalize(" Ann@Example.COM "), "ann@example.com");
    }
}
