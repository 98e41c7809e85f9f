-- Revocation that reaches everything (issue 14, finding 7). Access tokens are signed and
-- short-lived, so they used to outlive sign-out, global sign-out, a reused refresh token and a
-- ban until they expired. Every server process now keeps the set of recently revoked sessions
-- (server/src/auth/revocation.rs) and refuses their tokens at once; these triggers tell every
-- process, whichever path revoked the session: a route, another process, an operator's SQL.

ALTER TABLE auth.sessions DROP CONSTRAINT sessions_revoked_reason_check;
ALTER TABLE auth.sessions ADD CONSTRAINT sessions_revoked_reason_check
  CHECK (revoked_reason IN ('sign_out', 'sign_out_everywhere', 'refresh_token_reused',
                            'account_suspended', 'account_deleted'));
CREATE INDEX idx_auth_sessions_revoked_at ON auth.sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Delivered at commit, so a process never refuses a token whose revocation rolled back.
CREATE FUNCTION private.announce_session_revoked() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('skilltrack_revoked', OLD.id::text);
  ELSE
    PERFORM pg_notify('skilltrack_revoked', NEW.id::text);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER announce_session_revoked AFTER UPDATE OF revoked_at ON auth.sessions
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION private.announce_session_revoked();
-- A deleted account takes its sessions with it (ON DELETE CASCADE): their tokens end too.
CREATE TRIGGER announce_session_deleted AFTER DELETE ON auth.sessions
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL)
  EXECUTE FUNCTION private.announce_session_revoked();

-- A ban ends every session of the account at once; refresh and sign-in refuse while it lasts.
CREATE FUNCTION private.revoke_sessions_of_banned() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  UPDATE auth.sessions SET revoked_at = now(), revoked_reason = 'account_suspended'
  WHERE user_id = NEW.id AND revoked_at IS NULL;
  RETURN NULL;
END;
$$;
CREATE TRIGGER revoke_sessions_of_banned AFTER UPDATE OF banned_until ON auth.users
  FOR EACH ROW WHEN (NEW.banned_until IS NOT NULL AND NEW.banned_until > now())
  EXECUTE FUNCTION private.revoke_sessions_of_banned();
