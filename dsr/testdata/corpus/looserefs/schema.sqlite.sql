CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE audit_trail (id INTEGER PRIMARY KEY, actor_ref VARCHAR(32), action TEXT NOT NULL);
CREATE INDEX audit_trail_actor ON audit_trail (actor_ref);
