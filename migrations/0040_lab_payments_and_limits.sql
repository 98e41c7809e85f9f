-- Issue 14, finding 4: a paid lab starts only for a learner who paid for it, a lab only once
-- the labs it builds on are completed, and a learner runs a bounded number of sandboxes.
--
-- * payments.lab_id: a payment is for a course or for a lab, never both. The payments policies
--   of 0006 cover these rows as they are (by user_id): the payer and admins read them, only
--   admins write them; the server records them as service_role. tests/rls_matrix.rs
--   (lab_payments_belong_to_their_payer_alone) checks it.
-- * lab_price: what every paid lab costs (labs have no price column in the spec; one price
--   for all paid labs, set by admins, until labs carry their own).
-- * open_lab_session() gains the three rules, checked under the learner's and the lab's
--   advisory locks, so that the checks and the insert are one step.

ALTER TABLE payments ADD COLUMN lab_id uuid REFERENCES labs(id) ON DELETE SET NULL;
ALTER TABLE payments ADD CONSTRAINT payments_course_or_lab CHECK (course_id IS NULL OR lab_id IS NULL);
CREATE INDEX idx_payments_lab ON payments (lab_id);

INSERT INTO system_settings (setting_key, setting_value, description, is_public)
VALUES ('lab_price', '"9.99"',
        'What a paid lab (is_free = false) costs in USD, paid once per learner and lab (POST /api/v1/labs/{id}/checkout).',
        true)
ON CONFLICT (setting_key) DO NOTHING;

DROP FUNCTION public.open_lab_session(uuid, uuid, text, jsonb, jsonb, boolean);

-- Opens a session and its environment for p_user, or raises a coded rule:
-- lab_session_active (a live session of this lab: resume or stop it), lab_full
-- (max_concurrent_users live sessions), payment_required (a paid lab not paid for),
-- lab_prerequisites_unmet (hint: the labs still to complete, as [{slug, title}]) or
-- lab_learner_limit (p_max_running sandboxes running already). The lab's instructor and admins
-- need neither payment nor prerequisites. The server calls it as service_role after checking
-- the learner may see the lab.
CREATE FUNCTION public.open_lab_session(
  p_user uuid, p_lab uuid, p_template text, p_resources jsonb, p_environment_data jsonb,
  p_auto_save boolean, p_max_running integer)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_max integer;
  v_live integer;
  v_running integer;
  v_free boolean;
  v_manager boolean;
  v_missing json;
  v_existing uuid;
  v_session uuid := public.uuid_generate_v4();
  v_environment uuid := public.uuid_generate_v4();
  v_key text;
BEGIN
  -- The learner's lock first, then the lab's: every caller takes them in this order.
  PERFORM pg_advisory_xact_lock(hashtextextended('lab-learner:' || p_user::text, 0));
  PERFORM pg_advisory_xact_lock(hashtextextended('lab:' || p_lab::text, 0));
  SELECT id INTO v_existing FROM public.lab_sessions
   WHERE user_id = p_user AND lab_id = p_lab AND status IN ('starting', 'active', 'paused');
  IF FOUND THEN
    RAISE EXCEPTION 'lab_session_active'
      USING DETAIL = 'You already have a session of this lab: resume or stop it.',
            HINT = json_build_object('session_id', v_existing)::text;
  END IF;
  SELECT max_concurrent_users, is_free INTO v_max, v_free FROM public.labs WHERE id = p_lab;
  SELECT EXISTS (SELECT 1 FROM public.labs WHERE id = p_lab AND instructor_id = p_user)
      OR EXISTS (SELECT 1 FROM public.profiles WHERE id = p_user AND role = 'admin')
    INTO v_manager;
  IF NOT v_free AND NOT v_manager AND NOT EXISTS (
       SELECT 1 FROM public.payments
        WHERE user_id = p_user AND lab_id = p_lab AND payment_status = 'completed') THEN
    RAISE EXCEPTION 'payment_required'
      USING DETAIL = 'This lab is paid: buy it first (POST /api/v1/labs/{id}/checkout), then start it.';
  END IF;
  IF NOT v_manager THEN
    SELECT json_agg(json_build_object('slug', l.slug, 'title', l.title) ORDER BY l.slug)
      INTO v_missing
      FROM public.lab_prerequisites lp
      JOIN public.labs l ON l.id = lp.prerequisite_lab_id
     WHERE lp.lab_id = p_lab
       AND NOT EXISTS (SELECT 1 FROM public.lab_sessions s
                        WHERE s.user_id = p_user AND s.lab_id = lp.prerequisite_lab_id
                          AND s.status = 'completed');
    IF v_missing IS NOT NULL THEN
      RAISE EXCEPTION 'lab_prerequisites_unmet'
        USING DETAIL = 'This lab builds on others: complete them first.',
              HINT = v_missing::text;
    END IF;
  END IF;
  SELECT count(*) INTO v_running FROM public.lab_sessions
   WHERE user_id = p_user AND status IN ('starting', 'active');
  IF v_running >= p_max_running THEN
    RAISE EXCEPTION 'lab_learner_limit'
      USING DETAIL = format('You have %s labs running, the most one learner may: pause or stop one first.', v_running);
  END IF;
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
REVOKE ALL ON FUNCTION public.open_lab_session(uuid, uuid, text, jsonb, jsonb, boolean, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.open_lab_session(uuid, uuid, text, jsonb, jsonb, boolean, integer) TO service_role;

-- Resuming a paused session starts a sandbox too: the same limit, under the same lock. Moves
-- the session (and its environment) back to active, or raises lab_learner_limit; false when
-- there is no such session.
CREATE FUNCTION public.resume_lab_session(p_session uuid, p_max_running integer)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_user uuid;
  v_running integer;
BEGIN
  SELECT user_id INTO v_user FROM public.lab_sessions WHERE id = p_session;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('lab-learner:' || v_user::text, 0));
  SELECT count(*) INTO v_running FROM public.lab_sessions
   WHERE user_id = v_user AND status IN ('starting', 'active') AND id <> p_session;
  IF v_running >= p_max_running THEN
    RAISE EXCEPTION 'lab_learner_limit'
      USING DETAIL = format('You have %s labs running, the most one learner may: pause or stop one first.', v_running);
  END IF;
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION public.resume_lab_session(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.resume_lab_session(uuid, integer) TO service_role;
