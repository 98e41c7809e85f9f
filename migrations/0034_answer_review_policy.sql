-- Answer keys on the assessment's terms, and an answer deadline the database itself keeps
-- (issue 14, findings 1 and 11).
--
-- Review policy: when a learner sees the answer keys, the explanations and which of their
-- answers were right. Before, every submitted attempt showed them, so the first attempt of a
-- two-attempt final exam handed over the keys for the second. `NULL` means the default for the
-- assessment's kind and limits (private.effective_review_policy), so an instructor who never
-- chose one keeps the right default when they change `max_attempts`.
--
-- The release is decided here, once (private.review_open), and every path reads it: the
-- attempt routes (through public.attempt_review and the attempt's `review_open`), and the sync
-- feed's projections of attempts and answers (server/src/db/sync.rs).

CREATE TYPE public.review_policy AS ENUM (
  'after_each_attempt',          -- keys with every submitted attempt
  'after_last_attempt_or_pass',  -- once the learner passed, or has no attempt left
  'never'                        -- never to learners; instructors always see them
);

ALTER TABLE public.assessments ADD COLUMN review_policy public.review_policy;
COMMENT ON COLUMN public.assessments.review_policy IS
  'When learners see keys and explanations; NULL: the default for the kind and attempt limit';

-- After each attempt for a practice quiz with unlimited attempts; after the last attempt or
-- once passed for anything with limited attempts and for every final exam.
CREATE FUNCTION private.effective_review_policy(
  p_type public.assessment_type, p_max_attempts integer, p_policy public.review_policy)
RETURNS public.review_policy
LANGUAGE sql IMMUTABLE SET search_path = ''
AS $$
  SELECT coalesce(p_policy,
                  CASE WHEN p_type = 'final_exam' OR p_max_attempts IS NOT NULL
                       THEN 'after_last_attempt_or_pass'::public.review_policy
                       ELSE 'after_each_attempt'::public.review_policy END)
$$;

-- Whether the learner of attempt `p_attempt` may see its keys, explanations and per-question
-- grades now. Answers only about the caller's own attempts and those of courses they manage
-- (false for anything else).
CREATE FUNCTION private.review_open(p_attempt uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT coalesce((
    SELECT t.completed_at IS NOT NULL
       AND CASE private.effective_review_policy(a.type, a.max_attempts, a.review_policy)
             WHEN 'after_each_attempt' THEN true
             WHEN 'never' THEN false
             ELSE EXISTS (SELECT 1 FROM public.user_assessment_attempts p
                          WHERE p.user_id = t.user_id AND p.assessment_id = t.assessment_id
                            AND p.score IS NOT NULL AND p.passed)
                  OR (a.max_attempts IS NOT NULL
                      AND (SELECT count(*) FROM public.user_assessment_attempts u
                           WHERE u.user_id = t.user_id AND u.assessment_id = t.assessment_id
                             AND u.completed_at IS NOT NULL) >= a.max_attempts)
           END
    FROM public.user_assessment_attempts t JOIN public.assessments a ON a.id = t.assessment_id
    WHERE t.id = p_attempt
      AND (t.user_id = auth.uid() OR private.manages_assessment(t.assessment_id))), false)
$$;
REVOKE EXECUTE ON FUNCTION private.review_open(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION private.review_open(uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.effective_review_policy(public.assessment_type, integer,
  public.review_policy) TO anon, authenticated, service_role;

-- Replaces the version of 0016: a learner's keys follow the review policy.
CREATE OR REPLACE FUNCTION public.attempt_review(p_attempt_id uuid)
RETURNS TABLE (
  question_id uuid,
  correct_answer text,
  explanation text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT q.id, q.correct_answer, q.explanation
  FROM public.user_assessment_attempts t
  JOIN public.assessment_questions q ON q.assessment_id = t.assessment_id
  WHERE t.id = p_attempt_id
    AND ((t.user_id = auth.uid() AND private.review_open(t.id))
         OR private.manages_assessment(t.assessment_id))
  ORDER BY q.sort_order, q.id
$$;

-- Devices hold the masked projection of attempts and answers; when the review opens (a pass,
-- the last attempt) or the policy changes, they must read them again.
CREATE FUNCTION private.sync_touch_attempts(p_assessment uuid, p_user uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$
  INSERT INTO private.sync_log (tbl, row_id, op, audience)
  SELECT 'user_assessment_attempts', t.id, 'T', t.user_id
  FROM public.user_assessment_attempts t
  WHERE t.assessment_id = p_assessment AND (p_user IS NULL OR t.user_id = p_user)
  UNION ALL
  SELECT 'user_assessment_answers', w.id, 'T', t.user_id
  FROM public.user_assessment_answers w
  JOIN public.user_assessment_attempts t ON t.id = w.attempt_id
  WHERE t.assessment_id = p_assessment AND (p_user IS NULL OR t.user_id = p_user)
$$;

CREATE FUNCTION private.sync_on_attempt_result() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  PERFORM private.sync_touch_attempts(NEW.assessment_id, NEW.user_id);
  RETURN NULL;
END;
$$;
CREATE TRIGGER zz_sync_attempt_result AFTER UPDATE OF completed_at, score, passed
  ON user_assessment_attempts FOR EACH ROW
  WHEN (OLD.completed_at IS DISTINCT FROM NEW.completed_at OR OLD.score IS DISTINCT FROM NEW.score
        OR OLD.passed IS DISTINCT FROM NEW.passed)
  EXECUTE FUNCTION private.sync_on_attempt_result();

CREATE FUNCTION private.sync_on_review_terms() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  PERFORM private.sync_touch_attempts(NEW.id, NULL);
  RETURN NULL;
END;
$$;
CREATE TRIGGER zz_sync_review_terms AFTER UPDATE OF review_policy, max_attempts, type
  ON assessments FOR EACH ROW
  WHEN (OLD.review_policy IS DISTINCT FROM NEW.review_policy
        OR OLD.max_attempts IS DISTINCT FROM NEW.max_attempts OR OLD.type IS DISTINCT FROM NEW.type)
  EXECUTE FUNCTION private.sync_on_review_terms();

-- Finding 11: the guard of 0016 ran as SECURITY DEFINER, so `current_user` inside it was its
-- owner, never `authenticated`, and it let every answer through. The trigger now runs as the
-- writer (so it knows who writes), and only the lookup and lock run as the owner.
CREATE FUNCTION private.check_answer_window(p_attempt uuid, p_question uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  deadline timestamptz;
  submitted timestamptz;
BEGIN
  -- The row lock on the attempt orders this write against a concurrent submission.
  SELECT private.attempt_deadline(t.started_at, a.time_limit_minutes), t.completed_at
    INTO deadline, submitted
  FROM public.user_assessment_attempts t JOIN public.assessments a ON a.id = t.assessment_id
  WHERE t.id = p_attempt
  FOR UPDATE OF t;
  IF submitted IS NOT NULL THEN
    RAISE EXCEPTION 'attempt_submitted'
      USING ERRCODE = 'P0001', DETAIL = 'This attempt is already submitted; answers are final.';
  END IF;
  IF deadline IS NOT NULL AND clock_timestamp() > deadline THEN
    RAISE EXCEPTION 'time_limit_passed'
      USING ERRCODE = 'P0001',
            DETAIL = 'The time limit of this attempt has passed; answers are no longer accepted.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM public.assessment_questions q
                 JOIN public.user_assessment_attempts t ON t.assessment_id = q.assessment_id
                 WHERE q.id = p_question AND t.id = p_attempt) THEN
    RAISE EXCEPTION 'question_not_in_assessment'
      USING ERRCODE = 'P0001', DETAIL = 'That question is not part of this attempt''s assessment.';
  END IF;
END;
$$;
REVOKE EXECUTE ON FUNCTION private.check_answer_window(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION private.check_answer_window(uuid, uuid) TO authenticated;

CREATE OR REPLACE FUNCTION private.guard_answer_in_time() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = ''
AS $$
BEGIN
  IF current_user IN ('anon', 'authenticated') AND NOT private.manages_attempt(NEW.attempt_id) THEN
    PERFORM private.check_answer_window(NEW.attempt_id, NEW.question_id);
  END IF;
  RETURN NEW;
END;
$$;

-- Whether the grade of one answer (right or not, points) may be shown to its learner: when the
-- attempt's review is open, or always for essays and code, whose grade is the instructor's
-- judgement rather than a key.
CREATE FUNCTION private.answer_grade_open(p_attempt uuid, p_question uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT private.review_open(p_attempt)
      OR EXISTS (SELECT 1 FROM public.assessment_questions q
                 WHERE q.id = p_question AND q.question_type IN ('essay', 'code'))
$$;
REVOKE EXECUTE ON FUNCTION private.answer_grade_open(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION private.answer_grade_open(uuid, uuid) TO authenticated, service_role;
