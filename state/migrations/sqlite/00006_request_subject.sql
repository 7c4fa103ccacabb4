-- Vow state store, version 6: a request is for one subject kind, and an
-- erasure the brake stopped waits for an operator's approval.

-- +goose Up
-- subject is the subject kind the request is for (customer, team_member…);
-- '' on requests recorded before there were kinds.
ALTER TABLE requests ADD COLUMN subject TEXT NOT NULL DEFAULT '';
-- approval is JSON: why the brake stopped the request ({"reasons": […]}),
-- and once approved, who approved it and when.
ALTER TABLE requests ADD COLUMN approval TEXT;

-- +goose Down
ALTER TABLE requests DROP COLUMN approval;
ALTER TABLE requests DROP COLUMN subject;
