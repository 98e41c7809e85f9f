-- `courses.tags` (what the catalog filters and searches) follows `course_tag_relationships`
-- (the spec's join table), whoever writes it: before this, only the authoring API wrote both.
-- The join table is the truth; `courses.tags` is derived, in name order, and no longer
-- writable by API roles.

CREATE FUNCTION private.refresh_course_tags(p_course uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$
  WITH derived AS (
    SELECT coalesce(array_agg(t.name ORDER BY t.name), '{}') AS tags
    FROM public.course_tag_relationships r JOIN public.course_tags t ON t.id = r.tag_id
    WHERE r.course_id = p_course)
  UPDATE public.courses c SET tags = derived.tags
  FROM derived
  WHERE c.id = p_course AND c.tags IS DISTINCT FROM derived.tags
$$;

CREATE FUNCTION private.on_course_tag_link() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM private.refresh_course_tags(NEW.course_id);
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM private.refresh_course_tags(OLD.course_id);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER on_course_tag_link AFTER INSERT OR UPDATE OR DELETE ON course_tag_relationships
  FOR EACH ROW EXECUTE FUNCTION private.on_course_tag_link();

CREATE FUNCTION private.on_course_tag_rename() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  PERFORM private.refresh_course_tags(r.course_id)
  FROM public.course_tag_relationships r WHERE r.tag_id = NEW.id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER on_course_tag_rename AFTER UPDATE OF name ON course_tags
  FOR EACH ROW WHEN (NEW.name IS DISTINCT FROM OLD.name)
  EXECUTE FUNCTION private.on_course_tag_rename();

REVOKE INSERT (tags), UPDATE (tags) ON courses FROM authenticated;

-- Bring every course in step now.
SELECT private.refresh_course_tags(id) FROM courses;
