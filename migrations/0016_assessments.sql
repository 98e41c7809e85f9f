-- Assessments: attempts that start, save, submit and get graded fairly.
--
-- * The server stamps an attempt's start and its submission; a learner cannot choose either.
-- * A timed attempt accepts answers until its deadline (start + limit + a grace for latency);
--   later answers are refused, whatever route they take.
-- * Essays and code wait for the course's instructor, who grades with points and feedback.
-- * A learner sees correct answers and explanations of an attempt only once it is submitted
--   (`public.attempt_review`).
-- * Activities and notifications about attempts are written here, as the owner.

-- What the instructor wrote back, and when and by whom an answer was graded by hand.
ALTER TABLE user_assessment_answers
  ADD COLUMN feedback text CHECK (length(feedback) <= 10000),
  ADD COLUMN graded_at timestamptz,
  ADD COLUMN graded_by uuid REFERENCES profiles(id) ON DELETE SET NULL;
CREATE INDEX idx_answers_graded_by ON user_assessment_answers (graded_by);
-- The grading queue: answers of submitted attempts that still wait for a person.
CREATE INDEX idx_answers_awaiting_grading ON user_assessment_answers (attempt_id)
  WHERE is_correct IS NULL;
CREATE INDEX idx_attempts_user_assessment ON user_assessment_attempts (user_id, assessment_id);

-- The last moment a timed attempt accepts answers: its limit plus 30 seconds for the network.
-- NULL for untimed assessments.
CREATE FUNCTION private.attempt_deadline(p_started_at timestamptz, p_time_limit_minutes integer)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE SET search_path = ''
AS $$
  SELECT p_started_at + make_interval(mins => p_time_limit_minutes) + interval '30 seconds'
$$;

-- Replaces the version of 0006: the learner's submission is stamped with the server's time.
CREATE OR REPLACE FUNCTION private.guard_attempt_write() RETURNS trigger
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
      RAISE EXCEPTION 'no_attempts_left'
        USING ERRCODE = 'P0001',
              DETAIL = format('This assessment allows %s attempt(s), and all are used.', max_attempts);
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
  NEW.completed_at := now();
  RETURN NEW;
END;
$$;

-- Replaces the version of 0006: feedback and who graded are the grader's too.
CREATE OR REPLACE FUNCTION private.guard_answer_grading() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF current_user IN ('anon', 'authenticated')
     AND NOT private.manages_attempt(NEW.attempt_id)
     AND (CASE TG_OP
            WHEN 'INSERT' THEN NEW.is_correct IS NOT NULL OR NEW.points_earned <> 0
              OR NEW.feedback IS NOT NULL OR NEW.graded_at IS NOT NULL
              OR NEW.graded_by IS NOT NULL
            ELSE NEW.is_correct IS DISTINCT FROM OLD.is_correct
              OR NEW.points_earned IS DISTINCT FROM OLD.points_earned
              OR NEW.feedback IS DISTINCT FROM OLD.feedback
              OR NEW.graded_at IS DISTINCT FROM OLD.graded_at
              OR NEW.graded_by IS DISTINCT FROM OLD.graded_by
          END) THEN
    RAISE EXCEPTION 'answers are graded by the server or the course''s instructor'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;

-- A learner's answer counts only if it arrives before the attempt's deadline. The row lock on
-- the attempt orders a save against a concurrent submission.
CREATE FUNCTION private.guard_answer_in_time() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  deadline timestamptz;
  submitted timestamptz;
BEGIN
  IF current_user NOT IN ('anon', 'authenticated') OR private.manages_attempt(NEW.attempt_id) THEN
    RETURN NEW;
  END IF;
  SELECT private.attempt_deadline(t.started_at, a.time_limit_minutes), t.completed_at
    INTO deadline, submitted
  FROM public.user_assessment_attempts t JOIN public.assessments a ON a.id = t.assessment_id
  WHERE t.id = NEW.attempt_id
  FOR UPDATE OF t;
  IF submitted IS NOT NULL THEN
    RAISE EXCEPTION 'attempt_submitted'
      USING ERRCODE = 'P0001', DETAIL = 'This attempt is already submitted; answers are final.';
  END IF;
  IF deadline IS NOT NULL AND now() > deadline THEN
    RAISE EXCEPTION 'time_limit_passed'
      USING ERRCODE = 'P0001',
            DETAIL = 'The time limit of this attempt has passed; answers are no longer accepted.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM public.assessment_questions q
                 JOIN public.user_assessment_attempts t ON t.assessment_id = q.assessment_id
                 WHERE q.id = NEW.question_id AND t.id = NEW.attempt_id) THEN
    RAISE EXCEPTION 'question_not_in_assessment'
      USING ERRCODE = 'P0001', DETAIL = 'That question is not part of this attempt''s assessment.';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER guard_answer_in_time BEFORE INSERT OR UPDATE OF answer_text
  ON user_assessment_answers FOR EACH ROW EXECUTE FUNCTION private.guard_answer_in_time();

-- Starting, submitting and being graded leave traces: activities for the learner's history and
-- a notification when a score is final (at once for quizzes graded by the server, later for
-- those an instructor grades).
CREATE FUNCTION private.on_attempt_change() RETURNS trigger
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
    PERFORM private.notify(
      NEW.user_id,
      format('%s: %s%%', title, NEW.score),
      format('Your attempt %s at "%s" is graded: %s%%, %s.', NEW.attempt_number, title, NEW.score,
             CASE WHEN NEW.passed THEN 'passed' ELSE 'not passed' END),
      'assessment_attempt', NEW.id);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER on_attempt_change AFTER INSERT OR UPDATE OF completed_at, score
  ON user_assessment_attempts FOR EACH ROW EXECUTE FUNCTION private.on_attempt_change();

-- An attempt's questions with their answer keys and explanations, for its learner once it is
-- submitted (and for the course's managers at any time). Before submission: no rows.
CREATE FUNCTION public.attempt_review(p_attempt_id uuid)
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
    AND ((t.user_id = auth.uid() AND t.completed_at IS NOT NULL)
         OR private.manages_assessment(t.assessment_id))
  ORDER BY q.sort_order, q.id
$$;
REVOKE EXECUTE ON FUNCTION public.attempt_review(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.attempt_review(uuid) TO authenticated, service_role;
REVOKE EXECUTE ON FUNCTION private.attempt_deadline(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION private.attempt_deadline(timestamptz, integer)
  TO anon, authenticated, service_role;

-- Replaces the version of 0007: a timed assessment's questions reach a learner only once they
-- have started an attempt, so nobody reads an exam before its clock runs. Untimed ones can be
-- read (and taken offline) by anyone who may take them.
CREATE OR REPLACE FUNCTION public.assessment_questions_for_learner(p_assessment_id uuid)
RETURNS TABLE (
  id uuid,
  assessment_id uuid,
  question_text text,
  question_type public.question_type,
  options jsonb,
  points integer,
  sort_order integer
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT q.id, q.assessment_id, q.question_text, q.question_type, q.options, q.points, q.sort_order
  FROM public.assessment_questions q
  WHERE q.assessment_id = p_assessment_id
    AND ((private.assessment_is_open_to_me(p_assessment_id)
          AND ((SELECT a.time_limit_minutes IS NULL FROM public.assessments a
                WHERE a.id = p_assessment_id)
               OR EXISTS (SELECT 1 FROM public.user_assessment_attempts t
                          WHERE t.assessment_id = p_assessment_id AND t.user_id = auth.uid())))
         OR private.manages_assessment(p_assessment_id))
  ORDER BY q.sort_order, q.id
$$;

-- How many questions and points an assessment has, for those who may take or manage it: a
-- learner sees the size of a timed exam before starting it, not its questions.
CREATE FUNCTION public.assessment_totals(p_assessment_id uuid)
RETURNS TABLE (question_count integer, points_possible integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT count(*)::integer, coalesce(sum(q.points), 0)::integer
  FROM public.assessment_questions q
  WHERE q.assessment_id = p_assessment_id
    AND (private.assessment_is_open_to_me(p_assessment_id)
         OR private.manages_assessment(p_assessment_id))
$$;
REVOKE EXECUTE ON FUNCTION public.assessment_totals(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.assessment_totals(uuid) TO authenticated, service_role;
