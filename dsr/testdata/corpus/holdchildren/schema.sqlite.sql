CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), issued_at TEXT NOT NULL, billing_name TEXT, total NUMERIC NOT NULL);
CREATE TABLE invoice_lines (id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL REFERENCES invoices (id), description TEXT, amount NUMERIC NOT NULL);
CREATE TABLE invoice_notes (id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL REFERENCES invoices (id), note TEXT);
CREATE INDEX invoices_customer ON invoices (customer_id);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id);
CREATE INDEX invoice_notes_invoice ON invoice_notes (invoice_id);
