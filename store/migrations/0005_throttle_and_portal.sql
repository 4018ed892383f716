-- Login attempts by hashed key (login name, certificate, client address),
-- counted before any credential is checked.
CREATE TABLE login_attempts (
    key          text PRIMARY KEY,
    attempts     integer NOT NULL CHECK (attempts >= 0),
    last_attempt timestamptz NOT NULL
);

-- Citizen portal sessions that were signed out, by the hash of their id,
-- kept until the cookie would have expired anyway.
CREATE TABLE portal_revocations (
    sid_hash text PRIMARY KEY,
    until    timestamptz NOT NULL
);
