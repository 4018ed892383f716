-- Notices, their choices and disputes (see the PostgreSQL migration 0010).
CREATE TABLE notice_outbox (
    id            TEXT PRIMARY KEY,
    sealed        BLOB NOT NULL,
    due_at        INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    claimed_until INTEGER
);
CREATE INDEX notice_outbox_due ON notice_outbox (due_at);

CREATE TABLE notice_prefs (
    citizen    TEXT PRIMARY KEY,
    sms        INTEGER NOT NULL,
    email      INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE disputes (
    id           TEXT PRIMARY KEY,
    verification TEXT NOT NULL UNIQUE,
    citizen      TEXT NOT NULL,
    unit         TEXT NOT NULL,
    officer_id   TEXT NOT NULL,
    comment      TEXT NOT NULL,
    opened_at    INTEGER NOT NULL,
    resolved_at  INTEGER,
    resolved_by  TEXT,
    resolution   TEXT
);
CREATE INDEX disputes_unit ON disputes (unit, resolved_at);
CREATE INDEX disputes_citizen ON disputes (citizen, opened_at);
