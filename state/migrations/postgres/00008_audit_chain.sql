-- Vow state store, version 8: the event log becomes a tamper-evident audit
-- log. Each entry carries the hash of the entry before it (prev) and its
-- own hash over prev and its content (state.ChainHash); signed checkpoints
-- seal the chain, so that a changed, removed, inserted or reordered entry
-- shows. Entries written before version 8 are chained when a store of
-- this version first opens the file.

-- +goose Up
-- Vow assigns seq itself, as the head of the chain plus one, under the
-- append lock.
ALTER TABLE events ALTER COLUMN seq DROP IDENTITY;
ALTER TABLE events ADD COLUMN prev bytea;
ALTER TABLE events ADD COLUMN hash bytea;

-- A checkpoint is Vow's signature over the hash of entry seq. Pruning the
-- log by its retention deletes entries up to a checkpoint, which then
-- anchors what is left.
CREATE TABLE audit_checkpoints (
    seq       bigint      PRIMARY KEY,
    at        timestamptz NOT NULL,
    hash      bytea       NOT NULL,
    key_id    text        NOT NULL,
    signature bytea       NOT NULL
);

-- Exports filtered by subject or actor, and pruning by time.
CREATE INDEX events_subject_seq ON events (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX events_actor_seq ON events (actor, seq);
CREATE INDEX events_at ON events (at);

-- +goose Down
DROP INDEX events_at;
DROP INDEX events_actor_seq;
DROP INDEX events_subject_seq;
DROP TABLE audit_checkpoints;
ALTER TABLE events DROP COLUMN hash;
ALTER TABLE events DROP COLUMN prev;
ALTER TABLE events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('events', 'seq'), coalesce(max(seq), 0) + 1, false) FROM events;
