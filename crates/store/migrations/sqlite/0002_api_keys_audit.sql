-- API keys, their sessions, and the audit log. Keep in step with ../postgres/0002_api_keys_audit.sql.

-- The parent key of api_keys' (user_id, account) reference below: a key acting as a user must be for a
-- user of its own account. (id alone is already unique; this only lets the pair be referenced.)
CREATE UNIQUE INDEX users_id_account ON users (id, account);

CREATE TABLE api_keys (
    id TEXT NOT NULL PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (name),
    name TEXT NOT NULL,
    -- NULL for a service key, acting as the account itself (the pair is then not checked).
    user_id TEXT,
    scopes TEXT NOT NULL,
    status TEXT NOT NULL,
    -- Looked up by id, then the secret is compared: the hash need not be unique.
    secret_hash BLOB NOT NULL,
    secret_last4 TEXT NOT NULL,
    previous_secret_hash BLOB,
    previous_secret_last4 TEXT,
    previous_secret_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    revoked_at INTEGER,
    FOREIGN KEY (user_id, account) REFERENCES users (id, account)
);
CREATE INDEX api_keys_account ON api_keys (account, created_at, id);

-- One exchange of an API key at POST /auth; the tokens of its refresh chain share it.
CREATE TABLE key_sessions (
    id TEXT NOT NULL PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES api_keys (id),
    account TEXT NOT NULL,
    user_id TEXT,
    scope TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX key_sessions_expires_at ON key_sessions (expires_at);

-- Security events, newest first by id. No foreign keys: appending an event must never fail because of
-- what it is about. AUTOINCREMENT: ids are never reused, so paging with `id < before` stays stable.
-- Listing everything newest first walks the primary key backwards; per account, the index below.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    account TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    -- A JSON object.
    details TEXT NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account, id);
