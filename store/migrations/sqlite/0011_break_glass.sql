-- Break-glass (see the PostgreSQL migration 0011).
CREATE TABLE break_glass (
    id              TEXT PRIMARY KEY,
    officer_id      TEXT NOT NULL REFERENCES officers (id),
    unit            TEXT NOT NULL,
    overrides       TEXT NOT NULL CHECK (overrides IN ('no_code', 'daily_limit')),
    justification   TEXT NOT NULL,
    document        TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    case_reference  TEXT,
    created_at      INTEGER NOT NULL,
    deadline        INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'countersigned', 'rejected', 'expired')),
    decided_by      TEXT,
    decided_at      INTEGER,
    decision_reason TEXT
);
CREATE INDEX break_glass_pending ON break_glass (deadline) WHERE status = 'pending';
CREATE INDEX break_glass_by_unit ON break_glass (unit, created_at);

CREATE TABLE break_glass_counters (
    officer_id TEXT NOT NULL REFERENCES officers (id),
    day        TEXT NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (officer_id, day)
);
