-- Browser sign-in sessions of same-origin hosting (/.auth/login/aad). Same table as
-- migrations/postgres/0004_sign_in_sessions.sql; times are INTEGER microseconds, JSON is TEXT.
-- The key is the SHA-256 (hex) of the cookie's random id: reading the table gives no cookie.
CREATE TABLE sign_in_sessions (
    session_key     TEXT    PRIMARY KEY NOT NULL,
    user_id         TEXT    NOT NULL,
    user_principal  TEXT    NOT NULL,
    roles           TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX sign_in_sessions_expires ON sign_in_sessions (expires_at);
