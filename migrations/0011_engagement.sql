-- Engagement: reviews, helpful votes, bookmarks and notifications (see server/src/db/engagement.rs).
--
-- What the database keeps true here, for every write path (the API, the sync engine, an admin's
-- SQL), not only for the HTTP handlers:
--   * a course review's `is_verified_purchase` is computed, never taken from the writer;
--   * helpful votes: one per user per review, never for one's own review, and each review's
--     `helpful_votes` follows them;
--   * a bookmark points at a course, lab or service that exists and that its writer may see,
--     and goes away with it.
--
-- Addition to the spec: the table `review_votes` (the spec has `helpful_votes` counters but no
-- record of who voted, so "one vote per user" could not be enforced).

-- Course reviews: verified purchase ------------------------------------------------------------

-- True when the reviewer holds an active or completed enrollment in the course and either the
-- course is free or they have a completed payment for it. Computed when the review is written or
-- edited (so it follows the reviewer's standing), whatever value the writer sent.
CREATE FUNCTION private.set_review_verified_purchase() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  NEW.is_verified_purchase := EXISTS (
    SELECT 1
    FROM public.enrollments e
    JOIN public.courses c ON c.id = e.course_id
    WHERE e.user_id = NEW.user_id AND e.course_id = NEW.course_id
      AND e.status IN ('active', 'completed')
      AND (c.price = 0
           OR EXISTS (SELECT 1 FROM public.payments p
                      WHERE p.user_id = NEW.user_id AND p.course_id = NEW.course_id
                        AND p.payment_status = 'completed')));
  RETURN NEW;
END;
$$;
CREATE TRIGGER course_reviews_verified_purchase
  BEFORE INSERT OR UPDATE OF rating, review_text, user_id, course_id, is_verified_purchase
  ON course_reviews
  FOR EACH ROW EXECUTE FUNCTION private.set_review_verified_purchase();

-- A vote moves `helpful_votes`, not the review's `updated_at` (which says when its author last
-- edited it). Runs after `set_updated_at` (triggers fire in name order) and undoes its stamp
-- when nothing but the vote count changed.
CREATE FUNCTION private.keep_review_updated_at() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF (to_jsonb(NEW) - 'helpful_votes' - 'updated_at') = (to_jsonb(OLD) - 'helpful_votes' - 'updated_at') THEN
    NEW.updated_at := OLD.updated_at;
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER votes_keep_updated_at BEFORE UPDATE OF helpful_votes ON course_reviews
  FOR EACH ROW EXECUTE FUNCTION private.keep_review_updated_at();
CREATE TRIGGER votes_keep_updated_at BEFORE UPDATE OF helpful_votes ON lab_reviews
  FOR EACH ROW EXECUTE FUNCTION private.keep_review_updated_at();

-- Helpful votes ------------------------------------------------------------------------------

CREATE TABLE review_votes (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  course_review_id uuid REFERENCES course_reviews(id) ON DELETE CASCADE,
  lab_review_id uuid REFERENCES lab_reviews(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- A vote is for exactly one review, of a course or of a lab.
  CHECK (num_nonnulls(course_review_id, lab_review_id) = 1),
  -- One vote per user per review (NULLs are distinct, so each constraint covers one kind).
  UNIQUE (user_id, course_review_id),
  UNIQUE (user_id, lab_review_id)
);
-- user_id leads both UNIQUE indexes; the review columns need their own (foreign keys, counts).
CREATE INDEX idx_review_votes_course_review ON review_votes (course_review_id);
CREATE INDEX idx_review_votes_lab_review ON review_votes (lab_review_id);

-- Nobody votes for their own review, whoever writes the row. SECURITY DEFINER: it reads the
-- review's author whether or not the writer may see the review.
CREATE FUNCTION private.guard_review_vote() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM public.course_reviews r
             WHERE r.id = NEW.course_review_id AND r.user_id = NEW.user_id)
     OR EXISTS (SELECT 1 FROM public.lab_reviews r
                WHERE r.id = NEW.lab_review_id AND r.user_id = NEW.user_id) THEN
    RAISE EXCEPTION 'own_review' USING ERRCODE = 'check_violation',
      DETAIL = 'You cannot vote for your own review.';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER guard_review_vote BEFORE INSERT OR UPDATE ON review_votes
  FOR EACH ROW EXECUTE FUNCTION private.guard_review_vote();

-- helpful_votes: increments under the review row's lock (never a recount). When a review is
-- deleted its votes go with it; their decrements then find no row, which is right.
CREATE FUNCTION private.update_review_helpful_votes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE public.course_reviews SET helpful_votes = helpful_votes - 1 WHERE id = OLD.course_review_id;
    UPDATE public.lab_reviews SET helpful_votes = helpful_votes - 1 WHERE id = OLD.lab_review_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE public.course_reviews SET helpful_votes = helpful_votes + 1 WHERE id = NEW.course_review_id;
    UPDATE public.lab_reviews SET helpful_votes = helpful_votes + 1 WHERE id = NEW.lab_review_id;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER review_votes_helpful_insert_delete AFTER INSERT OR DELETE ON review_votes
  FOR EACH ROW EXECUTE FUNCTION private.update_review_helpful_votes();
CREATE TRIGGER review_votes_helpful_update AFTER UPDATE OF course_review_id, lab_review_id
  ON review_votes FOR EACH ROW
  WHEN (OLD.course_review_id IS DISTINCT FROM NEW.course_review_id
        OR OLD.lab_review_id IS DISTINCT FROM NEW.lab_review_id)
  EXECUTE FUNCTION private.update_review_helpful_votes();

-- Who voted is private: a voter sees their own votes, admins all; the review's author and
-- everyone else see only the count. A voter may vote for a review they can see (the
-- sub-selects run under the voter's own RLS) and take the vote back; moving a vote is an
-- admin's.
ALTER TABLE review_votes ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON review_votes TO anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON review_votes TO authenticated, service_role;

CREATE POLICY review_votes_select ON review_votes FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));
CREATE POLICY review_votes_insert ON review_votes FOR INSERT TO authenticated
  WITH CHECK (
    (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()))
    AND (review_votes.course_review_id IS NULL
         OR EXISTS (SELECT 1 FROM public.course_reviews r WHERE r.id = review_votes.course_review_id))
    AND (review_votes.lab_review_id IS NULL
         OR EXISTS (SELECT 1 FROM public.lab_reviews r WHERE r.id = review_votes.lab_review_id)));
CREATE POLICY review_votes_update ON review_votes FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY review_votes_delete ON review_votes FOR DELETE TO authenticated
  USING (user_id = (SELECT auth.uid()) OR (SELECT private.is_admin()));

-- Bookmarks ----------------------------------------------------------------------------------

-- A bookmark's course, lab or service must exist and be visible to whoever writes the bookmark.
-- SECURITY INVOKER on purpose: the look-up runs under the writer's RLS, so a learner cannot
-- bookmark (and so learn of) an unpublished course; the server's own paths see everything.
-- Raises foreign_key_violation, as a real foreign key would.
CREATE FUNCTION private.check_bookmark_target() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  -- Parenthesised: PL/pgSQL would otherwise end the IF's condition at the CASE's first THEN.
  IF NOT (CASE NEW.entity_type
            WHEN 'course' THEN EXISTS (SELECT 1 FROM public.courses WHERE id = NEW.entity_id)
            WHEN 'lab' THEN EXISTS (SELECT 1 FROM public.labs WHERE id = NEW.entity_id)
            WHEN 'service' THEN EXISTS (SELECT 1 FROM public.services WHERE id = NEW.entity_id)
            ELSE false
          END) THEN
    RAISE EXCEPTION 'bookmark_target_missing' USING ERRCODE = 'foreign_key_violation',
      DETAIL = format('There is no %s with id %s.', NEW.entity_type, NEW.entity_id);
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER check_bookmark_target BEFORE INSERT OR UPDATE OF entity_type, entity_id
  ON user_bookmarks FOR EACH ROW EXECUTE FUNCTION private.check_bookmark_target();

-- ...and a bookmark goes away with what it points at (the deleting instructor or admin may not
-- reach learners' bookmarks, hence SECURITY DEFINER).
CREATE FUNCTION private.forget_bookmarks() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  DELETE FROM public.user_bookmarks WHERE entity_type = TG_ARGV[0] AND entity_id = OLD.id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER forget_bookmarks AFTER DELETE ON courses
  FOR EACH ROW EXECUTE FUNCTION private.forget_bookmarks('course');
CREATE TRIGGER forget_bookmarks AFTER DELETE ON labs
  FOR EACH ROW EXECUTE FUNCTION private.forget_bookmarks('lab');
CREATE TRIGGER forget_bookmarks AFTER DELETE ON services
  FOR EACH ROW EXECUTE FUNCTION private.forget_bookmarks('service');

-- Lists, newest first ------------------------------------------------------------------------

CREATE INDEX idx_course_reviews_course_created ON course_reviews (course_id, created_at DESC, id DESC);
CREATE INDEX idx_lab_reviews_lab_created ON lab_reviews (lab_id, created_at DESC, id DESC);
CREATE INDEX idx_user_bookmarks_user_created ON user_bookmarks (user_id, created_at DESC, id DESC);
CREATE INDEX idx_user_bookmarks_entity ON user_bookmarks (entity_type, entity_id);
CREATE INDEX idx_notifications_user_created ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX idx_notifications_user_unread ON notifications (user_id, created_at DESC, id DESC)
  WHERE read_at IS NULL;
