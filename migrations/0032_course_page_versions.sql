-- A version per course page, for the server's cache of course pages
-- (server/src/course_page_cache.rs).
--
-- The page a learner or visitor sees of a published course is the same for everyone except
-- their enrollment (and, through it, whether the lessons are listed). The server keeps the
-- shared part in memory, keyed by course and by the version below, and reads the version in the
-- same statement as the caller's enrollment on every request: a page cached at another version
-- is never served, whichever server process made the change. So the version must change, in the
-- same transaction, with everything the shared part shows:
--   * the course row itself (its fields, publication, rating and learner count, instructor);
--   * its modules and their lessons (added, edited, moved, published, removed);
--   * its prerequisites, and the slug, title and publication of every course it requires;
--   * its instructor's public card (name, avatar, bio, role).
-- Versions come from one sequence, so they only ever grow, even across a row's deletion.
-- The triggers are per statement with transition tables: a bulk load of a thousand lessons
-- moves its course's version once, not a thousand times.

CREATE SEQUENCE private.course_page_version_seq;

CREATE TABLE private.course_page_versions (
  course_id uuid PRIMARY KEY,
  version bigint NOT NULL
);

-- Counters with no content: any caller may read them (the server reads them under the
-- caller's role, joined to the course rows RLS lets them see).
ALTER TABLE private.course_page_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY course_page_versions_select ON private.course_page_versions FOR SELECT
  TO anon, authenticated USING (true);
GRANT SELECT ON private.course_page_versions TO anon, authenticated, service_role;

INSERT INTO private.course_page_versions (course_id, version)
SELECT id, nextval('private.course_page_version_seq') FROM public.courses;

-- Moves the versions of these courses' pages (ids in order, so two transactions bumping the
-- same courses lock them in the same order).
CREATE FUNCTION private.bump_course_pages(p_course_ids uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  INSERT INTO private.course_page_versions AS v (course_id, version)
  SELECT d.id, nextval('private.course_page_version_seq')
  FROM (SELECT DISTINCT u.id FROM unnest(p_course_ids) AS u(id) WHERE u.id IS NOT NULL
        ORDER BY u.id) d
  ON CONFLICT (course_id) DO UPDATE SET version = EXCLUDED.version;
END;
$$;

CREATE FUNCTION private.course_pages_on_courses() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM private.bump_course_pages(ARRAY(SELECT id FROM new_rows));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM private.bump_course_pages(ARRAY(
      SELECT id FROM new_rows
      UNION
      -- Pages that list a changed course among the courses they require.
      SELECT cp.course_id
      FROM new_rows n JOIN old_rows o ON o.id = n.id
      JOIN public.course_prerequisites cp ON cp.prerequisite_course_id = n.id
      WHERE (n.slug, n.title, n.is_published) IS DISTINCT FROM (o.slug, o.title, o.is_published)));
  ELSE
    PERFORM private.bump_course_pages(ARRAY(SELECT id FROM old_rows));
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER course_page_versions_insert AFTER INSERT ON public.courses
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_courses();
CREATE TRIGGER course_page_versions_update AFTER UPDATE ON public.courses
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_courses();
CREATE TRIGGER course_page_versions_delete AFTER DELETE ON public.courses
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_courses();

-- Modules and prerequisites name their course directly.
CREATE FUNCTION private.course_pages_on_course_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM private.bump_course_pages(ARRAY(SELECT course_id FROM new_rows));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM private.bump_course_pages(ARRAY(
      SELECT course_id FROM new_rows UNION SELECT course_id FROM old_rows));
  ELSE
    PERFORM private.bump_course_pages(ARRAY(SELECT course_id FROM old_rows));
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER course_page_versions_insert AFTER INSERT ON public.course_modules
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_course_rows();
CREATE TRIGGER course_page_versions_update AFTER UPDATE ON public.course_modules
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_course_rows();
CREATE TRIGGER course_page_versions_delete AFTER DELETE ON public.course_modules
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_course_rows();

CREATE TRIGGER course_page_versions_insert AFTER INSERT ON public.course_prerequisites
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_course_rows();
CREATE TRIGGER course_page_versions_update AFTER UPDATE ON public.course_prerequisites
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_course_rows();
CREATE TRIGGER course_page_versions_delete AFTER DELETE ON public.course_prerequisites
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_course_rows();

-- Lessons reach their course through their module. (A lesson deleted with its module finds no
-- module any more; the module's own trigger moves the course's version.)
CREATE FUNCTION private.course_pages_on_lessons() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM private.bump_course_pages(ARRAY(
      SELECT m.course_id FROM new_rows l JOIN public.course_modules m ON m.id = l.module_id));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM private.bump_course_pages(ARRAY(
      SELECT m.course_id
      FROM (SELECT module_id FROM new_rows UNION SELECT module_id FROM old_rows) l
      JOIN public.course_modules m ON m.id = l.module_id));
  ELSE
    PERFORM private.bump_course_pages(ARRAY(
      SELECT m.course_id FROM old_rows l JOIN public.course_modules m ON m.id = l.module_id));
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER course_page_versions_insert AFTER INSERT ON public.course_lessons
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_lessons();
CREATE TRIGGER course_page_versions_update AFTER UPDATE ON public.course_lessons
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_lessons();
CREATE TRIGGER course_page_versions_delete AFTER DELETE ON public.course_lessons
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_lessons();

-- An instructor's public card is on the pages of their courses. (Sign-ins update profiles
-- too; only the card's fields count.)
CREATE FUNCTION private.course_pages_on_profiles() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  PERFORM private.bump_course_pages(ARRAY(
    SELECT c.id
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    JOIN public.courses c ON c.instructor_id = n.id
    WHERE (n.full_name, n.avatar_url, n.bio, n.role)
          IS DISTINCT FROM (o.full_name, o.avatar_url, o.bio, o.role)));
  RETURN NULL;
END;
$$;

CREATE TRIGGER course_page_versions_update AFTER UPDATE ON public.profiles
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION private.course_pages_on_profiles();

-- Whether a user's public card is shown because of their role (instructor or admin) alone.
-- Any other user's card depends on their reviews elsewhere in the catalog
-- (public.public_profile_cards), which no course version follows: pages with such an
-- instructor are never cached.
CREATE FUNCTION private.card_is_public_by_role(p_user_id uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM public.profiles WHERE id = p_user_id AND role IN ('instructor', 'admin'));
END;
$$;
GRANT EXECUTE ON FUNCTION private.card_is_public_by_role(uuid) TO anon, authenticated;
