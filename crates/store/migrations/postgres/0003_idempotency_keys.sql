-- Idempotency-Key: one row per (caller, key) for 24 hours. `answer` is the first answer sealed
-- with the encryption key (nonce || ciphertext), NULL while the first request still runs.
CREATE TABLE idempotency_keys (
    principal    text        NOT NULL,
    idem_key     text        NOT NULL,
    fingerprint  text        NOT NULL,
    status       integer,
    answer       bytea,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
