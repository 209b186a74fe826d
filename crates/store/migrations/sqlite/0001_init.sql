-- Same tables as migrations/postgres/0001_init.sql. Differences: times are INTEGER
-- microseconds since the Unix epoch (UTC), so they sort and compare as numbers; ids are
-- 16-byte BLOBs; JSON is TEXT.

CREATE TABLE audit_log (
    id             BLOB    PRIMARY KEY NOT NULL,
    time           INTEGER NOT NULL,
    day            TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    actor_kind     TEXT    NOT NULL,
    app_id         TEXT,
    role           TEXT,
    source_ip      TEXT,
    tenant         TEXT,
    tenant_id      TEXT,
    operation      TEXT    NOT NULL,
    target         TEXT,
    parameters     TEXT    NOT NULL,
    result         TEXT    NOT NULL,
    message        TEXT    NOT NULL,
    severity       TEXT    NOT NULL,
    correlation_id TEXT    NOT NULL,
    status         INTEGER NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time DESC, id DESC);
CREATE INDEX audit_log_tenant_time ON audit_log (tenant, time DESC, id DESC);
CREATE INDEX audit_log_day ON audit_log (day);

CREATE TABLE audit_unauthorized (
    source_ip TEXT    NOT NULL,
    minute    INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (source_ip, minute)
);
CREATE INDEX audit_unauthorized_minute ON audit_unauthorized (minute);

CREATE TABLE user_settings (
    user_key   TEXT    PRIMARY KEY NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE templates (
    kind       TEXT    NOT NULL,
    id         BLOB    NOT NULL,
    tenant     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX templates_kind_tenant ON templates (kind, tenant);

CREATE TABLE password_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE secrets (
    name       TEXT    PRIMARY KEY NOT NULL,
    sealed     BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE kv (
    key        TEXT    PRIMARY KEY NOT NULL,
    value      TEXT    NOT NULL,
    expires_at INTEGER,
    updated_at INTEGER NOT NULL
);
