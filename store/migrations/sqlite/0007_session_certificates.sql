-- A session opened by certificate + PIN is bound to that certificate
-- (SHA-256 fingerprint of the leaf, hex): every request with its token must
-- come over a TLS connection presenting the same certificate. NULL for
-- sessions opened by password + TOTP. Mirrors migrations/0007_session_certificates.sql.
ALTER TABLE sessions ADD COLUMN certificate TEXT;
