-- A DVD-rental shop (after Sakila/Pagila): customers and staff, each with an
-- address, stores, rentals and payments that name both.
CREATE TABLE country (country_id INTEGER PRIMARY KEY, country TEXT NOT NULL, last_update TIMESTAMP NOT NULL);
CREATE TABLE city (city_id INTEGER PRIMARY KEY, city TEXT NOT NULL, country_id INTEGER NOT NULL REFERENCES country (country_id), last_update TIMESTAMP NOT NULL);
CREATE TABLE address (address_id INTEGER PRIMARY KEY, address TEXT NOT NULL, address2 TEXT, district TEXT NOT NULL,
  city_id INTEGER NOT NULL REFERENCES city (city_id), postal_code TEXT, phone TEXT NOT NULL, last_update TIMESTAMP NOT NULL);
CREATE TABLE language (language_id INTEGER PRIMARY KEY, name TEXT NOT NULL, last_update TIMESTAMP NOT NULL);
CREATE TABLE film (film_id INTEGER PRIMARY KEY, title TEXT NOT NULL, release_year INTEGER,
  language_id INTEGER NOT NULL REFERENCES language (language_id), rental_duration INTEGER NOT NULL, rental_rate NUMERIC NOT NULL, last_update TIMESTAMP NOT NULL);
CREATE TABLE staff (staff_id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
  address_id INTEGER NOT NULL REFERENCES address (address_id), email TEXT, store_id INTEGER NOT NULL REFERENCES store (store_id),
  active BOOLEAN NOT NULL DEFAULT 1, username TEXT NOT NULL, password TEXT, last_update TIMESTAMP NOT NULL, picture BLOB);
CREATE INDEX staff_email_lower ON staff (lower(email));
CREATE TABLE store (store_id INTEGER PRIMARY KEY, manager_staff_id INTEGER NOT NULL UNIQUE REFERENCES staff (staff_id),
  address_id INTEGER NOT NULL REFERENCES address (address_id), last_update TIMESTAMP NOT NULL);
CREATE TABLE customer (customer_id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL REFERENCES store (store_id),
  first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT, address_id INTEGER NOT NULL REFERENCES address (address_id),
  activebool BOOLEAN NOT NULL DEFAULT 1, create_date DATE NOT NULL, last_update TIMESTAMP, active INTEGER);
CREATE INDEX customer_email_lower ON customer (lower(email));
CREATE TABLE inventory (inventory_id INTEGER PRIMARY KEY, film_id INTEGER NOT NULL REFERENCES film (film_id),
  store_id INTEGER NOT NULL REFERENCES store (store_id), last_update TIMESTAMP NOT NULL);
CREATE TABLE rental (rental_id INTEGER PRIMARY KEY, rental_date TIMESTAMP NOT NULL, inventory_id INTEGER NOT NULL REFERENCES inventory (inventory_id),
  customer_id INTEGER NOT NULL REFERENCES customer (customer_id), return_date TIMESTAMP,
  staff_id INTEGER NOT NULL REFERENCES staff (staff_id), last_update TIMESTAMP NOT NULL);
CREATE UNIQUE INDEX rental_key ON rental (rental_date, inventory_id, customer_id);
CREATE TABLE payment (payment_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
  staff_id INTEGER NOT NULL REFERENCES staff (staff_id), rental_id INTEGER REFERENCES rental (rental_id) ON DELETE SET NULL,
  amount NUMERIC NOT NULL, payment_date TIMESTAMP NOT NULL);
