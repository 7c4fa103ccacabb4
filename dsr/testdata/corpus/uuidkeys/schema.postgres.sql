CREATE TABLE users (user_id uuid PRIMARY KEY, legacy_id bigint NOT NULL UNIQUE, email text NOT NULL, handle text NOT NULL);
CREATE TABLE sessions (session_id text PRIMARY KEY, token text NOT NULL, user_id uuid NOT NULL REFERENCES users (user_id), created_at timestamptz NOT NULL);
CREATE TABLE api_keys (key_id varchar(40) PRIMARY KEY, user_id uuid NOT NULL REFERENCES users (user_id), label text,
  created_by uuid REFERENCES users (user_id));
CREATE INDEX ON sessions (user_id);
CREATE INDEX ON api_keys (user_id);
CREATE INDEX ON api_keys (created_by);
