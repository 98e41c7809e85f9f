-- Roles, the `auth` schema and the claim functions, the way Supabase does it.
--
-- Every API request runs in one transaction as `anon` or `authenticated`, with the caller's
-- claims in the transaction-local setting `request.jwt.claims` (see server/src/db/session.rs).
-- The server logs in as `authenticator`, which owns nothing and can only SET ROLE to the API
-- roles. `service_role` is the narrow privileged path for server-internal jobs (sign-in's
-- password check, issuing certificates, the lab reaper): DML only, never DDL, never login.

-- Roles are cluster-wide: create them only when missing, so several databases (tests, staging)
-- can share one cluster.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;

-- NOINHERIT: membership only allows SET ROLE; the login role itself has no table privileges.
GRANT anon, authenticated, service_role TO authenticator;

-- The spec's ids default to uuid_generate_v4(); created before the default privileges below
-- so that every role may still call it.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;

-- Functions are executable by PUBLIC by default; ours are granted one by one instead.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;

CREATE SCHEMA auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

CREATE TABLE auth.users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL
    CHECK (email = btrim(email) AND length(email) BETWEEN 3 AND 320 AND position('@' IN email) > 1),
  -- An Argon2id PHC string; NULL for accounts that cannot sign in with a password.
  encrypted_password text,
  raw_user_meta_data jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(raw_user_meta_data) = 'object'),
  raw_app_meta_data jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(raw_app_meta_data) = 'object'),
  email_confirmed_at timestamptz,
  last_sign_in_at timestamptz,
  banned_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- E-mail addresses are unique whatever their case.
CREATE UNIQUE INDEX users_email_lower_key ON auth.users (lower(email));

-- Nobody reaches auth.users through the API roles; the server's auth code uses service_role.
ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.users TO service_role;

-- The caller's claims, or NULL outside a request. `nullif(..., '')`: once a transaction-local
-- setting has been used on a connection, it reads back as '' (not NULL) after the transaction.
CREATE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = ''
AS $$
  SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb
$$;

CREATE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE
SET search_path = ''
AS $$
  SELECT nullif(auth.jwt() ->> 'sub', '')::uuid
$$;

CREATE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE
SET search_path = ''
AS $$
  SELECT auth.jwt() ->> 'role'
$$;

GRANT EXECUTE ON FUNCTION auth.jwt(), auth.uid(), auth.role() TO anon, authenticated, service_role;
