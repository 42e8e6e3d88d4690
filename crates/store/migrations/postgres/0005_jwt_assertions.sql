-- API keys that sign JWT assertions (RFC 7523). Keep in step with ../sqlite/0005_jwt_assertions.sql.

-- How the key signs its assertions; all three NULL when it does not. HS256 keeps the sealed secret
-- (under the master key), the other algorithms the registered public key as a JWK.
ALTER TABLE api_keys ADD COLUMN assertion_alg TEXT;
ALTER TABLE api_keys ADD COLUMN assertion_public_jwk TEXT;
ALTER TABLE api_keys ADD COLUMN assertion_sealed_secret BYTEA;

-- The jtis of accepted assertions, per key, kept until the assertion expires so a replay is refused.
CREATE TABLE assertion_jtis (
    key_id TEXT NOT NULL REFERENCES api_keys (id),
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, jti)
);
CREATE INDEX assertion_jtis_expires_at ON assertion_jtis (expires_at);
