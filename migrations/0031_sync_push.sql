-- Offline sync, the push side (server/src/db/sync.rs).
--
-- 1. A mutation that was refused is remembered with its answer, so a retried batch gets the
--    same answer instead of a second, possibly different, evaluation (an offline write must
--    mean one thing). `outcome` NULL: applied; otherwise {"code": ..., "reason": ...}.
ALTER TABLE applied_mutations ADD COLUMN outcome jsonb
  CHECK (outcome IS NULL OR (jsonb_typeof(outcome) = 'object' AND outcome ? 'code'));

-- 2. Last-writer-wins clocks. Reviews are last-writer-wins by the *client's* timestamp, and
--    bookmarks are an add/remove set whose removals are remembered (tombstones), so a stale add
--    from a device that was offline cannot bring back a bookmark removed later. Both need the
--    client time of the last accepted write per (user, kind, target), which the rows themselves
--    cannot hold (a deleted row holds nothing). Personal and server-kept: in `private`, reached
--    only through private.sync_clock_advance(), which always acts for auth.uid().
CREATE TABLE private.sync_clocks (
  user_id uuid NOT NULL REFERENCES public.profiles(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('course_review', 'lab_review', 'bookmark')),
  target text NOT NULL,
  written_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, kind, target)
);

-- Moves the caller's clock for (kind, target) to `p_at` when `p_at` is later than it, and says
-- whether it did: true means this write is the newest and must be applied; false means a later
-- write has already been applied (the mutation is then accepted and changes nothing). Ties go
-- to the write already applied.
CREATE FUNCTION private.sync_clock_advance(p_kind text, p_target text, p_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  me uuid := auth.uid();
  moved integer;
BEGIN
  IF me IS NULL THEN
    RAISE EXCEPTION 'sign in first' USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO private.sync_clocks AS c (user_id, kind, target, written_at)
  VALUES (me, p_kind, p_target, p_at)
  ON CONFLICT (user_id, kind, target) DO UPDATE SET written_at = EXCLUDED.written_at
  WHERE c.written_at < EXCLUDED.written_at;
  GET DIAGNOSTICS moved = ROW_COUNT;
  RETURN moved = 1;
END;
$$;
GRANT EXECUTE ON FUNCTION private.sync_clock_advance(text, text, timestamptz)
  TO authenticated;

-- 3. Whether the caller may record progress in a lesson: the rule of the lesson policy of 0006
--    (published lesson of a published module of a published course they are enrolled in, or
--    one they manage), asked of one lesson by its keys. Pushes ask it for every progress
--    mutation, and the set-based policy of 0015, quick for listing lessons, computes every
--    module the caller may study each time: 10 ms for a learner in a thousand courses.
CREATE FUNCTION private.may_study_lesson(p_lesson_id uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM public.course_lessons l
    WHERE l.id = p_lesson_id
      AND ((l.is_published AND private.module_is_open_to_me(l.module_id))
           OR private.manages_module(l.module_id)));
END;
$$;
GRANT EXECUTE ON FUNCTION private.may_study_lesson(uuid) TO authenticated;
