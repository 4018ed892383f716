-- Break-glass: emergency overrides under countersign (issue 16).
-- One row per override, keyed by the verification it released; the
-- justification is kept as cleaned by the core (control characters and
-- long digit runs removed: never a PESEL or phone number). A pending row
-- past its deadline is expired by the sweeper, which locks the officer.
CREATE TABLE break_glass (
    id              uuid PRIMARY KEY,
    officer_id      uuid NOT NULL REFERENCES officers (id),
    unit            text NOT NULL,
    overrides       text NOT NULL CHECK (overrides IN ('no_code', 'daily_limit')),
    justification   text NOT NULL,
    document        text NOT NULL,
    purpose         text NOT NULL,
    case_reference  text,
    created_at      timestamptz NOT NULL,
    deadline        timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'countersigned', 'rejected', 'expired')),
    decided_by      text,
    decided_at      timestamptz,
    decision_reason text
);
CREATE INDEX break_glass_pending ON break_glass (deadline) WHERE status = 'pending';
CREATE INDEX break_glass_by_unit ON break_glass (unit, created_at);

-- Break-glass uses per officer per day, counted by one conditional upsert
-- that never passes the policy's cap (as daily_counters for checks).
CREATE TABLE break_glass_counters (
    officer_id uuid NOT NULL REFERENCES officers (id),
    day        date NOT NULL,
    used       integer NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (officer_id, day)
);
