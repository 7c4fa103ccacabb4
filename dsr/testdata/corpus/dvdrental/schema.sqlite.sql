CREATE TABLE address (address_id INTEGER PRIMARY KEY, address TEXT NOT NULL, district TEXT, phone TEXT);
CREATE TABLE store (store_id INTEGER PRIMARY KEY, manager_staff_id INTEGER REFERENCES staff (staff_id), address_id INTEGER NOT NULL REFERENCES address (address_id));
CREATE TABLE staff (staff_id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT, username TEXT NOT NULL, password TEXT,
  address_id INTEGER NOT NULL REFERENCES address (address_id), store_id INTEGER NOT NULL REFERENCES store (store_id));
CREATE TABLE customer (customer_id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL REFERENCES store (store_id), first_name TEXT NOT NULL, last_name TEXT NOT NULL,
  email TEXT, address_id INTEGER NOT NULL REFERENCES address (address_id), active INTEGER NOT NULL DEFAULT 1, create_date TEXT NOT NULL);
CREATE TABLE rental (rental_id INTEGER PRIMARY KEY, rental_date TEXT NOT NULL, inventory_id INTEGER NOT NULL, customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
  return_date TEXT, staff_id INTEGER REFERENCES staff (staff_id));
CREATE TABLE payment (payment_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customer (customer_id), staff_id INTEGER REFERENCES staff (staff_id),
  rental_id INTEGER REFERENCES rental (rental_id), amount NUMERIC NOT NULL, payment_date TEXT NOT NULL);
CREATE INDEX rental_customer ON rental (customer_id);
CREATE INDEX rental_staff ON rental (staff_id);
CREATE INDEX payment_customer ON payment (customer_id);
CREATE INDEX payment_staff ON payment (staff_id);
CREATE INDEX payment_rental ON payment (rental_id);
