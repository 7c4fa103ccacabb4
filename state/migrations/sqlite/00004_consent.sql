-- Vow state store, version 4: API tokens, consent and communication preferences.
-- Times are unix microseconds (INTEGER) in both dialects, so that one query
-- text and one scan serve SQLite and PostgreSQL alike.

-- +goose Up
-- api_tokens holds the tokens of the HTTP API. Only the SHA-256 of a token is
-- kept: the secret is shown once, when it is created.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE CHECK (name <> ''),
    hash         TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- consent_events is append-only: one row per consent change. Only erasure
-- rewrites it (a subject's history is reduced to pseudonymised proof of
-- opt-out).
CREATE TABLE consent_events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    subject        TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('granted', 'denied', 'withdrawn')),
    source         TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    at             INTEGER NOT NULL,
    recorded_by    TEXT NOT NULL
);
CREATE INDEX consent_events_subject ON consent_events (subject, seq);

-- consent_current is the derived current state, updated in the same
-- transaction as each event: the hot path reads only this table.
CREATE TABLE consent_current (
    subject        TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    status         TEXT NOT NULL,
    source         TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    at             INTEGER NOT NULL,
    event_id       TEXT NOT NULL,
    PRIMARY KEY (subject, purpose)
);

-- consent_links links an anonymous device id to a known subject.
CREATE TABLE consent_links (
    device      TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX consent_links_subject ON consent_links (subject);

-- preference_events is append-only: one row per communication preference change.
CREATE TABLE preference_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    subject     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('subscribed', 'unsubscribed')),
    source      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX preference_events_subject ON preference_events (subject, seq);

CREATE TABLE preferences (
    subject TEXT NOT NULL,
    topic   TEXT NOT NULL,
    status  TEXT NOT NULL,
    source  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (subject, topic)
);

-- unsubscribe_uses records each one-click unsubscribe link used, so that a
-- replayed link is refused.
CREATE TABLE unsubscribe_uses (
    nonce   TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    topic   TEXT NOT NULL,
    used_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE unsubscribe_uses;
DROP TABLE preferences;
DROP TABLE preference_events;
DROP TABLE consent_links;
DROP TABLE consent_current;
DROP TABLE consent_events;
DROP TABLE api_tokens;
