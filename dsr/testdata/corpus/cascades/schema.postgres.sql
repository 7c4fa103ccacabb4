CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);
-- A review belongs to its author; deleting the reviewed user deletes the
-- review (another person's row) through the database's own rule.
CREATE TABLE reviews (id bigint PRIMARY KEY, author_id bigint NOT NULL REFERENCES users (id),
  reviewed_user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE, body text);
-- A ticket belongs to its requester; the assignee is set to NULL by the database.
CREATE TABLE tickets (id bigint PRIMARY KEY, requester_id bigint NOT NULL REFERENCES users (id),
  assignee_id bigint REFERENCES users (id) ON DELETE SET NULL, subject text);
-- A note belongs to its author; the database refuses to delete the user it is about.
CREATE TABLE notes (id bigint PRIMARY KEY, author_id bigint NOT NULL REFERENCES users (id),
  about_user_id bigint REFERENCES users (id) ON DELETE RESTRICT, body text);
CREATE INDEX ON reviews (author_id);
CREATE INDEX ON reviews (reviewed_user_id);
CREATE INDEX ON tickets (requester_id);
CREATE INDEX ON tickets (assignee_id);
CREATE INDEX ON notes (author_id);
CREATE INDEX ON notes (about_user_id);
