CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, email TEXT NOT NULL);
CREATE TABLE security_events (id INTEGER PRIMARY KEY, username TEXT NOT NULL, event TEXT NOT NULL, ip TEXT, at TEXT NOT NULL);
CREATE INDEX security_events_username ON security_events (username);
