-- Replaces `private.on_progress` of 0010: a course's progress and completion are refreshed
-- only when a lesson's completion changes. A new progress row that is not completed changes
-- neither the count of completed lessons nor the total, so refreshing for it (a locked
-- enrollment and a count over the course's lessons, for every offline write synced) only cost
-- time: it halved the rate of pushed progress writes on lessons not started yet.
CREATE OR REPLACE FUNCTION private.on_progress() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM private.record_activity(NEW.user_id, 'course_start', 'course', NEW.course_id)
    WHERE NOT EXISTS (SELECT 1 FROM public.user_progress
                      WHERE user_id = NEW.user_id AND course_id = NEW.course_id AND id <> NEW.id);
  END IF;
  IF (TG_OP = 'INSERT' AND NEW.completed_at IS NOT NULL)
     OR (TG_OP = 'UPDATE' AND NEW.completed_at IS DISTINCT FROM OLD.completed_at) THEN
    PERFORM private.refresh_enrollment(NEW.user_id, NEW.course_id);
  END IF;
  RETURN NULL;
END;
$$;
