-- Vow state store, version 3: retention runs, per-rule checkpoints, rule
-- leases for the scheduler, and legal holds on data subjects.

-- +goose Up
-- retention_runs records every `vow retention run` (and scheduled run).
CREATE TABLE retention_runs (
    id          text PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    status      text NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'failed')),
    actor       text NOT NULL,
    dry_run     integer NOT NULL DEFAULT 0,
    summary     text NOT NULL DEFAULT '{}'
);
CREATE INDEX retention_runs_started ON retention_runs (started_at);

-- retention_run_rules holds each rule's outcome within a run.
CREATE TABLE retention_run_rules (
    run_id      text NOT NULL REFERENCES retention_runs (id) ON DELETE CASCADE,
    rule        text NOT NULL,
    status      text NOT NULL,
    rows_done   bigint NOT NULL DEFAULT 0,
    cascaded    bigint NOT NULL DEFAULT 0,
    held        bigint NOT NULL DEFAULT 0,
    batches     bigint NOT NULL DEFAULT 0,
    duration_ms bigint NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    finished_at timestamptz NOT NULL,
    PRIMARY KEY (run_id, rule)
);
CREATE INDEX retention_run_rules_rule ON retention_run_rules (rule, finished_at);

-- retention_checkpoints holds the progress of a rule whose run has not
-- finished: the cutoff it runs with and the last primary key done, so that
-- a crashed or budget-limited run resumes where it stopped.
CREATE TABLE retention_checkpoints (
    rule       text PRIMARY KEY,
    run_id     text NOT NULL,
    cutoff     timestamptz NOT NULL,
    last_key   text NOT NULL DEFAULT '',
    rows_done  bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL
);

-- retention_leases lets one scheduler instance at a time run a rule.
CREATE TABLE retention_leases (
    rule       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- legal_holds: a data subject whose data must not be removed.
CREATE TABLE legal_holds (
    id            text PRIMARY KEY,
    subject_kind  text NOT NULL,
    subject_value text NOT NULL,
    reason        text NOT NULL CHECK (reason <> ''),
    placed_by     text NOT NULL,
    placed_at     timestamptz NOT NULL,
    until_at      timestamptz,
    released_at   timestamptz,
    released_by   text,
    release_note  text
);
CREATE INDEX legal_holds_subject ON legal_holds (subject_kind, subject_value);

-- +goose Down
DROP TABLE legal_holds;
DROP TABLE retention_leases;
DROP TABLE retention_checkpoints;
DROP TABLE retention_run_rules;
DROP TABLE retention_runs;
