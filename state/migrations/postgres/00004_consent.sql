-- Vow state store, version 4: API tokens, consent and communication preferences.
-- Times are unix microseconds (bigint) in both dialects, so that one query
-- text and one scan serve SQLite and PostgreSQL alike.

-- +goose Up
-- api_tokens holds the tokens of the HTTP API. Only the SHA-256 of a token is
-- kept: the secret is shown once, when it is created.
CREATE TABLE api_tokens (
    id           text PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (name <> ''),
    hash         text NOT NULL UNIQUE,
    scopes       text NOT NULL,
    created_at   bigint NOT NULL,
    last_used_at bigint,
    revoked_at   bigint
);

-- consent_events is append-only: one row per consent change. Only erasure
-- rewrites it (a subject's history is reduced to pseudonymised proof of
-- opt-out).
CREATE TABLE consent_events (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             text NOT NULL UNIQUE,
    subject        text NOT NULL,
    purpose        text NOT NULL,
    status         text NOT NULL CHECK (status IN ('granted', 'denied', 'withdrawn')),
    source         text NOT NULL,
    policy_version text NOT NULL,
    at             bigint NOT NULL,
    recorded_by    text NOT NULL
);
CREATE INDEX consent_events_subject ON consent_events (subject, seq);

-- consent_current is the derived current state, updated in the same
-- transaction as each event: the hot path reads only this table.
CREATE TABLE consent_current (
    subject        text NOT NULL,
    purpose        text NOT NULL,
    status         text NOT NULL,
    source         text NOT NULL,
    policy_version text NOT NULL,
    at             bigint NOT NULL,
    event_id       text NOT NULL,
    PRIMARY KEY (subject, purpose)
);

-- consent_links links an anonymous device id to a known subject.
CREATE TABLE consent_links (
    device      text PRIMARY KEY,
    subject     text NOT NULL,
    at          bigint NOT NULL,
    recorded_by text NOT NULL
);
CREATE INDEX consent_links_subject ON consent_links (subject);

-- preference_events is append-only: one row per communication preference change.
CREATE TABLE preference_events (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject     text NOT NULL,
    topic       text NOT NULL,
    status      text NOT NULL CHECK (status IN ('subscribed', 'unsubscribed')),
    source      text NOT NULL,
    at          bigint NOT NULL,
    recorded_by text NOT NULL
);
CREATE INDEX preference_events_subject ON preference_events (subject, seq);

CREATE TABLE preferences (
    subject text NOT NULL,
    topic   text NOT NULL,
    status  text NOT NULL,
    source  text NOT NULL,
    at      bigint NOT NULL,
    PRIMARY KEY (subject, topic)
);

-- unsubscribe_uses records each one-click unsubscribe link used, so that a
-- replayed link is refused.
CREATE TABLE unsubscribe_uses (
    nonce   text PRIMARY KEY,
    subject text NOT NULL,
    topic   text NOT NULL,
    used_at bigint NOT NULL
);

-- +goose Down
DROP TABLE unsubscribe_uses;
DROP TABLE preferences;
DROP TABLE preference_events;
DROP TABLE consent_links;
DROP TABLE consent_current;
DROP TABLE consent_events;
DROP TABLE api_tokens;
