-- Addresses 1-2 are the stores', 3 staff 1's, 4 shared by staff 2 and
-- customer 3 (they live together), 5 customer 1's, 6 customer 2's, 7 shared
-- by customers 4 and 5, 8 customer 6's, 9 staff 3's.
INSERT INTO address (address_id, address, district, phone) VALUES (1, '47 MySakila Drive', 'Alberta', '');
INSERT INTO address (address_id, address, district, phone) VALUES (2, '28 MySQL Boulevard', 'QLD', '');
INSERT INTO address (address_id, address, district, phone) VALUES (3, '23 Workhaven Lane', 'Alberta', '14033335568');
INSERT INTO address (address_id, address, district, phone) VALUES (4, '1411 Lillydale Drive', 'QLD', '6172235589');
INSERT INTO address (address_id, address, district, phone) VALUES (5, '1913 Hanoi Way', 'Nagasaki', '28303384290');
INSERT INTO address (address_id, address, district, phone) VALUES (6, '1121 Loja Avenue', 'California', '838635286649');
INSERT INTO address (address_id, address, district, phone) VALUES (7, '692 Joliet Street', 'Attika', '448477190408');
INSERT INTO address (address_id, address, district, phone) VALUES (8, '1566 Inegl Manor', 'Mandalay', '705814003527');
INSERT INTO address (address_id, address, district, phone) VALUES (9, '53 Idfu Parkway', 'Nantou', '10655648674');
INSERT INTO store (store_id, manager_staff_id, address_id) VALUES (1, NULL, 1);
INSERT INTO store (store_id, manager_staff_id, address_id) VALUES (2, NULL, 2);
INSERT INTO staff (staff_id, first_name, last_name, email, username, password, address_id, store_id) VALUES (1, 'Mike', 'Hillyer', 'Mike.Hillyer@sakilastaff.com', 'Mike', '8cb2237d0679ca88db6464eac60da96345513964', 3, 1);
INSERT INTO staff (staff_id, first_name, last_name, email, username, password, address_id, store_id) VALUES (2, 'Jon', 'Stephens', 'Jon.Stephens@sakilastaff.com', 'Jon', NULL, 4, 2);
INSERT INTO staff (staff_id, first_name, last_name, email, username, password, address_id, store_id) VALUES (3, 'Ann', 'Jones', 'Ann.Jones@sakilastaff.com', 'Ann', NULL, 9, 1);
UPDATE store SET manager_staff_id = 1 WHERE store_id = 1;
UPDATE store SET manager_staff_id = 2 WHERE store_id = 2;
INSERT INTO customer (customer_id, store_id, first_name, last_name, email, address_id, active, create_date) VALUES (1, 1, 'Mary', 'Smith', 'mary.smith@sakilacustomer.org', 5, TRUE, '2006-02-14');
INSERT INTO customer (customer_id, store_id, first_name, last_name, email, address_id, active, create_date) VALUES (2, 1, 'Patricia', 'Johnson', 'patricia.johnson@sakilacustomer.org', 6, TRUE, '2006-02-14');
INSERT INTO customer (customer_id, store_id, first_name, last_name, email, address_id, active, create_date) VALUES (3, 2, 'Linda', 'Williams', 'linda.williams@sakilacustomer.org', 4, TRUE, '2006-02-14');
INSERT INTO customer (customer_id, store_id, first_name, last_name, email, address_id, active, create_date) VALUES (4, 2, 'Barbara', 'Jones', 'barbara.jones@sakilacustomer.org', 7, TRUE, '2006-02-14');
INSERT INTO customer (customer_id, store_id, first_name, last_name, email, address_id, active, create_date) VALUES (5, 1, 'Elizabeth', 'Brown', 'elizabeth.brown@sakilacustomer.org', 7, FALSE, '2006-02-14');
INSERT INTO customer (customer_id, store_id, first_name, last_name, email, address_id, active, create_date) VALUES (6, 2, 'Jennifer', 'Davis', 'mary.smith@sakilacustomer.org.example', 8, TRUE, '2006-02-14');
-- Rental 1-2, 7: customer 1's, served by staff 1, 2 and 3.
INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id) VALUES (1, '2005-05-24 22:53:30', 367, 1, '2005-05-26 22:04:30', 1);
INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id) VALUES (2, '2005-05-24 22:54:33', 1525, 1, '2005-05-28 19:40:33', 2);
INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id) VALUES (3, '2005-05-24 23:03:39', 1711, 2, '2005-06-01 22:12:39', 1);
INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id) VALUES (4, '2005-05-24 23:04:41', 2452, 3, '2005-06-03 01:43:41', 2);
INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id) VALUES (5, '2005-05-24 23:05:21', 2079, 4, '2005-06-02 04:33:21', 1);
INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id) VALUES (6, '2005-05-24 23:08:07', 2792, 5, '2005-05-27 01:32:07', NULL);
INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id) VALUES (7, '2005-05-24 23:11:53', 3995, 1, NULL, 3);
INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id) VALUES (8, '2005-05-24 23:31:46', 2346, 6, '2005-05-27 23:33:46', 1);
-- Payment 6: customer 1's late fee, for no rental; payment 8: customer 2
-- paid for customer 1's rental 1 (a gift): it is customer 2's row, which
-- only mentions customer 1's rental.
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) VALUES (1, 1, 1, 1, 2.99, '2005-05-25 11:30:37');
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) VALUES (2, 1, 2, 2, 0.99, '2005-05-28 10:35:23');
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) VALUES (3, 2, 1, 3, 5.99, '2005-06-15 00:54:12');
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) VALUES (4, 3, 2, 4, 0.99, '2005-06-15 18:02:53');
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) VALUES (5, 4, 1, 5, 9.99, '2005-06-15 21:08:46');
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) VALUES (6, 1, 1, NULL, 4.99, '2005-06-16 15:18:57');
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) VALUES (7, 5, 1, 6, 4.99, '2005-06-18 08:41:48');
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) VALUES (8, 2, 2, 1, 1.99, '2005-06-18 13:33:59');
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) VALUES (9, 6, 3, 8, 2.99, '2005-06-19 10:00:00');
