CREATE TABLE users (user_id CHAR(36) PRIMARY KEY, legacy_id BIGINT NOT NULL UNIQUE, email VARCHAR(255) NOT NULL, handle VARCHAR(64) NOT NULL);
CREATE TABLE sessions (session_id VARCHAR(64) PRIMARY KEY, token VARCHAR(64) NOT NULL, user_id CHAR(36) NOT NULL, created_at DATETIME NOT NULL,
  FOREIGN KEY (user_id) REFERENCES users (user_id));
CREATE TABLE api_keys (key_id VARCHAR(40) PRIMARY KEY, user_id CHAR(36) NOT NULL, label VARCHAR(100), created_by CHAR(36),
  FOREIGN KEY (user_id) REFERENCES users (user_id), FOREIGN KEY (created_by) REFERENCES users (user_id));
