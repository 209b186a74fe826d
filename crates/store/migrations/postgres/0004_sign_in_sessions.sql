-- Browser sign-in sessions of same-origin hosting (/.auth/login/aad).
-- The key is the SHA-256 (hex) of the cookie's random id: reading the table gives no cookie.
CREATE TABLE sign_in_sessions (
    session_key     text        PRIMARY KEY,
    user_id         text        NOT NULL,
    user_principal  text        NOT NULL,
    roles           jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);
CREATE INDEX sign_in_sessions_expires ON sign_in_sessions (expires_at);
