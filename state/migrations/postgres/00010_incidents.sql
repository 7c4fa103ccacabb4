-- Vow state store, version 10: the breach register (package breach).
-- Times are unix microseconds, as in the policy tables, so one query text
-- serves both dialects.

-- +goose Up
-- incidents: one row per personal-data breach, its course and its
-- assessment; every change is also an entry of the audit log.
-- systems and categories are JSON arrays; affected the JSON of the last
-- count of subjects and records; warned the last deadline warning given
-- ('', '24h', '6h', 'overdue').
CREATE TABLE incidents (
    id                    TEXT    PRIMARY KEY,
    title                 TEXT    NOT NULL CHECK (title <> ''),
    description           TEXT    NOT NULL DEFAULT '',
    discovered_at         bigint NOT NULL,
    occurred_at           bigint,
    deadline              bigint NOT NULL,
    status                TEXT    NOT NULL CHECK (status IN ('open', 'contained', 'notified', 'closed')),
    risk                  TEXT    NOT NULL CHECK (risk IN ('unassessed', 'unlikely', 'risk', 'high')),
    systems               TEXT    NOT NULL DEFAULT '[]',
    categories            TEXT    NOT NULL DEFAULT '[]',
    consequences          TEXT    NOT NULL DEFAULT '',
    measures              TEXT    NOT NULL DEFAULT '',
    delay_reason          TEXT    NOT NULL DEFAULT '',
    affected              TEXT,
    authority_notified_at bigint,
    authority_reference   TEXT    NOT NULL DEFAULT '',
    subjects_notified_at  bigint,
    closed_at             bigint,
    warned                TEXT    NOT NULL DEFAULT '',
    created_by            TEXT    NOT NULL,
    updated_at            bigint NOT NULL
);
CREATE INDEX incidents_open ON incidents (status, deadline);

-- +goose Down
DROP INDEX incidents_open;
DROP TABLE incidents;
