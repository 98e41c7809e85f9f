-- The spec's indexes, then one for every foreign key that no index leads with, then the columns
-- that RLS policies filter on. tests/db/schema.rs checks that no foreign key lacks an index.

-- From the spec.
CREATE INDEX idx_user_progress_user_course ON user_progress(user_id, course_id);
CREATE INDEX idx_lab_sessions_user_lab ON lab_sessions(user_id, lab_id);
CREATE INDEX idx_cloud_environments_user_status ON cloud_environments(user_id, status);
CREATE INDEX idx_user_activities_user_type ON user_activities(user_id, activity_type);
CREATE INDEX idx_payments_user_status ON payments(user_id, payment_status);
CREATE INDEX idx_notifications_user_status ON notifications(user_id, notification_status);
CREATE INDEX idx_course_reviews_course_rating ON course_reviews(course_id, rating);
CREATE INDEX idx_lab_reviews_lab_rating ON lab_reviews(lab_id, rating);
CREATE INDEX idx_analytics_events_user_time ON analytics_events(user_id, created_at);
CREATE INDEX idx_user_files_user_path ON user_files(user_id, file_path);

-- Foreign keys (the ones a UNIQUE constraint or an index above does not already lead with).
CREATE INDEX idx_courses_service ON courses(service_id);
CREATE INDEX idx_courses_instructor ON courses(instructor_id);
CREATE INDEX idx_course_modules_course_order ON course_modules(course_id, sort_order);
CREATE INDEX idx_course_lessons_module_order ON course_lessons(module_id, sort_order);
CREATE INDEX idx_labs_category ON labs(category_id);
CREATE INDEX idx_labs_instructor ON labs(instructor_id);
CREATE INDEX idx_enrollments_course ON enrollments(course_id);
CREATE INDEX idx_user_progress_course ON user_progress(course_id);
CREATE INDEX idx_user_progress_module ON user_progress(module_id);
CREATE INDEX idx_user_progress_lesson ON user_progress(lesson_id);
CREATE INDEX idx_lab_sessions_lab ON lab_sessions(lab_id);
CREATE INDEX idx_cloud_environments_lab ON cloud_environments(lab_id);
CREATE INDEX idx_assessments_course ON assessments(course_id);
CREATE INDEX idx_assessment_questions_assessment_order ON assessment_questions(assessment_id, sort_order);
CREATE INDEX idx_attempts_assessment ON user_assessment_attempts(assessment_id);
CREATE INDEX idx_answers_question ON user_assessment_answers(question_id);
CREATE INDEX idx_payments_course ON payments(course_id);
CREATE INDEX idx_subscriptions_user ON subscriptions(user_id);
CREATE INDEX idx_user_files_environment ON user_files(environment_id);
CREATE INDEX idx_user_files_parent ON user_files(parent_directory_id);
CREATE INDEX idx_content_uploads_uploader ON content_uploads(uploader_id);
CREATE INDEX idx_content_uploads_entity ON content_uploads(entity_type, entity_id);
CREATE INDEX idx_course_tag_relationships_tag ON course_tag_relationships(tag_id);
CREATE INDEX idx_course_prerequisites_prerequisite ON course_prerequisites(prerequisite_course_id);
CREATE INDEX idx_lab_prerequisites_prerequisite ON lab_prerequisites(prerequisite_lab_id);
CREATE INDEX idx_certificates_user ON certificates(user_id);
CREATE INDEX idx_certificates_course ON certificates(course_id);

-- Columns RLS policies filter on (the rest are primary keys or covered above).
CREATE INDEX idx_profiles_role ON profiles(role);
CREATE INDEX idx_services_active ON services(is_active);
CREATE INDEX idx_courses_published ON courses(is_published);
CREATE INDEX idx_course_modules_published ON course_modules(is_published);
CREATE INDEX idx_labs_published ON labs(is_published);
CREATE INDEX idx_assessments_published ON assessments(is_published);
CREATE INDEX idx_system_settings_public ON system_settings(is_public);
CREATE INDEX idx_analytics_events_created ON analytics_events(created_at);
