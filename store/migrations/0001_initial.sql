-- okaz broker schema, version 1. No citizen data: citizens appear only as
-- HMAC pseudonyms; challenges hold a code MAC and a subject sealed under the
-- code, cleared when the challenge closes.

CREATE TABLE officers (
    id                uuid PRIMARY KEY,
    login             text NOT NULL UNIQUE,
    display_name      text NOT NULL,
    role              text NOT NULL,
    unit              text NOT NULL,
    password_hash     text NOT NULL,
    totp_secret       bytea NOT NULL,
    totp_last_step    bigint,
    disabled          boolean NOT NULL DEFAULT false,
    locked_at         timestamptz,
    lock_reason       text,
    failed_logins     integer NOT NULL DEFAULT 0,
    last_failed_login timestamptz,
    created_at        timestamptz NOT NULL
);
CREATE INDEX officers_locked_by_unit ON officers (unit) WHERE locked_at IS NOT NULL;

CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    officer_id uuid NOT NULL REFERENCES officers (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL
);
CREATE INDEX sessions_by_officer ON sessions (officer_id);

CREATE TABLE daily_counters (
    officer_id  uuid NOT NULL REFERENCES officers (id),
    day         date NOT NULL,
    used        integer NOT NULL DEFAULT 0,
    extra       integer NOT NULL DEFAULT 0,
    wrong_codes integer NOT NULL DEFAULT 0,
    PRIMARY KEY (officer_id, day)
);

CREATE TABLE activations (
    citizen      text PRIMARY KEY,
    activated_at timestamptz NOT NULL
);

CREATE TABLE challenges (
    id             uuid PRIMARY KEY,
    officer_id     uuid NOT NULL REFERENCES officers (id),
    session_hash   text NOT NULL,
    citizen        text NOT NULL,
    document       text NOT NULL,
    purpose        text NOT NULL,
    case_reference text,
    code_mac       bytea NOT NULL,
    sealed_subject bytea,
    state          text NOT NULL,
    attempts_used  integer NOT NULL DEFAULT 0,
    max_attempts   integer NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL
);
CREATE INDEX challenges_expiry ON challenges (expires_at) WHERE state = 'awaiting';

CREATE TABLE audit_chain_heads (
    chain text PRIMARY KEY,
    seq   bigint NOT NULL,
    hash  text NOT NULL
);

CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    chain           text NOT NULL,
    seq             bigint NOT NULL,
    at              timestamptz NOT NULL,
    event           text NOT NULL,
    actor           text NOT NULL,
    unit            text NOT NULL,
    subject_officer text,
    citizen         text,
    document        text,
    purpose         text,
    case_reference  text,
    verification    text,
    outcome         text NOT NULL,
    fields          text[] NOT NULL,
    reason          text,
    prev_hash       text NOT NULL,
    hash            text NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_by_citizen ON audit_log (citizen, at);
CREATE INDEX audit_by_unit ON audit_log (unit, at);
