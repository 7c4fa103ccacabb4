-- Vow state store, version 13: one lease for every runner (a request being
-- executed, a retention rule being run), so that two instances — or a
-- command and a server — never run one thing at once, and a runner that
-- lost its lease (paused, partitioned) stops. Replaces requests.lease_*
-- and retention_leases, which are no longer used.

-- +goose Up
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE leases;
