-- Audit log: one row per API call (CIPP's "CippLogs" table).
CREATE TABLE audit_log (
    id             uuid        PRIMARY KEY,
    time           timestamptz NOT NULL,
    -- UTC date as CIPP's partition key writes it (yyyyMMdd): feeds the date picker cheaply.
    day            text        NOT NULL,
    actor          text        NOT NULL,
    actor_kind     text        NOT NULL,
    app_id         text,
    role           text,
    source_ip      text,
    tenant         text,
    tenant_id      text,
    operation      text        NOT NULL,
    target         text,
    parameters     jsonb       NOT NULL,
    result         text        NOT NULL,
    message        text        NOT NULL,
    severity       text        NOT NULL,
    correlation_id text        NOT NULL,
    status         integer     NOT NULL
);
-- Keyset paging walks (time, id) descending.
CREATE INDEX audit_log_time ON audit_log (time DESC, id DESC);
CREATE INDEX audit_log_tenant_time ON audit_log (tenant, time DESC, id DESC);
CREATE INDEX audit_log_day ON audit_log (day);

-- Anonymous 401s: one counter per source IP and minute instead of one row per request.
CREATE TABLE audit_unauthorized (
    source_ip text        NOT NULL,
    minute    timestamptz NOT NULL,
    count     bigint      NOT NULL,
    PRIMARY KEY (source_ip, minute)
);
CREATE INDEX audit_unauthorized_minute ON audit_unauthorized (minute);

-- Per-user settings; key is the user's UPN or "allUsers".
CREATE TABLE user_settings (
    user_key   text        PRIMARY KEY,
    value      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);

-- New-user default templates and JIT admin templates (CIPP keeps both in one table by kind).
CREATE TABLE templates (
    kind       text        NOT NULL,
    id         uuid        NOT NULL,
    tenant     text        NOT NULL,
    name       text        NOT NULL,
    body       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX templates_kind_tenant ON templates (kind, tenant);

-- CIPP's password settings: a single row.
CREATE TABLE password_settings (
    id         smallint    PRIMARY KEY CHECK (id = 1),
    value      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Secrets sealed with AES-256-GCM: nonce (12 bytes) || ciphertext and tag.
CREATE TABLE secrets (
    name       text        PRIMARY KEY,
    sealed     bytea       NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Small caches.
CREATE TABLE kv (
    key        text        PRIMARY KEY,
    value      jsonb       NOT NULL,
    expires_at timestamptz,
    updated_at timestamptz NOT NULL
);
