-- The application stores account emails lowercased.
INSERT INTO users (id, email, name) VALUES (14, 'user14@mail14.example', 'Fourteen');
INSERT INTO users (id, email, name) VALUES (140, 'user140@mail14.example', 'Hundred-forty');
INSERT INTO users (id, email, name) VALUES (141, 'user14@mail14.example.org', 'Other domain');
INSERT INTO users (id, email, name) VALUES (142, 'xuser14@mail14.example', 'Prefix');
INSERT INTO users (id, email, name) VALUES (20, 'jürgen@straße.example', 'Jürgen');
INSERT INTO orders (id, user_id, total) VALUES (1, 14, 10.00);
INSERT INTO orders (id, user_id, total) VALUES (2, 140, 20.00);
INSERT INTO orders (id, user_id, total) VALUES (3, 14, 30.00);
INSERT INTO orders (id, user_id, total) VALUES (4, 20, 40.00);
INSERT INTO contact_requests (id, email, message) VALUES (1, 'User14@MAIL14.example', 'where is my order?');
INSERT INTO contact_requests (id, email, message) VALUES (2, 'user14@mail14.example', 'found it');
INSERT INTO contact_requests (id, email, message) VALUES (3, 'USER140@mail14.example', 'hello');
INSERT INTO contact_requests (id, email, message) VALUES (4, 'user14@mail14.exampl', 'typo');
INSERT INTO contact_requests (id, email, message) VALUES (5, 'JÜRGEN@STRASSE.example', 'not the same domain');
INSERT INTO contact_requests (id, email, message) VALUES (6, 'JÜRGEN@Straße.example', 'Umlaut in capitals');
-- jose and josé are two mailboxes, two people.
INSERT INTO users (id, email, name) VALUES (21, 'jose@example.com', 'Jose');
INSERT INTO orders (id, user_id, total) VALUES (5, 21, 50.00);
INSERT INTO contact_requests (id, email, message) VALUES (7, 'josé@example.com', 'José, someone else');
INSERT INTO contact_requests (id, email, message) VALUES (8, 'JOSE@example.com', 'Jose again');
-- The newsletter keeps addresses as typed.
INSERT INTO newsletter (id, email, topic) VALUES (1, 'Reader@News.example', 'releases');
INSERT INTO newsletter (id, email, topic) VALUES (2, 'reader@news.example', 'offers');
INSERT INTO newsletter (id, email, topic) VALUES (3, 'reader2@news.example', 'offers');
