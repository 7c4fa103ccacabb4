CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), total NUMERIC);
CREATE TABLE contact_requests (id INTEGER PRIMARY KEY, email TEXT NOT NULL, message TEXT);
CREATE INDEX orders_user ON orders (user_id);
CREATE INDEX contact_requests_email ON contact_requests (lower(email));
CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email TEXT NOT NULL, topic TEXT);
