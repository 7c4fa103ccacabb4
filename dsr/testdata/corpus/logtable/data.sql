-- Usernames are case-sensitive: ann and Ann are two people.
INSERT INTO users (id, username, email) VALUES (1, 'ann', 'ann@example.com');
INSERT INTO users (id, username, email) VALUES (2, 'Ann', 'ann.other@example.com');
INSERT INTO users (id, username, email) VALUES (3, 'anne', 'anne@example.com');
INSERT INTO users (id, username, email) VALUES (4, 'a_n', 'an@example.com');
INSERT INTO users (id, username, email) VALUES (5, 'bob', 'bob@example.com');
-- The log holds what people typed: their usernames, and names of no one.
INSERT INTO security_events (id, username, event, ip, at) VALUES (1, 'ann', 'login', '192.0.2.1', '2024-03-01 08:00:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (2, 'Ann', 'login', '192.0.2.2', '2024-03-01 08:01:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (3, 'anne', 'login', '192.0.2.3', '2024-03-01 08:02:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (4, 'ann ', 'failed_login', '203.0.113.9', '2024-03-01 08:03:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (5, 'ANN', 'failed_login', '203.0.113.9', '2024-03-01 08:04:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (6, 'ann', 'logout', '192.0.2.1', '2024-03-01 09:00:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (7, 'a_n', 'login', '192.0.2.4', '2024-03-01 09:01:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (8, 'ann%', 'failed_login', '203.0.113.9', '2024-03-01 09:02:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (9, 'bob', 'login', '198.51.100.7', '2024-03-01 09:03:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (10, 'ann', 'password_change', NULL, '2024-03-02 10:00:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (11, ' ann', 'failed_login', '203.0.113.9', '2024-03-02 10:01:00');
INSERT INTO security_events (id, username, event, ip, at) VALUES (12, 'ann.', 'failed_login', '203.0.113.9', '2024-03-02 10:02:00');
