-- Sessions and rotating refresh tokens (the way Supabase Auth does it), and the admin check
-- that admin-only routes call first.
--
-- A session is one signed-in device. Each refresh uses up its token and issues the next one
-- (parent → child). Presenting a token that was already used, after a short grace window for
-- concurrent refreshes from the same client, revokes the whole session: someone has a copy.
-- Only hashes are stored. Nothing here is reachable by the API roles; the server's auth code
-- works through service_role.

CREATE TABLE auth.sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  user_agent text,
  ip inet,
  created_at timestamptz NOT NULL DEFAULT now(),
  refreshed_at timestamptz,
  revoked_at timestamptz,
  revoked_reason text CHECK (revoked_reason IN ('sign_out', 'sign_out_everywhere', 'refresh_token_reused'))
);
CREATE INDEX idx_auth_sessions_user ON auth.sessions(user_id);

CREATE TABLE auth.refresh_tokens (
  id bigserial PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES auth.sessions(id) ON DELETE CASCADE,
  -- SHA-256 of the token; the token itself is never stored.
  token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  parent_id bigint REFERENCES auth.refresh_tokens(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Set when the token is exchanged for its child.
  used_at timestamptz
);
CREATE INDEX idx_auth_refresh_tokens_session ON auth.refresh_tokens(session_id);
CREATE INDEX idx_auth_refresh_tokens_parent ON auth.refresh_tokens(parent_id);

ALTER TABLE auth.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.sessions, auth.refresh_tokens TO service_role;
GRANT USAGE ON SEQUENCE auth.refresh_tokens_id_seq TO service_role;

-- Admin-only routes call this first, so a non-admin gets a clear "forbidden" instead of an
-- empty answer filtered by RLS.
CREATE FUNCTION public.require_admin() RETURNS void
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
BEGIN
  IF NOT private.is_admin() THEN
    RAISE EXCEPTION 'this needs an admin' USING ERRCODE = 'insufficient_privilege';
  END IF;
END;
$$;
GRANT EXECUTE ON FUNCTION public.require_admin() TO authenticated;
