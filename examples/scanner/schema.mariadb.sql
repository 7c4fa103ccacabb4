-- Patchwell: a DevSecOps scanning platform (MySQL 8 / MariaDB 10.6+).
-- The same tables, columns and keys as schema.postgres.sql.
-- Apply with: mysql -e 'CREATE DATABASE scanner' && mysql scanner < schema.mariadb.sql

CREATE TABLE schema_migrations (
    version    bigint NOT NULL PRIMARY KEY,
    applied_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB;

-- Public vulnerability advisories (CVE/GHSA feed); no personal data.
CREATE TABLE advisories (
    id           bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    external_ref varchar(64) NOT NULL UNIQUE,
    summary      text NOT NULL,
    severity     varchar(16) NOT NULL,
    published_at datetime(6) NOT NULL
) ENGINE = InnoDB;

CREATE TABLE organizations (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name          varchar(255) NOT NULL,
    slug          varchar(64) NOT NULL UNIQUE,
    plan          varchar(16) NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'team', 'enterprise')),
    billing_email varchar(320),
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    deleted_at    datetime(6),
    INDEX organizations_deleted_at_idx (deleted_at)
) ENGINE = InnoDB;

CREATE TABLE users (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id        bigint NOT NULL,
    email         varchar(320) NOT NULL UNIQUE,
    display_name  varchar(255),
    avatar_url    text,
    password_hash text,
    role          varchar(16) NOT NULL DEFAULT 'member',
    last_login_ip varchar(45),
    last_login_at datetime(6),
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    deleted_at    datetime(6),
    processing_restricted boolean NOT NULL DEFAULT false,
    INDEX users_deleted_at_idx (deleted_at),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
) ENGINE = InnoDB;

CREATE TABLE sso_identities (
    id           bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id      bigint NOT NULL,
    provider     varchar(32) NOT NULL,
    subject_ref  varchar(255) NOT NULL,
    email        varchar(320),
    created_at   datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    last_used_at datetime(6),
    UNIQUE (provider, subject_ref),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;

CREATE TABLE ci_integrations (
    id                      bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id                  bigint NOT NULL,
    provider                varchar(32) NOT NULL,
    installation_ref        varchar(128) NOT NULL,
    access_token_ciphertext varbinary(4096),
    installed_by            bigint,
    created_at              datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
    FOREIGN KEY (installed_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE repositories (
    id             bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id         bigint NOT NULL,
    integration_id bigint,
    full_name      varchar(255) NOT NULL,
    default_branch varchar(255) NOT NULL DEFAULT 'main',
    is_private     boolean NOT NULL DEFAULT true,
    added_by       bigint,
    created_at     datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
    FOREIGN KEY (integration_id) REFERENCES ci_integrations (id) ON DELETE SET NULL,
    FOREIGN KEY (added_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE pipelines (
    id            bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    repository_id bigint NOT NULL,
    name          varchar(255) NOT NULL,
    trigger_event varchar(32) NOT NULL,
    created_by    bigint,
    created_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (repository_id) REFERENCES repositories (id) ON DELETE CASCADE,
    FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE workflow_runs (
    id                  bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    pipeline_id         bigint NOT NULL,
    commit_sha          char(40) NOT NULL,
    commit_author_name  varchar(255),
    commit_author_email varchar(320),
    triggered_by        bigint,
    status              varchar(16) NOT NULL,
    started_at          datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    finished_at         datetime(6),
    INDEX workflow_runs_started_at_idx (started_at),
    FOREIGN KEY (pipeline_id) REFERENCES pipelines (id) ON DELETE CASCADE,
    FOREIGN KEY (triggered_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE workflow_logs (
    id         bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    run_id     bigint NOT NULL,
    step       varchar(255) NOT NULL,
    line_no    int NOT NULL,
    output     mediumtext NOT NULL,
    created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX workflow_logs_created_at_idx (created_at),
    FOREIGN KEY (run_id) REFERENCES workflow_runs (id) ON DELETE CASCADE
) ENGINE = InnoDB;

CREATE TABLE findings (
    id                  bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    repository_id       bigint NOT NULL,
    run_id              bigint,
    advisory_id         bigint,
    severity            varchar(16) NOT NULL,
    title               text NOT NULL,
    file_path           text,
    line_no             int,
    introduced_by_email varchar(320),
    assignee_id         bigint,
    status              varchar(16) NOT NULL DEFAULT 'open',
    created_at          datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    resolved_at         datetime(6),
    INDEX findings_created_at_idx (created_at),
    INDEX findings_resolved_at_idx (resolved_at),
    FOREIGN KEY (repository_id) REFERENCES repositories (id) ON DELETE CASCADE,
    FOREIGN KEY (run_id) REFERENCES workflow_runs (id) ON DELETE SET NULL,
    FOREIGN KEY (advisory_id) REFERENCES advisories (id),
    FOREIGN KEY (assignee_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE webhooks (
    id                bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id            bigint NOT NULL,
    url               text NOT NULL,
    events            varchar(255) NOT NULL,
    secret_ciphertext varbinary(1024) NOT NULL,
    created_by        bigint,
    created_at        datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
    FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE cloud_accounts (
    id                     bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id                 bigint NOT NULL,
    provider               varchar(16) NOT NULL,
    account_ref            varchar(64) NOT NULL,
    role_arn               varchar(255),
    credentials_ciphertext varbinary(4096),
    kms_key_ref            varchar(255),
    created_by             bigint,
    created_at             datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
    FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE invoices (
    id              bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id          bigint,
    processor_ref   varchar(64) NOT NULL UNIQUE,
    amount_cents    bigint NOT NULL,
    currency        char(3) NOT NULL,
    billing_name    varchar(255) NOT NULL,
    billing_address text NOT NULL,
    vat_number      varchar(32),
    issued_at       datetime(6) NOT NULL,
    INDEX invoices_issued_at_idx (issued_at),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE support_tickets (
    id              bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id          bigint,
    user_id         bigint,
    requester_email varchar(320) NOT NULL,
    subject         varchar(255) NOT NULL,
    body            text NOT NULL,
    status          varchar(16) NOT NULL DEFAULT 'open',
    created_at      datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    closed_at       datetime(6),
    INDEX support_tickets_closed_at_idx (closed_at),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;

CREATE TABLE email_preferences (
    user_id         bigint NOT NULL PRIMARY KEY,
    finding_digest  boolean NOT NULL DEFAULT true,
    product_updates boolean NOT NULL DEFAULT false,
    newsletter      boolean NOT NULL DEFAULT false,
    updated_at      datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;

CREATE TABLE audit_logs (
    id          bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id      bigint NOT NULL,
    actor_id    bigint,
    actor_email varchar(320),
    action      varchar(64) NOT NULL,
    target      varchar(255),
    ip_address  varchar(45),
    user_agent  text,
    created_at  datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX audit_logs_created_at_idx (created_at),
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE,
    FOREIGN KEY (actor_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE = InnoDB;
