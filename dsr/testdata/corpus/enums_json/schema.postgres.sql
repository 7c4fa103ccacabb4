CREATE TYPE plan_tier AS ENUM ('free', 'pro', 'enterprise');
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, plan plan_tier NOT NULL, prefs jsonb, profile json);
CREATE TABLE events (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id), kind text NOT NULL, data jsonb);
CREATE INDEX ON events (user_id);
