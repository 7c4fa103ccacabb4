INSERT INTO users (id, email) VALUES (1, 'ada@example.com');
INSERT INTO users (id, email) VALUES (2, 'bob@example.com');
-- Two of Ada's events are identical but for their uuid.
INSERT INTO login_events (event_uuid, user_id, ip, at) VALUES ('a0000000-0000-4000-8000-000000000001', 1, '192.0.2.1', '2024-01-01 10:00:00');
INSERT INTO login_events (event_uuid, user_id, ip, at) VALUES ('a0000000-0000-4000-8000-000000000002', 1, '192.0.2.1', '2024-01-01 10:00:00');
INSERT INTO login_events (event_uuid, user_id, ip, at) VALUES ('b0000000-0000-4000-8000-000000000003', 2, '198.51.100.7', '2024-01-01 10:00:00');
INSERT INTO login_events (event_uuid, user_id, ip, at) VALUES ('a0000000-0000-4000-8000-000000000004', 1, NULL, '2024-01-02 11:00:00');
