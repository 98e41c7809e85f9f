-- The change feed, after the security review (issue 14, findings 9 and 12):
--
-- 1. Counters do not wake the catalog. A helpful vote, an enrollment or a review changes a
--    counter on a shared row (`helpful_votes`, `student_count`, `rating`, …); each such change
--    used to NOTIFY every live device, so one learner toggling a vote made every device pull.
--    A change of counters only is still logged (the next pull carries it) but tells nobody.
-- 2. Pulls never wait for the sequencer. Numbering the log takes one lock for the whole
--    cluster; a pull now numbers only if the lock is free (private.sync_sequence_if_free) and
--    otherwise reads what is numbered already. Whoever tells devices to pull (the live
--    channel's listener) and whoever writes through the push route number first, so what a
--    device is told about, or pushed itself, is always there when it pulls.
-- 3. Drafts stay their authors' business. A change to a catalog row that nobody but its
--    managers could see, before or after (a draft course, a draft lesson in a published
--    course), was logged for everyone, and every device got the row's id as a tombstone. Such
--    entries now go to the row's instructor only (`draft`, audience = the instructor), and to
--    admins, who manage every course.

ALTER TABLE private.sync_log ADD COLUMN draft boolean NOT NULL DEFAULT false;
CREATE INDEX idx_sync_log_shared_seq ON private.sync_log (seq) WHERE audience IS NULL AND NOT draft;
CREATE INDEX idx_sync_log_draft_seq ON private.sync_log (seq) WHERE draft;

-- Whether a catalog row (as JSON) could be seen by anyone besides its managers, and who its
-- manager is. `visible` is NULL when it cannot be told (a parent already deleted).
CREATE FUNCTION private.sync_catalog_row(p_table text, p_row jsonb, OUT visible boolean,
                                         OUT owner uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  course_published boolean;
BEGIN
  IF p_row IS NULL THEN
    visible := false;
    RETURN;
  END IF;
  CASE p_table
    WHEN 'courses', 'labs' THEN
      visible := (p_row ->> 'is_published')::boolean;
      owner := (p_row ->> 'instructor_id')::uuid;
    WHEN 'course_modules', 'assessments' THEN
      SELECT c.is_published, c.instructor_id INTO course_published, owner
      FROM public.courses c WHERE c.id = (p_row ->> 'course_id')::uuid;
      visible := (p_row ->> 'is_published')::boolean AND course_published;
    WHEN 'course_tag_relationships', 'course_prerequisites' THEN
      SELECT c.is_published, c.instructor_id INTO visible, owner
      FROM public.courses c WHERE c.id = (p_row ->> 'course_id')::uuid;
    WHEN 'course_lessons' THEN
      SELECT m.is_published AND c.is_published, c.instructor_id INTO course_published, owner
      FROM public.course_modules m JOIN public.courses c ON c.id = m.course_id
      WHERE m.id = (p_row ->> 'module_id')::uuid;
      visible := (p_row ->> 'is_published')::boolean AND course_published;
    WHEN 'assessment_questions' THEN
      SELECT a.is_published AND c.is_published, c.instructor_id INTO visible, owner
      FROM public.assessments a JOIN public.courses c ON c.id = a.course_id
      WHERE a.id = (p_row ->> 'assessment_id')::uuid;
    WHEN 'lab_prerequisites' THEN
      SELECT l.is_published, l.instructor_id INTO visible, owner
      FROM public.labs l WHERE l.id = (p_row ->> 'lab_id')::uuid;
    ELSE
      visible := true;
  END CASE;
END;
$$;

-- Columns that only count or average other rows: a change of these alone tells nobody.
CREATE FUNCTION private.sync_counters_only(p_old jsonb, p_new jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = ''
AS $$
  SELECT p_old - ARRAY['helpful_votes', 'student_count', 'course_count', 'lab_count', 'rating',
                       'updated_at']
       = p_new - ARRAY['helpful_votes', 'student_count', 'course_count', 'lab_count', 'rating',
                       'updated_at']
$$;

-- Replaces the version of 0030 (same trigger arguments).
CREATE OR REPLACE FUNCTION private.sync_log_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  r record;
  op "char";
  who uuid;
  is_draft boolean := false;
  old_row jsonb;
  new_row jsonb;
  before_state record;
  after_state record;
BEGIN
  IF TG_OP = 'DELETE' THEN
    r := OLD; op := 'D'; old_row := to_jsonb(OLD);
  ELSIF TG_OP = 'INSERT' THEN
    r := NEW; op := 'I'; new_row := to_jsonb(NEW);
  ELSE
    r := NEW; op := 'U'; old_row := to_jsonb(OLD); new_row := to_jsonb(NEW);
  END IF;
  IF TG_NARGS > 0 THEN
    IF TG_ARGV[0] = 'attempt' THEN
      SELECT t.user_id INTO who FROM public.user_assessment_attempts t
      WHERE t.id = (to_jsonb(r) ->> 'attempt_id')::uuid;
    ELSE
      who := (to_jsonb(r) ->> TG_ARGV[0])::uuid;
    END IF;
  ELSE
    SELECT * INTO before_state FROM private.sync_catalog_row(TG_TABLE_NAME, old_row);
    SELECT * INTO after_state FROM private.sync_catalog_row(TG_TABLE_NAME, new_row);
    -- A draft whose manager cannot be told (its course deleted with it) is logged for
    -- everyone: a tombstone of something gone is better than a stale row on its author's device.
    IF before_state.visible IS FALSE AND after_state.visible IS FALSE
       AND coalesce(after_state.owner, before_state.owner) IS NOT NULL THEN
      is_draft := true;
      who := coalesce(after_state.owner, before_state.owner);
    END IF;
  END IF;
  INSERT INTO private.sync_log (tbl, row_id, op, audience, draft)
  VALUES (TG_TABLE_NAME, r.id, op, who, is_draft);
  IF op = 'U' AND private.sync_counters_only(old_row, new_row) THEN
    RETURN NULL;
  END IF;
  -- Delivered at commit, once per distinct payload per transaction.
  PERFORM pg_notify('skilltrack_sync', CASE WHEN who IS NULL THEN 'catalog' ELSE who::text END);
  RETURN NULL;
END;
$$;

-- Replaces the version of 0030 with a third argument. With `p_draft`, the course was a draft
-- before and after: everything under it goes to `p_audience` (its instructor) only. Otherwise
-- rows that are drafts in their own right (an unpublished module, lesson or assessment) go to
-- the course's instructor only, and a learner's touch (`p_audience`, enrolling) skips them.
DROP FUNCTION private.sync_touch_course(uuid, uuid);
CREATE FUNCTION private.sync_touch_course(p_course uuid, p_audience uuid, p_draft boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  owner uuid := (SELECT c.instructor_id FROM public.courses c WHERE c.id = p_course);
BEGIN
  INSERT INTO private.sync_log (tbl, row_id, op, audience, draft)
  SELECT x.tbl, x.id, 'T',
         CASE WHEN p_draft THEN p_audience WHEN x.own_draft THEN owner ELSE p_audience END,
         p_draft OR x.own_draft
  FROM (
    SELECT 'course_modules' AS tbl, m.id, NOT m.is_published AS own_draft
    FROM public.course_modules m WHERE m.course_id = p_course
    UNION ALL
    SELECT 'course_lessons', l.id, NOT (l.is_published AND m.is_published)
    FROM public.course_lessons l JOIN public.course_modules m ON m.id = l.module_id
    WHERE m.course_id = p_course
    UNION ALL
    SELECT 'assessments', a.id, NOT a.is_published
    FROM public.assessments a WHERE a.course_id = p_course
    UNION ALL
    SELECT 'assessment_questions', q.id, NOT a.is_published
    FROM public.assessment_questions q JOIN public.assessments a ON a.id = q.assessment_id
    WHERE a.course_id = p_course
  ) x
  WHERE p_draft OR NOT (x.own_draft AND p_audience IS NOT NULL);
  IF p_audience IS NULL OR p_draft THEN
    INSERT INTO private.sync_log (tbl, row_id, op, audience, draft)
    SELECT x.tbl, x.id, 'T', p_audience, p_draft FROM (
      SELECT 'course_tag_relationships' AS tbl, t.id FROM public.course_tag_relationships t
      WHERE t.course_id = p_course
      UNION ALL
      SELECT 'course_prerequisites', p.id FROM public.course_prerequisites p
      WHERE p.course_id = p_course
      UNION ALL
      SELECT 'course_reviews', r.id FROM public.course_reviews r
      WHERE r.course_id = p_course AND NOT p_draft
    ) x;
  END IF;
  PERFORM pg_notify('skilltrack_sync', coalesce(p_audience::text, 'catalog'));
END;
$$;

CREATE OR REPLACE FUNCTION private.sync_on_course_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF OLD.is_published OR NEW.is_published THEN
    PERFORM private.sync_touch_course(NEW.id, NULL, false);
  ELSE
    -- A draft changing hands: the old instructor's devices drop it, the new one's get it.
    PERFORM private.sync_touch_course(NEW.id, OLD.instructor_id, true)
    WHERE OLD.instructor_id IS NOT NULL;
    PERFORM private.sync_touch_course(NEW.id, NEW.instructor_id, true)
    WHERE NEW.instructor_id IS NOT NULL;
  END IF;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION private.sync_on_enrollment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM private.sync_touch_course(OLD.course_id, OLD.user_id, false);
  ELSE
    PERFORM private.sync_touch_course(NEW.course_id, NEW.user_id, false);
  END IF;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION private.sync_on_module_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  course_published boolean;
  owner uuid;
BEGIN
  SELECT c.is_published, c.instructor_id INTO course_published, owner
  FROM public.courses c WHERE c.id = NEW.course_id;
  -- A lesson could be seen by learners before or after only if it is published itself, in a
  -- published course, and the module was or is published.
  INSERT INTO private.sync_log (tbl, row_id, op, audience, draft)
  SELECT 'course_lessons', l.id, 'T', CASE WHEN x.shared THEN NULL ELSE owner END, NOT x.shared
  FROM public.course_lessons l
  CROSS JOIN LATERAL (SELECT coalesce(l.is_published AND course_published
                                      AND (OLD.is_published OR NEW.is_published), false)
                             AS shared) x
  WHERE l.module_id = NEW.id;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION private.sync_on_lab_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  shared boolean := OLD.is_published OR NEW.is_published;
BEGIN
  INSERT INTO private.sync_log (tbl, row_id, op, audience, draft)
  SELECT 'lab_prerequisites', p.id, 'T', CASE WHEN shared THEN NULL ELSE NEW.instructor_id END,
         NOT shared
  FROM public.lab_prerequisites p WHERE p.lab_id = NEW.id
  UNION ALL
  SELECT 'lab_reviews', r.id, 'T', NULL::uuid, false
  FROM public.lab_reviews r WHERE r.lab_id = NEW.id AND shared;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION private.sync_on_assessment_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  shared boolean;
  owner uuid;
BEGIN
  SELECT coalesce(c.is_published AND (OLD.is_published OR NEW.is_published), false),
         c.instructor_id
    INTO shared, owner
  FROM public.courses c WHERE c.id = NEW.course_id;
  INSERT INTO private.sync_log (tbl, row_id, op, audience, draft)
  SELECT 'assessment_questions', q.id, 'T', CASE WHEN shared THEN NULL ELSE owner END,
         NOT coalesce(shared, false)
  FROM public.assessment_questions q WHERE q.assessment_id = NEW.id;
  RETURN NULL;
END;
$$;

-- Replaces the version of 0030: shared entries that are not drafts, the caller's own, and,
-- for admins, every draft entry (they manage every course).
CREATE OR REPLACE FUNCTION private.sync_changes(p_after bigint, p_limit integer)
RETURNS TABLE (seq bigint, tbl text, row_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
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
  LIMIT p_limit
$$;

-- Numbers the committed entries if nobody else is numbering right now, and returns at once
-- either way (a pull must never queue behind another's numbering or a compaction).
CREATE FUNCTION private.sync_sequence_if_free() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM private.sync_log WHERE seq IS NULL)
     AND pg_try_advisory_xact_lock(7352) THEN
    UPDATE private.sync_log l SET seq = nextval('private.sync_seq')
    FROM (SELECT id FROM private.sync_log WHERE seq IS NULL ORDER BY id) s
    WHERE l.id = s.id;
  END IF;
END;
$$;
GRANT EXECUTE ON FUNCTION private.sync_sequence_if_free() TO authenticated, service_role;
