-- What the server writes to people is in their language (decision 340): the notifications its
-- triggers and jobs write are worded from a small catalog, English and French, chosen by the
-- learner's `profiles.language`. The catalog is the server's own (server/src/messages/); each
-- process writes it here when it starts (db::server_messages::store), so SQL triggers and Rust
-- word a message the same way and a wording changes with the code, with no migration.
CREATE TABLE private.server_messages (
  key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]*$'),
  language text NOT NULL CHECK (language IN ('en', 'fr')),
  title text NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (key, language)
);
-- The server's alone, as the cluster's tables (0072): no API role reads or writes it; the
-- functions below read it as its owner.
ALTER TABLE private.server_messages ENABLE ROW LEVEL SECURITY;

-- The catalog's language for a BCP 47 tag: French for `fr`, `fr-CA`, `fr_FR`, English for
-- anything else (as `messages::Language::of_tag`).
CREATE FUNCTION private.message_language(p_tag text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = ''
AS $$
  SELECT CASE WHEN lower(split_part(replace(coalesce(p_tag, ''), '_', '-'), '-', 1)) = 'fr'
              THEN 'fr' ELSE 'en' END
$$;

-- Writes notification `p_key` to `p_user` in their language, `{name}` in its title and body
-- replaced by `p_args ->> name`. A key the catalog lacks in that language is written in
-- English; one it lacks altogether (a process older than the caller) is written as its key.
CREATE FUNCTION private.notify_message(p_user uuid, p_key text, p_args jsonb, p_entity_type text,
                                       p_entity_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_language text;
  v_title text;
  v_body text;
  v_arg record;
BEGIN
  SELECT private.message_language(p.language) INTO v_language
    FROM public.profiles p WHERE p.id = p_user;
  SELECT m.title, m.body INTO v_title, v_body
    FROM private.server_messages m
   WHERE m.key = p_key AND m.language IN (coalesce(v_language, 'en'), 'en')
   ORDER BY m.language = coalesce(v_language, 'en') DESC
   LIMIT 1;
  IF NOT FOUND THEN
    v_title := p_key;
    v_body := coalesce(p_args::text, '');
  END IF;
  FOR v_arg IN SELECT key, value FROM jsonb_each_text(coalesce(p_args, '{}'::jsonb)) LOOP
    v_title := replace(v_title, '{' || v_arg.key || '}', coalesce(v_arg.value, ''));
    v_body := replace(v_body, '{' || v_arg.key || '}', coalesce(v_arg.value, ''));
  END LOOP;
  INSERT INTO public.notifications (user_id, title, message, entity_type, entity_id)
  VALUES (p_user, v_title, v_body, p_entity_type, p_entity_id);
END;
$$;
REVOKE ALL ON FUNCTION private.notify_message(uuid, text, jsonb, text, uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.notify_message(uuid, text, jsonb, text, uuid) TO service_role;

-- The triggers of 0010, 0016 and 0061 that wrote English, now through the catalog. Each is the
-- landed function with only its notification changed.
CREATE OR REPLACE FUNCTION private.on_enrolled() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF NEW.status = 'active' AND (TG_OP = 'INSERT' OR OLD.status = 'cancelled') THEN
    PERFORM private.record_activity(NEW.user_id, 'enrollment', 'course', NEW.course_id);
    PERFORM private.notify_message(NEW.user_id, 'enrolled',
      jsonb_build_object('course', (SELECT title FROM public.courses WHERE id = NEW.course_id)),
      'course', NEW.course_id);
  END IF;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION private.refresh_enrollment(p_user uuid, p_course uuid) RETURNS void
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
  PERFORM private.notify_message(p_user, 'course_completed',
    jsonb_build_object('course', course_title), 'course', p_course);
  IF NOT EXISTS (SELECT 1 FROM public.certificates
                 WHERE user_id = p_user AND course_id = p_course AND is_valid) THEN
    LOOP
      number := private.new_certificate_number();
      EXIT WHEN NOT EXISTS (SELECT 1 FROM public.certificates WHERE certificate_number = number);
    END LOOP;
    INSERT INTO public.certificates (user_id, course_id, certificate_number, certificate_url)
    VALUES (p_user, p_course, number, '/api/v1/certificates/' || number);
    PERFORM private.notify_message(p_user, 'certificate_issued',
      jsonb_build_object('course', course_title, 'number', number), 'certificate',
      (SELECT id FROM public.certificates WHERE certificate_number = number));
  END IF;
END;
$$;

CREATE OR REPLACE FUNCTION private.on_attempt_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  title text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM private.record_activity(NEW.user_id, 'assessment_start', 'assessment', NEW.assessment_id);
  END IF;
  IF NEW.completed_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.completed_at IS NULL) THEN
    PERFORM private.record_activity(NEW.user_id, 'assessment_complete', 'assessment',
                                    NEW.assessment_id);
  END IF;
  IF NEW.score IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.score IS NULL) THEN
    SELECT a.title INTO title FROM public.assessments a WHERE a.id = NEW.assessment_id;
    PERFORM private.notify_message(
      NEW.user_id,
      CASE WHEN NEW.passed THEN 'attempt_passed' ELSE 'attempt_not_passed' END,
      jsonb_build_object('assessment', title, 'score', NEW.score::text,
                         'attempt', NEW.attempt_number::text),
      'assessment_attempt', NEW.id);
  END IF;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION public.record_lab_check(
  p_session uuid, p_step uuid, p_passed boolean, p_output text
) RETURNS jsonb
LANGUAGE plpgsql SET search_path = ''
AS $$
DECLARE
  v_session public.lab_sessions;
  v_step public.lab_steps;
  v_steps jsonb;
  v_record jsonb;
  v_last integer;
  v_next integer;
  v_already boolean;
  v_done boolean;
  v_now text := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
BEGIN
  SELECT * INTO v_session FROM public.lab_sessions WHERE id = p_session FOR UPDATE;
  SELECT * INTO v_step FROM public.lab_steps WHERE id = p_step AND lab_id = v_session.lab_id;
  IF v_step.id IS NULL THEN
    RAISE EXCEPTION 'lab_step_not_found' USING DETAIL = 'That step is not a step of this lab.';
  END IF;
  v_steps := coalesce(v_session.progress_data -> 'steps', '{}'::jsonb);
  v_record := coalesce(v_steps -> 'records' -> p_step::text, '{}'::jsonb);
  v_already := v_record ? 'passed_at';
  v_record := v_record
    || jsonb_build_object('position', v_step.position,
                          'attempts', coalesce((v_record ->> 'attempts')::int, 0) + 1,
                          'last_checked_at', v_now,
                          'last_passed', p_passed,
                          'last_output', left(coalesce(p_output, ''), 4000));
  IF p_passed AND NOT v_already THEN
    v_record := v_record || jsonb_build_object('passed_at', v_now);
  END IF;
  v_steps := jsonb_set(v_steps, '{records}',
                       coalesce(v_steps -> 'records', '{}'::jsonb)
                       || jsonb_build_object(p_step::text, v_record));
  SELECT max(position) INTO v_last FROM public.lab_steps WHERE lab_id = v_session.lab_id;
  -- The step the learner is on: the first step not yet passed (a step without a verify
  -- script passes when the learner moves on: its check runs nothing).
  SELECT min(s.position) INTO v_next FROM public.lab_steps s
   WHERE s.lab_id = v_session.lab_id
     AND NOT coalesce(v_steps -> 'records' -> s.id::text ? 'passed_at', false);
  v_done := v_next IS NULL;
  v_steps := v_steps || jsonb_build_object('current', coalesce(v_next, v_last + 1),
                                           'total', v_last);
  IF v_done AND NOT (v_steps ? 'completed_at') THEN
    v_steps := v_steps || jsonb_build_object('completed_at', v_now);
    INSERT INTO public.user_activities (user_id, activity_type, entity_type, entity_id, metadata)
    VALUES (v_session.user_id, 'lab_complete', 'lab', v_session.lab_id,
            jsonb_build_object('session_id', v_session.id, 'by', 'steps'));
    PERFORM private.notify_message(v_session.user_id, 'lab_complete',
                                   jsonb_build_object('lab', l.title), 'lab', l.id)
       FROM public.labs l WHERE l.id = v_session.lab_id;
    -- The lessons that embed the lab, in courses the learner is enrolled in.
    INSERT INTO public.user_progress (user_id, course_id, module_id, lesson_id,
                                      progress_percentage, completed_at)
    SELECT v_session.user_id, m.course_id, m.id, le.id, 100, now()
      FROM public.labs l
      JOIN public.course_lessons le ON le.content_type = 'lab' AND le.content_url = '/labs/' || l.slug
      JOIN public.course_modules m ON m.id = le.module_id
      JOIN public.enrollments e ON e.course_id = m.course_id AND e.user_id = v_session.user_id
                               AND e.status <> 'cancelled'
     WHERE l.id = v_session.lab_id
    ON CONFLICT (user_id, lesson_id) DO UPDATE
      SET progress_percentage = 100,
          completed_at = coalesce(public.user_progress.completed_at, now());
  END IF;
  UPDATE public.lab_sessions
     SET progress_data = progress_data || jsonb_build_object('steps', v_steps),
         last_activity = now()
   WHERE id = p_session;
  RETURN v_steps;
END;
$$;

-- The language a learner chooses in the app reaches their profile through the outbox
-- (`MutationKind::ProfileLanguage`), last writer winning by the time they chose: one more kind
-- of clock (0031).
ALTER TABLE private.sync_clocks DROP CONSTRAINT sync_clocks_kind_check;
ALTER TABLE private.sync_clocks ADD CONSTRAINT sync_clocks_kind_check
  CHECK (kind IN ('course_review', 'lab_review', 'bookmark', 'profile_language'));
