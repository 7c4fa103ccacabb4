-- Vow state store, version 9: an erasure of an email address reaches the
-- records filed under any spelling of it (Ada@Example.com and
-- ada@example.com), found through these indexes on the lower-cased
-- subject.

-- +goose Up
CREATE INDEX consent_current_lower_subject ON consent_current (lower(subject));
CREATE INDEX preferences_lower_subject ON preferences (lower(subject));
CREATE INDEX consent_links_lower_subject ON consent_links (lower(subject));
CREATE INDEX policy_acceptances_lower_subject ON policy_acceptances (lower(subject));
CREATE INDEX policy_notices_lower_recipient ON policy_notices (lower(recipient));

-- +goose Down
DROP INDEX policy_notices_lower_recipient;
DROP INDEX policy_acceptances_lower_subject;
DROP INDEX consent_links_lower_subject;
DROP INDEX preferences_lower_subject;
DROP INDEX consent_current_lower_subject;
