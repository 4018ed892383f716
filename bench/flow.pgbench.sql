-- okaz: the SQL of one full verification flow, as a pgbench script.
--
-- THIS FILE MUST MIRROR THE STORE'S HOT PATH: the statements that
-- server/src/store/postgres/*.rs issues for one flow (session lookup and
-- touch, counter upsert, audit append, activation check, challenge insert,
-- reserve attempt, complete, and their audit appends), grouped in
-- transactions exactly as the store groups them: a statement the store runs
-- outside a transaction stands alone here (autocommit); BEGIN … COMMIT
-- where the store opens one. When the store changes (it is to be rewritten
-- to fewer transactions), edit this file in the same commit. okaz-bench
-- prints transactions and statements per flow beside those per script run,
-- so a drift between the two shows in the report.
--
-- One pgbench "transaction" is one run of this whole script, i.e. one
-- flow's worth of statements; okaz-bench divides flows/s by that rate.
--
-- Deliberate differences from the broker:
--  * values the broker computes in Rust (ids, code MAC, sealed subject,
--    audit hashes, the Warsaw day) are made here from \set random numbers
--    with cheap SQL expressions;
--  * run with -M extended (every statement parsed each time, as the store's
--    tokio-postgres calls with SQL text do); the store pays one more round
--    trip per statement (prepare, then execute) and the pool's check-out
--    probe (deadpool's `Verified` recycling sends an empty query), neither
--    of which a script can express.
--
-- Fixture: one synthetic officer, session and activated citizen per pgbench
-- client, keyed by n = :client_id + 1. okaz-bench runs the block between the
-- @setup markers once before pgbench (comment markers stripped, :clients
-- replaced by the number of clients).
-- @setup begin
-- INSERT INTO officers (id, login, display_name, role, unit, password_hash, totp_secret, created_at)
--   SELECT md5('pgbench-officer-' || n)::uuid, 'pgbench.' || n, 'pgbench ' || n, 'clerk', 'PGBENCH', 'x', '\x00', now()
--   FROM generate_series(1, :clients) n ON CONFLICT DO NOTHING;
-- INSERT INTO sessions (token_hash, officer_id, created_at, expires_at, last_seen)
--   SELECT lpad(n::text, 64, 's'), md5('pgbench-officer-' || n)::uuid, now(), now() + interval '1 day', now()
--   FROM generate_series(1, :clients) n ON CONFLICT DO NOTHING;
-- INSERT INTO activations (citizen, activated_at)
--   SELECT lpad(n::text, 64, 'c'), now() FROM generate_series(1, :clients) n ON CONFLICT DO NOTHING;
-- @setup end

\set n :client_id + 1
\set ch random(1, 1000000000000)

-- ===== POST /v1/verifications =====================================
-- authenticate (officers.rs: session, by_id, touch_session): 3 autocommits
SELECT officer_id, expires_at, last_seen FROM sessions WHERE token_hash = lpad(:n::text, 64, 's') \gset
SELECT id, login, display_name, role, unit, password_hash, totp_secret, disabled,
       locked_at, lock_reason, failed_logins, last_failed_login
  FROM officers WHERE id = :officer_id;
UPDATE sessions SET last_seen = GREATEST(last_seen, now()) WHERE token_hash = lpad(:n::text, 64, 's');

-- count_attempt (quota.rs): one transaction
BEGIN;
SELECT 1 FROM officers WHERE id = :officer_id AND locked_at IS NOT NULL;
INSERT INTO daily_counters (officer_id, day, used)
  VALUES (:officer_id, (now() AT TIME ZONE 'Europe/Warsaw')::date, 1)
  ON CONFLICT (officer_id, day) DO UPDATE SET used = daily_counters.used + 1
  RETURNING used, extra;
-- audit::append (attempt_counted)
INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (:officer_id, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
SELECT seq, hash FROM audit_chain_heads WHERE chain = :officer_id FOR UPDATE \gset
\set seq :seq + 1
INSERT INTO audit_log (chain, seq, at, event, actor, unit, subject_officer, citizen,
    document, purpose, case_reference, verification, outcome, fields, reason, prev_hash, hash)
  VALUES (:officer_id, :seq, now(), 'attempt_counted', :officer_id, 'PGBENCH', NULL, lpad(:n::text, 64, 'c'),
    'id_card', 'identity_confirmation', NULL, NULL, 'ok', '{}', NULL, :hash, md5(:hash::text) || md5(:seq::text));
UPDATE audit_chain_heads SET seq = :seq, hash = md5(:hash::text) || md5(:seq::text) WHERE chain = :officer_id;
COMMIT;

-- is_activated (challenges.rs): autocommit
SELECT 1 FROM activations WHERE citizen = lpad(:n::text, 64, 'c');

-- (the broker asks the contact register for the phone here)

-- insert_challenge (challenges.rs): one transaction
BEGIN;
INSERT INTO challenges (id, officer_id, session_hash, citizen, document, purpose, case_reference,
    code_mac, sealed_subject, state, attempts_used, max_attempts, created_at, expires_at)
  VALUES (md5(:n::text || '/' || :ch::text)::uuid, :officer_id, lpad(:n::text, 64, 's'), lpad(:n::text, 64, 'c'),
    'id_card', 'identity_confirmation', NULL, sha256(:ch::text::bytea),
    sha256(:n::text::bytea) || sha256(:ch::text::bytea), 'awaiting', 0, 3, now(), now() + interval '5 minutes');
-- audit::append (verification_started)
INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (:officer_id, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
SELECT seq, hash FROM audit_chain_heads WHERE chain = :officer_id FOR UPDATE \gset
\set seq :seq + 1
INSERT INTO audit_log (chain, seq, at, event, actor, unit, subject_officer, citizen,
    document, purpose, case_reference, verification, outcome, fields, reason, prev_hash, hash)
  VALUES (:officer_id, :seq, now(), 'verification_started', :officer_id, 'PGBENCH', NULL, lpad(:n::text, 64, 'c'),
    'id_card', 'identity_confirmation', NULL, md5(:n::text || '/' || :ch::text), 'ok', '{}', NULL, :hash,
    md5(:hash::text) || md5(:seq::text));
UPDATE audit_chain_heads SET seq = :seq, hash = md5(:hash::text) || md5(:seq::text) WHERE chain = :officer_id;
COMMIT;

-- (the broker sends the SMS here)

-- quota for the answer (quota.rs: counter): autocommit
SELECT used, extra, wrong_codes FROM daily_counters
  WHERE officer_id = :officer_id AND day = (now() AT TIME ZONE 'Europe/Warsaw')::date;

-- ===== POST /v1/verifications/{id}/code ===========================
-- authenticate again: 3 autocommits
SELECT officer_id, expires_at, last_seen FROM sessions WHERE token_hash = lpad(:n::text, 64, 's') \gset
SELECT id, login, display_name, role, unit, password_hash, totp_secret, disabled,
       locked_at, lock_reason, failed_logins, last_failed_login
  FROM officers WHERE id = :officer_id;
UPDATE sessions SET last_seen = GREATEST(last_seen, now()) WHERE token_hash = lpad(:n::text, 64, 's');

-- reserve_code_attempt (challenges.rs: reserve): autocommit
UPDATE challenges SET attempts_used = attempts_used + 1
  WHERE id = md5(:n::text || '/' || :ch::text)::uuid AND officer_id = :officer_id
    AND session_hash = lpad(:n::text, 64, 's') AND state = 'awaiting'
    AND attempts_used < max_attempts AND expires_at > now()
  RETURNING id, officer_id, citizen, document, purpose, case_reference, state,
    attempts_used, max_attempts, expires_at, code_mac, sealed_subject;

-- (the broker fetches the document from the register here)

-- complete_challenge (challenges.rs: complete): one transaction
BEGIN;
UPDATE challenges SET state = 'used', sealed_subject = NULL
  WHERE id = md5(:n::text || '/' || :ch::text)::uuid AND state = 'awaiting';
-- audit::append (document_released)
INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (:officer_id, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
SELECT seq, hash FROM audit_chain_heads WHERE chain = :officer_id FOR UPDATE \gset
\set seq :seq + 1
INSERT INTO audit_log (chain, seq, at, event, actor, unit, subject_officer, citizen,
    document, purpose, case_reference, verification, outcome, fields, reason, prev_hash, hash)
  VALUES (:officer_id, :seq, now(), 'document_released', :officer_id, 'PGBENCH', NULL, lpad(:n::text, 64, 'c'),
    'id_card', 'identity_confirmation', NULL, md5(:n::text || '/' || :ch::text), 'ok',
    '{photo,document_number,given_names,surname,birth_date,sex,citizenship,issue_date,expiry_date,issuing_authority}',
    NULL, :hash, md5(:hash::text) || md5(:seq::text));
UPDATE audit_chain_heads SET seq = :seq, hash = md5(:hash::text) || md5(:seq::text) WHERE chain = :officer_id;
COMMIT;

-- quota for the answer (quota.rs: counter): autocommit
SELECT used, extra, wrong_codes FROM daily_counters
  WHERE officer_id = :officer_id AND day = (now() AT TIME ZONE 'Europe/Warsaw')::date;
