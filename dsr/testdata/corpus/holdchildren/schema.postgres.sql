CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id), issued_at timestamp NOT NULL, billing_name text, total numeric(10,2) NOT NULL);
CREATE TABLE invoice_lines (id bigint PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoices (id), description text, amount numeric(10,2) NOT NULL);
CREATE TABLE invoice_notes (id bigint PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoices (id), note text);
CREATE INDEX ON invoices (customer_id);
CREATE INDEX ON invoice_lines (invoice_id);
CREATE INDEX ON invoice_notes (invoice_id);
