-- The DVD-rental example of docs/policy-file.md ("Whose data is it"), for SQLite:
--   sqlite3 rental.db < schema.sql   (or: python3 -c "import sqlite3; sqlite3.connect('rental.db').executescript(open('schema.sql').read())")
-- then: vow check --live vow.yaml
CREATE TABLE address (address_id INTEGER PRIMARY KEY, address TEXT NOT NULL, phone TEXT);
CREATE TABLE staff (staff_id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
  address_id INTEGER NOT NULL REFERENCES address (address_id), left_at TEXT);
CREATE TABLE customer (customer_id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
  address_id INTEGER NOT NULL REFERENCES address (address_id), created_at TEXT NOT NULL, closed_at TEXT);
CREATE TABLE rental (rental_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
  staff_id INTEGER REFERENCES staff (staff_id), rented_at TEXT NOT NULL, returned_at TEXT);
CREATE INDEX staff_email ON staff (lower(email));
CREATE INDEX customer_email ON customer (lower(email));
CREATE INDEX rental_customer ON rental (customer_id);
CREATE INDEX rental_staff ON rental (staff_id);
-- Address 4 is shared by staff member 2 and customer 3, who live together.
INSERT INTO address VALUES (1, '23 Workhaven Lane', '14033335568'), (2, '1411 Lillydale Drive', '6172235589'),
  (3, '1913 Hanoi Way', '28303384290'), (4, '692 Joliet Street', '448477190408');
INSERT INTO staff VALUES (1, 'Mike Hillyer', 'Mike.Hillyer@sakilastaff.com', 1, NULL), (2, 'Jon Stephens', 'jon.stephens@sakilastaff.com', 4, NULL);
INSERT INTO customer VALUES (1, 'Mary Smith', 'Mary.Smith@sakilacustomer.org', 2, '2024-02-14', NULL),
  (2, 'Patricia Johnson', 'patricia.johnson@sakilacustomer.org', 3, '2024-02-14', NULL),
  (3, 'Linda Williams', 'linda.williams@sakilacustomer.org', 4, '2024-02-14', NULL);
INSERT INTO rental VALUES (1, 1, 1, '2025-05-24 22:53:30', '2025-05-26 22:04:30'), (2, 1, 2, '2025-05-24 22:54:33', NULL),
  (3, 2, 1, '2025-05-24 23:03:39', '2025-06-01 22:12:39'), (4, 3, 2, '2025-05-24 23:04:41', '2025-06-03 01:43:41');
CREATE TABLE payment (payment_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer (customer_id),
  rental_id INTEGER REFERENCES rental (rental_id), amount NUMERIC NOT NULL, paid_at TEXT NOT NULL);
CREATE INDEX payment_customer ON payment (customer_id);
CREATE INDEX payment_rental ON payment (rental_id);
-- Payment 3: customer 2 paid for customer 1's rental 1 (a gift).
INSERT INTO payment VALUES (1, 1, 1, 2.99, '2025-05-25 11:30:37'), (2, 1, NULL, 4.99, '2017-06-16 15:18:57'),
  (3, 2, 1, 1.99, '2025-06-18 13:33:59'), (4, 3, 4, 0.99, '2025-06-15 18:02:53');
