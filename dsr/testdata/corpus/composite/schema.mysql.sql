CREATE TABLE teams (team_id INT PRIMARY KEY, name VARCHAR(100) NOT NULL);
CREATE TABLE team_members (team_id INT NOT NULL, member_no INT NOT NULL, email VARCHAR(255) NOT NULL, display_name VARCHAR(100),
  PRIMARY KEY (team_id, member_no), FOREIGN KEY (team_id) REFERENCES teams (team_id));
CREATE TABLE task_comments (comment_id INT PRIMARY KEY, team_id INT NOT NULL, author_member_no INT NOT NULL, body TEXT,
  FOREIGN KEY (team_id, author_member_no) REFERENCES team_members (team_id, member_no));
CREATE TABLE task_assignments (assignment_id INT PRIMARY KEY, team_id INT NOT NULL, assignee_member_no INT, task VARCHAR(100) NOT NULL,
  FOREIGN KEY (team_id, assignee_member_no) REFERENCES team_members (team_id, member_no));
