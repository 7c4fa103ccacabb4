CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, plan TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
  prefs TEXT CHECK (prefs IS NULL OR json_valid(prefs)), profile JSON);
CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), kind TEXT NOT NULL, data TEXT CHECK (data IS NULL OR json_valid(data)));
CREATE INDEX events_user ON events (user_id);
