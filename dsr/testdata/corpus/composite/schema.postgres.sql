CREATE TABLE teams (team_id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE team_members (team_id integer NOT NULL REFERENCES teams (team_id), member_no integer NOT NULL, email text NOT NULL, display_name text,
  PRIMARY KEY (team_id, member_no));
CREATE TABLE task_comments (comment_id integer PRIMARY KEY, team_id integer NOT NULL, author_member_no integer NOT NULL, body text,
  FOREIGN KEY (team_id, author_member_no) REFERENCES team_members (team_id, member_no));
CREATE TABLE task_assignments (assignment_id integer PRIMARY KEY, team_id integer NOT NULL, assignee_member_no integer, task text NOT NULL,
  FOREIGN KEY (team_id, assignee_member_no) REFERENCES team_members (team_id, member_no));
CREATE INDEX ON task_comments (team_id, author_member_no);
CREATE INDEX ON task_assignments (team_id, assignee_member_no);
