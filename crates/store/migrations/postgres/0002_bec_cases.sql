-- Compromised-account (BEC) check runs: one row per run ("case").
CREATE TABLE bec_cases (
    case_id           text        PRIMARY KEY,
    tenant            text        NOT NULL,
    user_id           text        NOT NULL,
    user_principal    text        NOT NULL,
    display_name      text        NOT NULL,
    status            text        NOT NULL,
    level             text,
    score             bigint,
    incomplete_count  bigint      NOT NULL,
    requested_at      timestamptz NOT NULL,
    requested_by      text        NOT NULL,
    extracted_at      timestamptz,
    error_message     text,
    results           jsonb,
    containment       jsonb       NOT NULL
);
CREATE INDEX bec_cases_tenant_requested ON bec_cases (tenant, requested_at DESC);
CREATE INDEX bec_cases_user_requested ON bec_cases (user_id, requested_at DESC);
