INSERT INTO users (id, email) VALUES (1, 'ada@example.com');
INSERT INTO users (id, email) VALUES (2, 'bob@example.com');
INSERT INTO notes (id, author, body) VALUES (1, 1, 'Ada, written as an integer');
INSERT INTO notes (id, author, body) VALUES (2, '1', 'Ada, written as text');
INSERT INTO notes (id, author, body) VALUES (3, 2, 'Bob');
INSERT INTO notes (id, author, body) VALUES (4, '2', 'Bob as text');
INSERT INTO notes (id, author, body) VALUES (5, '1abc', 'no one');
