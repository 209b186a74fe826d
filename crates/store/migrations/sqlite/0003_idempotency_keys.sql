-- Idempotency-Key: one row per (caller, key) for 24 hours. Same table as
-- migrations/postgres/0003_idempotency_keys.sql; times are INTEGER microseconds.
-- `answer` is the first answer sealed with the encryption key (nonce || ciphertext), NULL while
-- the first request still runs.
CREATE TABLE idempotency_keys (
    principal    TEXT    NOT NULL,
    idem_key     TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    status       INTEGER,
    answer       BLOB,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
