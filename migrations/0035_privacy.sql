-- Privacy findings of the security review (issue 14, finding 12): instructors see their
-- learners' names, not their contact details; analytics keep no full IP address; certificate
-- numbers cannot be guessed.

-- Instructors read a learner's name and picture through this function, never the profile row
-- (e-mail, phone, company, …): the seed's rule is that users access their own data.
DROP POLICY profiles_select ON profiles;
CREATE POLICY profiles_select ON profiles FOR SELECT TO authenticated
  USING (id = (SELECT auth.uid()) OR (SELECT private.is_admin()));

CREATE FUNCTION public.learner_cards(p_ids uuid[])
RETURNS TABLE (id uuid, full_name text, avatar_url text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT p.id, p.full_name, p.avatar_url
  FROM public.profiles p
  WHERE p.id = ANY (p_ids)
    AND (p.id = auth.uid() OR private.is_admin() OR private.teaches(p.id))
$$;
REVOKE EXECUTE ON FUNCTION public.learner_cards(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.learner_cards(uuid[]) TO authenticated, service_role;

-- Analytics are anonymised where possible: an IPv4 address keeps its /24, an IPv6 address its
-- /48 — enough for a country or a network, not for a person. Sessions (auth.sessions) keep the
-- full address: they are a security record the user reviews, not analytics.
CREATE FUNCTION private.truncated_ip(p_ip inet) RETURNS inet
LANGUAGE sql IMMUTABLE SET search_path = ''
AS $$
  SELECT CASE family(p_ip)
           WHEN 4 THEN set_masklen(network(set_masklen(p_ip, 24)), 32)
           ELSE set_masklen(network(set_masklen(p_ip, 48)), 128)
         END
$$;

GRANT EXECUTE ON FUNCTION private.truncated_ip(inet) TO anon, authenticated, service_role;

CREATE FUNCTION private.truncate_ip_address() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  NEW.ip_address := private.truncated_ip(NEW.ip_address);
  RETURN NEW;
END;
$$;
CREATE TRIGGER truncate_ip_address BEFORE INSERT OR UPDATE OF ip_address ON analytics_events
  FOR EACH ROW WHEN (NEW.ip_address IS NOT NULL)
  EXECUTE FUNCTION private.truncate_ip_address();
CREATE TRIGGER truncate_ip_address BEFORE INSERT OR UPDATE OF ip_address ON user_activities
  FOR EACH ROW WHEN (NEW.ip_address IS NOT NULL)
  EXECUTE FUNCTION private.truncate_ip_address();
UPDATE analytics_events SET ip_address = ip_address WHERE ip_address IS NOT NULL;
UPDATE user_activities SET ip_address = ip_address WHERE ip_address IS NOT NULL;

-- Replaces the version of 0010: 100 random bits (20 Crockford base32 characters) instead of
-- about 39, so numbers cannot be guessed: SKT-2026-7F3K9-QXMA2-0HBV4-TR8CW.
CREATE OR REPLACE FUNCTION private.new_certificate_number() RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = ''
AS $$
DECLARE
  alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  -- 244 random bits from two v4 UUIDs, mixed; 256 is a multiple of 32, so `% 32` is unbiased.
  bytes bytea := sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));
  code text := '';
BEGIN
  FOR i IN 0..19 LOOP
    code := code || substr(alphabet, (get_byte(bytes, i) % 32) + 1, 1);
  END LOOP;
  RETURN format('SKT-%s-%s-%s-%s-%s', to_char(now(), 'YYYY'), substr(code, 1, 5),
                substr(code, 6, 5), substr(code, 11, 5), substr(code, 16, 5));
END;
$$;
