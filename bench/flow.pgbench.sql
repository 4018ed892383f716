-- okaz: the SQL of one full verification flow, as a pgbench script.
--
-- THIS FILE MUST MIRROR THE STORE'S HOT PATH: the statements that
-- store/src/postgres/*.rs issues for one flow (session lookup and
-- touch, counter upsert, audit append, activation check, challenge insert,
-- reserve attempt, complete, and their audit appends), grouped in
-- transactions exactly as the store groups them: a statement the store runs
-- outside a transaction stands alone here (autocommit); BEGIN … COMMIT
-- where the store opens one. When the store changes, edit this file in the
-- same commit. okaz-bench
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
--  * run with -M prepared (each statement prepared once per connection, as
--    the store's cached prepared statements are); the store pipelines some
--    statements of a transaction (the two audit inserts, the head update and
--    the challenge insert go together; the session lookup and the attempt go
--    together), which this script runs one after the other.
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
-- authenticate (officers.rs: LOOKUP, with the citizen's activation): autocommit
SELECT s.officer_id, s.expires_at, s.last_seen,
     o.id, o.login, o.display_name, o.role, o.unit, o.password_hash, o.totp_secret, o.disabled,
     o.locked_at, o.lock_reason, o.failed_logins, o.last_failed_login,
     c.used, c.extra, c.wrong_codes,
     CASE WHEN lpad(:n::text, 64, 'c') IS NULL THEN NULL
          ELSE EXISTS (SELECT 1 FROM activations a WHERE a.citizen = lpad(:n::text, 64, 'c')) END
 FROM sessions s
 JOIN officers o ON o.id = s.officer_id
 LEFT JOIN daily_counters c ON c.officer_id = s.officer_id AND c.day = (now() AT TIME ZONE 'Europe/Warsaw')::date
 WHERE s.token_hash = lpad(:n::text, 64, 's') \gset

-- (the broker asks the contact register for the phone here)

-- count_attempt_then with a challenge (quota.rs, challenges.rs, audit.rs): one transaction
BEGIN;
WITH o AS (SELECT locked_at IS NOT NULL AS locked FROM officers WHERE id = :officer_id),
 c AS (INSERT INTO daily_counters (officer_id, day, used)
       SELECT :officer_id, (now() AT TIME ZONE 'Europe/Warsaw')::date, 1 FROM o WHERE NOT o.locked
       ON CONFLICT (officer_id, day) DO UPDATE SET used = daily_counters.used + 1
       RETURNING used, extra)
 SELECT o.locked, c.used, c.extra FROM o LEFT JOIN c ON true;
INSERT INTO challenges (id, officer_id, session_hash, citizen, document,
    purpose, case_reference, code_mac, sealed_subject, state, attempts_used, max_attempts,
    created_at, expires_at)
  VALUES (md5(:n::text || '/' || :ch::text)::uuid, :officer_id, lpad(:n::text, 64, 's'), lpad(:n::text, 64, 'c'),
    'id_card', 'identity_confirmation', NULL, sha256(:ch::text::bytea),
    sha256(:n::text::bytea) || sha256(:ch::text::bytea), 'awaiting', 0, 3, now(), now() + interval '5 minutes');
-- audit::append_all (attempt_counted, verification_started): one head upsert, two records, one head update
INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (:officer_id, 0, repeat('0', 64))
  ON CONFLICT (chain) DO UPDATE SET chain = EXCLUDED.chain RETURNING seq, hash \gset
\set seq1 :seq + 1
\set seq2 :seq + 2
INSERT INTO audit_log (chain, seq, at, event, actor, unit, subject_officer, citizen,
    document, purpose, case_reference, verification, outcome, fields, reason, prev_hash, hash)
  VALUES (:officer_id, :seq1, now(), 'attempt_counted', :officer_id, 'PGBENCH', NULL, lpad(:n::text, 64, 'c'),
    'id_card', 'identity_confirmation', NULL, NULL, 'ok', '{}', NULL, :hash, md5(:hash::text) || md5(:seq1::text));
INSERT INTO audit_log (chain, seq, at, event, actor, unit, subject_officer, citizen,
    document, purpose, case_reference, verification, outcome, fields, reason, prev_hash, hash)
  VALUES (:officer_id, :seq2, now(), 'verification_started', :officer_id, 'PGBENCH', NULL, lpad(:n::text, 64, 'c'),
    'id_card', 'identity_confirmation', NULL, md5(:n::text || '/' || :ch::text), 'ok', '{}', NULL,
    md5(:hash::text) || md5(:seq1::text), md5(:hash::text) || md5(:seq2::text));
UPDATE audit_chain_heads SET seq = :seq2, hash = md5(:hash::text) || md5(:seq2::text) WHERE chain = :officer_id;
COMMIT;

-- (the broker sends the SMS here)

-- ===== POST /v1/verifications/{id}/code ===========================
-- authenticate_and_reserve (challenges.rs): the lookup and the attempt, one transaction
BEGIN;
SELECT s.officer_id, s.expires_at, s.last_seen,
     o.id, o.login, o.display_name, o.role, o.unit, o.password_hash, o.totp_secret, o.disabled,
     o.locked_at, o.lock_reason, o.failed_logins, o.last_failed_login,
     c.used, c.extra, c.wrong_codes,
     CASE WHEN NULL::text IS NULL THEN NULL
          ELSE EXISTS (SELECT 1 FROM activations a WHERE a.citizen = NULL::text) END
 FROM sessions s
 JOIN officers o ON o.id = s.officer_id
 LEFT JOIN daily_counters c ON c.officer_id = s.officer_id AND c.day = (now() AT TIME ZONE 'Europe/Warsaw')::date
 WHERE s.token_hash = lpad(:n::text, 64, 's');
UPDATE challenges SET attempts_used = attempts_used + 1
  WHERE id = md5(:n::text || '/' || :ch::text)::uuid AND session_hash = lpad(:n::text, 64, 's')
    AND state = 'awaiting' AND attempts_used < max_attempts AND expires_at > now()
  RETURNING id, officer_id, citizen, document, purpose, case_reference, state,
    attempts_used, max_attempts, expires_at, code_mac, sealed_subject;
COMMIT;

-- (the broker fetches the document from the register here)

-- complete_challenge (challenges.rs: complete): one transaction
BEGIN;
UPDATE challenges SET state = 'used', sealed_subject = NULL
  WHERE id = md5(:n::text || '/' || :ch::text)::uuid AND state = 'awaiting';
-- audit::append (document_released)
INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (:officer_id, 0, repeat('0', 64))
  ON CONFLICT (chain) DO UPDATE SET chain = EXCLUDED.chain RETURNING seq, hash \gset
\set seq :seq + 1
INSERT INTO audit_log (chain, seq, at, event, actor, unit, subject_officer, citizen,
    document, purpose, case_reference, verification, outcome, fields, reason, prev_hash, hash)
  VALUES (:officer_id, :seq, now(), 'document_released', :officer_id, 'PGBENCH', NULL, lpad(:n::text, 64, 'c'),
    'id_card', 'identity_confirmation', NULL, md5(:n::text || '/' || :ch::text), 'ok',
    '{photo,document_number,given_names,surname,birth_date,sex,citizenship,issue_date,expiry_date,issuing_authority}',
    NULL, :hash, md5(:hash::text) || md5(:seq::text));
UPDATE audit_chain_heads SET seq = :seq, hash = md5(:hash::text) || md5(:seq::text) WHERE chain = :officer_id;
COMMIT;
