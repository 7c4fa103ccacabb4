-- Vow state store, version 2: data-subject requests.
--
-- Times are UTC text in the fixed-width form 2006-01-02T15:04:05.000000Z,
-- so they sort and compare as text the same way on every dialect.

-- +goose Up
CREATE TABLE requests (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    status          TEXT NOT NULL,
    -- subject_key is an HMAC of the normalised identities: it finds
    -- duplicates and survives the erasure of identities below.
    subject_key     TEXT NOT NULL,
    -- identities is a JSON object; emptied once an erasure completes.
    identities      TEXT NOT NULL,
    changes         TEXT NOT NULL DEFAULT '{}',
    verification    TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    deadline        TEXT NOT NULL,
    verified_at     TEXT,
    completed_at    TEXT,
    extended_reason TEXT,
    duplicate_of    TEXT REFERENCES requests (id),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- lease_owner (host:pid:nonce) runs the request until lease_until;
    -- another runner waits, or takes over once the owner is gone.
    lease_owner     TEXT,
    lease_until     TEXT,
    next_attempt_at TEXT,
    last_error      TEXT,
    -- keys holds the primary keys resolved from the identities and the
    -- values carried across systems (JSON), fixed before the first write.
    keys            TEXT,
    result          TEXT,
    created_by      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX requests_status ON requests (status, next_attempt_at);
CREATE INDEX requests_subject ON requests (subject_key, type);

-- request_steps records each completed unit of work, so that a request
-- interrupted at any point resumes after its last completed step.
CREATE TABLE request_steps (
    request_id TEXT NOT NULL REFERENCES requests (id),
    step       TEXT NOT NULL,
    data       TEXT NOT NULL,
    done_at    TEXT NOT NULL,
    PRIMARY KEY (request_id, step)
);

-- verification_codes holds one-time codes sent by email, as HMACs.
CREATE TABLE verification_codes (
    request_id TEXT PRIMARY KEY REFERENCES requests (id),
    code_mac   TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    sent_at    TEXT NOT NULL
);

-- +goose Down
DROP TABLE verification_codes;
DROP TABLE request_steps;
DROP TABLE requests;
