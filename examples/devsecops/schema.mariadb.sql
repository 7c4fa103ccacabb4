-- A DevSecOps platform: code, server, Kubernetes and cloud scanning (MySQL 8 / MariaDB 10.6+).
-- The same tables, columns and keys as schema.postgres.sql.
-- Apply with: mysql -e 'CREATE DATABASE devsecops' && mysql devsecops < schema.mariadb.sql

CREATE TABLE schema_migrations (
    version    bigint NOT NULL PRIMARY KEY,
    applied_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB;

-- A customer organization.
CREATE TABLE organizations (
    id         bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name       varchar(255),
    slug       varchar(255),
    plan       varchar(32) NOT NULL DEFAULT '',
    created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    deleted_at datetime(6),
    INDEX organizations_deleted_at_idx (deleted_at)
) ENGINE = InnoDB;

-- A person who signs in, with their role and team membership.
CREATE TABLE users (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id        bigint NOT NULL,
    name          varchar(255),
    email         varchar(320) NOT NULL UNIQUE,
    password_hash varchar(255),
    role          varchar(32) NOT NULL DEFAULT '',
    last_login_ip varchar(45),
    last_login_at datetime(6),
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    deleted_at    datetime(6),
    INDEX users_deleted_at_idx (deleted_at),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A cloud account connected for scanning; its credentials belong to the organization.
CREATE TABLE cloud_accounts (
    id                     bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id                 bigint NOT NULL,
    provider               varchar(32) NOT NULL DEFAULT '',
    credentials_ciphertext varbinary(4096),
    created_at             datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- An endpoint that receives finding events.
CREATE TABLE webhooks (
    id                bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id            bigint NOT NULL,
    url               varchar(255),
    secret_ciphertext varbinary(4096),
    created_at        datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A scan of a repository, server, cluster or cloud account.
CREATE TABLE scans (
    id         bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id     bigint NOT NULL,
    target     text,
    telemetry  text,
    created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A finding of a scan and how to fix it.
CREATE TABLE findings (
    id          bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    scan_id     bigint NOT NULL,
    severity    varchar(32) NOT NULL DEFAULT '',
    details     text,
    remediation text,
    created_at  datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX findings_created_at_idx (created_at),
    FOREIGN KEY (scan_id) REFERENCES scans (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A sign-in, page view, action or API request.
CREATE TABLE activity_logs (
    id         bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    bigint NOT NULL,
    action     varchar(255),
    ip_address varchar(45),
    user_agent text,
    created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX activity_logs_created_at_idx (created_at),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- Who changed what in an organization.
CREATE TABLE audit_logs (
    id         bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    bigint,
    action     varchar(255),
    created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX audit_logs_created_at_idx (created_at),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;

-- Billing metadata kept for accounting (invoice IDs, subscription status, seat count).
CREATE TABLE billing_records (
    id                  bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id              bigint,
    invoice_ref         varchar(255),
    subscription_status varchar(32) NOT NULL DEFAULT '',
    seat_count          bigint NOT NULL DEFAULT 0,
    issued_at           datetime(6),
    INDEX billing_records_issued_at_idx (issued_at),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE SET NULL
) ENGINE = InnoDB;

-- Whether a user receives product updates.
CREATE TABLE email_preferences (
    user_id         bigint NOT NULL PRIMARY KEY,
    product_updates boolean NOT NULL DEFAULT true,
    updated_at      datetime(6),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;
