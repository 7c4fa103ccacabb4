-- Vow state store, version 8: the event log becomes a tamper-evident audit
-- log. Each entry carries the hash of the entry before it (prev) and its
-- own hash over prev and its content (state.ChainHash); signed checkpoints
-- seal the chain, so that a changed, removed, inserted or reordered entry
-- shows. Entries written before version 8 are chained when a store of
-- this version first opens the file.

-- +goose Up
ALTER TABLE events ADD COLUMN prev BLOB;
ALTER TABLE events ADD COLUMN hash BLOB;

-- A checkpoint is Vow's signature over the hash of entry seq. Pruning the
-- log by its retention deletes entries up to a checkpoint, which then
-- anchors what is left.
CREATE TABLE audit_checkpoints (
    seq       INTEGER PRIMARY KEY NOT NULL,
    at        TEXT    NOT NULL,
    hash      BLOB    NOT NULL,
    key_id    TEXT    NOT NULL,
    signature BLOB    NOT NULL,
    -- The checkpoint before this one (0 and NULL for the first): the
    -- signature covers it, so a checkpoint removed from the middle shows.
    prev_seq  INTEGER NOT NULL DEFAULT 0,
    prev_hash BLOB
);

-- Exports of one subject's entries (a request's), and pruning by time.
-- Exports by actor scan: an index more would slow every append.
CREATE INDEX events_subject_seq ON events (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX events_at ON events (at);

-- +goose Down
DROP INDEX events_at;
DROP INDEX events_subject_seq;
DROP TABLE audit_checkpoints;
ALTER TABLE events DROP COLUMN hash;
ALTER TABLE events DROP COLUMN prev;
