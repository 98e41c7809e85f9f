-- Accounts people can recover (issue 20, part 4): single-use, expiring links mailed for a
-- password reset or to confirm an e-mail address.
--
-- Only a SHA-256 of each link's token is kept: whoever reads this table (a backup, an
-- operator) cannot use a link. A link is used up when it is used, and using one uses up every
-- other unused link of the same account and purpose (a reset from the newest mail leaves no
-- older mail able to reset again). Like auth.sessions, nothing here is reachable by the API
-- roles: the server's auth code works through service_role.

CREATE TABLE auth.account_tokens (
  id bigserial PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('password_reset', 'email_confirmation')),
  token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  -- The address the link was mailed to: a confirmation confirms that address only, so a link
  -- for an address the account no longer has is refused.
  email text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL CHECK (expires_at > created_at),
  used_at timestamptz
);
CREATE INDEX idx_auth_account_tokens_user ON auth.account_tokens (user_id, purpose);

ALTER TABLE auth.account_tokens ENABLE ROW LEVEL SECURITY;
-- No policy: service_role bypasses RLS, and the API roles get no privilege at all.
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.account_tokens TO service_role;
GRANT USAGE ON SEQUENCE auth.account_tokens_id_seq TO service_role;

-- A password reset (by a mailed link or by an admin) ends every session of the account: the
-- tokens of whoever knew the old password stop working at once (the revocation trigger of
-- migration 0036 tells every server process).
ALTER TABLE auth.sessions DROP CONSTRAINT sessions_revoked_reason_check;
ALTER TABLE auth.sessions ADD CONSTRAINT sessions_revoked_reason_check
  CHECK (revoked_reason IN ('sign_out', 'sign_out_everywhere', 'refresh_token_reused',
                            'account_suspended', 'account_deleted', 'password_reset'));
