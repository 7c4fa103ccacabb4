-- The SaaS schema of saas.sqlite.sql with PostgreSQL types, and invoices in a
-- schema of their own.
CREATE TABLE orgs (id bigserial PRIMARY KEY, name text NOT NULL, billing_email text, created_at timestamptz NOT NULL);
CREATE TABLE users (id bigserial PRIMARY KEY, uuid uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(), email text NOT NULL UNIQUE, name text,
  invited_by bigint REFERENCES users (id) ON DELETE SET NULL, created_at timestamptz NOT NULL);
CREATE INDEX users_email_lower ON users (lower(email));
CREATE TABLE memberships (org_id bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE, role text NOT NULL, PRIMARY KEY (org_id, user_id));
CREATE TABLE membership_notes (id bigserial PRIMARY KEY, org_id bigint NOT NULL, user_id bigint NOT NULL, note text NOT NULL,
  FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE);
CREATE TABLE projects (id bigserial PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs (id),
  owner_id bigint NOT NULL REFERENCES users (id), name text NOT NULL);
CREATE TABLE audit_logs (id bigserial PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs (id),
  actor_id bigint REFERENCES users (id) ON DELETE SET NULL, action text NOT NULL, ip_address inet, created_at timestamptz NOT NULL);
CREATE TABLE security_events (id bigserial PRIMARY KEY, username text NOT NULL, ip_address inet, kind text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE newsletter_signups (email text NOT NULL, source text, signed_up_at timestamptz NOT NULL);
CREATE UNIQUE INDEX newsletter_signups_email ON newsletter_signups (email);
CREATE TABLE page_views (visitor_id text NOT NULL, user_id bigint REFERENCES users (id), url text, viewed_at timestamptz NOT NULL);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id bigserial PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs (id), billing_name text NOT NULL,
  amount_cents bigint NOT NULL, issued_at timestamptz NOT NULL);
CREATE TABLE billing.invoice_lines (invoice_id bigint NOT NULL REFERENCES billing.invoices (id) ON DELETE CASCADE, line_no int NOT NULL,
  description text NOT NULL, PRIMARY KEY (invoice_id, line_no));
