-- Sign-in sessions of the developer portal. Keep in step with ../postgres/0009_portal_sessions.sql.

-- The session's token lives only in the browser's cookie; the row is found by its keyed hash, so a
-- copy of this table opens no session. Sessions end at `expires_at`, after `idle_timeout` without use
-- (`last_seen_at`), at sign-out (the row is deleted), or when their user can no longer sign in.
CREATE TABLE portal_sessions (
    id_hash BLOB NOT NULL PRIMARY KEY,
    -- Public: the `sid` of the access tokens the API explorer uses, which die with the session.
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    account TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    FOREIGN KEY (user_id, account) REFERENCES users (id, account)
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);
