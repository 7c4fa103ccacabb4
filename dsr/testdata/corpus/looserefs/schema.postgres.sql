CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
-- The audit trail names its actor as text, with no foreign key: user ids,
-- and references to other systems' accounts.
CREATE TABLE audit_trail (id bigint PRIMARY KEY, actor_ref varchar(32), action text NOT NULL);
CREATE INDEX ON audit_trail (actor_ref);
