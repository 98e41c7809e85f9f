-- Several server processes against one database (issue 19, part 2; docs/decisions.md 266–279).
--
-- What one process used to keep in its memory and every process must now agree on lives here,
-- in the `private` schema: the API roles (anon, authenticated) have no privilege on any of it;
-- only the server acting for itself (service_role, which bypasses RLS) reads and writes it.

-- Sign-in and sign-up rate limits and the failed-sign-in back-off, counted once for every
-- process (decision 266). One row per limiter and key; the key is a SHA-256 of what is limited
-- (an address, an e-mail address and an address) so no address or e-mail sits here in clear.
-- * a fixed window: `hits` attempts since `started_at`; the window ends at `expires_at`;
-- * a back-off: `hits` failures, the last at `started_at`, forgotten at `expires_at`.
-- UNLOGGED: counters lost in a crash are counters restarted, never a wrong answer to a
-- learner, and no write-ahead log is spent on every sign-in. Rows past `expires_at` mean
-- nothing and are deleted by the periodic cleanup (server/src/jobs.rs).
CREATE UNLOGGED TABLE private.rate_limits (
  limiter text NOT NULL,
  key_hash bytea NOT NULL CHECK (length(key_hash) = 32),
  started_at timestamptz NOT NULL,
  hits integer NOT NULL CHECK (hits >= 0),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (limiter, key_hash)
);
CREATE INDEX idx_rate_limits_expires_at ON private.rate_limits (expires_at);
ALTER TABLE private.rate_limits ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON private.rate_limits TO service_role;

-- The periodic jobs that must run once for the cluster (the idle lab reaper's sweep of lab
-- sessions no process hosts, sync-log compaction, cleanups): which process ran each last and
-- when (decision 268). A process runs a job only while it holds the job's advisory lock and
-- only when the last run started a period or more ago, so three processes ticking run it once.
CREATE TABLE private.periodic_runs (
  job text PRIMARY KEY,
  runs bigint NOT NULL DEFAULT 0,
  last_started_at timestamptz NOT NULL,
  last_instance uuid NOT NULL
);
ALTER TABLE private.periodic_runs ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON private.periodic_runs TO service_role;

-- Every server process while it runs: its id (new at each start), the address the other
-- processes reach it at (`internal_url`, NULL when it has none) and when it last said it was
-- alive (decision 271).
CREATE TABLE private.server_instances (
  id uuid PRIMARY KEY,
  internal_url text CHECK (internal_url IS NULL OR internal_url ~ '^https?://'),
  started_at timestamptz NOT NULL DEFAULT now(),
  seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_server_instances_seen_at ON private.server_instances (seen_at);
ALTER TABLE private.server_instances ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON private.server_instances TO service_role;

-- Which process runs a lab session's sandbox and shell (decision 272): a terminal opened
-- through another process is proxied there, and the reaper leaves the session to it. No
-- foreign key to server_instances: a host row outlives a process killed with SIGKILL, and is
-- then recognised as stale by its instance's `seen_at`.
CREATE TABLE private.lab_session_hosts (
  session_id uuid PRIMARY KEY REFERENCES public.lab_sessions (id) ON DELETE CASCADE,
  instance_id uuid NOT NULL,
  since timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_lab_session_hosts_instance ON private.lab_session_hosts (instance_id);
ALTER TABLE private.lab_session_hosts ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON private.lab_session_hosts TO service_role;
