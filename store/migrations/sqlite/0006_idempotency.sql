-- Idempotency keys of starts (see the PostgreSQL migration 0004).
CREATE TABLE idempotency_keys (
    session_hash TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  BLOB NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('running', 'awaiting', 'completed', 'refused')),
    verification TEXT,
    expires_at   INTEGER,
    code         TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (session_hash, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
