-- Codes that confirm a citizen's activation of the service: the MAC of the
-- code only, bound to the citizen's pseudonym; tries and use are counted
-- here so that every broker sees the same count.
CREATE TABLE activation_codes (
    id          TEXT PRIMARY KEY NOT NULL,
    citizen     TEXT NOT NULL,
    code_mac    BLOB NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('awaiting', 'used', 'exhausted')),
    attempts_used INTEGER NOT NULL DEFAULT 0 CHECK (attempts_used >= 0),
    max_attempts  INTEGER NOT NULL CHECK (max_attempts > 0),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX activation_codes_citizen ON activation_codes (citizen, created_at);
