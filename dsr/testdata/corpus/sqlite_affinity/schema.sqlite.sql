CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
-- author has no declared type (no affinity): the application wrote some
-- ids as text, some as integers. Both are the user.
CREATE TABLE notes (id INTEGER PRIMARY KEY, author, body TEXT);
CREATE INDEX notes_author ON notes (author);
