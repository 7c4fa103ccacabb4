-- Vow state store, version 1: store metadata and the append-only event log.

-- +goose Up
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- events is append-only: rows are never updated or deleted by Vow.
-- at is UTC in the fixed-width form 2006-01-02T15:04:05.000000Z so that it
-- sorts as text; data is a compact JSON object stored verbatim.
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT    NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind <> ''),
    subject TEXT,
    actor   TEXT    NOT NULL,
    data    TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(data) AND json_type(data) = 'object')
);

CREATE INDEX events_kind_seq ON events (kind, seq);

-- +goose Down
DROP INDEX events_kind_seq;
DROP TABLE events;
DROP TABLE meta;
