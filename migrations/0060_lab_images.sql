-- Lab images (issue 16, item 5): the root filesystems labs run on. Each lab host keeps the
-- images it was given (server/src/labs/images.rs, `skilltrack-server lab-images …`); this table
-- lists them, so authors can choose one and a lab naming an image nobody imported is refused
-- when it is published, never run on the host's own tools. Rows are written by the server's
-- admin command (`skilltrack-server lab-images`, as the owner).

CREATE TABLE public.lab_images (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- What `labs.docker_image` names: `name` or `name:tag`.
  name text NOT NULL UNIQUE
    CHECK (name ~ '^[a-z0-9][a-z0-9._-]*(:[a-z0-9][a-z0-9._-]*)?$' AND length(name) <= 128),
  -- `sha256:…` of what was imported.
  digest text NOT NULL CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
  -- Where it came from, in words.
  source text NOT NULL CHECK (length(source) <= 1000),
  size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
  -- The login shell its terminal starts.
  shell text NOT NULL CHECK (shell IN ('/bin/bash', '/bin/sh')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.lab_images
  FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();

ALTER TABLE public.lab_images ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.lab_images TO authenticated, service_role;
-- Authors and admins choose images; learners have no use for the list. Like every table,
-- admins may change it (the import itself happens on a lab host, by its command).
CREATE POLICY lab_images_select ON public.lab_images FOR SELECT TO authenticated
  USING ((SELECT private.is_author()) OR (SELECT private.is_admin()));
CREATE POLICY lab_images_insert ON public.lab_images FOR INSERT TO authenticated
  WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY lab_images_update ON public.lab_images FOR UPDATE TO authenticated
  USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY lab_images_delete ON public.lab_images FOR DELETE TO authenticated
  USING ((SELECT private.is_admin()));

-- A published lab runs on an image this platform has, or on the host's tools (no image).
CREATE FUNCTION private.guard_lab_image() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF NEW.is_published AND NEW.docker_image IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM public.lab_images i WHERE i.name = NEW.docker_image) THEN
    RAISE EXCEPTION 'lab_image_missing'
      USING ERRCODE = 'P0001',
            DETAIL = format('No lab image is called %L: an admin imports it first '
                            '(skilltrack-server lab-images import), or the lab names another.',
                            NEW.docker_image);
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER guard_lab_image BEFORE INSERT OR UPDATE OF is_published, docker_image
  ON public.labs FOR EACH ROW EXECUTE FUNCTION private.guard_lab_image();
