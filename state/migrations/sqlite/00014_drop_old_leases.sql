-- Vow state store, version 14: the leases that version 13 replaced by the
-- one lease table go.

-- +goose Up
ALTER TABLE requests DROP COLUMN lease_owner;
ALTER TABLE requests DROP COLUMN lease_until;
DROP TABLE retention_leases;

-- +goose Down
CREATE TABLE retention_leases (
    rule       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
ALTER TABLE requests ADD COLUMN lease_until TEXT;
ALTER TABLE requests ADD COLUMN lease_owner TEXT;
