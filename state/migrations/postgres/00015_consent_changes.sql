-- Vow state store, version 15: the table that counts changes to
-- consent_current on SQLite, here for the schemas to stay alike. It is
-- not kept up to date on PostgreSQL, where every consent write NOTIFYs the
-- instances; a trigger updating one row would serialise every consent
-- write behind it.

-- +goose Up
CREATE TABLE consent_changes (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO consent_changes (id, version) VALUES (1, 0);

-- +goose Down
DROP TABLE consent_changes;
