CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, name text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), total numeric(10,2));
-- The contact form keeps the address as typed.
CREATE TABLE contact_requests (id bigint PRIMARY KEY, email text NOT NULL, message text);
CREATE INDEX ON orders (user_id);
CREATE INDEX ON contact_requests (lower(email));
CREATE TABLE newsletter (id bigint PRIMARY KEY, email text NOT NULL, topic text);
