-- The lesson policy, set-based: "the modules I may study" and "the modules I manage" are each
-- computed once per query (a hashed sub-plan) instead of calling two helper functions for every
-- lesson row. Same rule as 0006: published lessons of published modules of published courses
-- for enrolled learners; every lesson for the course's instructor and admins.

-- Published modules of published courses the caller is enrolled in (active or completed).
CREATE FUNCTION private.modules_i_may_study() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT m.id
  FROM public.enrollments e
  JOIN public.courses c ON c.id = e.course_id AND c.is_published
  JOIN public.course_modules m ON m.course_id = c.id AND m.is_published
  WHERE e.user_id = auth.uid() AND e.status IN ('active', 'completed')
$$;

-- Modules of the courses the caller teaches (admins are handled by the policy itself, so this
-- set never grows to the whole catalog).
CREATE FUNCTION private.modules_i_teach() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT m.id
  FROM public.courses c JOIN public.course_modules m ON m.course_id = c.id
  WHERE c.instructor_id = auth.uid()
$$;

GRANT EXECUTE ON FUNCTION private.modules_i_may_study(), private.modules_i_teach()
  TO authenticated, service_role;

ALTER POLICY course_lessons_select ON course_lessons
  USING ((is_published AND module_id IN (SELECT private.modules_i_may_study()))
         OR module_id IN (SELECT private.modules_i_teach())
         OR (SELECT private.is_admin()));

