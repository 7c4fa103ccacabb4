CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(255));
CREATE TABLE reviews (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, reviewed_user_id BIGINT NOT NULL, body TEXT,
  FOREIGN KEY (author_id) REFERENCES users (id), FOREIGN KEY (reviewed_user_id) REFERENCES users (id) ON DELETE CASCADE);
CREATE TABLE tickets (id BIGINT PRIMARY KEY, requester_id BIGINT NOT NULL, assignee_id BIGINT, subject TEXT,
  FOREIGN KEY (requester_id) REFERENCES users (id), FOREIGN KEY (assignee_id) REFERENCES users (id) ON DELETE SET NULL);
CREATE TABLE notes (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, about_user_id BIGINT, body TEXT,
  FOREIGN KEY (author_id) REFERENCES users (id), FOREIGN KEY (about_user_id) REFERENCES users (id) ON DELETE RESTRICT);
