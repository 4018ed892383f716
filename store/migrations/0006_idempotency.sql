-- Idempotency keys of starts: a retried start (same session, same key,
-- same body) gets the first answer back instead of being counted again.
-- The body is kept only as a MAC under the pepper (no PESEL), the answer
-- only as an id, an expiry or a refusal code (never a document).
CREATE TABLE idempotency_keys (
    session_hash text NOT NULL,
    key          text NOT NULL,
    fingerprint  bytea NOT NULL,
    state        text NOT NULL CHECK (state IN ('running', 'awaiting', 'completed', 'refused')),
    verification text,
    expires_at   timestamptz,
    code         text,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (session_hash, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
