-- Vow state store, version 15: a count of the changes to consent_current,
-- kept by triggers. A SQLite store has no NOTIFY; the consent cache used
-- to watch PRAGMA data_version, which moves on every commit to any table —
-- an API token's last-use time, once a minute, emptied the whole cache.
-- The count moves only when the consent state does, whoever writes it.

-- +goose Up
CREATE TABLE consent_changes (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO consent_changes (id, version) VALUES (1, 0);
-- +goose StatementBegin
CREATE TRIGGER consent_current_inserted AFTER INSERT ON consent_current
BEGIN
    UPDATE consent_changes SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consent_current_updated AFTER UPDATE ON consent_current
BEGIN
    UPDATE consent_changes SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consent_current_deleted AFTER DELETE ON consent_current
BEGIN
    UPDATE consent_changes SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER consent_current_deleted;
DROP TRIGGER consent_current_updated;
DROP TRIGGER consent_current_inserted;
DROP TABLE consent_changes;
