-- The public face of a person: name and picture (and, for instructors, their bio), the only
-- profile fields anyone else may see. Profiles themselves stay private (0006); catalog pages
-- show instructors and review pages show reviewers through this function.
--
-- A card is returned only for someone who is public in the platform's eyes: an instructor or
-- admin, or the author of a review of a published course or lab. Anyone else's id yields no row.
CREATE FUNCTION public.public_profile_cards(p_ids uuid[])
RETURNS TABLE (id uuid, full_name text, avatar_url text, bio text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT p.id, p.full_name, p.avatar_url,
         CASE WHEN p.role IN ('instructor', 'admin') THEN p.bio END
  FROM public.profiles p
  WHERE p.id = ANY (p_ids)
    AND (p.role IN ('instructor', 'admin')
         OR EXISTS (SELECT 1 FROM public.course_reviews r JOIN public.courses c ON c.id = r.course_id
                    WHERE r.user_id = p.id AND c.is_published)
         OR EXISTS (SELECT 1 FROM public.lab_reviews r JOIN public.labs l ON l.id = r.lab_id
                    WHERE r.user_id = p.id AND l.is_published))
$$;
GRANT EXECUTE ON FUNCTION public.public_profile_cards(uuid[]) TO anon, authenticated, service_role;
