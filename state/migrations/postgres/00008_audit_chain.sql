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
    signature bytea       NOT NULL,
    -- The checkpoint before this one (0 and NULL for the first): the
    -- signature covers it, so a checkpoint removed from the middle shows.
    prev_seq  bigint      NOT NULL DEFAULT 0,
    prev_hash bytea
);

-- vow_audit_append appends an entry in one statement: under the append
-- lock it reads the head of the chain (the last entry, or the checkpoint
-- that anchors an emptied log) with a fresh snapshot — a VOLATILE
-- function's statements see what committed while it waited for the lock
-- — and links the entry to it as state.ChainHash does, from the entry's
-- digest computed by Vow.
-- +goose StatementBegin
CREATE FUNCTION vow_audit_append(p_at timestamptz, p_kind text, p_subject text, p_actor text, p_data text, p_digest bytea,
    OUT r_seq bigint, OUT r_prev bytea, OUT r_hash bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'vow_audit_append: the transaction is %, not read committed: the head of the chain could be stale', current_setting('transaction_isolation');
    END IF;
    PERFORM pg_advisory_xact_lock(8534171070498235758); -- state.appendLockID, "vow_even"
    SELECT h.seq, h.hash INTO r_seq, r_prev FROM (
        (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1)
        UNION ALL (SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1)
        UNION ALL SELECT 0, NULL
    ) h ORDER BY h.seq DESC LIMIT 1;
    IF r_prev IS NULL AND r_seq > 0 THEN
        RAISE EXCEPTION 'vow_audit_append: entry % is not chained', r_seq;
    END IF;
    r_seq := r_seq + 1;
    r_hash := sha256(convert_to(E'vow.audit.v1\n', 'UTF8') || int4send(coalesce(octet_length(r_prev), 0))
        || coalesce(r_prev, ''::bytea) || int8send(r_seq) || p_digest);
    INSERT INTO events (seq, at, kind, subject, actor, data, prev, hash)
        VALUES (r_seq, p_at, p_kind, p_subject, p_actor, p_data, r_prev, r_hash);
END
$$;
-- +goose StatementEnd

-- vow_audit_append_many appends a group commit's entries in one call,
-- in array order, as vow_audit_append would one by one.
-- +goose StatementBegin
CREATE FUNCTION vow_audit_append_many(p_at timestamptz[], p_kind text[], p_subject text[], p_actor text[], p_data text[], p_digest bytea[])
RETURNS TABLE (r_seq bigint, r_prev bytea, r_hash bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_at, 1), 0) LOOP
        SELECT a.r_seq, a.r_prev, a.r_hash INTO r_seq, r_prev, r_hash
            FROM vow_audit_append(p_at[i], p_kind[i], nullif(p_subject[i], ''), p_actor[i], p_data[i], p_digest[i]) a;
        RETURN NEXT;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- Exports of one subject's entries (a request's), and pruning by time.
-- Exports by actor scan: an index more would slow every append.
CREATE INDEX events_subject_seq ON events (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX events_at ON events (at);

-- +goose Down
DROP FUNCTION vow_audit_append_many;
DROP FUNCTION vow_audit_append;
DROP INDEX events_at;
DROP INDEX events_subject_seq;
DROP TABLE audit_checkpoints;
ALTER TABLE events DROP COLUMN hash;
ALTER TABLE events DROP COLUMN prev;
ALTER TABLE events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('events', 'seq'), coalesce(max(seq), 0) + 1, false) FROM events;
