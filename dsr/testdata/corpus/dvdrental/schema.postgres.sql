CREATE TABLE address (address_id integer PRIMARY KEY, address text NOT NULL, district text, phone text);
CREATE TABLE store (store_id integer PRIMARY KEY, manager_staff_id integer, address_id integer NOT NULL REFERENCES address (address_id));
CREATE TABLE staff (staff_id integer PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL, email text, username text NOT NULL, password text,
  address_id integer NOT NULL REFERENCES address (address_id), store_id integer NOT NULL REFERENCES store (store_id));
ALTER TABLE store ADD FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id);
CREATE TABLE customer (customer_id integer PRIMARY KEY, store_id integer NOT NULL REFERENCES store (store_id), first_name text NOT NULL, last_name text NOT NULL,
  email text, address_id integer NOT NULL REFERENCES address (address_id), active boolean NOT NULL DEFAULT true, create_date date NOT NULL);
CREATE TABLE rental (rental_id integer PRIMARY KEY, rental_date timestamp NOT NULL, inventory_id integer NOT NULL, customer_id integer NOT NULL REFERENCES customer (customer_id),
  return_date timestamp, staff_id integer REFERENCES staff (staff_id));
CREATE TABLE payment (payment_id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customer (customer_id), staff_id integer REFERENCES staff (staff_id),
  rental_id integer REFERENCES rental (rental_id), amount numeric(5,2) NOT NULL, payment_date timestamp NOT NULL);
CREATE INDEX ON rental (customer_id);
CREATE INDEX ON rental (staff_id);
CREATE INDEX ON payment (customer_id);
CREATE INDEX ON payment (staff_id);
CREATE INDEX ON payment (rental_id);
