-- Vow state store, version 5: published policy versions, change notices and
-- acceptances (package versions).
-- Times are unix microseconds in both dialects, so that one query text and
-- one scan serve SQLite and PostgreSQL alike; effective is a calendar date
-- (YYYY-MM-DD), because that is what a policy promises.

-- +goose Up
-- policy_versions is append-only: a published version is never changed.
-- source is the vow.yaml it was published from; markdown, html and summary
-- are the documents rendered from it at publication, served as they were.
-- changes is the JSON diff against the previous version.
CREATE TABLE policy_versions (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    hash         TEXT    NOT NULL,
    effective    TEXT    NOT NULL,
    published_at INTEGER NOT NULL,
    published_by TEXT    NOT NULL,
    material     INTEGER NOT NULL DEFAULT 0 CHECK (material IN (0, 1)),
    changes      TEXT    NOT NULL DEFAULT '[]',
    source       TEXT    NOT NULL,
    markdown     TEXT    NOT NULL,
    html         TEXT    NOT NULL,
    summary      TEXT    NOT NULL
);

-- policy_notices: one row per notice of a material change (an email to one
-- recipient, or one webhook call), due change_notice_days before the
-- version takes effect, with the outcome of its last attempt.
CREATE TABLE policy_notices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id TEXT    NOT NULL REFERENCES policy_versions (id),
    channel    TEXT    NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient  TEXT    NOT NULL,
    due_at     INTEGER NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    sent_at    INTEGER,
    UNIQUE (version_id, channel, recipient)
);
CREATE INDEX policy_notices_due ON policy_notices (status, due_at);

-- policy_acceptances: which subject accepted which version, when, and how.
CREATE TABLE policy_acceptances (
    subject     TEXT    NOT NULL,
    version_id  TEXT    NOT NULL REFERENCES policy_versions (id),
    accepted_at INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    PRIMARY KEY (subject, version_id)
);
CREATE INDEX policy_acceptances_version ON policy_acceptances (version_id);

-- +goose Down
DROP INDEX policy_acceptances_version;
DROP TABLE policy_acceptances;
DROP INDEX policy_notices_due;
DROP TABLE policy_notices;
DROP TABLE policy_versions;
