-- Labs at run time (issue #8): the rules of starting a lab, kept by the database so that two
-- concurrent starts cannot both win.
--
-- * One live (starting, active or paused) session per learner per lab, and a lab's
--   max_concurrent_users live sessions: public.open_lab_session() checks both under a per-lab
--   advisory lock, so the checks and the insert are one step. (Not a unique index: the schema
--   lets an admin or a fixture write any rows; the rule is the API's.)
-- * user_files mirror the workspace: one row per environment and path.

CREATE INDEX lab_sessions_live_by_lab ON lab_sessions (lab_id, user_id)
  WHERE status IN ('starting', 'active', 'paused');
CREATE INDEX cloud_environments_running ON cloud_environments (last_activity)
  WHERE status IN ('creating', 'running');
CREATE UNIQUE INDEX user_files_environment_path ON user_files (environment_id, file_path);

-- Opens a session and its environment for p_user, or raises a coded rule:
-- lab_session_active (the learner has a live session of this lab: resume or stop it) or
-- lab_full (max_concurrent_users live sessions). Returns the session's id. The server calls it
-- as service_role after checking the learner may see the lab.
CREATE FUNCTION public.open_lab_session(
  p_user uuid, p_lab uuid, p_template text, p_resources jsonb, p_environment_data jsonb,
  p_auto_save boolean)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_max integer;
  v_live integer;
  v_existing uuid;
  v_session uuid := public.uuid_generate_v4();
  v_environment uuid := public.uuid_generate_v4();
  v_key text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('lab:' || p_lab::text, 0));
  SELECT id INTO v_existing FROM public.lab_sessions
   WHERE user_id = p_user AND lab_id = p_lab AND status IN ('starting', 'active', 'paused');
  IF FOUND THEN
    RAISE EXCEPTION 'lab_session_active'
      USING DETAIL = 'You already have a session of this lab: resume or stop it.',
            HINT = json_build_object('session_id', v_existing)::text;
  END IF;
  SELECT max_concurrent_users INTO v_max FROM public.labs WHERE id = p_lab;
  SELECT count(*) INTO v_live FROM public.lab_sessions
   WHERE lab_id = p_lab AND status IN ('starting', 'active', 'paused');
  IF v_live >= v_max THEN
    RAISE EXCEPTION 'lab_full'
      USING DETAIL = format('This lab has %s learners working in it, its maximum; try again later.', v_max);
  END IF;
  v_key := 'lab-' || replace(v_session::text, '-', '');
  INSERT INTO public.cloud_environments (id, user_id, lab_id, session_id, environment_id, status,
                                         template_name, resource_config)
  VALUES (v_environment, p_user, p_lab, v_key, v_environment::text, 'creating', p_template, p_resources);
  INSERT INTO public.lab_sessions (id, user_id, lab_id, session_id, status, environment_id,
                                   environment_data, auto_save_enabled)
  VALUES (v_session, p_user, p_lab, v_key, 'starting', v_environment::text, p_environment_data,
          p_auto_save);
  INSERT INTO public.user_activities (user_id, activity_type, entity_type, entity_id, metadata)
  VALUES (p_user, 'lab_start', 'lab', p_lab, jsonb_build_object('session_id', v_session));
  RETURN v_session;
END
$$;
REVOKE ALL ON FUNCTION public.open_lab_session(uuid, uuid, text, jsonb, jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.open_lab_session(uuid, uuid, text, jsonb, jsonb, boolean) TO service_role;
