-- Codes that confirm a citizen's activation of the service: the MAC of the
-- code only, bound to the citizen's pseudonym; tries and use are counted
-- here so that every replica sees the same count.
CREATE TABLE activation_codes (
    id          text PRIMARY KEY,
    citizen     text NOT NULL,
    code_mac    bytea NOT NULL,
    state       text NOT NULL CHECK (state IN ('awaiting', 'used', 'exhausted')),
    attempts_used integer NOT NULL DEFAULT 0 CHECK (attempts_used >= 0),
    max_attempts  integer NOT NULL CHECK (max_attempts > 0),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX activation_codes_citizen ON activation_codes (citizen, created_at);
