CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, name text);
-- Events are partitioned by time; the foreign keys and indexes are on the
-- partitions, not on the partitioned table.
CREATE TABLE events (id bigint NOT NULL, user_id bigint NOT NULL, actor_id bigint, created_at timestamptz NOT NULL, kind text NOT NULL, payload text,
  PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);
CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01 00:00:00+00') TO ('2024-01-01 00:00:00+00');
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');
CREATE TABLE events_later PARTITION OF events DEFAULT;
ALTER TABLE events_2023 ADD FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE events_2024 ADD FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE events_later ADD FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE events_2023 ADD FOREIGN KEY (actor_id) REFERENCES users (id);
ALTER TABLE events_2024 ADD FOREIGN KEY (actor_id) REFERENCES users (id);
ALTER TABLE events_later ADD FOREIGN KEY (actor_id) REFERENCES users (id);
CREATE INDEX ON events_2023 (user_id);
CREATE INDEX ON events_2024 (user_id);
CREATE INDEX ON events_later (user_id);
CREATE INDEX ON events_2023 (actor_id);
CREATE INDEX ON events_2024 (actor_id);
CREATE INDEX ON events_later (actor_id);
CREATE TABLE sessions (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), ip inet, started_at timestamptz NOT NULL);
CREATE INDEX ON sessions (user_id);
