INSERT INTO users (id, email, name) VALUES (1, 'ada@example.com', 'Ada');
INSERT INTO users (id, email, name) VALUES (2, 'bob@example.com', 'Bob');
INSERT INTO users (id, email, name) VALUES (3, 'cy@example.com', 'Cy');
INSERT INTO users (id, email, name) VALUES (4, 'dee@example.com', 'Dee');
INSERT INTO users (id, email, name) VALUES (5, 'eve@example.com', 'Eve');
-- Review 3 is Dee's, about Ada: erasing Ada would make the database delete it.
INSERT INTO reviews (id, author_id, reviewed_user_id, body) VALUES (1, 1, 5, 'Eve was great');
INSERT INTO reviews (id, author_id, reviewed_user_id, body) VALUES (2, 4, 5, 'Eve again');
INSERT INTO reviews (id, author_id, reviewed_user_id, body) VALUES (3, 4, 1, 'Ada was late');
INSERT INTO reviews (id, author_id, reviewed_user_id, body) VALUES (4, 5, 4, 'Dee, fine');
-- Tickets 2 and 5 are Dee's and Eve's, assigned to Bob: the database nulls the assignee.
INSERT INTO tickets (id, requester_id, assignee_id, subject) VALUES (1, 1, 4, 'cannot log in');
INSERT INTO tickets (id, requester_id, assignee_id, subject) VALUES (2, 4, 2, 'refund');
INSERT INTO tickets (id, requester_id, assignee_id, subject) VALUES (3, 2, 4, 'invoice address');
INSERT INTO tickets (id, requester_id, assignee_id, subject) VALUES (4, 3, NULL, 'export');
INSERT INTO tickets (id, requester_id, assignee_id, subject) VALUES (5, 5, 2, 'password');
-- Note 2 is Dee's, about Cy: the database refuses to delete Cy.
INSERT INTO notes (id, author_id, about_user_id, body) VALUES (1, 4, 5, 'called Eve');
INSERT INTO notes (id, author_id, about_user_id, body) VALUES (2, 4, 3, 'Cy asked for a discount');
INSERT INTO notes (id, author_id, about_user_id, body) VALUES (3, 3, 5, 'Eve owes me');
INSERT INTO notes (id, author_id, about_user_id, body) VALUES (4, 5, 4, 'Dee is on leave');
