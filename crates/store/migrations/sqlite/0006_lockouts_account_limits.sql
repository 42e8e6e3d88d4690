-- Failed-authentication streaks and lock-outs, and per-account rate limits. Keep in step with
-- ../postgres/0006_lockouts_account_limits.sql.

-- One row per subject that failed to authenticate recently: a credential (`api_key:kgk_…`,
-- `client:…`, `user:…`) or a client address (`addr:…`). Shared by every node, so an attacker gains
-- nothing by spreading guesses across them.
CREATE TABLE auth_failures (
    subject TEXT NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    locked_until INTEGER
);
CREATE INDEX auth_failures_last ON auth_failures (last_failure_at);

-- An account's own rate limit for each of its credentials; NULL means the server's default.
ALTER TABLE accounts ADD COLUMN rate_limit_per_minute INTEGER;
ALTER TABLE accounts ADD COLUMN rate_limit_burst INTEGER;
