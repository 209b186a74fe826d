-- Compromised-account (BEC) check runs: one row per run ("case"). Same table as
-- migrations/postgres/0002_bec_cases.sql; times are INTEGER microseconds, JSON is TEXT.
CREATE TABLE bec_cases (
    case_id           TEXT    PRIMARY KEY NOT NULL,
    tenant            TEXT    NOT NULL,
    user_id           TEXT    NOT NULL,
    user_principal    TEXT    NOT NULL,
    display_name      TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    level             TEXT,
    score             INTEGER,
    incomplete_count  INTEGER NOT NULL,
    requested_at      INTEGER NOT NULL,
    requested_by      TEXT    NOT NULL,
    extracted_at      INTEGER,
    error_message     TEXT,
    results           TEXT,
    containment       TEXT    NOT NULL
);
CREATE INDEX bec_cases_tenant_requested ON bec_cases (tenant, requested_at DESC);
CREATE INDEX bec_cases_user_requested ON bec_cases (user_id, requested_at DESC);
