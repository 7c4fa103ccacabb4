CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, plan ENUM('free', 'pro', 'enterprise') NOT NULL, prefs JSON, profile JSON);
CREATE TABLE events (id BIGINT PRIMARY KEY, user_id BIGINT, kind VARCHAR(40) NOT NULL, data JSON, FOREIGN KEY (user_id) REFERENCES users (id));
