-- Assetline: an infrastructure-inventory tool (MySQL 8 / MariaDB 10.6+).
-- The same tables, columns and keys as schema.postgres.sql.
-- Apply with: mysql -e 'CREATE DATABASE inventory' && mysql inventory < schema.mariadb.sql

CREATE TABLE schema_migrations (
    version    bigint NOT NULL PRIMARY KEY,
    applied_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB;

-- Catalogue of hardware models, shared by all teams; no personal data.
CREATE TABLE device_models (
    id           bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    manufacturer varchar(128) NOT NULL,
    model_name   varchar(128) NOT NULL,
    end_of_life  date,
    UNIQUE (manufacturer, model_name)
) ENGINE = InnoDB;

CREATE TABLE teams (
    id                     bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name                   varchar(255) NOT NULL,
    plan                   varchar(16) NOT NULL DEFAULT 'starter',
    billing_email          varchar(320),
    processor_customer_ref varchar(64) UNIQUE,
    created_at             datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    deleted_at             datetime(6),
    INDEX teams_deleted_at_idx (deleted_at)
) ENGINE = InnoDB;

CREATE TABLE members (
    id                    bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    team_id               bigint NOT NULL,
    email                 varchar(320) NOT NULL UNIQUE,
    full_name             varchar(255) NOT NULL,
    phone                 varchar(32),
    job_title             varchar(128),
    role                  varchar(16) NOT NULL DEFAULT 'viewer',
    password_hash         text,
    mfa_secret_ciphertext varbinary(512),
    last_login_ip         varchar(45),
    last_login_at         datetime(6),
    created_at            datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    deactivated_at        datetime(6),
    processing_restricted boolean NOT NULL DEFAULT false,
    INDEX members_deactivated_at_idx (deactivated_at),
    FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE = InnoDB;

-- A site is an office, data centre, warehouse or a remote employee's home.
CREATE TABLE sites (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    team_id       bigint NOT NULL,
    name          varchar(255) NOT NULL,
    kind          varchar(16) NOT NULL DEFAULT 'office',
    address_line  varchar(255),
    city          varchar(128),
    postal_code   varchar(16),
    country       char(2),
    latitude      decimal(9, 6),
    longitude     decimal(9, 6),
    contact_name  varchar(255),
    contact_phone varchar(32),
    access_notes  text,
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE = InnoDB;

CREATE TABLE devices (
    id             bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    team_id        bigint NOT NULL,
    site_id        bigint,
    model_id       bigint,
    asset_tag      varchar(64) NOT NULL,
    serial_number  varchar(64) NOT NULL,
    hostname       varchar(255),
    mac_address    varchar(17),
    assigned_to    bigint,
    mdm_device_ref varchar(128),
    last_seen_ip   varchar(45),
    last_seen_at   datetime(6),
    created_at     datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    retired_at     datetime(6),
    UNIQUE (team_id, asset_tag),
    INDEX devices_retired_at_idx (retired_at),
    FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
    FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE SET NULL,
    FOREIGN KEY (model_id) REFERENCES device_models (id),
    FOREIGN KEY (assigned_to) REFERENCES members (id) ON DELETE SET NULL
) ENGINE = InnoDB;

-- Equipment is everything that is not a managed computer: racks, UPSs,
-- generators, test gear, vehicles.
CREATE TABLE equipment (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    team_id       bigint NOT NULL,
    site_id       bigint,
    kind          varchar(32) NOT NULL,
    manufacturer  varchar(128),
    serial_number varchar(64),
    custodian_id  bigint,
    purchased_at  date,
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    disposed_at   datetime(6),
    INDEX equipment_disposed_at_idx (disposed_at),
    FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
    FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE SET NULL,
    FOREIGN KEY (custodian_id) REFERENCES members (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE equipment_photos (
    id           bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    equipment_id bigint NOT NULL,
    object_key   varchar(512) NOT NULL,
    content_type varchar(64) NOT NULL,
    byte_size    bigint NOT NULL,
    uploaded_by  bigint,
    created_at   datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (equipment_id) REFERENCES equipment (id) ON DELETE CASCADE,
    FOREIGN KEY (uploaded_by) REFERENCES members (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE maintenance_tickets (
    id                   bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    team_id              bigint NOT NULL,
    device_id            bigint,
    equipment_id         bigint,
    opened_by            bigint,
    assignee_id          bigint,
    title                varchar(255) NOT NULL,
    details              text,
    vendor_contact_name  varchar(255),
    vendor_contact_email varchar(320),
    status               varchar(16) NOT NULL DEFAULT 'open',
    created_at           datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    closed_at            datetime(6),
    INDEX maintenance_tickets_closed_at_idx (closed_at),
    FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
    FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE,
    FOREIGN KEY (equipment_id) REFERENCES equipment (id) ON DELETE CASCADE,
    FOREIGN KEY (opened_by) REFERENCES members (id) ON DELETE SET NULL,
    FOREIGN KEY (assignee_id) REFERENCES members (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE mdm_integrations (
    id                   bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    team_id              bigint NOT NULL,
    vendor               varchar(16) NOT NULL,
    tenant_url           varchar(255) NOT NULL,
    api_token_ciphertext varbinary(4096) NOT NULL,
    connected_by         bigint,
    last_sync_at         datetime(6),
    created_at           datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
    FOREIGN KEY (connected_by) REFERENCES members (id) ON DELETE SET NULL
) ENGINE = InnoDB;

-- The raw device record each MDM sync returned, kept to debug imports.
CREATE TABLE mdm_sync_records (
    id             bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    integration_id bigint NOT NULL,
    device_id      bigint,
    payload        json NOT NULL,
    synced_at      datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX mdm_sync_records_synced_at_idx (synced_at),
    FOREIGN KEY (integration_id) REFERENCES mdm_integrations (id) ON DELETE CASCADE,
    FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE
) ENGINE = InnoDB;

CREATE TABLE audit_events (
    id          bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    team_id     bigint NOT NULL,
    actor_id    bigint,
    actor_email varchar(320),
    action      varchar(64) NOT NULL,
    target_type varchar(32),
    target_id   bigint,
    ip_address  varchar(45),
    user_agent  text,
    created_at  datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX audit_events_created_at_idx (created_at),
    FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
    FOREIGN KEY (actor_id) REFERENCES members (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE invoices (
    id              bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    team_id         bigint,
    processor_ref   varchar(64) NOT NULL UNIQUE,
    amount_cents    bigint NOT NULL,
    currency        char(3) NOT NULL,
    billing_name    varchar(255) NOT NULL,
    billing_address text NOT NULL,
    vat_number      varchar(32),
    issued_at       datetime(6) NOT NULL,
    INDEX invoices_issued_at_idx (issued_at),
    FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE notification_settings (
    member_id       bigint NOT NULL PRIMARY KEY,
    maintenance_due boolean NOT NULL DEFAULT true,
    warranty_expiry boolean NOT NULL DEFAULT true,
    weekly_digest   boolean NOT NULL DEFAULT false,
    product_news    boolean NOT NULL DEFAULT false,
    updated_at      datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE CASCADE
) ENGINE = InnoDB;
