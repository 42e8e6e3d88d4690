-- Domain keys, and the key sessions opened with them. Keep in step with ../postgres/0003_domain_keys.sql.

-- The parent key of domain_keys' (api_key_id, account) reference below: a domain key is bound to an API
-- key of its own account. (id alone is already unique; this only lets the pair be referenced.)
CREATE UNIQUE INDEX api_keys_id_account ON api_keys (id, account);

CREATE TABLE domain_keys (
    id TEXT NOT NULL PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (name),
    -- The API key whose subject the domain key acts as (with at most the key's scopes).
    api_key_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- A JSON array of origin patterns.
    origins TEXT NOT NULL,
    scopes TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    revoked_at INTEGER,
    FOREIGN KEY (api_key_id, account) REFERENCES api_keys (id, account)
);
CREATE INDEX domain_keys_account ON domain_keys (account, created_at, id);

-- Set for a session opened with a domain key: its tokens are good only from `origin`. NULL otherwise.
ALTER TABLE key_sessions ADD COLUMN domain_key_id TEXT REFERENCES domain_keys (id);
ALTER TABLE key_sessions ADD COLUMN origin TEXT;
