-- Triggers that keep timestamps, profiles, ratings and counters right.
--
-- The counter and rating triggers run as SECURITY DEFINER with an empty search_path: the acting
-- learner may not update the parent row (a course's rating, a service's counts), and every name
-- inside is schema-qualified. Counters move by increments under the parent row's lock, so
-- concurrent enrollments never lose an update.

-- updated_at, on every table that has the column.
CREATE FUNCTION public.update_updated_at_column() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END;
$$;

DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT c.table_schema, c.table_name
    FROM information_schema.columns c
    JOIN information_schema.tables tb USING (table_schema, table_name)
    WHERE c.column_name = 'updated_at'
      AND c.table_schema IN ('public', 'auth')
      AND tb.table_type = 'BASE TABLE'
  LOOP
    EXECUTE format(
      'CREATE TRIGGER set_updated_at BEFORE UPDATE ON %I.%I '
      'FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column()',
      t.table_schema, t.table_name);
  END LOOP;
END
$$;

-- A profile for every new account. The role is never taken from user-supplied metadata.
CREATE FUNCTION public.handle_new_user() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  INSERT INTO public.profiles (id, email, full_name, avatar_url)
  VALUES (NEW.id, NEW.email, NEW.raw_user_meta_data ->> 'full_name',
          NEW.raw_user_meta_data ->> 'avatar_url');
  RETURN NEW;
END;
$$;

CREATE TRIGGER on_auth_user_created
  AFTER INSERT ON auth.users
  FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();

-- The profile's e-mail follows the account's.
CREATE FUNCTION public.handle_user_email_change() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  UPDATE public.profiles SET email = NEW.email WHERE id = NEW.id;
  RETURN NEW;
END;
$$;

CREATE TRIGGER on_auth_user_email_changed
  AFTER UPDATE OF email ON auth.users
  FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email)
  EXECUTE FUNCTION public.handle_user_email_change();

-- Ratings: the average of the reviews, 0 when there are none. A review that moves to another
-- course (never through the API, but possible by hand) recomputes both.
CREATE FUNCTION public.update_course_rating() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  affected uuid;
BEGIN
  FOR affected IN
    SELECT DISTINCT x FROM unnest(ARRAY[
      CASE WHEN TG_OP <> 'INSERT' THEN OLD.course_id END,
      CASE WHEN TG_OP <> 'DELETE' THEN NEW.course_id END]) AS x
    WHERE x IS NOT NULL
  LOOP
    UPDATE public.courses
    SET rating = coalesce(
      (SELECT avg(r.rating)::decimal(3,2) FROM public.course_reviews r WHERE r.course_id = affected),
      0)
    WHERE id = affected;
  END LOOP;
  RETURN NULL;
END;
$$;

CREATE TRIGGER course_reviews_rating
  AFTER INSERT OR DELETE OR UPDATE OF rating, course_id ON course_reviews
  FOR EACH ROW EXECUTE FUNCTION public.update_course_rating();

CREATE FUNCTION public.update_lab_rating() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  affected uuid;
BEGIN
  FOR affected IN
    SELECT DISTINCT x FROM unnest(ARRAY[
      CASE WHEN TG_OP <> 'INSERT' THEN OLD.lab_id END,
      CASE WHEN TG_OP <> 'DELETE' THEN NEW.lab_id END]) AS x
    WHERE x IS NOT NULL
  LOOP
    UPDATE public.labs
    SET rating = coalesce(
      (SELECT avg(r.rating)::decimal(3,2) FROM public.lab_reviews r WHERE r.lab_id = affected),
      0)
    WHERE id = affected;
  END LOOP;
  RETURN NULL;
END;
$$;

CREATE TRIGGER lab_reviews_rating
  AFTER INSERT OR DELETE OR UPDATE OF rating, lab_id ON lab_reviews
  FOR EACH ROW EXECUTE FUNCTION public.update_lab_rating();

-- courses.student_count: enrollments that are not cancelled.
CREATE FUNCTION public.update_course_student_count() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'cancelled' THEN
    UPDATE public.courses SET student_count = student_count - 1 WHERE id = OLD.course_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'cancelled' THEN
    UPDATE public.courses SET student_count = student_count + 1 WHERE id = NEW.course_id;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER enrollments_student_count_insert_delete
  AFTER INSERT OR DELETE ON enrollments
  FOR EACH ROW EXECUTE FUNCTION public.update_course_student_count();
CREATE TRIGGER enrollments_student_count_update
  AFTER UPDATE OF status, course_id ON enrollments
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.course_id IS DISTINCT FROM NEW.course_id)
  EXECUTE FUNCTION public.update_course_student_count();

-- services.course_count counts published courses; services.student_count sums its courses'
-- student counts.
CREATE FUNCTION public.update_service_counts() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE public.services
    SET course_count = course_count - (CASE WHEN OLD.is_published THEN 1 ELSE 0 END),
        student_count = student_count - OLD.student_count
    WHERE id = OLD.service_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE public.services
    SET course_count = course_count + (CASE WHEN NEW.is_published THEN 1 ELSE 0 END),
        student_count = student_count + NEW.student_count
    WHERE id = NEW.service_id;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER courses_service_counts_insert_delete
  AFTER INSERT OR DELETE ON courses
  FOR EACH ROW EXECUTE FUNCTION public.update_service_counts();
CREATE TRIGGER courses_service_counts_update
  AFTER UPDATE OF is_published, service_id, student_count ON courses
  FOR EACH ROW
  WHEN (OLD.is_published IS DISTINCT FROM NEW.is_published
        OR OLD.service_id IS DISTINCT FROM NEW.service_id
        OR OLD.student_count IS DISTINCT FROM NEW.student_count)
  EXECUTE FUNCTION public.update_service_counts();

-- lab_categories.lab_count counts published labs.
CREATE FUNCTION public.update_lab_category_count() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.is_published THEN
    UPDATE public.lab_categories SET lab_count = lab_count - 1 WHERE id = OLD.category_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.is_published THEN
    UPDATE public.lab_categories SET lab_count = lab_count + 1 WHERE id = NEW.category_id;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER labs_category_count_insert_delete
  AFTER INSERT OR DELETE ON labs
  FOR EACH ROW EXECUTE FUNCTION public.update_lab_category_count();
CREATE TRIGGER labs_category_count_update
  AFTER UPDATE OF is_published, category_id ON labs
  FOR EACH ROW
  WHEN (OLD.is_published IS DISTINCT FROM NEW.is_published
        OR OLD.category_id IS DISTINCT FROM NEW.category_id)
  EXECUTE FUNCTION public.update_lab_category_count();

-- labs.student_count: distinct learners who have started the lab at least once. The lab row is
-- locked first, so two first sessions of one learner racing each other count once.
CREATE FUNCTION public.update_lab_student_count() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  s record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    s := NEW;
  ELSE
    s := OLD;
  END IF;
  PERFORM 1 FROM public.labs WHERE id = s.lab_id FOR UPDATE;
  IF NOT EXISTS (
    SELECT 1 FROM public.lab_sessions
    WHERE user_id = s.user_id AND lab_id = s.lab_id AND id <> s.id
  ) THEN
    UPDATE public.labs
    SET student_count = student_count + (CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END)
    WHERE id = s.lab_id;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER lab_sessions_student_count
  AFTER INSERT OR DELETE ON lab_sessions
  FOR EACH ROW EXECUTE FUNCTION public.update_lab_student_count();
