-- A SaaS: organizations, users and their memberships (a composite key, and a
-- composite foreign key to it), projects, an audit log owned by the
-- organization, security events that name usernames, and two tables without a
-- primary key: one with a unique NOT NULL column, one with nothing unique.
CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, billing_email TEXT, created_at TIMESTAMP NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, email TEXT NOT NULL UNIQUE, name TEXT,
  invited_by INTEGER REFERENCES users (id) ON DELETE SET NULL, created_at TIMESTAMP NOT NULL);
CREATE INDEX users_email_lower ON users (lower(email));
CREATE TABLE memberships (org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, role TEXT NOT NULL, PRIMARY KEY (org_id, user_id));
CREATE TABLE membership_notes (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, user_id INTEGER NOT NULL, note TEXT NOT NULL,
  FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE);
CREATE TABLE projects (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs (id),
  owner_id INTEGER NOT NULL REFERENCES users (id), name TEXT NOT NULL);
CREATE TABLE audit_logs (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs (id),
  actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL, action TEXT NOT NULL, ip_address TEXT, created_at TIMESTAMP NOT NULL);
CREATE TABLE security_events (id INTEGER PRIMARY KEY, username TEXT NOT NULL, ip_address TEXT, kind TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE newsletter_signups (email TEXT NOT NULL, source TEXT, signed_up_at TIMESTAMP NOT NULL);
CREATE UNIQUE INDEX newsletter_signups_email ON newsletter_signups (email);
CREATE TABLE page_views (visitor_id TEXT NOT NULL, user_id INTEGER REFERENCES users (id), url TEXT, viewed_at TIMESTAMP NOT NULL);
