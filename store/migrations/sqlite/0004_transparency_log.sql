-- The audit trail as a transparency log (see the PostgreSQL migration).
ALTER TABLE audit_log ADD COLUMN leaf INTEGER;
CREATE UNIQUE INDEX audit_leaf ON audit_log (leaf);
CREATE INDEX audit_pending ON audit_log (id) WHERE leaf IS NULL;

CREATE TABLE audit_tree (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) STRICT;

CREATE TABLE audit_tree_size (
    one  INTEGER PRIMARY KEY NOT NULL CHECK (one = 1),
    size INTEGER NOT NULL
) STRICT;
INSERT INTO audit_tree_size (one, size) VALUES (1, 0);

CREATE TABLE audit_checkpoints (
    size       INTEGER PRIMARY KEY NOT NULL,
    note       TEXT NOT NULL
) STRICT;

CREATE TABLE audit_cosignatures (
    size      INTEGER NOT NULL REFERENCES audit_checkpoints (size),
    witness   TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (size, witness)
) STRICT;
