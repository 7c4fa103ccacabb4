INSERT INTO users (id, email, name) VALUES (1, 'ada@example.com', 'Ada'), (2, 'bob@example.com', 'Bob'), (3, 'cy@example.com', 'Cy');
-- Event ids repeat across partitions: the key is (id, created_at).
INSERT INTO events (id, user_id, actor_id, created_at, kind, payload) VALUES
  (1, 1, NULL, '2023-03-01 10:00:00+00', 'login', 'web'),
  (2, 2, NULL, '2023-03-02 11:00:00+00', 'login', 'app'),
  (1, 2, 1, '2024-05-01 09:30:00+00', 'role_changed', 'by admin Ada'),
  (3, 1, NULL, '2024-06-01 12:00:00+00', 'export', NULL),
  (4, 3, 2, '2024-07-01 12:00:00+00', 'suspended', 'by admin Bob'),
  (5, 1, 1, '{{now-1d}}+00', 'logout', 'web'),
  (6, 3, NULL, '{{now-2d}}+00', 'login', 'web'),
  (7, 2, 1, '{{now-3d}}+00', 'password_reset', 'by admin Ada');
INSERT INTO sessions (id, user_id, ip, started_at) VALUES
  (1, 1, '192.0.2.1', '2024-06-01 12:00:00+00'),
  (2, 2, '198.51.100.7', '2024-06-01 12:00:00+00'),
  (3, 1, '2001:db8::1', '2024-06-02 12:00:00+00');
