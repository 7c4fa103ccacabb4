-- Vow state store, version 3: retention runs, per-rule checkpoints, rule
-- leases for the scheduler, and legal holds on data subjects.
-- Times are UTC in the fixed-width text form 2006-01-02T15:04:05.000000Z,
-- so that they sort and compare as text.

-- +goose Up
-- retention_runs records every `vow retention run` (and scheduled run).
CREATE TABLE retention_runs (
    id          TEXT PRIMARY KEY NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'failed')),
    actor       TEXT NOT NULL,
    dry_run     INTEGER NOT NULL DEFAULT 0,
    summary     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX retention_runs_started ON retention_runs (started_at);

-- retention_run_rules holds each rule's outcome within a run.
CREATE TABLE retention_run_rules (
    run_id      TEXT NOT NULL REFERENCES retention_runs (id) ON DELETE CASCADE,
    rule        TEXT NOT NULL,
    status      TEXT NOT NULL,
    rows_done   INTEGER NOT NULL DEFAULT 0,
    cascaded    INTEGER NOT NULL DEFAULT 0,
    held        INTEGER NOT NULL DEFAULT 0,
    batches     INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL,
    PRIMARY KEY (run_id, rule)
);
CREATE INDEX retention_run_rules_rule ON retention_run_rules (rule, finished_at);

-- retention_checkpoints holds the progress of a rule whose run has not
-- finished: the cutoff it runs with and the last primary key done, so that
-- a crashed or budget-limited run resumes where it stopped.
CREATE TABLE retention_checkpoints (
    rule       TEXT PRIMARY KEY NOT NULL,
    run_id     TEXT NOT NULL,
    cutoff     TEXT NOT NULL,
    last_key   TEXT NOT NULL DEFAULT '',
    rows_done  INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

-- retention_leases lets one scheduler instance at a time run a rule.
CREATE TABLE retention_leases (
    rule       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- legal_holds: a data subject whose data must not be removed.
CREATE TABLE legal_holds (
    id            TEXT PRIMARY KEY NOT NULL,
    subject_kind  TEXT NOT NULL,
    subject_value TEXT NOT NULL,
    reason        TEXT NOT NULL CHECK (reason <> ''),
    placed_by     TEXT NOT NULL,
    placed_at     TEXT NOT NULL,
    until_at      TEXT,
    released_at   TEXT,
    released_by   TEXT,
    release_note  TEXT
);
CREATE INDEX legal_holds_subject ON legal_holds (subject_kind, subject_value);

-- +goose Down
DROP TABLE legal_holds;
DROP TABLE retention_leases;
DROP TABLE retention_checkpoints;
DROP TABLE retention_run_rules;
DROP TABLE retention_runs;
