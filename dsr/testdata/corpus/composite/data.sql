INSERT INTO teams (team_id, name) VALUES (1, 'Platform');
INSERT INTO teams (team_id, name) VALUES (2, 'Billing');
-- Member 7 (and 8) of team 1 is not member 7 (and 8) of team 2.
INSERT INTO team_members (team_id, member_no, email, display_name) VALUES (1, 7, 'ana@team1.example', 'Ana');
INSERT INTO team_members (team_id, member_no, email, display_name) VALUES (2, 7, 'ben@team2.example', 'Ben');
INSERT INTO team_members (team_id, member_no, email, display_name) VALUES (1, 8, 'cho@team1.example', 'Cho');
INSERT INTO team_members (team_id, member_no, email, display_name) VALUES (2, 8, 'dev@team2.example', 'Dev');
INSERT INTO team_members (team_id, member_no, email, display_name) VALUES (2, 1, 'eli@team2.example', 'Eli');
-- Comment 6 is by member 1 of team 2; (team 1, member 7) crossed with
-- (team 2, member 8) would reach it under OR semantics.
INSERT INTO task_comments (comment_id, team_id, author_member_no, body) VALUES (1, 1, 7, 'Ana: first');
INSERT INTO task_comments (comment_id, team_id, author_member_no, body) VALUES (2, 2, 7, 'Ben: first');
INSERT INTO task_comments (comment_id, team_id, author_member_no, body) VALUES (3, 1, 8, 'Cho: first');
INSERT INTO task_comments (comment_id, team_id, author_member_no, body) VALUES (4, 1, 7, 'Ana: second');
INSERT INTO task_comments (comment_id, team_id, author_member_no, body) VALUES (5, 2, 8, 'Dev: first');
INSERT INTO task_comments (comment_id, team_id, author_member_no, body) VALUES (6, 2, 1, 'Eli: first');
-- Assignment 1 names Cho, 2 Dev, 3 no one.
INSERT INTO task_assignments (assignment_id, team_id, assignee_member_no, task) VALUES (1, 1, 8, 'rotate keys');
INSERT INTO task_assignments (assignment_id, team_id, assignee_member_no, task) VALUES (2, 2, 8, 'close books');
INSERT INTO task_assignments (assignment_id, team_id, assignee_member_no, task) VALUES (3, 1, NULL, 'triage');
