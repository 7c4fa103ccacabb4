CREATE TABLE teams (team_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE team_members (team_id INTEGER NOT NULL REFERENCES teams (team_id), member_no INTEGER NOT NULL, email TEXT NOT NULL, display_name TEXT,
  PRIMARY KEY (team_id, member_no));
CREATE TABLE task_comments (comment_id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL, author_member_no INTEGER NOT NULL, body TEXT,
  FOREIGN KEY (team_id, author_member_no) REFERENCES team_members (team_id, member_no));
CREATE TABLE task_assignments (assignment_id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL, assignee_member_no INTEGER, task TEXT NOT NULL,
  FOREIGN KEY (team_id, assignee_member_no) REFERENCES team_members (team_id, member_no));
CREATE INDEX task_comments_author ON task_comments (team_id, author_member_no);
CREATE INDEX task_assignments_assignee ON task_assignments (team_id, assignee_member_no);
