-- PacketSense: a WordPress security plugin and its cloud service (MySQL 8 / MariaDB 10.6+).
-- The same tables, columns and keys as schema.postgres.sql.
-- Apply with: mysql -e 'CREATE DATABASE packetsense' && mysql packetsense < schema.mariadb.sql

CREATE TABLE schema_migrations (
    version    bigint NOT NULL PRIMARY KEY,
    applied_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB;

-- A customer account.
CREATE TABLE accounts (
    id                    bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email                 varchar(320) NOT NULL UNIQUE,
    name                  varchar(255),
    password_hash         varchar(255),
    api_token             varbinary(4096),
    created_at            datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    closed_at             datetime(6),
    processing_restricted boolean NOT NULL DEFAULT false,
    INDEX accounts_closed_at_idx (closed_at)
) ENGINE = InnoDB;

-- A license of the plugin, its plan, seats and subscription status.
CREATE TABLE licenses (
    id                  bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_id          bigint NOT NULL,
    plan                varchar(32) NOT NULL DEFAULT '',
    seats               bigint NOT NULL DEFAULT 0,
    subscription_status varchar(32) NOT NULL DEFAULT '',
    created_at          datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A WordPress site connected to the cloud service.
CREATE TABLE sites (
    id               bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_id       bigint NOT NULL,
    site_url         varchar(255),
    wp_version       varchar(255),
    php_version      varchar(255),
    plugin_inventory text,
    created_at       datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A blocked request, login attempt, scan finding or changed file on a protected site.
CREATE TABLE security_events (
    id                 bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    site_id            bigint NOT NULL,
    kind               varchar(32) NOT NULL DEFAULT '',
    detail             text,
    ip_address         varchar(45),
    attempted_username varchar(255),
    created_at         datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX security_events_created_at_idx (created_at),
    FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A request to the cloud service, with its timestamps and diagnostics.
CREATE TABLE service_logs (
    id          bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_id  bigint NOT NULL,
    ip_address  varchar(45),
    user_agent  text,
    diagnostics text,
    created_at  datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX service_logs_created_at_idx (created_at),
    FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- An invoice for a license.
CREATE TABLE invoices (
    id           bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_id   bigint,
    billing_name varchar(255),
    amount_cents bigint NOT NULL DEFAULT 0,
    issued_at    datetime(6),
    INDEX invoices_issued_at_idx (issued_at),
    FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE SET NULL
) ENGINE = InnoDB;

-- Which optional emails an account receives.
CREATE TABLE email_preferences (
    account_id   bigint NOT NULL PRIMARY KEY,
    product_news boolean NOT NULL DEFAULT true,
    updated_at   datetime(6),
    FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE
) ENGINE = InnoDB;
