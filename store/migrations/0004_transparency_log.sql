-- The audit trail as a transparency log. Requests only insert audit_log
-- rows (their id is the global sequence number); the integrator gives each
-- its leaf index and stores the tree as the hashes of complete subtrees.
ALTER TABLE audit_log ADD COLUMN leaf bigint UNIQUE;
-- The integrator's scan for pending records stays small.
CREATE INDEX audit_pending ON audit_log (id) WHERE leaf IS NULL;

-- level 0 = leaf hashes; level l index i covers leaves [i*2^l, (i+1)*2^l).
CREATE TABLE audit_tree (
    level smallint NOT NULL,
    idx   bigint NOT NULL,
    hash  bytea NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE audit_tree_size (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    size bigint NOT NULL
);
INSERT INTO audit_tree_size (size) VALUES (0);

CREATE TABLE audit_checkpoints (
    size       bigint PRIMARY KEY,
    note       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_cosignatures (
    size      bigint NOT NULL REFERENCES audit_checkpoints (size),
    witness   text NOT NULL,
    signature text NOT NULL,
    PRIMARY KEY (size, witness)
);
