CREATE TABLE users (id bigint PRIMARY KEY, username text NOT NULL UNIQUE, email text NOT NULL);
CREATE TABLE security_events (id bigint PRIMARY KEY, username text NOT NULL, event text NOT NULL, ip text, at timestamptz NOT NULL);
CREATE INDEX ON security_events (username);
