CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, name VARCHAR(255));
CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, total DECIMAL(10,2), FOREIGN KEY (user_id) REFERENCES users (id));
CREATE TABLE contact_requests (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, message TEXT, INDEX (email));
-- A binary collation: the column itself compares case-sensitively.
CREATE TABLE newsletter (id BIGINT PRIMARY KEY, email VARCHAR(255) COLLATE utf8mb4_bin NOT NULL, topic VARCHAR(40));
