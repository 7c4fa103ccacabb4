-- Vow state store, version 11: a request keeps its subject's identities
-- only while it runs. Each identity is also kept as the keyed pseudonym
-- the audit log names the person by (audit.Subject), so that an erasure
-- still finds the person's earlier requests (and deletes their access
-- packages) after those requests have forgotten the identities.

-- +goose Up
CREATE TABLE request_pseudonyms (
    request_id TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    pseudonym  TEXT NOT NULL,
    PRIMARY KEY (pseudonym, request_id)
);

-- +goose Down
DROP TABLE request_pseudonyms;
