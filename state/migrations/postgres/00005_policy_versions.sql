-- Vow state store, version 5: published policy versions, change notices and
-- acceptances (package versions).
-- Times are unix microseconds (bigint) in both dialects, so that one query
-- text and one scan serve SQLite and PostgreSQL alike; effective is a
-- calendar date (YYYY-MM-DD), because that is what a policy promises.

-- +goose Up
-- policy_versions is append-only: a published version is never changed.
-- source is the vow.yaml it was published from; markdown, html and summary
-- are the documents rendered from it at publication, served as they were.
-- changes is the JSON diff against the previous version.
CREATE TABLE policy_versions (
    seq          bigint  PRIMARY KEY,
    id           text    NOT NULL UNIQUE,
    hash         text    NOT NULL,
    effective    text    NOT NULL,
    published_at bigint  NOT NULL,
    published_by text    NOT NULL,
    material     integer NOT NULL DEFAULT 0 CHECK (material IN (0, 1)),
    changes      text    NOT NULL DEFAULT '[]',
    source       text    NOT NULL,
    markdown     text    NOT NULL,
    html         text    NOT NULL,
    summary      text    NOT NULL
);

-- policy_notices: one row per notice of a material change (an email to one
-- recipient, or one webhook call), due change_notice_days before the
-- version takes effect, with the outcome of its last attempt.
CREATE TABLE policy_notices (
    id         bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version_id text    NOT NULL REFERENCES policy_versions (id),
    channel    text    NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient  text    NOT NULL,
    due_at     bigint  NOT NULL,
    status     text    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts   integer NOT NULL DEFAULT 0,
    last_error text    NOT NULL DEFAULT '',
    sent_at    bigint,
    UNIQUE (version_id, channel, recipient)
);
CREATE INDEX policy_notices_due ON policy_notices (status, due_at);

-- policy_acceptances: which subject accepted which version, when, and how.
CREATE TABLE policy_acceptances (
    subject     text   NOT NULL,
    version_id  text   NOT NULL REFERENCES policy_versions (id),
    accepted_at bigint NOT NULL,
    source      text   NOT NULL,
    PRIMARY KEY (subject, version_id)
);
CREATE INDEX policy_acceptances_version ON policy_acceptances (version_id);

-- +goose Down
DROP TABLE policy_acceptances;
DROP TABLE policy_notices;
DROP TABLE policy_versions;
