-- Offline sync, the change feed (server/src/db/sync.rs, DESIGN.md "Offline sync").
--
-- Triggers on every synced table append (table, row id, audience) to a change log. A pull reads
-- the log after its cursor and then reads each changed row *under the caller's RLS role*: a row
-- the caller can see is sent as it is now, a row it cannot (deleted, unpublished, unenrolled) as
-- a tombstone. The log itself never carries row contents, so it needs no policies of its own.
--
-- Where the log lives: in the `private` schema, with no table privileges for the API roles.
-- They reach it only through the SECURITY DEFINER functions below (empty search_path), which
-- return a caller only the entries meant for them: `audience` is NULL for shared rows (the
-- catalog, public reviews) and the owning user for personal rows (enrollments, progress,
-- bookmarks, notifications, certificates, attempts, answers, the profile). A policy-based table
-- in `public` would have had to express the same audience rule as RLS and be granted to every
-- writer; a definer function is one narrow door instead.
--
-- Commit order, not write order: a bigserial taken when a row is written can commit after a
-- larger one, and a reader that had moved its cursor past the larger one would skip it for
-- ever. So entries are written without a position (`seq` NULL) and a *sequencer*
-- (private.sync_sequence(), one at a time under an advisory lock) numbers the committed ones;
-- whatever commits later gets a larger number than anything already numbered. Every pull runs
-- the sequencer first (in its own short transaction), so a reader only ever sees a gap-free
-- prefix of positions.
--
-- Visibility that follows another row: unpublishing a course hides its modules, lessons,
-- assessments, questions, tags, prerequisites and other people's reviews without changing
-- them; cancelling an enrollment hides the course's lessons and assessments from that learner.
-- The triggers below "touch" those dependent rows (op 'T') for the right audience, so the next
-- pull re-reads them and sends tombstones (or, on publishing and enrolling, the rows).

CREATE TABLE private.sync_log (
  id bigserial PRIMARY KEY,
  -- Position in commit order, set by private.sync_sequence(); NULL until then.
  seq bigint UNIQUE,
  tbl text NOT NULL,
  row_id uuid NOT NULL,
  -- I(nsert), U(pdate), D(elete), T(ouched: its visibility may have changed). Informational: a
  -- pull always reads the row's current state.
  op "char" NOT NULL CHECK (op IN ('I', 'U', 'D', 'T')),
  -- NULL: whoever may read the row; otherwise only this user is told.
  audience uuid,
  logged_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_sync_log_unsequenced ON private.sync_log (id) WHERE seq IS NULL;
CREATE INDEX idx_sync_log_audience_seq ON private.sync_log (audience, seq);
CREATE INDEX idx_sync_log_logged_at ON private.sync_log (logged_at);

CREATE SEQUENCE private.sync_seq;

-- Entries up to `horizon` have been compacted away: a cursor below it must start again.
CREATE TABLE private.sync_horizon (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  horizon bigint NOT NULL DEFAULT 0
);
INSERT INTO private.sync_horizon DEFAULT VALUES;

-- The row trigger of every synced table. TG_ARGV[0], when given, names the column holding the
-- row's owner (the audience); `attempt` means "the owner of the row's attempt".
CREATE FUNCTION private.sync_log_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  r record;
  op "char";
  who uuid;
BEGIN
  IF TG_OP = 'DELETE' THEN
    r := OLD; op := 'D';
  ELSIF TG_OP = 'INSERT' THEN
    r := NEW; op := 'I';
  ELSE
    r := NEW; op := 'U';
  END IF;
  IF TG_NARGS > 0 THEN
    IF TG_ARGV[0] = 'attempt' THEN
      SELECT t.user_id INTO who FROM public.user_assessment_attempts t
      WHERE t.id = (to_jsonb(r) ->> 'attempt_id')::uuid;
    ELSE
      who := (to_jsonb(r) ->> TG_ARGV[0])::uuid;
    END IF;
  END IF;
  INSERT INTO private.sync_log (tbl, row_id, op, audience) VALUES (TG_TABLE_NAME, r.id, op, who);
  -- Delivered at commit, once per distinct payload per transaction.
  PERFORM pg_notify('skilltrack_sync', coalesce(who::text, 'catalog'));
  RETURN NULL;
END;
$$;

-- Everything under a course whose visibility follows the course's (and, for `p_audience`, the
-- learner's enrollment).
CREATE FUNCTION private.sync_touch_course(p_course uuid, p_audience uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  INSERT INTO private.sync_log (tbl, row_id, op, audience)
  SELECT 'course_modules', m.id, 'T', p_audience FROM public.course_modules m
  WHERE m.course_id = p_course
  UNION ALL
  SELECT 'course_lessons', l.id, 'T', p_audience
  FROM public.course_lessons l JOIN public.course_modules m ON m.id = l.module_id
  WHERE m.course_id = p_course
  UNION ALL
  SELECT 'assessments', a.id, 'T', p_audience FROM public.assessments a
  WHERE a.course_id = p_course
  UNION ALL
  SELECT 'assessment_questions', q.id, 'T', p_audience
  FROM public.assessment_questions q JOIN public.assessments a ON a.id = q.assessment_id
  WHERE a.course_id = p_course;
  IF p_audience IS NULL THEN
    INSERT INTO private.sync_log (tbl, row_id, op, audience)
    SELECT 'course_tag_relationships', t.id, 'T', NULL::uuid FROM public.course_tag_relationships t
    WHERE t.course_id = p_course
    UNION ALL
    SELECT 'course_prerequisites', p.id, 'T', NULL::uuid FROM public.course_prerequisites p
    WHERE p.course_id = p_course
    UNION ALL
    SELECT 'course_reviews', r.id, 'T', NULL::uuid FROM public.course_reviews r
    WHERE r.course_id = p_course;
  END IF;
  PERFORM pg_notify('skilltrack_sync', coalesce(p_audience::text, 'catalog'));
END;
$$;

CREATE FUNCTION private.sync_on_course_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  PERFORM private.sync_touch_course(NEW.id, NULL);
  RETURN NULL;
END;
$$;

CREATE FUNCTION private.sync_on_module_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  INSERT INTO private.sync_log (tbl, row_id, op, audience)
  SELECT 'course_lessons', l.id, 'T', NULL::uuid FROM public.course_lessons l WHERE l.module_id = NEW.id;
  RETURN NULL;
END;
$$;

CREATE FUNCTION private.sync_on_lab_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  INSERT INTO private.sync_log (tbl, row_id, op, audience)
  SELECT 'lab_prerequisites', p.id, 'T', NULL::uuid FROM public.lab_prerequisites p WHERE p.lab_id = NEW.id
  UNION ALL
  SELECT 'lab_reviews', r.id, 'T', NULL::uuid FROM public.lab_reviews r WHERE r.lab_id = NEW.id;
  RETURN NULL;
END;
$$;

CREATE FUNCTION private.sync_on_assessment_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  INSERT INTO private.sync_log (tbl, row_id, op, audience)
  SELECT 'assessment_questions', q.id, 'T', NULL::uuid FROM public.assessment_questions q
  WHERE q.assessment_id = NEW.id;
  RETURN NULL;
END;
$$;

-- Joining, leaving or coming back changes which lessons and assessments the learner may read.
CREATE FUNCTION private.sync_on_enrollment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM private.sync_touch_course(OLD.course_id, OLD.user_id);
  ELSE
    PERFORM private.sync_touch_course(NEW.course_id, NEW.user_id);
  END IF;
  RETURN NULL;
END;
$$;

-- A timed assessment's questions reach a learner once they start an attempt
-- (public.assessment_questions_for_learner).
CREATE FUNCTION private.sync_on_attempt_started() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  INSERT INTO private.sync_log (tbl, row_id, op, audience)
  SELECT 'assessment_questions', q.id, 'T', NEW.user_id FROM public.assessment_questions q
  WHERE q.assessment_id = NEW.assessment_id;
  RETURN NULL;
END;
$$;

-- Registers a table with the change feed: `owner_column` names the column that holds the
-- owning user for personal rows (NULL for shared ones). Later migrations that add a synced table
-- call this too (and add the table to server/src/db/sync.rs).
CREATE FUNCTION private.sync_track(p_table text, p_owner_column text) RETURNS void
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  EXECUTE format(
    'CREATE TRIGGER zz_sync_log AFTER INSERT OR UPDATE OR DELETE ON public.%I
     FOR EACH ROW EXECUTE FUNCTION private.sync_log_row(%s)',
    p_table, coalesce(quote_literal(p_owner_column), ''));
END;
$$;

SELECT private.sync_track(t, NULL) FROM unnest(ARRAY[
  'services', 'courses', 'course_modules', 'course_lessons', 'lab_categories', 'labs',
  'course_tags', 'course_tag_relationships', 'course_prerequisites', 'lab_prerequisites',
  'assessments', 'assessment_questions', 'course_reviews', 'lab_reviews']) AS t;
SELECT private.sync_track(t, 'user_id') FROM unnest(ARRAY[
  'enrollments', 'user_progress', 'user_bookmarks', 'notifications', 'certificates',
  'user_assessment_attempts']) AS t;
SELECT private.sync_track('profiles', 'id');
SELECT private.sync_track('user_assessment_answers', 'attempt');

CREATE TRIGGER zz_sync_course_visibility AFTER UPDATE OF is_published, instructor_id ON courses
  FOR EACH ROW
  WHEN (OLD.is_published IS DISTINCT FROM NEW.is_published
        OR OLD.instructor_id IS DISTINCT FROM NEW.instructor_id)
  EXECUTE FUNCTION private.sync_on_course_visibility();
CREATE TRIGGER zz_sync_module_visibility AFTER UPDATE OF is_published, course_id ON course_modules
  FOR EACH ROW
  WHEN (OLD.is_published IS DISTINCT FROM NEW.is_published OR OLD.course_id IS DISTINCT FROM NEW.course_id)
  EXECUTE FUNCTION private.sync_on_module_visibility();
CREATE TRIGGER zz_sync_lab_visibility AFTER UPDATE OF is_published, instructor_id ON labs
  FOR EACH ROW
  WHEN (OLD.is_published IS DISTINCT FROM NEW.is_published
        OR OLD.instructor_id IS DISTINCT FROM NEW.instructor_id)
  EXECUTE FUNCTION private.sync_on_lab_visibility();
CREATE TRIGGER zz_sync_assessment_visibility
  AFTER UPDATE OF is_published, time_limit_minutes, course_id ON assessments
  FOR EACH ROW
  WHEN (OLD.is_published IS DISTINCT FROM NEW.is_published
        OR OLD.time_limit_minutes IS DISTINCT FROM NEW.time_limit_minutes
        OR OLD.course_id IS DISTINCT FROM NEW.course_id)
  EXECUTE FUNCTION private.sync_on_assessment_visibility();
CREATE TRIGGER zz_sync_enrollment_insert_delete AFTER INSERT OR DELETE ON enrollments
  FOR EACH ROW EXECUTE FUNCTION private.sync_on_enrollment();
CREATE TRIGGER zz_sync_enrollment_status AFTER UPDATE OF status ON enrollments
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION private.sync_on_enrollment();
CREATE TRIGGER zz_sync_attempt_started AFTER INSERT ON user_assessment_attempts
  FOR EACH ROW EXECUTE FUNCTION private.sync_on_attempt_started();

-- The sequencer: numbers committed entries in the order it finds them. One at a time (the
-- advisory lock is held to the end of the caller's transaction, so call it in a transaction of
-- its own). Returns the highest position handed out so far.
CREATE FUNCTION private.sync_sequence() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7352);
  -- A new statement, so (under READ COMMITTED) a new snapshot taken after the lock: it sees
  -- every entry the previous sequencer numbered.
  UPDATE private.sync_log l SET seq = nextval('private.sync_seq')
  FROM (SELECT id FROM private.sync_log WHERE seq IS NULL ORDER BY id) s
  WHERE l.id = s.id;
  RETURN greatest(coalesce((SELECT max(seq) FROM private.sync_log), 0),
                  (SELECT horizon FROM private.sync_horizon));
END;
$$;

-- The caller's entries after `p_after`, in order, at most `p_limit`: shared ones and their own.
CREATE FUNCTION private.sync_changes(p_after bigint, p_limit integer)
RETURNS TABLE (seq bigint, tbl text, row_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT s.seq, s.tbl, s.row_id FROM (
    (SELECT l.seq, l.tbl, l.row_id FROM private.sync_log l
     WHERE l.audience IS NULL AND l.seq > p_after ORDER BY l.seq LIMIT p_limit)
    UNION ALL
    (SELECT l.seq, l.tbl, l.row_id FROM private.sync_log l
     WHERE l.audience = auth.uid() AND l.seq > p_after ORDER BY l.seq LIMIT p_limit)
  ) s
  ORDER BY s.seq
  LIMIT p_limit
$$;

-- Where the log stands: below `horizon` it has been compacted; `head` is the last position.
CREATE FUNCTION private.sync_position(OUT horizon bigint, OUT head bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  -- The horizon counts too: compaction may have emptied the log.
  SELECT h.horizon, greatest(h.horizon, coalesce((SELECT max(l.seq) FROM private.sync_log l), 0))
  FROM private.sync_horizon h
$$;

-- Compaction, by the server for itself (service_role). First drops entries superseded by a
-- later one for the same row and audience (a pull reads the row's current state, so no cursor
-- loses anything); then drops every entry logged before `p_before` and raises the horizon past
-- them: cursors older than that must start again from a snapshot. Returns the new horizon.
CREATE FUNCTION private.sync_compact(p_before timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  cut bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7352);
  DELETE FROM private.sync_log old USING private.sync_log newer
  WHERE newer.tbl = old.tbl AND newer.row_id = old.row_id
    AND newer.audience IS NOT DISTINCT FROM old.audience
    AND old.seq IS NOT NULL AND newer.seq > old.seq;
  SELECT max(seq) INTO cut FROM private.sync_log WHERE seq IS NOT NULL AND logged_at < p_before;
  IF cut IS NOT NULL THEN
    DELETE FROM private.sync_log WHERE seq <= cut;
    UPDATE private.sync_horizon SET horizon = greatest(horizon, cut);
  END IF;
  RETURN (SELECT horizon FROM private.sync_horizon);
END;
$$;

GRANT EXECUTE ON FUNCTION private.sync_sequence(), private.sync_changes(bigint, integer),
  private.sync_position() TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_compact(timestamptz) TO service_role;

-- Rows written before the feed existed (the demo catalog) are reached by the snapshot every
-- new device starts with; nothing to backfill.
