CREATE TABLE users (user_id CHAR(36) PRIMARY KEY NOT NULL, legacy_id INTEGER NOT NULL UNIQUE, email TEXT NOT NULL, handle TEXT NOT NULL);
CREATE TABLE sessions (session_id TEXT PRIMARY KEY NOT NULL, token TEXT NOT NULL, user_id CHAR(36) NOT NULL REFERENCES users (user_id), created_at TEXT NOT NULL);
CREATE TABLE api_keys (key_id VARCHAR(40) PRIMARY KEY NOT NULL, user_id CHAR(36) NOT NULL REFERENCES users (user_id), label TEXT,
  created_by CHAR(36) REFERENCES users (user_id));
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX api_keys_user ON api_keys (user_id);
CREATE INDEX api_keys_created_by ON api_keys (created_by);
