-- DSentr: a workflow-automation service (MySQL 8 / MariaDB 10.6+).
-- The same tables, columns and keys as schema.postgres.sql.
-- Apply with: mysql -e 'CREATE DATABASE dsentr' && mysql dsentr < schema.mariadb.sql

CREATE TABLE schema_migrations (
    version    bigint NOT NULL PRIMARY KEY,
    applied_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB;

-- A person with a DSentr account.
CREATE TABLE users (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email         varchar(320) NOT NULL UNIQUE,
    name          varchar(255),
    password_hash varchar(255),
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    deleted_at    datetime(6),
    INDEX users_deleted_at_idx (deleted_at)
) ENGINE = InnoDB;

-- A sign-in or integration through a third-party provider such as Google or Microsoft, with its profile and access tokens.
CREATE TABLE oauth_connections (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id       bigint NOT NULL,
    provider      varchar(32) NOT NULL DEFAULT '',
    profile_name  varchar(255),
    profile_email varchar(255),
    access_token  varbinary(4096),
    refresh_token varbinary(4096),
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A workflow you configured.
CREATE TABLE workflows (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id       bigint NOT NULL,
    name          varchar(255),
    configuration text,
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- One run of a workflow, with its trigger input and output.
CREATE TABLE workflow_runs (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    workflow_id   bigint NOT NULL,
    trigger_input text,
    output        text,
    status        varchar(32) NOT NULL DEFAULT '',
    started_at    datetime(6),
    INDEX workflow_runs_started_at_idx (started_at),
    FOREIGN KEY (workflow_id) REFERENCES workflows (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A request to the Service, with the address and browser it came from.
CREATE TABLE request_logs (
    id         bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    bigint NOT NULL,
    ip_address varchar(45),
    user_agent text,
    path       varchar(255),
    created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX request_logs_created_at_idx (created_at),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A subscription and its billing records.
CREATE TABLE subscriptions (
    id                  bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id             bigint,
    plan                varchar(32) NOT NULL DEFAULT '',
    status              varchar(32) NOT NULL DEFAULT '',
    stripe_customer_ref varchar(255),
    renewed_at          datetime(6),
    INDEX subscriptions_renewed_at_idx (renewed_at),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;
