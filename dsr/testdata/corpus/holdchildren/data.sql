INSERT INTO customers (id, email, name) VALUES (1, 'ada@example.com', 'Ada Lovelace');
INSERT INTO customers (id, email, name) VALUES (2, 'bob@example.com', 'Bob');
-- Invoice 1 is older than the 4-year hold; 2 and 3 are held; 4 and 5 are Bob's.
INSERT INTO invoices (id, customer_id, issued_at, billing_name, total) VALUES (1, 1, '{{now-5y}}', 'Ada Lovelace', 10.00);
INSERT INTO invoices (id, customer_id, issued_at, billing_name, total) VALUES (2, 1, '{{now-3y}}', 'Ada Lovelace', 20.00);
INSERT INTO invoices (id, customer_id, issued_at, billing_name, total) VALUES (3, 1, '{{now-2d}}', 'A. Lovelace', 30.00);
INSERT INTO invoices (id, customer_id, issued_at, billing_name, total) VALUES (4, 2, '{{now-6y}}', 'Bob', 40.00);
INSERT INTO invoices (id, customer_id, issued_at, billing_name, total) VALUES (5, 2, '{{now-1y}}', 'Bob', 50.00);
INSERT INTO invoice_lines (id, invoice_id, description, amount) VALUES (1, 1, 'Analytical Engine, rental', 6.00);
INSERT INTO invoice_lines (id, invoice_id, description, amount) VALUES (2, 1, 'punch cards', 4.00);
INSERT INTO invoice_lines (id, invoice_id, description, amount) VALUES (3, 2, 'Difference Engine', 20.00);
INSERT INTO invoice_lines (id, invoice_id, description, amount) VALUES (4, 3, 'notes on the engine', 30.00);
INSERT INTO invoice_lines (id, invoice_id, description, amount) VALUES (5, 4, 'Bob''s line', 40.00);
INSERT INTO invoice_lines (id, invoice_id, description, amount) VALUES (6, 5, 'Bob''s other line', 50.00);
INSERT INTO invoice_notes (id, invoice_id, note) VALUES (1, 1, 'paid by cheque');
INSERT INTO invoice_notes (id, invoice_id, note) VALUES (2, 3, 'reminder sent');
INSERT INTO invoice_notes (id, invoice_id, note) VALUES (3, 4, 'Bob paid late');
-- Cy: an expired invoice with a line but no note, a held one with both.
INSERT INTO customers (id, email, name) VALUES (3, 'cy@example.com', 'Cy');
INSERT INTO invoices (id, customer_id, issued_at, billing_name, total) VALUES (6, 3, '{{now-5y}}', 'Cy', 60.00);
INSERT INTO invoices (id, customer_id, issued_at, billing_name, total) VALUES (7, 3, '{{now-1y}}', 'Cy', 70.00);
INSERT INTO invoice_lines (id, invoice_id, description, amount) VALUES (7, 6, 'Cy''s old line', 60.00);
INSERT INTO invoice_lines (id, invoice_id, description, amount) VALUES (8, 7, 'Cy''s held line', 70.00);
INSERT INTO invoice_notes (id, invoice_id, note) VALUES (4, 7, 'Cy''s held note');
