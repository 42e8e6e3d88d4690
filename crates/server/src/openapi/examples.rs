//! Examples the document shows. The integration tests send the request examples and compare the answers
//! with the response examples, so these stay true.

use serde_json::{json, Value};

/// A contact to create (`POST /v1/contacts`).
pub fn contact_input() -> Value {
    json!({
        "given_name": "Ann",
        "family_name": "Lee",
        "company_name": "Acme",
        "job_title": "CTO",
        "email_addresses": [{"field": "EMAIL1", "email": "ann@acme.example"}],
        "phone_numbers": [{"field": "PHONE1", "number": "+1 555-0100", "extension": "12", "type": "Work"}],
        "addresses": [{
            "field": "BILLING", "line1": "1 Main St", "locality": "Boston", "region": "MA",
            "postal_code": "02110", "country_code": "USA"
        }],
        "tag_ids": [3, 9],
        "source_type": "API"
    })
}

/// The contact [`contact_input`] creates (its id and times vary).
pub fn contact() -> Value {
    json!({
        "id": 42,
        "given_name": "Ann",
        "middle_name": null,
        "family_name": "Lee",
        "company_name": "Acme",
        "job_title": "CTO",
        "email_addresses": [{"field": "EMAIL1", "email": "ann@acme.example"}],
        "phone_numbers": [{"field": "PHONE1", "number": "+1 555-0100", "extension": "12", "type": "Work"}],
        "addresses": [{
            "field": "BILLING", "line1": "1 Main St", "line2": null, "locality": "Boston", "region": "MA",
            "postal_code": "02110", "country_code": "USA"
        }],
        "tag_ids": [3, 9],
        "source_type": "API",
        "date_created": "2026-11-25T10:20:30Z",
        "last_updated": "2026-11-25T10:20:30Z",
        "email_status": null,
        "email_opted_in": false
    })
}

/// An RFC 6749 token response (`client_credentials`: no refresh token).
pub fn token_response() -> Value {
    json!({
        "access_token": "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiIuLi4ifQ.c2ln",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "contacts.read contacts.write"
    })
}

/// An authorization code exchanged: with a refresh token.
pub fn code_token_response() -> Value {
    json!({
        "access_token": "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiIuLi4ifQ.c2ln",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "contacts.read",
        "refresh_token": "kgrt_3q9Z0mX6cE1vB8nT4yR2wL5kP7sD0fGh"
    })
}

/// The answer of `POST /auth`.
pub fn auth_token() -> Value {
    json!({
        "access_token": "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiIuLi4ifQ.c2ln",
        "token_type": "Bearer",
        "expires_in": 900,
        "expires_at": 1795602030,
        "scope": "contacts.read contacts.write hooks"
    })
}
