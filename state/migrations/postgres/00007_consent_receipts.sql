-- Vow state store, version 7: a consent receipt is made and signed once,
-- when the decision is recorded, under the policy then in force.

-- +goose Up
-- receipt is the signed receipt (JSON: {"receipt", "signature", "key_id"});
-- NULL for events recorded before version 7, and once the subject is
-- erased (a receipt names its subject).
ALTER TABLE consent_events ADD COLUMN receipt TEXT;

-- +goose Down
ALTER TABLE consent_events DROP COLUMN receipt;
