-- A right code leases its challenge for the release: while
-- releasing_until (microseconds since the epoch) is in the future, no other
-- answer is taken (one code, one register read, one release). A register
-- failure ends the lease and gives the attempt back; a crashed broker's
-- lease simply runs out.
ALTER TABLE challenges ADD COLUMN releasing_until INTEGER;
