-- Usernames are case-sensitive in this application (a binary collation).
CREATE TABLE users (id BIGINT PRIMARY KEY, username VARCHAR(64) COLLATE utf8mb4_bin NOT NULL UNIQUE, email VARCHAR(255) NOT NULL);
CREATE TABLE security_events (id BIGINT PRIMARY KEY, username VARCHAR(64) COLLATE utf8mb4_bin NOT NULL, event VARCHAR(40) NOT NULL, ip VARCHAR(45), at DATETIME NOT NULL,
  INDEX (username));
