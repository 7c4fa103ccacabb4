CREATE TABLE address (address_id INT PRIMARY KEY, address VARCHAR(50) NOT NULL, district VARCHAR(20), phone VARCHAR(20));
CREATE TABLE store (store_id INT PRIMARY KEY, manager_staff_id INT, address_id INT NOT NULL, FOREIGN KEY (address_id) REFERENCES address (address_id));
CREATE TABLE staff (staff_id INT PRIMARY KEY, first_name VARCHAR(45) NOT NULL, last_name VARCHAR(45) NOT NULL, email VARCHAR(50), username VARCHAR(16) NOT NULL, password VARCHAR(40),
  address_id INT NOT NULL, store_id INT NOT NULL,
  FOREIGN KEY (address_id) REFERENCES address (address_id), FOREIGN KEY (store_id) REFERENCES store (store_id));
ALTER TABLE store ADD FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id);
CREATE TABLE customer (customer_id INT PRIMARY KEY, store_id INT NOT NULL, first_name VARCHAR(45) NOT NULL, last_name VARCHAR(45) NOT NULL,
  email VARCHAR(50), address_id INT NOT NULL, active TINYINT(1) NOT NULL DEFAULT 1, create_date DATE NOT NULL,
  FOREIGN KEY (store_id) REFERENCES store (store_id), FOREIGN KEY (address_id) REFERENCES address (address_id));
CREATE TABLE rental (rental_id INT PRIMARY KEY, rental_date DATETIME NOT NULL, inventory_id INT NOT NULL, customer_id INT NOT NULL,
  return_date DATETIME, staff_id INT,
  FOREIGN KEY (customer_id) REFERENCES customer (customer_id), FOREIGN KEY (staff_id) REFERENCES staff (staff_id));
CREATE TABLE payment (payment_id INT PRIMARY KEY, customer_id INT NOT NULL, staff_id INT, rental_id INT, amount DECIMAL(5,2) NOT NULL, payment_date DATETIME NOT NULL,
  FOREIGN KEY (customer_id) REFERENCES customer (customer_id), FOREIGN KEY (staff_id) REFERENCES staff (staff_id), FOREIGN KEY (rental_id) REFERENCES rental (rental_id));
