-- CRM contacts, the consent of their email addresses, and the events every change writes. Keep in step
-- with ../postgres/0007_contacts.sql.

-- The last contact id each account handed out: ids increase per account and are never reused, even
-- after the contact is deleted. Creating or upserting a contact bumps the row inside its transaction.
CREATE TABLE contact_ids (
    account TEXT NOT NULL PRIMARY KEY REFERENCES accounts (name),
    last_id INTEGER NOT NULL
);

-- `body` is the whole keygate_core::contact::Contact as JSON: what reads return. The other columns
-- copy what queries filter and order on, and are rewritten with the body on every change.
CREATE TABLE contacts (
    account TEXT NOT NULL REFERENCES accounts (name),
    id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    given_name TEXT,
    middle_name TEXT,
    family_name TEXT,
    company TEXT,
    job_title TEXT,
    -- The three email slots as entered, and keygate_core::email::normalize of each, for lookups.
    email1 TEXT,
    email2 TEXT,
    email3 TEXT,
    email1_norm TEXT,
    email2_norm TEXT,
    email3_norm TEXT,
    -- The number in slot PHONE1.
    phone1 TEXT,
    -- Parts of the BILLING address.
    locality TEXT,
    region TEXT,
    postal_code TEXT,
    country_code TEXT,
    source TEXT,
    -- Sort keys as ContactOrder::compare computes them (the primary address normalised; the names
    -- lowercased by Rust), compared byte by byte on both backends.
    sort_email TEXT,
    sort_family_name TEXT,
    sort_given_name TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE INDEX contacts_updated_at ON contacts (account, updated_at, id);
CREATE INDEX contacts_email1 ON contacts (account, email1_norm);
CREATE INDEX contacts_email2 ON contacts (account, email2_norm);
CREATE INDEX contacts_email3 ON contacts (account, email3_norm);

-- Consent is kept per address, not per contact: contacts sharing an address share its status.
CREATE TABLE email_statuses (
    account TEXT NOT NULL REFERENCES accounts (name),
    -- keygate_core::email::normalize of the address.
    email TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    opted_out_by TEXT,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (account, email)
);

-- What happened to an object (`contact.add`, `contact.opt_out`, …), written in the transaction of the
-- change, read oldest first by id.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL REFERENCES accounts (name),
    event_key TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL
);
CREATE INDEX events_account ON events (account, id);
