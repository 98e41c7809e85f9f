-- The two routes by which callers read a little more than RLS shows them, each deliberately
-- narrow: SECURITY DEFINER, empty search_path, returning only the columns listed.

-- An assessment's questions as a learner sees them: never correct_answer, never explanation.
-- Rows only when the caller may take the assessment (published, enrolled) or manages it.
-- Answer keys must never be stored in `options` (see docs/decisions.md).
CREATE FUNCTION public.assessment_questions_for_learner(p_assessment_id uuid)
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
    AND (private.assessment_is_open_to_me(p_assessment_id)
         OR private.manages_assessment(p_assessment_id))
  ORDER BY q.sort_order, q.id
$$;
GRANT EXECUTE ON FUNCTION public.assessment_questions_for_learner(uuid) TO authenticated, service_role;

-- Public certificate verification by number: whether it is valid, for which course, for whom.
CREATE FUNCTION public.verify_certificate(p_certificate_number text)
RETURNS TABLE (
  certificate_number text,
  is_valid boolean,
  issued_at timestamptz,
  course_title text,
  learner_name text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT c.certificate_number, c.is_valid, c.issued_at, co.title, p.full_name
  FROM public.certificates c
  JOIN public.courses co ON co.id = c.course_id
  JOIN public.profiles p ON p.id = c.user_id
  WHERE c.certificate_number = p_certificate_number
$$;
GRANT EXECUTE ON FUNCTION public.verify_certificate(text) TO anon, authenticated, service_role;
