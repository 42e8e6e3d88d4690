-- Keygate nodes sharing this database, which cache authentication reads (PostgreSQL only; see
-- crates/store/src/sql/cluster_epoch.rs). A write that changes credentials takes a number from
-- `auth_changes` and announces it; each node records in `seen` the highest it has heard, and renews
-- `lease_until` every second. Writers wait for the nodes holding a lease that have not seen their number.
CREATE SEQUENCE auth_changes;
CREATE TABLE auth_nodes (
    node TEXT NOT NULL PRIMARY KEY,
    lease_until TIMESTAMPTZ NOT NULL,
    seen BIGINT NOT NULL
);
