-- Pushed progress in runs (server/src/http/sync.rs): a push's consecutive progress mutations
-- are applied with a few set-based statements instead of three statements per mutation.
--
-- The lessons of a run the caller may record progress in, with their courses: the rule of
-- private.may_study_lesson (0031) — a published lesson of a published module of a published
-- course they are enrolled in (active or completed), or any lesson of a course they manage
-- (its instructor, or an admin) — asked of many lessons at once, as joins rather than helper
-- calls per lesson. A lesson missing from the answer does not exist or is not theirs to study.
CREATE FUNCTION private.lessons_i_may_study(p_lesson_ids uuid[])
RETURNS TABLE (lesson_id uuid, course_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  me uuid := auth.uid();
  admin boolean := private.is_admin();
BEGIN
  RETURN QUERY
  SELECT l.id, m.course_id
  FROM public.course_lessons l
  JOIN public.course_modules m ON m.id = l.module_id
  JOIN public.courses c ON c.id = m.course_id
  WHERE l.id = ANY (p_lesson_ids)
    AND ((l.is_published AND m.is_published AND c.is_published
          AND EXISTS (SELECT 1 FROM public.enrollments e
                      WHERE e.user_id = me AND e.course_id = c.id
                        AND e.status IN ('active', 'completed')))
         OR c.instructor_id = me
         OR admin);
END;
$$;
GRANT EXECUTE ON FUNCTION private.lessons_i_may_study(uuid[]) TO authenticated;
