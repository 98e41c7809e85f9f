-- Desktop releases (issue 20, part 2): the signed packages of the desktop app this server
-- offers to Tauri's updater (`GET /api/v1/desktop/updates/…`). The package files live in
-- `<data-dir>/desktop-releases/`, named by their SHA-256; these rows say which exist. Rows are
-- written by the operator's command (`skilltrack-server desktop-release`, as the owner). Anyone
-- may read them, signed in or not: an app checks for updates before anyone signs in, and a
-- release is public by nature.

CREATE TABLE public.desktop_releases (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- X.Y.Z without leading zeros (semver's rule, which the updater applies to what it reads),
  -- each number small enough for an integer: compared as numbers, never as text.
  version text NOT NULL
    CHECK (version ~ '^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$'),
  bundle text NOT NULL CHECK (bundle IN ('deb', 'rpm')),
  arch text NOT NULL CHECK (arch IN ('x86_64', 'aarch64')),
  -- The package's own name, the last segment of its download URL: nothing that needs escaping
  -- in a URL or could name another directory.
  file_name text NOT NULL
    CHECK (file_name ~ '^[A-Za-z0-9][A-Za-z0-9._+~-]{0,199}$'),
  size_bytes bigint NOT NULL CHECK (size_bytes > 0),
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  -- The `.sig` file the Tauri CLI wrote: base64 of a minisign signature.
  signature text NOT NULL
    CHECK (signature ~ '^[A-Za-z0-9+/]+={0,2}$' AND length(signature) <= 4096),
  notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
  published_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (version, bundle, arch)
);

ALTER TABLE public.desktop_releases ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON public.desktop_releases TO anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.desktop_releases TO authenticated, service_role;
CREATE POLICY desktop_releases_select ON public.desktop_releases FOR SELECT TO anon, authenticated
  USING (true);
-- Like every table, admins may change it; releases are published by the operator's command.
CREATE POLICY desktop_releases_insert ON public.desktop_releases FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY desktop_releases_update ON public.desktop_releases FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY desktop_releases_delete ON public.desktop_releases FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));
