-- The spec's 14 enums, exactly. skilltrack-protocol mirrors each one; a test compares them.
CREATE TYPE user_role AS ENUM ('student', 'instructor', 'admin');
CREATE TYPE enrollment_status AS ENUM ('active', 'completed', 'cancelled');
CREATE TYPE lab_session_status AS ENUM ('starting', 'active', 'paused', 'completed', 'expired');
CREATE TYPE assessment_type AS ENUM ('quiz', 'assignment', 'final_exam');
CREATE TYPE question_type AS ENUM ('multiple_choice', 'true_false', 'short_answer', 'essay', 'code');
CREATE TYPE difficulty_level AS ENUM ('Beginner', 'Intermediate', 'Advanced');
CREATE TYPE payment_status AS ENUM ('pending', 'completed', 'failed', 'refunded');
CREATE TYPE payment_method AS ENUM ('credit_card', 'paypal', 'stripe', 'bank_transfer');
CREATE TYPE notification_type AS ENUM ('email', 'push', 'in_app', 'sms');
CREATE TYPE notification_status AS ENUM ('sent', 'delivered', 'read', 'failed');
CREATE TYPE activity_type AS ENUM (
  'login', 'course_start', 'course_complete', 'lab_start', 'lab_complete',
  'assessment_start', 'assessment_complete', 'payment', 'enrollment'
);
CREATE TYPE file_type AS ENUM ('image', 'document', 'video', 'audio', 'archive', 'code');
CREATE TYPE environment_status AS ENUM ('creating', 'running', 'paused', 'stopped', 'error', 'deleted');
