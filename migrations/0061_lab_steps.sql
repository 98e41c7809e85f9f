-- Labs in steps (issue 16): an intro (labs.instructions), ordered steps, a finish page. A step
-- has its markdown and hints, which learners read, and up to three scripts (setup, verify,
-- solve), which are the lab's answer keys: they live in a table of their own that only the
-- lab's managers and the server read, so no learner's API response or sync pull can carry them.
--
-- A learner's progress through the steps is the server's to write: it lives in
-- lab_sessions.progress_data -> 'steps' (see server/src/labs/steps.rs for its shape), written
-- by public.record_lab_check() after a check ran in the learner's sandbox. Passing the last
-- step completes the lab: a lab_complete activity, a notification, and the progress of every
-- lesson that embeds the lab (content_type 'lab', content_url '/labs/<slug>') in a course the
-- learner is enrolled in.

ALTER TABLE public.labs ADD COLUMN finish_text text CHECK (length(finish_text) <= 100000);

CREATE TABLE public.lab_steps (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  lab_id uuid NOT NULL REFERENCES public.labs(id) ON DELETE CASCADE,
  -- 1, 2, …: the order learners take them in.
  position integer NOT NULL CHECK (position BETWEEN 1 AND 100),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body text NOT NULL DEFAULT '' CHECK (length(body) <= 100000),
  hints text[] NOT NULL DEFAULT '{}' CHECK (cardinality(hints) <= 20),
  -- Whether the step has a verify script (learners see a Check button) and a setup script;
  -- kept by the trigger on lab_step_scripts, never written by hand.
  checked boolean NOT NULL DEFAULT false,
  has_setup boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (lab_id, position)
);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.lab_steps
  FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();

CREATE TABLE public.lab_step_scripts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  step_id uuid NOT NULL UNIQUE REFERENCES public.lab_steps(id) ON DELETE CASCADE,
  setup_script text CHECK (length(setup_script) <= 65536),
  verify_script text CHECK (length(verify_script) <= 65536),
  solve_script text CHECK (length(solve_script) <= 65536),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.lab_step_scripts
  FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();

CREATE FUNCTION private.lab_step_flags() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE public.lab_steps SET checked = false, has_setup = false WHERE id = OLD.step_id;
    RETURN OLD;
  END IF;
  UPDATE public.lab_steps
     SET checked = NEW.verify_script IS NOT NULL, has_setup = NEW.setup_script IS NOT NULL
   WHERE id = NEW.step_id
     AND (checked, has_setup) IS DISTINCT FROM (NEW.verify_script IS NOT NULL, NEW.setup_script IS NOT NULL);
  RETURN NEW;
END;
$$;
CREATE TRIGGER lab_step_flags AFTER INSERT OR UPDATE OR DELETE ON public.lab_step_scripts
  FOR EACH ROW EXECUTE FUNCTION private.lab_step_flags();

ALTER TABLE public.lab_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.lab_step_scripts ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.lab_steps, public.lab_step_scripts
  TO authenticated, service_role;
GRANT SELECT ON public.lab_steps TO anon;
-- Like every derived column, `checked` and `has_setup` are the trigger's to write.
REVOKE INSERT, UPDATE ON public.lab_steps FROM authenticated;
GRANT INSERT (id, lab_id, position, title, body, hints), UPDATE (position, title, body, hints)
  ON public.lab_steps TO authenticated;
-- labs' writable columns are granted one by one (0006): the new one joins them.
GRANT INSERT (finish_text), UPDATE (finish_text) ON public.labs TO authenticated;

-- Steps read like the lab's own text: by anyone once it is published, by its managers before.
CREATE POLICY lab_steps_select ON public.lab_steps FOR SELECT TO anon, authenticated
  USING (private.lab_is_published(lab_id) OR private.manages_lab(lab_id));
CREATE POLICY lab_steps_insert ON public.lab_steps FOR INSERT TO authenticated
  WITH CHECK (private.manages_lab(lab_id));
CREATE POLICY lab_steps_update ON public.lab_steps FOR UPDATE TO authenticated
  USING (private.manages_lab(lab_id)) WITH CHECK (private.manages_lab(lab_id));
CREATE POLICY lab_steps_delete ON public.lab_steps FOR DELETE TO authenticated
  USING (private.manages_lab(lab_id));

-- The answer keys: the lab's managers only, whether or not it is published.
CREATE FUNCTION private.manages_lab_step(p_step uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (SELECT 1 FROM public.lab_steps s WHERE s.id = p_step AND private.manages_lab(s.lab_id));
$$;
GRANT EXECUTE ON FUNCTION private.manages_lab_step(uuid) TO authenticated, service_role;
CREATE POLICY lab_step_scripts_select ON public.lab_step_scripts FOR SELECT TO authenticated
  USING (private.manages_lab_step(step_id));
CREATE POLICY lab_step_scripts_insert ON public.lab_step_scripts FOR INSERT TO authenticated
  WITH CHECK (private.manages_lab_step(step_id));
CREATE POLICY lab_step_scripts_update ON public.lab_step_scripts FOR UPDATE TO authenticated
  USING (private.manages_lab_step(step_id)) WITH CHECK (private.manages_lab_step(step_id));
CREATE POLICY lab_step_scripts_delete ON public.lab_step_scripts FOR DELETE TO authenticated
  USING (private.manages_lab_step(step_id));

-- Records one check of a step in the session's progress; on the last step passed, completes
-- the lab. Called by the server (service_role) after the verify script ran in the learner's
-- sandbox; returns the session's progress. Checks of one session are serialized by the row
-- lock the UPDATE takes.
CREATE FUNCTION public.record_lab_check(
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
    INSERT INTO public.notifications (user_id, title, message, entity_type, entity_id)
    SELECT v_session.user_id, 'Lab complete',
           format('You passed every step of "%s".', l.title), 'lab', l.id
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
REVOKE ALL ON FUNCTION public.record_lab_check(uuid, uuid, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.record_lab_check(uuid, uuid, boolean, text) TO service_role;
