-- InfraTrace: an infrastructure-management platform (MySQL 8 / MariaDB 10.6+).
-- The same tables, columns and keys as schema.postgres.sql.
-- Apply with: mysql -e 'CREATE DATABASE infratrace' && mysql infratrace < schema.mariadb.sql

CREATE TABLE schema_migrations (
    version    bigint NOT NULL PRIMARY KEY,
    applied_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB;

-- A person with an InfraTrace account.
CREATE TABLE users (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email         varchar(320) NOT NULL UNIQUE,
    username      varchar(320) NOT NULL UNIQUE,
    password_hash varchar(255),
    company_name  varchar(255),
    job_role      varchar(255),
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    deleted_at    datetime(6),
    INDEX users_deleted_at_idx (deleted_at)
) ENGINE = InnoDB;

-- A team and its members' roles.
CREATE TABLE teams (
    id         bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner_id   bigint NOT NULL,
    name       text,
    created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A project with its devices, networks and tasks.
CREATE TABLE projects (
    id          bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    team_id     bigint NOT NULL,
    name        text,
    description text,
    status      varchar(32) NOT NULL DEFAULT '',
    created_at  datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A documented device with its IP address and configuration.
CREATE TABLE devices (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id    bigint NOT NULL,
    hostname      text,
    ip_address    text,
    configuration text,
    photo_key     text,
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A task, its assignment and comments.
CREATE TABLE tasks (
    id          bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id  bigint NOT NULL,
    description text,
    comments    text,
    created_at  datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A page visited or feature used.
CREATE TABLE usage_events (
    id         bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    bigint NOT NULL,
    page       varchar(255),
    ip_address varchar(45),
    user_agent text,
    created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX usage_events_created_at_idx (created_at),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A subscription and its billing history.
CREATE TABLE subscriptions (
    id                  bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id             bigint,
    status              varchar(32) NOT NULL DEFAULT '',
    last_invoice_amount bigint,
    updated_at          datetime(6),
    INDEX subscriptions_updated_at_idx (updated_at),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;
