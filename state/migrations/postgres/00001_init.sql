-- Vow state store, version 1: store metadata and the append-only event log.

-- +goose Up
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- events is append-only: rows are never updated or deleted by Vow.
-- data is a compact JSON object kept as text (not jsonb) so that the exact
-- bytes Vow wrote come back on every dialect; a later audit hash chain
-- depends on that.
CREATE TABLE events (
    seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL,
    kind    text NOT NULL CHECK (kind <> ''),
    subject text,
    actor   text NOT NULL,
    data    text NOT NULL DEFAULT '{}' CHECK (json_typeof(data::json) = 'object')
);

CREATE INDEX events_kind_seq ON events (kind, seq);

-- +goose Down
DROP TABLE events;
DROP TABLE meta;
