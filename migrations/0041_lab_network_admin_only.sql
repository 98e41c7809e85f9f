-- Issue 14, finding 5: only admins give a lab network access. A template ending in `-net`
-- gives the lab's shell a network (of its own, filtered: server/src/labs/network.rs); an
-- instructor may author everything else of a lab, but setting or changing such a template
-- through the API (as `authenticated`) needs an admin. The server's own writes (seed-demo,
-- migrations, the owner) are not API requests and are not checked. Keeping a template that an
-- admin set while editing other fields is fine.

CREATE FUNCTION private.guard_lab_network()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  -- Not SECURITY DEFINER: current_user is the role of the request.
  IF NEW.environment_template LIKE '%-net'
     AND (TG_OP = 'INSERT' OR OLD.environment_template IS DISTINCT FROM NEW.environment_template)
     AND current_user = 'authenticated'
     AND NOT (SELECT private.is_admin()) THEN
    RAISE EXCEPTION 'lab_network_admin_only'
      USING DETAIL = 'Only an administrator can give a lab network access (a template ending in -net); ask one, or use the offline template.';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER labs_network_admin_only
  BEFORE INSERT OR UPDATE OF environment_template ON labs
  FOR EACH ROW EXECUTE FUNCTION private.guard_lab_network();
