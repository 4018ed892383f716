-- Police terminals: a client certificate (by SHA-256 fingerprint) bound to
-- an officer, who also gives a PIN (stored as an argon2id hash).
CREATE TABLE officer_certificates (
    fingerprint text PRIMARY KEY,
    officer_id  uuid NOT NULL REFERENCES officers (id),
    pin_hash    text NOT NULL,
    bound_at    timestamptz NOT NULL
);
CREATE INDEX officer_certificates_by_officer ON officer_certificates (officer_id);
