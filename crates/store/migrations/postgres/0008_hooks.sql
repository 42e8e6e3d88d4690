-- REST Hooks: subscriptions to an account's events, the items each event makes for them, the deliveries
-- batching those items, and every attempt at a delivery. Keep in step with ../sqlite/0008_hooks.sql.

-- When the event was fanned out to the subscriptions verified at that time; NULL until then. A mark per
-- event rather than a cursor over ids: PostgreSQL commits ids out of order, so a cursor would skip the
-- events committed late with lower ids. Events written before this migration are fanned out too (to no
-- one: there were no subscriptions).
ALTER TABLE events ADD COLUMN fanned_out_at BIGINT;
CREATE INDEX events_not_fanned_out ON events (id) WHERE fanned_out_at IS NULL;

-- A subscription of an account to one event key. `status` is a keygate_store::HookStatus; the secrets are
-- sealed under the master key.
CREATE TABLE hooks (
    key TEXT NOT NULL PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (name),
    event_key TEXT NOT NULL,
    hook_url TEXT NOT NULL,
    status TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    previous_secret_sealed BYTEA,
    previous_secret_expires_at BIGINT,
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX hooks_account ON hooks (account, created_at, key);
CREATE INDEX hooks_fan_out ON hooks (account, event_key, status);

-- One message to a subscription, tried until delivered or failed. `seq` is the creation order (listing);
-- `id` is the public `msg_…` id. `status` is a keygate_store::DeliveryStatus; `next_attempt_at` is when a
-- pending delivery is due (or its claim lapses), NULL once final.
CREATE TABLE hook_deliveries (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    hook_key TEXT NOT NULL REFERENCES hooks (key) ON DELETE CASCADE,
    account TEXT NOT NULL REFERENCES accounts (name),
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    last_status_code BIGINT,
    last_error TEXT
);
CREATE INDEX hook_deliveries_due ON hook_deliveries (status, next_attempt_at);
CREATE INDEX hook_deliveries_hook ON hook_deliveries (hook_key, seq);

-- An event as it reached one subscription (a copy of the event's columns, so that events can be pruned
-- apart from it), and the delivery it was batched into (NULL: not yet). An event reaches a subscription
-- at most once.
CREATE TABLE hook_items (
    id BIGSERIAL PRIMARY KEY,
    hook_key TEXT NOT NULL REFERENCES hooks (key) ON DELETE CASCADE,
    event_id BIGINT NOT NULL,
    event_key TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    delivery_id TEXT REFERENCES hook_deliveries (id) ON DELETE CASCADE,
    UNIQUE (hook_key, event_id)
);
CREATE INDEX hook_items_unbatched ON hook_items (hook_key, occurred_at, id) WHERE delivery_id IS NULL;
CREATE INDEX hook_items_delivery ON hook_items (delivery_id);

-- Every try at a delivery, numbered from 1.
CREATE TABLE hook_attempts (
    delivery_id TEXT NOT NULL REFERENCES hook_deliveries (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status_code BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    PRIMARY KEY (delivery_id, number)
);
