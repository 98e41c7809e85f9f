-- Courses as code (docs/course-packages.md): the names a course package gives its modules,
-- lessons and assessments (a folder or file name without its order prefix), kept beside the
-- rows, so that pushing a folder again finds the rows it made (nothing is created twice, a
-- learner's progress stays on its lesson) and a pull writes the same file names back.
-- Rows made through the API have none until a pull names them.

ALTER TABLE public.course_modules ADD COLUMN package_slug text
  CHECK (package_slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(package_slug) <= 100);
ALTER TABLE public.assessments ADD COLUMN package_slug text
  CHECK (package_slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(package_slug) <= 100);
ALTER TABLE public.course_lessons ADD COLUMN package_slug text
  CHECK (package_slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(package_slug) <= 100);
-- A quiz or assignment lesson's assessment: the package says which, and the app can open it.
ALTER TABLE public.course_lessons ADD COLUMN assessment_id uuid
  REFERENCES public.assessments (id) ON DELETE SET NULL;

CREATE UNIQUE INDEX course_modules_package_slug_key ON public.course_modules (course_id, package_slug)
  WHERE package_slug IS NOT NULL;
CREATE UNIQUE INDEX assessments_package_slug_key ON public.assessments (course_id, package_slug)
  WHERE package_slug IS NOT NULL;
CREATE UNIQUE INDEX course_lessons_package_slug_key ON public.course_lessons (module_id, package_slug)
  WHERE package_slug IS NOT NULL;
CREATE INDEX course_lessons_assessment_id_idx ON public.course_lessons (assessment_id);

-- The columns an author writes are granted one by one (0006): the new ones join them.
GRANT INSERT (package_slug), UPDATE (package_slug) ON public.course_modules TO authenticated;
GRANT INSERT (package_slug), UPDATE (package_slug) ON public.assessments TO authenticated;
GRANT INSERT (package_slug, assessment_id), UPDATE (package_slug, assessment_id)
  ON public.course_lessons TO authenticated;

-- A lesson's assessment is one of its own course's: RLS would let an instructor who manages
-- two courses point a lesson of one at the other's quiz.
CREATE FUNCTION private.lesson_assessment_in_course() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF NEW.assessment_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM public.assessments a
    JOIN public.course_modules m ON m.course_id = a.course_id
    WHERE a.id = NEW.assessment_id AND m.id = NEW.module_id
  ) THEN
    RAISE EXCEPTION 'a lesson''s assessment belongs to the lesson''s course'
      USING ERRCODE = '23514', CONSTRAINT = 'course_lessons_assessment_in_course';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER lesson_assessment_in_course
  BEFORE INSERT OR UPDATE OF assessment_id, module_id ON public.course_lessons
  FOR EACH ROW EXECUTE FUNCTION private.lesson_assessment_in_course();
