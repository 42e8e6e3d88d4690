-- Legacy static keys, and HTTP Basic for the resource APIs. Keep in step with
-- ../postgres/0004_legacy_keys_basic_auth.sql.

-- Whether the account's users may call the resource APIs with HTTP Basic: off unless switched on.
ALTER TABLE accounts ADD COLUMN basic_auth INTEGER NOT NULL DEFAULT 0;

-- Basic credentials name a user by email alone, in whichever accounts allow Basic.
CREATE INDEX users_email_normalized ON users (email_normalized);

-- A key that authenticates every call by itself, acting as its account. Looked up by the keyed hash of
-- the key, so the hash is unique.
CREATE TABLE legacy_keys (
    id TEXT NOT NULL PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (name),
    name TEXT NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE,
    secret_last4 TEXT NOT NULL,
    status TEXT NOT NULL,
    use_count INTEGER NOT NULL DEFAULT 0,
    last_used_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX legacy_keys_account ON legacy_keys (account, created_at, id);
