-- Pentra: an AI penetration-testing platform (MySQL 8 / MariaDB 10.6+).
-- The same tables, columns and keys as schema.postgres.sql.
-- Apply with: mysql -e 'CREATE DATABASE pentra' && mysql pentra < schema.mariadb.sql

CREATE TABLE schema_migrations (
    version    bigint NOT NULL PRIMARY KEY,
    applied_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB;

-- A customer account.
CREATE TABLE organizations (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name          varchar(255),
    plan          varchar(32) NOT NULL DEFAULT '',
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    terminated_at datetime(6),
    INDEX organizations_terminated_at_idx (terminated_at)
) ENGINE = InnoDB;

-- A person who signs in to Pentra.
CREATE TABLE users (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id        bigint NOT NULL,
    email         varchar(320) NOT NULL UNIQUE,
    full_name     varchar(255),
    job_title     varchar(255),
    phone         varchar(255),
    password_hash varchar(255),
    mfa_secret    varbinary(4096),
    last_login_ip varchar(45),
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A penetration test and its scope.
CREATE TABLE engagements (
    id           bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id       bigint NOT NULL,
    created_by   bigint,
    target_scope varbinary(4096),
    status       varchar(32) NOT NULL DEFAULT '',
    created_at   datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    completed_at datetime(6),
    INDEX engagements_completed_at_idx (completed_at),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
    FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;

-- A vulnerability a test found.
CREATE TABLE findings (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    engagement_id bigint NOT NULL,
    severity      varchar(32) NOT NULL DEFAULT '',
    details       varbinary(4096),
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (engagement_id) REFERENCES engagements (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A use of a feature or page of the platform.
CREATE TABLE usage_events (
    id         bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    bigint NOT NULL,
    event      varchar(255),
    ip_address varchar(45),
    user_agent text,
    created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX usage_events_created_at_idx (created_at),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- An invoice for a subscription.
CREATE TABLE invoices (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id        bigint NOT NULL,
    billing_name  varchar(255),
    billing_email varchar(255),
    amount_cents  bigint NOT NULL DEFAULT 0,
    issued_at     datetime(6),
    INDEX invoices_issued_at_idx (issued_at),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- Which optional emails a user receives.
CREATE TABLE email_preferences (
    user_id         bigint NOT NULL PRIMARY KEY,
    product_updates boolean NOT NULL DEFAULT true,
    updated_at      datetime(6),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;
