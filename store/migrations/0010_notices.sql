-- Notices to citizens, their choices, and their disputes (issue 16).
--
-- notice_outbox: a police check's notice waits here until the policy's
-- delay has passed. `sealed` is the notice (the PESEL included, to reach
-- the contact register at delivery) encrypted under the notice key
-- (ChaCha20-Poly1305, the row id as associated data): a dump shows no
-- identifier. A row is deleted once sent; `claimed_until` is the lease of
-- the replica delivering it, so concurrent workers never send one twice.
CREATE TABLE notice_outbox (
    id            uuid PRIMARY KEY,
    sealed        bytea NOT NULL,
    due_at        timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    claimed_until timestamptz
);
CREATE INDEX notice_outbox_due ON notice_outbox (due_at);

-- A citizen's choice of channels, by pseudonym; no row means all on.
CREATE TABLE notice_prefs (
    citizen    text PRIMARY KEY,
    sms        boolean NOT NULL,
    email      boolean NOT NULL,
    updated_at timestamptz NOT NULL
);

-- "I did not agree to this": one per check, for the unit that checked.
-- The comment is the citizen's plain text (length-limited, control
-- characters stripped before it is stored).
CREATE TABLE disputes (
    id           uuid PRIMARY KEY,
    verification text NOT NULL UNIQUE,
    citizen      text NOT NULL,
    unit         text NOT NULL,
    officer_id   text NOT NULL,
    comment      text NOT NULL,
    opened_at    timestamptz NOT NULL,
    resolved_at  timestamptz,
    resolved_by  text,
    resolution   text
);
CREATE INDEX disputes_unit ON disputes (unit, resolved_at);
CREATE INDEX disputes_citizen ON disputes (citizen, opened_at);
