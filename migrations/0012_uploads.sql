-- Content uploads are stored by content (SHA-256) under the data directory and served at
-- /media/uploads/<sha256>; who may fetch one is decided by what refers to it, under the
-- caller's RLS role (server/src/db/uploads.rs). These indexes make that lookup cheap.
ALTER TABLE content_uploads ADD COLUMN sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$');
CREATE INDEX idx_content_uploads_file_url ON content_uploads (file_url);
CREATE INDEX idx_content_uploads_sha256 ON content_uploads (sha256);
CREATE INDEX idx_course_lessons_content_url ON course_lessons (content_url) WHERE content_url IS NOT NULL;
CREATE INDEX idx_courses_image_url ON courses (image_url) WHERE image_url IS NOT NULL;
CREATE INDEX idx_courses_preview_video_url ON courses (preview_video_url) WHERE preview_video_url IS NOT NULL;
CREATE INDEX idx_labs_image_url ON labs (image_url) WHERE image_url IS NOT NULL;
