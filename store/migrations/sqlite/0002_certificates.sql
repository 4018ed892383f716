-- Police terminals: a client certificate (by SHA-256 fingerprint) bound to
-- an officer, who also gives a PIN (stored as an argon2id hash). Mirrors
-- migrations/0002_certificates.sql.
CREATE TABLE officer_certificates (
    fingerprint TEXT PRIMARY KEY NOT NULL,
    officer_id  TEXT NOT NULL REFERENCES officers (id),
    pin_hash    TEXT NOT NULL,
    bound_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX officer_certificates_by_officer ON officer_certificates (officer_id);
