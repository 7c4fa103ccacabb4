CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(255));
CREATE TABLE invoices (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, issued_at DATETIME NOT NULL, billing_name VARCHAR(255), total DECIMAL(10,2) NOT NULL,
  FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE invoice_lines (id BIGINT PRIMARY KEY, invoice_id BIGINT NOT NULL, description VARCHAR(255), amount DECIMAL(10,2) NOT NULL,
  FOREIGN KEY (invoice_id) REFERENCES invoices (id));
CREATE TABLE invoice_notes (id BIGINT PRIMARY KEY, invoice_id BIGINT NOT NULL, note VARCHAR(255), FOREIGN KEY (invoice_id) REFERENCES invoices (id));
