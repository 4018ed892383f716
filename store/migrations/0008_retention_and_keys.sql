-- Retention and keys apart. The sweeper (every replica) wipes an expired
-- challenge's sealed subject and code MAC (the MAC to empty bytes, so the
-- column keeps its NOT NULL) and deletes challenges, activation codes,
-- sessions and daily counters after the policy's retention; these indexes
-- let each batch find its rows without a scan. The audit trail is never
-- swept. TOTP secrets are sealed by the broker (version, nonce, AES-GCM
-- ciphertext in `officers.totp_secret`): no schema change, and no secret
-- in a migration.
CREATE INDEX challenges_unwiped ON challenges (expires_at)
    WHERE sealed_subject IS NOT NULL OR code_mac <> ''::bytea;
CREATE INDEX challenges_created ON challenges (created_at);
CREATE INDEX activation_codes_unwiped ON activation_codes (expires_at) WHERE code_mac <> ''::bytea;
CREATE INDEX activation_codes_created ON activation_codes (created_at);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX daily_counters_day ON daily_counters (day);
CREATE INDEX portal_revocations_until ON portal_revocations (until);
