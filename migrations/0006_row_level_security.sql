-- Row Level Security: who may read and write what, enforced by the database itself.
--
-- Personas: anonymous visitors (`anon`); signed-in users (`authenticated`), who are learners,
-- instructors or admins by profiles.role. The rules, from the spec and DESIGN.md:
--   * own rows only (progress, enrollments, attempts, payments, files, notifications, ...);
--   * published courses and labs, and the published modules of published courses, are readable
--     by anyone, anonymous included;
--   * lessons are readable by enrolled learners, the course's instructor and admins;
--   * instructors manage their own courses and everything under them, and see their learners'
--     enrollments, progress and attempts for those courses;
--   * admins may do everything; analytics are admin-only; public settings are readable by anyone;
--   * what "the server decides" (lab sessions, environments, payments, subscriptions,
--     certificates, activities, notifications) is written by the server through service_role
--     after its own checks; through the API roles only admins write it.
-- Answer keys (assessment_questions.correct_answer, .explanation) are readable only by the
-- course's instructor and admins; learners get questions from
-- public.assessment_questions_for_learner(), which never returns them.
--
-- Policies call the helpers below, which are SECURITY DEFINER (they read tables the caller may
-- not, without recursing into those tables' policies), STABLE, with an empty search_path, and
-- live in the `private` schema. Caller-independent calls are wrapped as `(SELECT ...)` so they
-- are evaluated once per statement, not once per row.

CREATE SCHEMA private;
GRANT USAGE ON SCHEMA private TO anon, authenticated, service_role;

CREATE FUNCTION private.is_admin() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (SELECT 1 FROM public.profiles WHERE id = auth.uid() AND role = 'admin')
$$;

-- May create courses, labs and tags: instructors and admins.
CREATE FUNCTION private.is_author() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.profiles WHERE id = auth.uid() AND role IN ('instructor', 'admin'))
$$;

-- The course's instructor, or an admin.
CREATE FUNCTION private.manages_course(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT private.is_admin() OR EXISTS (
    SELECT 1 FROM public.courses WHERE id = p_course_id AND instructor_id = auth.uid())
$$;

CREATE FUNCTION private.manages_module(p_module_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT private.manages_course((SELECT course_id FROM public.course_modules WHERE id = p_module_id))
$$;

CREATE FUNCTION private.manages_assessment(p_assessment_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT private.manages_course((SELECT course_id FROM public.assessments WHERE id = p_assessment_id))
$$;

CREATE FUNCTION private.manages_attempt(p_attempt_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT private.manages_assessment(
    (SELECT assessment_id FROM public.user_assessment_attempts WHERE id = p_attempt_id))
$$;

-- The lab's instructor, or an admin.
CREATE FUNCTION private.manages_lab(p_lab_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT private.is_admin() OR EXISTS (
    SELECT 1 FROM public.labs WHERE id = p_lab_id AND instructor_id = auth.uid())
$$;

CREATE FUNCTION private.course_is_published(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (SELECT 1 FROM public.courses WHERE id = p_course_id AND is_published)
$$;

CREATE FUNCTION private.lab_is_published(p_lab_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (SELECT 1 FROM public.labs WHERE id = p_lab_id AND is_published)
$$;

-- The caller holds an enrollment (active or completed) in the course.
CREATE FUNCTION private.is_enrolled(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.enrollments
    WHERE user_id = auth.uid() AND course_id = p_course_id AND status IN ('active', 'completed'))
$$;

-- The caller may study this module's published lessons: module and course published, enrolled.
CREATE FUNCTION private.module_is_open_to_me(p_module_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.course_modules m JOIN public.courses c ON c.id = m.course_id
    WHERE m.id = p_module_id AND m.is_published AND c.is_published)
    AND private.is_enrolled((SELECT course_id FROM public.course_modules WHERE id = p_module_id))
$$;

-- The caller may take this assessment: it and its course are published, and they are enrolled.
CREATE FUNCTION private.assessment_is_open_to_me(p_assessment_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.assessments a JOIN public.courses c ON c.id = a.course_id
    WHERE a.id = p_assessment_id AND a.is_published AND c.is_published)
    AND private.is_enrolled((SELECT course_id FROM public.assessments WHERE id = p_assessment_id))
$$;

CREATE FUNCTION private.owns_attempt(p_attempt_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.user_assessment_attempts WHERE id = p_attempt_id AND user_id = auth.uid())
$$;

-- The caller's own attempt, not yet submitted: answers can still be saved into it.
CREATE FUNCTION private.owns_open_attempt(p_attempt_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.user_assessment_attempts
    WHERE id = p_attempt_id AND user_id = auth.uid() AND completed_at IS NULL)
$$;

-- The caller has started the lab at least once (a condition for reviewing it).
CREATE FUNCTION private.has_tried_lab(p_lab_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (SELECT 1 FROM public.lab_sessions WHERE lab_id = p_lab_id AND user_id = auth.uid())
$$;

-- The caller teaches a course this user is enrolled in.
CREATE FUNCTION private.teaches(p_user_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.enrollments e JOIN public.courses c ON c.id = e.course_id
    WHERE e.user_id = p_user_id AND c.instructor_id = auth.uid())
$$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA private TO anon, authenticated, service_role;

-- Guards for what RLS cannot say (who may change which column to what). They run as the caller
-- and apply only to the API roles; the server's privileged paths are trusted.

-- Role, verification and subscription tier are changed by admins only.
CREATE FUNCTION private.guard_profile_update() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF current_user IN ('anon', 'authenticated') AND NOT private.is_admin() AND (
       NEW.role IS DISTINCT FROM OLD.role
    OR NEW.is_verified IS DISTINCT FROM OLD.is_verified
    OR NEW.subscription_tier IS DISTINCT FROM OLD.subscription_tier) THEN
    RAISE EXCEPTION 'only an admin may change role, verification or subscription tier'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER guard_profile_update BEFORE UPDATE ON profiles
  FOR EACH ROW EXECUTE FUNCTION private.guard_profile_update();

-- A learner enrolls (active) and may cancel; anything else (completing, reactivating) is decided
-- by the server or an admin. Which columns may be written at all is in the grants below.
CREATE FUNCTION private.guard_enrollment_write() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF current_user IN ('anon', 'authenticated') AND NOT private.is_admin() AND (
       (TG_OP = 'INSERT' AND NEW.status <> 'active')
    OR (TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status AND NEW.status <> 'cancelled'))
  THEN
    RAISE EXCEPTION 'a learner may enroll and cancel; the rest is decided by the server'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER guard_enrollment_write BEFORE INSERT OR UPDATE ON enrollments
  FOR EACH ROW EXECUTE FUNCTION private.guard_enrollment_write();

-- Learners never grade themselves: score and passed (attempts), is_correct and points_earned
-- (answers) are set by the server's grader or by the course's instructor. An attempt's learner
-- may only start it (the database stamps the start, within max_attempts) and submit it once.
CREATE FUNCTION private.guard_attempt_write() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
DECLARE
  max_attempts integer;
BEGIN
  IF current_user NOT IN ('anon', 'authenticated')
     OR private.manages_assessment(NEW.assessment_id) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.score IS NOT NULL OR NEW.passed OR NEW.completed_at IS NOT NULL
       OR NEW.time_taken_minutes IS NOT NULL THEN
      RAISE EXCEPTION 'attempts are graded by the server or the course''s instructor'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Attempt numbers are unique per learner and assessment, so bounding the number bounds
    -- the count, even when attempts start concurrently.
    SELECT a.max_attempts INTO max_attempts
    FROM public.assessments a WHERE a.id = NEW.assessment_id;
    IF max_attempts IS NOT NULL AND NEW.attempt_number > max_attempts THEN
      RAISE EXCEPTION 'no attempts left: this assessment allows %', max_attempts
        USING ERRCODE = 'check_violation';
    END IF;
    NEW.started_at := now();
    RETURN NEW;
  END IF;
  -- UPDATE: submitting (completed_at from NULL to a time) is the only change a learner makes.
  IF OLD.completed_at IS NOT NULL OR NEW.completed_at IS NULL
     OR (NEW.id, NEW.user_id, NEW.assessment_id, NEW.attempt_number, NEW.started_at, NEW.score,
         NEW.passed, NEW.time_taken_minutes)
        IS DISTINCT FROM
        (OLD.id, OLD.user_id, OLD.assessment_id, OLD.attempt_number, OLD.started_at, OLD.score,
         OLD.passed, OLD.time_taken_minutes) THEN
    RAISE EXCEPTION 'a learner may only submit an open attempt'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER guard_attempt_write BEFORE INSERT OR UPDATE ON user_assessment_attempts
  FOR EACH ROW EXECUTE FUNCTION private.guard_attempt_write();

CREATE FUNCTION private.guard_answer_grading() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF current_user IN ('anon', 'authenticated')
     AND NOT private.manages_attempt(NEW.attempt_id)
     AND (CASE TG_OP
            WHEN 'INSERT' THEN NEW.is_correct IS NOT NULL OR NEW.points_earned <> 0
            ELSE NEW.is_correct IS DISTINCT FROM OLD.is_correct
              OR NEW.points_earned IS DISTINCT FROM OLD.points_earned
          END) THEN
    RAISE EXCEPTION 'answers are graded by the server or the course''s instructor'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER guard_answer_grading BEFORE INSERT OR UPDATE ON user_assessment_answers
  FOR EACH ROW EXECUTE FUNCTION private.guard_answer_grading();

-- A progress row's course and module follow from its lesson; never trust the client's.
CREATE FUNCTION private.fill_progress_parents() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  SELECT m.course_id, l.module_id INTO NEW.course_id, NEW.module_id
  FROM public.course_lessons l JOIN public.course_modules m ON m.id = l.module_id
  WHERE l.id = NEW.lesson_id;
  RETURN NEW;
END;
$$;
CREATE TRIGGER fill_progress_parents BEFORE INSERT OR UPDATE OF lesson_id, course_id, module_id
  ON user_progress FOR EACH ROW EXECUTE FUNCTION private.fill_progress_parents();

-- A profile's e-mail is its account's, whoever inserts it.
CREATE FUNCTION private.fill_profile_email() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  SELECT u.email INTO NEW.email FROM auth.users u WHERE u.id = NEW.id;
  RETURN NEW;
END;
$$;
CREATE TRIGGER fill_profile_email BEFORE INSERT ON profiles
  FOR EACH ROW EXECUTE FUNCTION private.fill_profile_email();

-- Table privileges. RLS decides which rows; these decide which tables and columns. Derived
-- columns (counters, ratings, server-computed progress) are written only by triggers and the
-- server. A migration that adds a column to one of the tables in the list below must grant it.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO service_role;

DO $$
DECLARE
  r record;
  writable text;
BEGIN
  FOR r IN
    SELECT * FROM (VALUES
      ('profiles',        ARRAY['id', 'email', 'login_count', 'last_login', 'created_at', 'updated_at']),
      ('services',        ARRAY['course_count', 'student_count']),
      ('courses',         ARRAY['rating', 'student_count']),
      ('lab_categories',  ARRAY['lab_count']),
      ('labs',            ARRAY['rating', 'student_count'])
    ) AS v(tbl, derived)
  LOOP
    SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO writable
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = r.tbl AND column_name <> ALL (r.derived);
    EXECUTE format('REVOKE INSERT, UPDATE ON public.%I FROM authenticated', r.tbl);
    EXECUTE format('GRANT INSERT (%s), UPDATE (%s) ON public.%I TO authenticated',
                   writable, writable, r.tbl);
  END LOOP;
END
$$;

-- sqlx's bookkeeping table lives in public too (sqlx 0.8 cannot move it): nobody but the owner.
DO $$
BEGIN
  IF to_regclass('public._sqlx_migrations') IS NOT NULL THEN
    REVOKE ALL ON public._sqlx_migrations FROM anon, authenticated, service_role;
  END IF;
END
$$;

-- A profile is made by the sign-up trigger; an admin may restore a missing one for an existing
-- account (its e-mail is copied from the account, see below).
GRANT INSERT (id) ON profiles TO authenticated;

-- Enrollments: enroll (which user, which course) and change the status; progress and completion
-- are derived, and an enrollment never moves to another user or course.
REVOKE INSERT, UPDATE ON enrollments FROM authenticated;
GRANT INSERT (id, user_id, course_id) ON enrollments TO authenticated;
GRANT UPDATE (status) ON enrollments TO authenticated;

-- Reviews: write one, then edit its words and stars; it never moves to another course or lab
-- (which would dodge the enrolled / tried-it rule), and verification and votes are derived.
REVOKE INSERT, UPDATE ON course_reviews, lab_reviews FROM authenticated;
GRANT INSERT (id, user_id, course_id, rating, review_text, created_at) ON course_reviews TO authenticated;
GRANT UPDATE (rating, review_text) ON course_reviews TO authenticated;
GRANT INSERT (id, user_id, lab_id, rating, review_text, difficulty_rating, time_accuracy_rating,
              created_at) ON lab_reviews TO authenticated;
GRANT UPDATE (rating, review_text, difficulty_rating, time_accuracy_rating) ON lab_reviews
  TO authenticated;

-- A notification's recipient may only mark it read.
REVOKE UPDATE ON notifications FROM authenticated;
GRANT UPDATE (read_at, notification_status) ON notifications TO authenticated;

-- RLS on every table of the public schema, and on auth.users (0001).
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t.tablename);
  END LOOP;
END
$$;

-- Policies. `(SELECT auth.uid())` and `(SELECT private.is_admin())` are evaluated once per query.

-- profiles
CREATE POLICY profiles_select ON profiles FOR SELECT TO authenticated
  USING (id = (SELECT auth.uid()) OR (SELECT private.is_admin()) OR private.teaches(id));
CREATE POLICY profiles_insert ON profiles FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY profiles_update ON profiles FOR UPDATE TO authenticated
  USING (id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
  WITH CHECK (id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY profiles_delete ON profiles FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- services
CREATE POLICY services_select ON services FOR SELECT TO anon, authenticated
  USING (is_active OR (SELECT private.is_admin()));
CREATE POLICY services_insert ON services FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY services_update ON services FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY services_delete ON services FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- courses
CREATE POLICY courses_select ON courses FOR SELECT TO anon, authenticated
  USING (is_published OR instructor_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY courses_insert ON courses FOR INSERT TO authenticated
  WITH CHECK ((instructor_id = (SELECT auth.uid()) AND (SELECT private.is_author()))
              OR (SELECT private.is_admin()));
CREATE POLICY courses_update ON courses FOR UPDATE TO authenticated
  USING (instructor_id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
  WITH CHECK (instructor_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY courses_delete ON courses FOR DELETE TO authenticated
  USING (instructor_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));

-- course_modules
CREATE POLICY course_modules_select ON course_modules FOR SELECT TO anon, authenticated
  USING ((is_published AND private.course_is_published(course_id))
         OR private.manages_course(course_id));
CREATE POLICY course_modules_insert ON course_modules FOR INSERT TO authenticated
  WITH CHECK (private.manages_course(course_id));
CREATE POLICY course_modules_update ON course_modules FOR UPDATE TO authenticated
  USING (private.manages_course(course_id)) WITH CHECK (private.manages_course(course_id));
CREATE POLICY course_modules_delete ON course_modules FOR DELETE TO authenticated
  USING (private.manages_course(course_id));

-- course_lessons
CREATE POLICY course_lessons_select ON course_lessons FOR SELECT TO authenticated
  USING ((is_published AND private.module_is_open_to_me(module_id))
         OR private.manages_module(module_id));
CREATE POLICY course_lessons_insert ON course_lessons FOR INSERT TO authenticated
  WITH CHECK (private.manages_module(module_id));
CREATE POLICY course_lessons_update ON course_lessons FOR UPDATE TO authenticated
  USING (private.manages_module(module_id)) WITH CHECK (private.manages_module(module_id));
CREATE POLICY course_lessons_delete ON course_lessons FOR DELETE TO authenticated
  USING (private.manages_module(module_id));

-- lab_categories
CREATE POLICY lab_categories_select ON lab_categories FOR SELECT TO anon, authenticated
  USING (true);
CREATE POLICY lab_categories_insert ON lab_categories FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY lab_categories_update ON lab_categories FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY lab_categories_delete ON lab_categories FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- labs
CREATE POLICY labs_select ON labs FOR SELECT TO anon, authenticated
  USING (is_published OR instructor_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY labs_insert ON labs FOR INSERT TO authenticated
  WITH CHECK ((instructor_id = (SELECT auth.uid()) AND (SELECT private.is_author()))
              OR (SELECT private.is_admin()));
CREATE POLICY labs_update ON labs FOR UPDATE TO authenticated
  USING (instructor_id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
  WITH CHECK (instructor_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY labs_delete ON labs FOR DELETE TO authenticated
  USING (instructor_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));

-- enrollments
CREATE POLICY enrollments_select ON enrollments FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR private.manages_course(course_id));
CREATE POLICY enrollments_insert ON enrollments FOR INSERT TO authenticated
  WITH CHECK ((user_id = (SELECT auth.uid()) AND private.course_is_published(course_id))
              OR (SELECT private.is_admin()));
CREATE POLICY enrollments_update ON enrollments FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
  WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY enrollments_delete ON enrollments FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- user_progress
CREATE POLICY user_progress_select ON user_progress FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR private.manages_course(course_id));
CREATE POLICY user_progress_insert ON user_progress FOR INSERT TO authenticated
  WITH CHECK ((user_id = (SELECT auth.uid()) AND private.is_enrolled(course_id))
              OR (SELECT private.is_admin()));
CREATE POLICY user_progress_update ON user_progress FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
  WITH CHECK ((user_id = (SELECT auth.uid()) AND private.is_enrolled(course_id))
              OR (SELECT private.is_admin()));
CREATE POLICY user_progress_delete ON user_progress FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- lab_sessions (the server decides; learners read their own, the lab's instructor theirs)
CREATE POLICY lab_sessions_select ON lab_sessions FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR private.manages_lab(lab_id));
CREATE POLICY lab_sessions_insert ON lab_sessions FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY lab_sessions_update ON lab_sessions FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY lab_sessions_delete ON lab_sessions FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- cloud_environments (the server decides)
CREATE POLICY cloud_environments_select ON cloud_environments FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR private.manages_lab(lab_id));
CREATE POLICY cloud_environments_insert ON cloud_environments FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY cloud_environments_update ON cloud_environments FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY cloud_environments_delete ON cloud_environments FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- assessments
CREATE POLICY assessments_select ON assessments FOR SELECT TO authenticated
  USING (private.assessment_is_open_to_me(id) OR private.manages_course(course_id));
CREATE POLICY assessments_insert ON assessments FOR INSERT TO authenticated
  WITH CHECK (private.manages_course(course_id));
CREATE POLICY assessments_update ON assessments FOR UPDATE TO authenticated
  USING (private.manages_course(course_id)) WITH CHECK (private.manages_course(course_id));
CREATE POLICY assessments_delete ON assessments FOR DELETE TO authenticated
  USING (private.manages_course(course_id));

-- assessment_questions: the whole row (answer key included) only for the course's managers.
CREATE POLICY assessment_questions_select ON assessment_questions FOR SELECT TO authenticated
  USING (private.manages_assessment(assessment_id));
CREATE POLICY assessment_questions_insert ON assessment_questions FOR INSERT TO authenticated
  WITH CHECK (private.manages_assessment(assessment_id));
CREATE POLICY assessment_questions_update ON assessment_questions FOR UPDATE TO authenticated
  USING (private.manages_assessment(assessment_id))
  WITH CHECK (private.manages_assessment(assessment_id));
CREATE POLICY assessment_questions_delete ON assessment_questions FOR DELETE TO authenticated
  USING (private.manages_assessment(assessment_id));

-- user_assessment_attempts
CREATE POLICY attempts_select ON user_assessment_attempts FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR private.manages_assessment(assessment_id));
CREATE POLICY attempts_insert ON user_assessment_attempts FOR INSERT TO authenticated
  WITH CHECK ((user_id = (SELECT auth.uid()) AND private.assessment_is_open_to_me(assessment_id))
              OR (SELECT private.is_admin()));
CREATE POLICY attempts_update ON user_assessment_attempts FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR private.manages_assessment(assessment_id))
  WITH CHECK (user_id = (SELECT auth.uid()) OR private.manages_assessment(assessment_id));
CREATE POLICY attempts_delete ON user_assessment_attempts FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- user_assessment_answers
CREATE POLICY answers_select ON user_assessment_answers FOR SELECT TO authenticated
  USING (private.owns_attempt(attempt_id) OR private.manages_attempt(attempt_id));
CREATE POLICY answers_insert ON user_assessment_answers FOR INSERT TO authenticated
  WITH CHECK (private.owns_open_attempt(attempt_id) OR (SELECT private.is_admin()));
CREATE POLICY answers_update ON user_assessment_answers FOR UPDATE TO authenticated
  USING (private.owns_open_attempt(attempt_id) OR private.manages_attempt(attempt_id))
  WITH CHECK (private.owns_open_attempt(attempt_id) OR private.manages_attempt(attempt_id));
CREATE POLICY answers_delete ON user_assessment_answers FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- course_reviews: public for published courses; written by enrolled learners.
CREATE POLICY course_reviews_select ON course_reviews FOR SELECT TO anon, authenticated
  USING (private.course_is_published(course_id) OR user_id = (SELECT auth.uid())
         OR private.manages_course(course_id));
CREATE POLICY course_reviews_insert ON course_reviews FOR INSERT TO authenticated
  WITH CHECK ((user_id = (SELECT auth.uid()) AND private.is_enrolled(course_id))
              OR (SELECT private.is_admin()));
CREATE POLICY course_reviews_update ON course_reviews FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
  WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY course_reviews_delete ON course_reviews FOR DELETE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));

-- lab_reviews: public for published labs; written by learners who have tried the lab.
CREATE POLICY lab_reviews_select ON lab_reviews FOR SELECT TO anon, authenticated
  USING (private.lab_is_published(lab_id) OR user_id = (SELECT auth.uid())
         OR private.manages_lab(lab_id));
CREATE POLICY lab_reviews_insert ON lab_reviews FOR INSERT TO authenticated
  WITH CHECK ((user_id = (SELECT auth.uid()) AND private.has_tried_lab(lab_id))
              OR (SELECT private.is_admin()));
CREATE POLICY lab_reviews_update ON lab_reviews FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
  WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY lab_reviews_delete ON lab_reviews FOR DELETE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));

-- payments, subscriptions (the server decides, through the payment provider)
CREATE POLICY payments_select ON payments FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY payments_insert ON payments FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY payments_update ON payments FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY payments_delete ON payments FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

CREATE POLICY subscriptions_select ON subscriptions FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY subscriptions_insert ON subscriptions FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY subscriptions_update ON subscriptions FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY subscriptions_delete ON subscriptions FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- user_files (kept in step with the lab workspace by the server)
CREATE POLICY user_files_select ON user_files FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY user_files_insert ON user_files FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY user_files_update ON user_files FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY user_files_delete ON user_files FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- content_uploads (instructors' course and lab material)
CREATE POLICY content_uploads_select ON content_uploads FOR SELECT TO authenticated
  USING (uploader_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY content_uploads_insert ON content_uploads FOR INSERT TO authenticated
  WITH CHECK ((uploader_id = (SELECT auth.uid()) AND (SELECT private.is_author()))
              OR (SELECT private.is_admin()));
CREATE POLICY content_uploads_update ON content_uploads FOR UPDATE TO authenticated
  USING (uploader_id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
  WITH CHECK (uploader_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY content_uploads_delete ON content_uploads FOR DELETE TO authenticated
  USING (uploader_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));

-- notifications (written by the server; the recipient reads, marks read, deletes)
CREATE POLICY notifications_select ON notifications FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY notifications_insert ON notifications FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY notifications_update ON notifications FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
  WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY notifications_delete ON notifications FOR DELETE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));

-- user_activities (written by the server; a user may read their own history)
CREATE POLICY user_activities_select ON user_activities FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY user_activities_insert ON user_activities FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY user_activities_update ON user_activities FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY user_activities_delete ON user_activities FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- analytics_events: users send their own events; only admins read them.
CREATE POLICY analytics_events_select ON analytics_events FOR SELECT TO authenticated
  USING ((SELECT private.is_admin()));
CREATE POLICY analytics_events_insert ON analytics_events FOR INSERT TO authenticated
  WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY analytics_events_update ON analytics_events FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY analytics_events_delete ON analytics_events FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- user_bookmarks: strictly personal.
CREATE POLICY user_bookmarks_select ON user_bookmarks FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY user_bookmarks_insert ON user_bookmarks FOR INSERT TO authenticated
  WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY user_bookmarks_update ON user_bookmarks FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
  WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY user_bookmarks_delete ON user_bookmarks FOR DELETE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));

-- course_tags: anyone reads; authors add; admins curate.
CREATE POLICY course_tags_select ON course_tags FOR SELECT TO anon, authenticated
  USING (true);
CREATE POLICY course_tags_insert ON course_tags FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_author()));
CREATE POLICY course_tags_update ON course_tags FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY course_tags_delete ON course_tags FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- course_tag_relationships, course_prerequisites: visible with their course, managed with it.
CREATE POLICY course_tag_relationships_select ON course_tag_relationships FOR SELECT
  TO anon, authenticated
  USING (private.course_is_published(course_id) OR private.manages_course(course_id));
CREATE POLICY course_tag_relationships_insert ON course_tag_relationships FOR INSERT
  TO authenticated WITH CHECK (private.manages_course(course_id));
CREATE POLICY course_tag_relationships_update ON course_tag_relationships FOR UPDATE
  TO authenticated
  USING (private.manages_course(course_id)) WITH CHECK (private.manages_course(course_id));
CREATE POLICY course_tag_relationships_delete ON course_tag_relationships FOR DELETE
  TO authenticated USING (private.manages_course(course_id));

CREATE POLICY course_prerequisites_select ON course_prerequisites FOR SELECT
  TO anon, authenticated
  USING (private.course_is_published(course_id) OR private.manages_course(course_id));
CREATE POLICY course_prerequisites_insert ON course_prerequisites FOR INSERT
  TO authenticated WITH CHECK (private.manages_course(course_id));
CREATE POLICY course_prerequisites_update ON course_prerequisites FOR UPDATE
  TO authenticated
  USING (private.manages_course(course_id)) WITH CHECK (private.manages_course(course_id));
CREATE POLICY course_prerequisites_delete ON course_prerequisites FOR DELETE
  TO authenticated USING (private.manages_course(course_id));

-- lab_prerequisites: visible with their lab, managed with it.
CREATE POLICY lab_prerequisites_select ON lab_prerequisites FOR SELECT TO anon, authenticated
  USING (private.lab_is_published(lab_id) OR private.manages_lab(lab_id));
CREATE POLICY lab_prerequisites_insert ON lab_prerequisites FOR INSERT TO authenticated
  WITH CHECK (private.manages_lab(lab_id));
CREATE POLICY lab_prerequisites_update ON lab_prerequisites FOR UPDATE TO authenticated
  USING (private.manages_lab(lab_id)) WITH CHECK (private.manages_lab(lab_id));
CREATE POLICY lab_prerequisites_delete ON lab_prerequisites FOR DELETE TO authenticated
  USING (private.manages_lab(lab_id));

-- system_settings: public ones readable by anyone; admins manage all.
CREATE POLICY system_settings_select ON system_settings FOR SELECT TO anon, authenticated
  USING (is_public OR (SELECT private.is_admin()));
CREATE POLICY system_settings_insert ON system_settings FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY system_settings_update ON system_settings FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY system_settings_delete ON system_settings FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- certificates (issued by the server; verified publicly through verify_certificate())
CREATE POLICY certificates_select ON certificates FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR private.manages_course(course_id));
CREATE POLICY certificates_insert ON certificates FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY certificates_update ON certificates FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY certificates_delete ON certificates FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));
