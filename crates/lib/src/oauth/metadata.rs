//! Authorization server metadata (RFC 8414), also served as the OpenID discovery document.

use keygate_core::model::SigningAlgorithm;
use keygate_core::scope::Scope;
use serde_json::{json, Value};

use crate::Keygate;

impl Keygate {
    pub fn metadata(&self) -> Value {
        let iss = self.settings().issuer.trim_end_matches('/');
        let algs: Vec<&str> = SigningAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
        let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
        json!({
            "issuer": iss,
            "authorization_endpoint": format!("{iss}/oauth/authorize"),
            "token_endpoint": format!("{iss}/oauth/token"),
            "revocation_endpoint": format!("{iss}/oauth/revoke"),
            "introspection_endpoint": format!("{iss}/oauth/introspect"),
            "jwks_uri": format!("{iss}/.well-known/jwks.json"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                                "client_credentials",
                "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "urn:ietf:params:oauth:grant-type:token-exchange"
            ],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            // Not registered in RFC 8414 (which permits extensions): the algorithms access tokens may be
            // signed with, so verifiers can pin them up front.
            "access_token_signing_alg_values_supported": algs,
            "id_token_signing_alg_values_supported": algs,
            "authorization_response_iss_parameter_supported": true,
            "subject_types_supported": ["public"],
        })
    }
}
