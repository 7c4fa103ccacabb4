INSERT INTO users (user_id, legacy_id, email, handle) VALUES ('0b9a3c4e-8d1f-4f6a-9c2e-1a2b3c4d5e6f', 1, 'ada@example.com', 'ada');
INSERT INTO users (user_id, legacy_id, email, handle) VALUES ('5f1e2d3c-4b5a-4968-8776-655443322110', 2, 'bob@example.com', 'bob');
INSERT INTO users (user_id, legacy_id, email, handle) VALUES ('9e8d7c6b-5a49-4382-b1a0-f0e1d2c3b4a5', 11, 'cy@example.com', 'cy');
INSERT INTO sessions (session_id, token, user_id, created_at) VALUES ('sess_7Hq2', 'tok_7f3c9a', '0b9a3c4e-8d1f-4f6a-9c2e-1a2b3c4d5e6f', '2024-01-01 10:00:00');
INSERT INTO sessions (session_id, token, user_id, created_at) VALUES ('sess_9Zx1', 'tok_0d1e2f', '0b9a3c4e-8d1f-4f6a-9c2e-1a2b3c4d5e6f', '2024-01-02 10:00:00');
INSERT INTO sessions (session_id, token, user_id, created_at) VALUES ('sess_1Aa0', 'tok_a1b2c3', '5f1e2d3c-4b5a-4968-8776-655443322110', '2024-01-03 10:00:00');
INSERT INTO sessions (session_id, token, user_id, created_at) VALUES ('1', 'tok_99', '9e8d7c6b-5a49-4382-b1a0-f0e1d2c3b4a5', '2024-01-04 10:00:00');
-- Key k_bob_ci was created for Bob by Ada, an admin.
INSERT INTO api_keys (key_id, user_id, label, created_by) VALUES ('k_ada_laptop', '0b9a3c4e-8d1f-4f6a-9c2e-1a2b3c4d5e6f', 'laptop', NULL);
INSERT INTO api_keys (key_id, user_id, label, created_by) VALUES ('k_bob_ci', '5f1e2d3c-4b5a-4968-8776-655443322110', 'CI', '0b9a3c4e-8d1f-4f6a-9c2e-1a2b3c4d5e6f');
INSERT INTO api_keys (key_id, user_id, label, created_by) VALUES ('k_cy', '9e8d7c6b-5a49-4382-b1a0-f0e1d2c3b4a5', NULL, '5f1e2d3c-4b5a-4968-8776-655443322110');
