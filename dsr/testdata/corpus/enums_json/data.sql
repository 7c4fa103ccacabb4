INSERT INTO users (id, email, plan, prefs, profile) VALUES (1, 'ada@example.com', 'pro', '{"theme": "dark", "langs": ["en", "fr"], "digest": {"weekly": true, "hour": 7}}', '{"bio": "Mathematician — née Byron", "score": 12345678901234567890}');
INSERT INTO users (id, email, plan, prefs, profile) VALUES (2, 'bob@example.com', 'free', '{"theme": "light"}', NULL);
INSERT INTO users (id, email, plan, prefs, profile) VALUES (3, 'cy@example.com', 'enterprise', NULL, '[1, 2.5, "three", null]');
INSERT INTO events (id, user_id, kind, data) VALUES (1, 1, 'upgrade', '{"from": "free", "to": "pro", "price": 19.90}');
INSERT INTO events (id, user_id, kind, data) VALUES (2, 2, 'login', '{"ip": "198.51.100.7"}');
INSERT INTO events (id, user_id, kind, data) VALUES (3, 1, 'login', '{"ip": "192.0.2.1", "ua": "Firefox ''esr''"}');
INSERT INTO events (id, user_id, kind, data) VALUES (4, 3, 'note', '"a bare JSON string"');
INSERT INTO events (id, user_id, kind, data) VALUES (5, 1, 'note', NULL);
