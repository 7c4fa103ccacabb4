-- Vow state store, version 12: limits on email verification codes. A
-- request may be sent a few codes, a while apart, and one address only so
-- many an hour, so that resending can neither flood a mailbox nor buy
-- unlimited guesses.

-- +goose Up
-- sends counts the codes sent for the request so far.
ALTER TABLE verification_codes ADD COLUMN sends INTEGER NOT NULL DEFAULT 1;

-- code_sends records each code sent, by a keyed hash of the address.
CREATE TABLE code_sends (
    address TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE INDEX code_sends_address ON code_sends (address, sent_at);

-- +goose Down
DROP INDEX code_sends_address;
DROP TABLE code_sends;
ALTER TABLE verification_codes DROP COLUMN sends;
