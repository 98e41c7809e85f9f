-- The spec's 31 tables. Every column, type, default, UNIQUE, CHECK and foreign key of the spec is
-- here as written; where we are stricter (NOT NULL on flags, counters, timestamps and parent
-- keys; range CHECKs; a few closed vocabularies) docs/decisions.md says why. Additions to the
-- spec: labs.instructor_id (labs need an owner for "instructors manage their own labs"),
-- course_lessons.content_body (a text lesson's markdown) and UNIQUE (attempt_id, question_id)
-- on answers (one saved answer per question per attempt).

-- 1. profiles
CREATE TABLE profiles (
  id uuid PRIMARY KEY REFERENCES auth.users(id) ON DELETE CASCADE,
  email text UNIQUE NOT NULL,
  full_name text CHECK (length(full_name) <= 200),
  avatar_url text,
  role user_role NOT NULL DEFAULT 'student',
  company text,
  experience_level difficulty_level DEFAULT 'Beginner',
  bio text CHECK (length(bio) <= 5000),
  phone text,
  timezone text NOT NULL DEFAULT 'UTC',
  language text NOT NULL DEFAULT 'en',
  notification_preferences jsonb NOT NULL DEFAULT '{"email": true, "push": true, "sms": false}'
    CHECK (jsonb_typeof(notification_preferences) = 'object'),
  preferences jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(preferences) = 'object'),
  last_login timestamptz,
  login_count integer NOT NULL DEFAULT 0 CHECK (login_count >= 0),
  is_verified boolean NOT NULL DEFAULT false,
  subscription_tier text NOT NULL DEFAULT 'free',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 2. services
CREATE TABLE services (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  slug text UNIQUE NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  title text NOT NULL,
  description text NOT NULL,
  icon text NOT NULL,
  image_url text,
  is_active boolean NOT NULL DEFAULT true,
  sort_order integer NOT NULL DEFAULT 0,
  color text,
  featured boolean NOT NULL DEFAULT false,
  course_count integer NOT NULL DEFAULT 0 CHECK (course_count >= 0),
  student_count integer NOT NULL DEFAULT 0 CHECK (student_count >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 3. courses
CREATE TABLE courses (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  slug text UNIQUE NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  title text NOT NULL,
  description text NOT NULL,
  duration text NOT NULL,
  level difficulty_level NOT NULL,
  price decimal(10,2) NOT NULL DEFAULT 0 CHECK (price >= 0),
  instructor_id uuid REFERENCES profiles(id),
  rating decimal(3,2) NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
  student_count integer NOT NULL DEFAULT 0 CHECK (student_count >= 0),
  image_url text,
  features text[] NOT NULL DEFAULT '{}',
  objectives text[] NOT NULL DEFAULT '{}',
  prerequisites text[] NOT NULL DEFAULT '{}',
  video_url text,
  preview_video_url text,
  certificate_template_id uuid,
  max_students integer CHECK (max_students > 0),
  start_date timestamptz,
  end_date timestamptz,
  enrollment_deadline timestamptz,
  tags text[] NOT NULL DEFAULT '{}',
  language text NOT NULL DEFAULT 'en',
  subtitles text[] NOT NULL DEFAULT '{}',
  is_published boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);

-- 4. course_modules
CREATE TABLE course_modules (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  course_id uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  title text NOT NULL,
  description text,
  duration_minutes integer CHECK (duration_minutes >= 0),
  sort_order integer NOT NULL DEFAULT 0,
  is_published boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 5. course_lessons
CREATE TABLE course_lessons (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  module_id uuid NOT NULL REFERENCES course_modules(id) ON DELETE CASCADE,
  title text NOT NULL,
  description text,
  content_type text NOT NULL CHECK (content_type IN ('video', 'text', 'quiz', 'lab', 'assignment')),
  content_url text,
  -- Not in the spec: a text lesson's markdown. Kept in the row (not behind content_url) so RLS
  -- guards it like the rest of the lesson and the sync feed carries it offline.
  content_body text,
  duration_minutes integer CHECK (duration_minutes >= 0),
  sort_order integer NOT NULL DEFAULT 0,
  is_published boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 6. lab_categories
CREATE TABLE lab_categories (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  slug text UNIQUE NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  name text NOT NULL,
  description text NOT NULL,
  icon text NOT NULL,
  lab_count integer NOT NULL DEFAULT 0 CHECK (lab_count >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 7. labs
CREATE TABLE labs (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  category_id uuid REFERENCES lab_categories(id) ON DELETE SET NULL,
  -- Not in the spec: the instructor who authors the lab (NULL: the platform's own).
  instructor_id uuid REFERENCES profiles(id) ON DELETE SET NULL,
  slug text UNIQUE NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  title text NOT NULL,
  description text NOT NULL,
  difficulty difficulty_level NOT NULL,
  duration text NOT NULL,
  technology text[] NOT NULL DEFAULT '{}',
  provider text NOT NULL,
  rating decimal(3,2) NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
  student_count integer NOT NULL DEFAULT 0 CHECK (student_count >= 0),
  image_url text,
  features text[] NOT NULL DEFAULT '{}',
  objectives text[] NOT NULL DEFAULT '{}',
  prerequisites text[] NOT NULL DEFAULT '{}',
  instructions text,
  environment_template text,
  docker_image text,
  resource_requirements jsonb NOT NULL DEFAULT '{"cpu": 1, "memory": 2, "storage": 10}'
    CHECK (jsonb_typeof(resource_requirements) = 'object'),
  max_concurrent_users integer NOT NULL DEFAULT 100 CHECK (max_concurrent_users > 0),
  estimated_cost decimal(10,4) NOT NULL DEFAULT 0 CHECK (estimated_cost >= 0),
  setup_instructions text,
  cleanup_instructions text,
  related_courses uuid[] NOT NULL DEFAULT '{}',
  is_popular boolean NOT NULL DEFAULT false,
  is_free boolean NOT NULL DEFAULT false,
  is_published boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 8. enrollments
CREATE TABLE enrollments (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  course_id uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  status enrollment_status NOT NULL DEFAULT 'active',
  enrolled_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  progress_percentage integer NOT NULL DEFAULT 0 CHECK (progress_percentage BETWEEN 0 AND 100),
  UNIQUE (user_id, course_id)
);

-- 9. user_progress
CREATE TABLE user_progress (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  course_id uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  module_id uuid REFERENCES course_modules(id) ON DELETE CASCADE,
  lesson_id uuid NOT NULL REFERENCES course_lessons(id) ON DELETE CASCADE,
  progress_percentage integer NOT NULL DEFAULT 0 CHECK (progress_percentage BETWEEN 0 AND 100),
  time_spent_minutes integer NOT NULL DEFAULT 0 CHECK (time_spent_minutes >= 0),
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, lesson_id)
);

-- 10. lab_sessions
CREATE TABLE lab_sessions (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  lab_id uuid NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
  session_id text UNIQUE NOT NULL,
  status lab_session_status NOT NULL DEFAULT 'starting',
  started_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  duration_minutes integer CHECK (duration_minutes >= 0),
  environment_data jsonb NOT NULL DEFAULT '{}',
  progress_data jsonb NOT NULL DEFAULT '{}',
  environment_id text,
  resource_usage jsonb NOT NULL DEFAULT '{}',
  cost_estimate decimal(10,4) NOT NULL DEFAULT 0 CHECK (cost_estimate >= 0),
  auto_save_enabled boolean NOT NULL DEFAULT true,
  last_activity timestamptz NOT NULL DEFAULT now()
);

-- 11. cloud_environments
CREATE TABLE cloud_environments (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  lab_id uuid NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
  session_id text UNIQUE NOT NULL,
  environment_id text UNIQUE,
  status environment_status NOT NULL DEFAULT 'creating',
  template_name text NOT NULL,
  resource_config jsonb NOT NULL DEFAULT '{"cpu": 1, "memory": 2, "storage": 10}'
    CHECK (jsonb_typeof(resource_config) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  stopped_at timestamptz,
  last_activity timestamptz NOT NULL DEFAULT now(),
  auto_stop_minutes integer NOT NULL DEFAULT 120 CHECK (auto_stop_minutes > 0)
);

-- 12. assessments
CREATE TABLE assessments (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  course_id uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  title text NOT NULL,
  description text,
  type assessment_type NOT NULL,
  time_limit_minutes integer CHECK (time_limit_minutes > 0),
  -- NULL: unlimited attempts.
  max_attempts integer DEFAULT 1 CHECK (max_attempts > 0),
  passing_score integer NOT NULL DEFAULT 70 CHECK (passing_score BETWEEN 0 AND 100),
  is_published boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 13. assessment_questions (correct_answer and explanation are secret from learners: see RLS)
CREATE TABLE assessment_questions (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  assessment_id uuid NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
  question_text text NOT NULL,
  question_type question_type NOT NULL,
  options jsonb NOT NULL DEFAULT '{}',
  correct_answer text,
  points integer NOT NULL DEFAULT 1 CHECK (points >= 0),
  explanation text,
  sort_order integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 14. user_assessment_attempts
CREATE TABLE user_assessment_attempts (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  assessment_id uuid NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
  attempt_number integer NOT NULL CHECK (attempt_number >= 1),
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  score integer CHECK (score BETWEEN 0 AND 100),
  passed boolean NOT NULL DEFAULT false,
  time_taken_minutes integer CHECK (time_taken_minutes >= 0),
  UNIQUE (user_id, assessment_id, attempt_number)
);

-- 15. user_assessment_answers
CREATE TABLE user_assessment_answers (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  attempt_id uuid NOT NULL REFERENCES user_assessment_attempts(id) ON DELETE CASCADE,
  question_id uuid NOT NULL REFERENCES assessment_questions(id) ON DELETE CASCADE,
  answer_text text,
  is_correct boolean,
  points_earned integer NOT NULL DEFAULT 0 CHECK (points_earned >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (attempt_id, question_id)
);

-- 16. course_reviews
CREATE TABLE course_reviews (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  course_id uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  rating integer NOT NULL CHECK (rating >= 1 AND rating <= 5),
  review_text text CHECK (length(review_text) <= 10000),
  is_verified_purchase boolean NOT NULL DEFAULT false,
  helpful_votes integer NOT NULL DEFAULT 0 CHECK (helpful_votes >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, course_id)
);

-- 17. lab_reviews
CREATE TABLE lab_reviews (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  lab_id uuid NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
  rating integer NOT NULL CHECK (rating >= 1 AND rating <= 5),
  review_text text CHECK (length(review_text) <= 10000),
  difficulty_rating integer CHECK (difficulty_rating >= 1 AND difficulty_rating <= 5),
  time_accuracy_rating integer CHECK (time_accuracy_rating >= 1 AND time_accuracy_rating <= 5),
  helpful_votes integer NOT NULL DEFAULT 0 CHECK (helpful_votes >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, lab_id)
);

-- 18. payments
CREATE TABLE payments (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  course_id uuid REFERENCES courses(id),
  amount decimal(10,2) NOT NULL CHECK (amount >= 0),
  currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  payment_method payment_method NOT NULL,
  payment_status payment_status NOT NULL DEFAULT 'pending',
  stripe_payment_intent_id text,
  paypal_payment_id text,
  billing_address jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 19. subscriptions
CREATE TABLE subscriptions (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  plan_name text NOT NULL,
  plan_price decimal(10,2) NOT NULL CHECK (plan_price >= 0),
  billing_cycle text NOT NULL CHECK (billing_cycle IN ('monthly', 'yearly')),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled', 'expired')),
  stripe_subscription_id text,
  current_period_start timestamptz,
  current_period_end timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 20. user_files
CREATE TABLE user_files (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  environment_id uuid REFERENCES cloud_environments(id) ON DELETE CASCADE,
  filename text NOT NULL,
  original_filename text NOT NULL,
  file_path text NOT NULL,
  file_type file_type NOT NULL,
  file_size bigint NOT NULL CHECK (file_size >= 0),
  mime_type text NOT NULL,
  is_directory boolean NOT NULL DEFAULT false,
  parent_directory_id uuid REFERENCES user_files(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 21. content_uploads
CREATE TABLE content_uploads (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  uploader_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  filename text NOT NULL,
  original_filename text NOT NULL,
  file_size bigint NOT NULL CHECK (file_size >= 0),
  mime_type text NOT NULL,
  file_url text NOT NULL,
  entity_type text,
  entity_id uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- 22. notifications
CREATE TABLE notifications (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  title text NOT NULL,
  message text NOT NULL,
  notification_type notification_type NOT NULL DEFAULT 'in_app',
  notification_status notification_status NOT NULL DEFAULT 'sent',
  entity_type text,
  entity_id uuid,
  read_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- 23. user_activities
CREATE TABLE user_activities (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  activity_type activity_type NOT NULL,
  entity_type text,
  entity_id uuid,
  metadata jsonb NOT NULL DEFAULT '{}',
  ip_address inet,
  user_agent text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- 24. analytics_events (user_id NULL: an anonymous visitor's event)
CREATE TABLE analytics_events (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid REFERENCES profiles(id) ON DELETE CASCADE,
  event_name text NOT NULL CHECK (length(event_name) BETWEEN 1 AND 200),
  event_data jsonb NOT NULL DEFAULT '{}',
  session_id text,
  page_url text,
  referrer text,
  user_agent text,
  ip_address inet,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- 25. user_bookmarks
CREATE TABLE user_bookmarks (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  entity_type text NOT NULL CHECK (entity_type IN ('course', 'lab', 'service')),
  entity_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, entity_type, entity_id)
);

-- 26. course_tags
CREATE TABLE course_tags (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  name text UNIQUE NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  description text,
  color text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- 27. course_tag_relationships
CREATE TABLE course_tag_relationships (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  course_id uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  tag_id uuid NOT NULL REFERENCES course_tags(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (course_id, tag_id)
);

-- 28. course_prerequisites and lab_prerequisites
CREATE TABLE course_prerequisites (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  course_id uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  prerequisite_course_id uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (course_id, prerequisite_course_id),
  CHECK (course_id <> prerequisite_course_id)
);

CREATE TABLE lab_prerequisites (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  lab_id uuid NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
  prerequisite_lab_id uuid NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (lab_id, prerequisite_lab_id),
  CHECK (lab_id <> prerequisite_lab_id)
);

-- 29. system_settings
CREATE TABLE system_settings (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  setting_key text UNIQUE NOT NULL,
  setting_value jsonb NOT NULL,
  description text,
  is_public boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- 30. certificates
CREATE TABLE certificates (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  course_id uuid NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  certificate_number text UNIQUE NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  certificate_url text,
  is_valid boolean NOT NULL DEFAULT true
);
