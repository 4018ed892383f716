-- okaz broker schema for the embedded SQLite store, version 1. It mirrors
-- migrations/0001_initial.sql (PostgreSQL) table for table. No citizen data:
-- citizens appear only as HMAC pseudonyms; challenges hold a code MAC and a
-- subject sealed under the code, cleared when the challenge closes.
--
-- Types, since SQLite has few: ids are UUID text (lower-case, hyphenated,
-- as PostgreSQL prints them); instants are INTEGER microseconds since the
-- Unix epoch, UTC (PostgreSQL's timestamptz precision, so audit hashes
-- verify after a round trip); days are 'YYYY-MM-DD' text; booleans are
-- 0/1; released field names are a JSON array of strings.

CREATE TABLE officers (
    id                TEXT PRIMARY KEY NOT NULL,
    login             TEXT NOT NULL UNIQUE,
    display_name      TEXT NOT NULL,
    role              TEXT NOT NULL,
    unit              TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    totp_secret       BLOB NOT NULL,
    totp_last_step    INTEGER,
    disabled          INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    locked_at         INTEGER,
    lock_reason       TEXT,
    failed_logins     INTEGER NOT NULL DEFAULT 0,
    last_failed_login INTEGER,
    created_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX officers_locked_by_unit ON officers (unit) WHERE locked_at IS NOT NULL;

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    officer_id TEXT NOT NULL REFERENCES officers (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_officer ON sessions (officer_id);

CREATE TABLE daily_counters (
    officer_id  TEXT NOT NULL REFERENCES officers (id),
    day         TEXT NOT NULL,
    used        INTEGER NOT NULL DEFAULT 0,
    extra       INTEGER NOT NULL DEFAULT 0,
    wrong_codes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (officer_id, day)
) STRICT, WITHOUT ROWID;

CREATE TABLE activations (
    citizen      TEXT PRIMARY KEY NOT NULL,
    activated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE challenges (
    id             TEXT PRIMARY KEY NOT NULL,
    officer_id     TEXT NOT NULL REFERENCES officers (id),
    session_hash   TEXT NOT NULL,
    citizen        TEXT NOT NULL,
    document       TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    case_reference TEXT,
    code_mac       BLOB NOT NULL,
    sealed_subject BLOB,
    state          TEXT NOT NULL,
    attempts_used  INTEGER NOT NULL DEFAULT 0,
    max_attempts   INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX challenges_expiry ON challenges (expires_at) WHERE state = 'awaiting';

CREATE TABLE audit_chain_heads (
    chain TEXT PRIMARY KEY NOT NULL,
    seq   INTEGER NOT NULL,
    hash  TEXT NOT NULL
) STRICT;

-- AUTOINCREMENT so an id is never reused after a delete, as with bigserial.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    chain           TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    event           TEXT NOT NULL,
    actor           TEXT NOT NULL,
    unit            TEXT NOT NULL,
    subject_officer TEXT,
    citizen         TEXT,
    document        TEXT,
    purpose         TEXT,
    case_reference  TEXT,
    verification    TEXT,
    outcome         TEXT NOT NULL,
    fields          TEXT NOT NULL,
    reason          TEXT,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    UNIQUE (chain, seq)
) STRICT;
CREATE INDEX audit_by_citizen ON audit_log (citizen, at);
CREATE INDEX audit_by_unit ON audit_log (unit, at);
