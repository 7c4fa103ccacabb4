CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE login_events (event_uuid TEXT NOT NULL UNIQUE, user_id INTEGER NOT NULL REFERENCES users (id), ip TEXT, at TEXT NOT NULL);
CREATE INDEX login_events_user ON login_events (user_id);
