CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
CREATE TABLE reviews (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES users (id),
  reviewed_user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, body TEXT);
CREATE TABLE tickets (id INTEGER PRIMARY KEY, requester_id INTEGER NOT NULL REFERENCES users (id),
  assignee_id INTEGER REFERENCES users (id) ON DELETE SET NULL, subject TEXT);
CREATE TABLE notes (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES users (id),
  about_user_id INTEGER REFERENCES users (id) ON DELETE RESTRICT, body TEXT);
CREATE INDEX reviews_author ON reviews (author_id);
CREATE INDEX reviews_reviewed ON reviews (reviewed_user_id);
CREATE INDEX tickets_requester ON tickets (requester_id);
CREATE INDEX tickets_assignee ON tickets (assignee_id);
CREATE INDEX notes_author ON notes (author_id);
CREATE INDEX notes_about ON notes (about_user_id);
