-- A video lesson's poster (the picture shown before it plays) and its captions: WebVTT tracks,
-- one per language (docs/course-packages.md, `poster:` and `captions.<language>:`). Both are
-- media like `content_url`: an http(s) URL or a `/media/…` path of an upload. Captions are a
-- small list read and written with the lesson, so they sit in the row (and reach the offline
-- cache with it, under the lesson's own RLS) rather than in a table of their own.

ALTER TABLE public.course_lessons ADD COLUMN poster_url text
  CHECK (length(poster_url) BETWEEN 1 AND 2048);
ALTER TABLE public.course_lessons ADD COLUMN captions jsonb NOT NULL DEFAULT '[]'::jsonb
  CHECK (jsonb_typeof(captions) = 'array' AND jsonb_array_length(captions) <= 20);

-- The columns an author writes are granted with the table (0006); said again, as 0062 does.
GRANT INSERT (poster_url, captions), UPDATE (poster_url, captions)
  ON public.course_lessons TO authenticated;
