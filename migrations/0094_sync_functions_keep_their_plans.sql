-- The pull's two log functions in PL/pgSQL, same meaning (issue 19, part 1; decision 377).
--
-- Both were SQL-language SECURITY DEFINER functions: never inlined, so PostgreSQL 15 parsed
-- and planned their bodies again on every call, once per pull. Profiled under a thousand
-- devices pulling a catalog change, executing SQL functions was 40 % of PostgreSQL's time
-- (`fmgr_sql`), most of it planning `sync_changes`' three-way union. PL/pgSQL keeps a
-- function's plans for the session, as 0014 did for the policy helpers.

-- Replaces the version of 0037: shared entries that are not drafts, the caller's own, and,
-- for admins, every draft entry (they manage every course).
CREATE OR REPLACE FUNCTION private.sync_changes(p_after bigint, p_limit integer)
RETURNS TABLE (seq bigint, tbl text, row_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  RETURN QUERY
  SELECT s.seq, s.tbl, s.row_id FROM (
    (SELECT l.seq, l.tbl, l.row_id FROM private.sync_log l
     WHERE l.audience IS NULL AND NOT l.draft AND l.seq > p_after ORDER BY l.seq LIMIT p_limit)
    UNION ALL
    (SELECT l.seq, l.tbl, l.row_id FROM private.sync_log l
     WHERE l.audience = auth.uid() AND l.seq > p_after ORDER BY l.seq LIMIT p_limit)
    UNION ALL
    (SELECT l.seq, l.tbl, l.row_id FROM private.sync_log l
     WHERE l.draft AND l.seq > p_after AND private.is_admin()
       AND l.audience IS DISTINCT FROM auth.uid()
     ORDER BY l.seq LIMIT p_limit)
  ) s
  ORDER BY s.seq
  LIMIT p_limit;
END;
$$;

-- Replaces the version of 0030: below `horizon` the log has been compacted; `head` is its
-- last position.
CREATE OR REPLACE FUNCTION private.sync_position(OUT horizon bigint, OUT head bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  -- The horizon counts too: compaction may have emptied the log.
  SELECT h.horizon, greatest(h.horizon, coalesce((SELECT max(l.seq) FROM private.sync_log l), 0))
  INTO horizon, head
  FROM private.sync_horizon h;
END;
$$;
