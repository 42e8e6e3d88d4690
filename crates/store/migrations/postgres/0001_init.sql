-- Keygate's schema for PostgreSQL. Timestamps are unix seconds; hashes are BYTEA; lists are JSON text;
-- scope sets are space-separated; flags are 0/1 BIGINTs (not BOOLEAN, so one Rust type decodes both
-- backends). Keep in step with ../sqlite/0001_init.sql.

CREATE TABLE accounts (
    name TEXT NOT NULL PRIMARY KEY,
    display_name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT NOT NULL PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (name),
    email TEXT NOT NULL,
    -- keygate_core::email::normalize(email): emails are unique per account case-insensitively.
    -- Byte order ("C") so listings sort as on SQLite, whatever the database's locale.
    email_normalized TEXT COLLATE "C" NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (account, email_normalized)
);

CREATE TABLE apps (
    client_id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    client_type TEXT NOT NULL,
    owner_account TEXT REFERENCES accounts (name),
    redirect_uris TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,
    allowed_scopes TEXT NOT NULL,
    access_token_ttl BIGINT,
    refresh_token_ttl BIGINT,
    status TEXT NOT NULL,
    secret_hash BYTEA,
    secret_last4 TEXT,
    previous_secret_hash BYTEA,
    previous_secret_last4 TEXT,
    previous_secret_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX apps_owner_account ON apps (owner_account, created_at, client_id);
CREATE INDEX apps_created_at ON apps (created_at, client_id);

CREATE TABLE admin_tokens (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash BYTEA NOT NULL UNIQUE,
    secret_last4 TEXT NOT NULL,
    secret_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE signing_keys (
    kid TEXT NOT NULL PRIMARY KEY,
    algorithm TEXT NOT NULL,
    state TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    sealed_private_key BYTEA,
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    retired_at BIGINT,
    publish_until BIGINT
);
-- At most one current and one next key: two nodes bootstrapping or rotating at once cannot both win.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';

CREATE TABLE authorization_codes (
    code_hash BYTEA NOT NULL PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES apps (client_id),
    account TEXT NOT NULL REFERENCES accounts (name),
    user_id TEXT NOT NULL REFERENCES users (id),
    redirect_uri TEXT NOT NULL,
    redirect_uri_explicit BIGINT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT,
    -- The grant the exchange will create: it does not exist yet, so no foreign key.
    grant_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

CREATE TABLE grants (
    id TEXT NOT NULL PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES apps (client_id),
    account TEXT NOT NULL REFERENCES accounts (name),
    user_id TEXT NOT NULL REFERENCES users (id),
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);

CREATE TABLE refresh_tokens (
    token_hash BYTEA NOT NULL PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES grants (id),
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT
);
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- Revoked access tokens by JWT id, kept until the token would have expired anyway.
CREATE TABLE revoked_tokens (
    jti TEXT NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
