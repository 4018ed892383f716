-- Login attempts by hashed key (login name, certificate, client address),
-- counted before any credential is checked.
CREATE TABLE login_attempts (
    key          TEXT PRIMARY KEY NOT NULL,
    attempts     INTEGER NOT NULL CHECK (attempts >= 0),
    last_attempt INTEGER NOT NULL
) STRICT;

-- Citizen portal sessions that were signed out, by the hash of their id,
-- kept until the cookie would have expired anyway.
CREATE TABLE portal_revocations (
    sid_hash TEXT PRIMARY KEY NOT NULL,
    until    INTEGER NOT NULL
) STRICT;
