-- The learning API's rules, kept by the database so every write path (the API, the sync
-- engine, an admin's SQL) obeys them: catalog search, enrollment rules, monotonic progress,
-- derived course progress, completion, certificates, and the notifications and activities
-- these events write.
--
-- Business-rule violations raise SQLSTATE P0001 with MESSAGE = a stable code (what the API
-- answers as `code`), DETAIL = a sentence for people, and HINT = JSON with particulars where
-- there are some. See server/src/http/error.rs.

-- Full-text search over the catalog.
-- array_to_string is only STABLE in general; for text[] it is immutable, which a generated
-- column needs.
CREATE FUNCTION private.words(p text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = ''
AS $$ SELECT array_to_string(p, ' ') $$;
-- Generated columns are computed with the writer's rights.
GRANT EXECUTE ON FUNCTION private.words(text[]) TO anon, authenticated, service_role;

ALTER TABLE courses ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english'::regconfig, title), 'A') ||
  setweight(to_tsvector('english'::regconfig, private.words(tags)), 'B') ||
  setweight(to_tsvector('english'::regconfig, description), 'C')
) STORED;
CREATE INDEX idx_courses_search ON courses USING gin (search);

ALTER TABLE labs ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english'::regconfig, title), 'A') ||
  setweight(to_tsvector('english'::regconfig, private.words(technology)), 'B') ||
  setweight(to_tsvector('english'::regconfig, description), 'C')
) STORED;
CREATE INDEX idx_labs_search ON labs USING gin (search);

-- Catalog filters and sorts.
CREATE INDEX idx_courses_rating ON courses (rating DESC, id DESC) WHERE is_published;
CREATE INDEX idx_courses_popular ON courses (student_count DESC, id DESC) WHERE is_published;
CREATE INDEX idx_courses_newest ON courses (created_at DESC, id DESC) WHERE is_published;
CREATE INDEX idx_courses_tags ON courses USING gin (tags);
CREATE INDEX idx_labs_technology ON labs USING gin (technology);
CREATE INDEX idx_enrollments_user_status ON enrollments (user_id, status);

-- Idempotency for writes that are not naturally idempotent (time spent adds up): a client
-- sends a UUIDv7 mutation id with each, recorded in the same transaction as its effect.
CREATE TABLE applied_mutations (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_applied_mutations_user ON applied_mutations (user_id, applied_at);
ALTER TABLE applied_mutations ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON applied_mutations TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON applied_mutations TO service_role;
GRANT SELECT ON applied_mutations TO anon;
CREATE POLICY applied_mutations_select ON applied_mutations FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY applied_mutations_insert ON applied_mutations FOR INSERT TO authenticated
  WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY applied_mutations_update ON applied_mutations FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY applied_mutations_delete ON applied_mutations FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- Server-written notifications and activities, from triggers running as the owner.
CREATE FUNCTION private.notify(p_user uuid, p_title text, p_message text, p_entity_type text,
                               p_entity_id uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$
  INSERT INTO public.notifications (user_id, title, message, entity_type, entity_id)
  VALUES (p_user, p_title, p_message, p_entity_type, p_entity_id)
$$;

CREATE FUNCTION private.record_activity(p_user uuid, p_type public.activity_type,
                                        p_entity_type text, p_entity_id uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$
  INSERT INTO public.user_activities (user_id, activity_type, entity_type, entity_id)
  VALUES (p_user, p_type, p_entity_type, p_entity_id)
$$;

-- A learner may enroll, cancel, and come back after cancelling; completing is the database's
-- (below) and anything else an admin's. Replaces the version of 0006.
CREATE OR REPLACE FUNCTION private.guard_enrollment_write() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF current_user IN ('anon', 'authenticated') AND NOT private.is_admin() AND (
       (TG_OP = 'INSERT' AND NEW.status <> 'active')
    OR (TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status
        AND NOT (NEW.status = 'cancelled' AND OLD.status = 'active')
        AND NOT (NEW.status = 'active' AND OLD.status = 'cancelled')))
  THEN
    RAISE EXCEPTION 'a learner may enroll, cancel and re-enroll; the rest is decided by the server'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;

-- The rules of joining a course, checked whenever an enrollment starts to count (a new one, or
-- a cancelled one coming back) for a learner. Admins may enroll anyone anywhere.
CREATE FUNCTION private.check_enrollment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  c public.courses%ROWTYPE;
  missing jsonb;
BEGIN
  IF NEW.status = 'cancelled' OR (TG_OP = 'UPDATE' AND OLD.status <> 'cancelled') THEN
    RETURN NEW;
  END IF;
  -- The caller's role (the `role` setting), not ours: this function runs as the owner.
  IF coalesce(current_setting('role', true), 'none') NOT IN ('anon', 'authenticated')
     OR private.is_admin() THEN
    RETURN NEW;
  END IF;
  -- Locked: concurrent enrollments into the last seat queue here and see each other's count.
  SELECT * INTO c FROM public.courses WHERE id = NEW.course_id FOR UPDATE;
  IF NOT FOUND OR NOT c.is_published THEN
    RAISE EXCEPTION 'course_unpublished' USING DETAIL = 'This course is not open for enrollment.';
  END IF;
  IF c.end_date IS NOT NULL AND c.end_date < now() THEN
    RAISE EXCEPTION 'course_ended' USING DETAIL = 'This course has ended.';
  END IF;
  IF c.enrollment_deadline IS NOT NULL AND c.enrollment_deadline < now() THEN
    RAISE EXCEPTION 'enrollment_closed'
      USING DETAIL = format('Enrollment closed on %s.', to_char(c.enrollment_deadline, 'YYYY-MM-DD'));
  END IF;
  SELECT jsonb_agg(jsonb_build_object('id', p.id, 'slug', p.slug, 'title', p.title) ORDER BY p.title)
  INTO missing
  FROM public.course_prerequisites cp
  JOIN public.courses p ON p.id = cp.prerequisite_course_id
  WHERE cp.course_id = NEW.course_id
    AND NOT EXISTS (SELECT 1 FROM public.enrollments e
                    WHERE e.user_id = NEW.user_id AND e.course_id = p.id AND e.status = 'completed');
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'prerequisites_missing'
      USING DETAIL = 'Complete these courses first: '
                     || (SELECT string_agg(x ->> 'title', ', ') FROM jsonb_array_elements(missing) x)
                     || '.',
            HINT = missing::text;
  END IF;
  IF c.price > 0
     AND NOT EXISTS (SELECT 1 FROM public.payments p
                     WHERE p.user_id = NEW.user_id AND p.course_id = NEW.course_id
                       AND p.payment_status = 'completed')
     AND NOT EXISTS (SELECT 1 FROM public.subscriptions s
                     WHERE s.user_id = NEW.user_id AND s.status = 'active'
                       AND (s.current_period_end IS NULL OR s.current_period_end > now())) THEN
    RAISE EXCEPTION 'payment_required'
      USING DETAIL = format('This course costs %s USD: pay for it, or subscribe.', c.price),
            HINT = jsonb_build_object('price', c.price::text, 'currency', 'USD')::text;
  END IF;
  IF c.max_students IS NOT NULL AND c.student_count >= c.max_students THEN
    RAISE EXCEPTION 'course_full'
      USING DETAIL = format('All %s places are taken.', c.max_students);
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER check_enrollment BEFORE INSERT OR UPDATE OF status ON enrollments
  FOR EACH ROW EXECUTE FUNCTION private.check_enrollment();

-- Joining writes an activity and a notification.
CREATE FUNCTION private.on_enrolled() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF NEW.status = 'active' AND (TG_OP = 'INSERT' OR OLD.status = 'cancelled') THEN
    PERFORM private.record_activity(NEW.user_id, 'enrollment', 'course', NEW.course_id);
    PERFORM private.notify(NEW.user_id, 'Enrolled',
      format('You are enrolled in "%s". Enjoy the course!',
             (SELECT title FROM public.courses WHERE id = NEW.course_id)),
      'course', NEW.course_id);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER on_enrolled AFTER INSERT OR UPDATE OF status ON enrollments
  FOR EACH ROW EXECUTE FUNCTION private.on_enrolled();

-- Progress only moves forward: the percentage is the highest ever recorded, completion is set
-- once, time spent never shrinks (additions come as deltas, see db/progress.rs). Whoever writes.
CREATE FUNCTION private.merge_progress() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    NEW.progress_percentage := greatest(NEW.progress_percentage, OLD.progress_percentage);
    NEW.time_spent_minutes := greatest(NEW.time_spent_minutes, OLD.time_spent_minutes);
    NEW.completed_at := coalesce(OLD.completed_at, NEW.completed_at);
    NEW.created_at := OLD.created_at;
  END IF;
  IF NEW.completed_at IS NOT NULL THEN
    NEW.progress_percentage := 100;
  ELSIF NEW.progress_percentage = 100 THEN
    NEW.completed_at := now();
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER merge_progress BEFORE INSERT OR UPDATE ON user_progress
  FOR EACH ROW EXECUTE FUNCTION private.merge_progress();

-- A human-friendly, unique certificate number: SKT-2026-7F3K-9QXM (Crockford base32, no
-- I/L/O/U), random from gen_random_uuid().
CREATE FUNCTION private.new_certificate_number() RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = ''
AS $$
DECLARE
  alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  bytes bytea := uuid_send(gen_random_uuid());
  code text := '';
BEGIN
  FOR i IN 0..7 LOOP
    code := code || substr(alphabet, (get_byte(bytes, i) % 32) + 1, 1);
  END LOOP;
  RETURN format('SKT-%s-%s-%s', to_char(now(), 'YYYY'), substr(code, 1, 4), substr(code, 5, 4));
END;
$$;

-- Recomputes an enrollment's progress from its learner's completed published lessons, and
-- completes it — certificate, activity, notifications — when every lesson is done and every
-- published final exam of the course is passed. Called on progress and (later) on grading.
CREATE FUNCTION private.refresh_enrollment(p_user uuid, p_course uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  total integer;
  done integer;
  pct integer;
  e public.enrollments%ROWTYPE;
  exams_passed boolean;
  number text;
  course_title text;
BEGIN
  SELECT * INTO e FROM public.enrollments
  WHERE user_id = p_user AND course_id = p_course FOR UPDATE;
  IF NOT FOUND OR e.status = 'cancelled' THEN
    RETURN;
  END IF;
  SELECT count(*), count(*) FILTER (WHERE up.completed_at IS NOT NULL)
  INTO total, done
  FROM public.course_lessons l
  JOIN public.course_modules m ON m.id = l.module_id
  LEFT JOIN public.user_progress up ON up.lesson_id = l.id AND up.user_id = p_user
  WHERE m.course_id = p_course AND m.is_published AND l.is_published;
  pct := CASE WHEN total = 0 THEN 0 ELSE (100 * done) / total END;
  UPDATE public.enrollments SET progress_percentage = greatest(progress_percentage, pct)
  WHERE id = e.id AND progress_percentage < pct;
  IF e.status <> 'active' OR total = 0 OR done < total THEN
    RETURN;
  END IF;
  SELECT NOT EXISTS (
    SELECT 1 FROM public.assessments a
    WHERE a.course_id = p_course AND a.type = 'final_exam' AND a.is_published
      AND NOT EXISTS (SELECT 1 FROM public.user_assessment_attempts t
                      WHERE t.assessment_id = a.id AND t.user_id = p_user AND t.passed))
  INTO exams_passed;
  IF NOT exams_passed THEN
    RETURN;
  END IF;
  UPDATE public.enrollments SET status = 'completed', completed_at = now(), progress_percentage = 100
  WHERE id = e.id;
  SELECT title INTO course_title FROM public.courses WHERE id = p_course;
  PERFORM private.record_activity(p_user, 'course_complete', 'course', p_course);
  PERFORM private.notify(p_user, 'Course completed',
    format('You completed "%s". Well done!', course_title), 'course', p_course);
  IF NOT EXISTS (SELECT 1 FROM public.certificates
                 WHERE user_id = p_user AND course_id = p_course AND is_valid) THEN
    LOOP
      number := private.new_certificate_number();
      EXIT WHEN NOT EXISTS (SELECT 1 FROM public.certificates WHERE certificate_number = number);
    END LOOP;
    INSERT INTO public.certificates (user_id, course_id, certificate_number, certificate_url)
    VALUES (p_user, p_course, number, '/api/v1/certificates/' || number);
    PERFORM private.notify(p_user, 'Certificate issued',
      format('Your certificate for "%s" is %s.', course_title, number), 'certificate',
      (SELECT id FROM public.certificates WHERE certificate_number = number));
  END IF;
END;
$$;

CREATE FUNCTION private.on_progress() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM private.record_activity(NEW.user_id, 'course_start', 'course', NEW.course_id)
    WHERE NOT EXISTS (SELECT 1 FROM public.user_progress
                      WHERE user_id = NEW.user_id AND course_id = NEW.course_id AND id <> NEW.id);
  END IF;
  IF TG_OP = 'INSERT' OR NEW.completed_at IS DISTINCT FROM OLD.completed_at THEN
    PERFORM private.refresh_enrollment(NEW.user_id, NEW.course_id);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER on_progress AFTER INSERT OR UPDATE ON user_progress
  FOR EACH ROW EXECUTE FUNCTION private.on_progress();

-- Passing a final exam may complete the course (when every lesson is already done).
CREATE FUNCTION private.on_attempt_passed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  course uuid;
BEGIN
  IF NEW.passed AND (TG_OP = 'INSERT' OR NOT OLD.passed) THEN
    SELECT course_id INTO course FROM public.assessments WHERE id = NEW.assessment_id;
    PERFORM private.refresh_enrollment(NEW.user_id, course);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER on_attempt_passed AFTER INSERT OR UPDATE OF passed ON user_assessment_attempts
  FOR EACH ROW EXECUTE FUNCTION private.on_attempt_passed();

-- A notification's recipient may mark it read, nothing else (0006 limits them to the
-- read_at and notification_status columns; this limits the values).
CREATE FUNCTION private.guard_notification_update() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF current_user IN ('anon', 'authenticated') AND NOT private.is_admin()
     AND NEW.notification_status IS DISTINCT FROM OLD.notification_status
     AND NEW.notification_status <> 'read' THEN
    RAISE EXCEPTION 'a notification can only be marked read' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER guard_notification_update BEFORE UPDATE ON notifications
  FOR EACH ROW EXECUTE FUNCTION private.guard_notification_update();
