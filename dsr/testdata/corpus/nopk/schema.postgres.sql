CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
-- No primary key; event_uuid is unique and NOT NULL.
CREATE TABLE login_events (event_uuid uuid NOT NULL UNIQUE, user_id bigint NOT NULL REFERENCES users (id), ip text, at timestamptz NOT NULL);
CREATE INDEX ON login_events (user_id);
