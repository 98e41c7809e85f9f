//! The "world" the access-control tests run against: five personas, and for each of the 31
//! tables of the public schema at least one row worth protecting, all with fixed ids.
//!
//! * [`persona::LEARNER`] is enrolled (active) in the instructor's published course [`C1`] and
//!   owns one of everything a learner can own: progress, an attempt with an answer, a course
//!   review, a lab session with its cloud environment and a file, a payment, a subscription, a
//!   notification, an activity, an analytics event, a bookmark and a certificate.
//! * [`persona::OTHER_LEARNER`] is a classmate, also enrolled in [`C1`], with a few rows of
//!   their own (enrollment, progress, attempt and answer, lab session, notification): the
//!   strongest case for "own rows only".
//! * [`persona::INSTRUCTOR`] owns [`C1`] (published, with a published module, two published
//!   lessons and a published assessment with questions), [`C2`] (unpublished, with a published
//!   module and a draft lesson), labs [`L1`] (published) and [`L2`] (unpublished), and an upload.
//! * [`persona::OTHER_INSTRUCTOR`] owns the published course [`C3`] and nothing of the
//!   instructor's.
//! * [`persona::ADMIN`] is an admin.
//!
//! [`load_world`] writes it all as the schema owner (RLS does not apply to it).

use skilltrack_server::db::session::{self, Access, Caller};
use sqlx::postgres::PgPool;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// A fixed, recognisable id: `00000000-0000-4000-8000-00000000xxxx`.
const fn fixed(n: u128) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | n)
}

/// The accounts of the world.
pub mod persona {
    use super::{Uuid, fixed};

    /// A student enrolled in [`super::C1`], owner of every learner-owned row of the world.
    pub const LEARNER: Uuid = fixed(0x0101);
    /// A student also enrolled in [`super::C1`]: a classmate of [`LEARNER`].
    pub const OTHER_LEARNER: Uuid = fixed(0x0102);
    /// The instructor of [`super::C1`], [`super::C2`], [`super::L1`] and [`super::L2`].
    pub const INSTRUCTOR: Uuid = fixed(0x0103);
    /// The instructor of [`super::C3`] only.
    pub const OTHER_INSTRUCTOR: Uuid = fixed(0x0104);
    /// An admin.
    pub const ADMIN: Uuid = fixed(0x0105);
    /// An account (in `auth.users`) whose profile is missing: what inserting a profile targets.
    pub const NEWCOMER: Uuid = fixed(0x0106);
}

/// Who runs a statement: an anonymous visitor or one of the personas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persona {
    /// Not signed in (`anon`).
    Anon,
    /// [`persona::LEARNER`].
    Learner,
    /// [`persona::OTHER_LEARNER`].
    OtherLearner,
    /// [`persona::INSTRUCTOR`].
    Instructor,
    /// [`persona::OTHER_INSTRUCTOR`].
    OtherInstructor,
    /// [`persona::ADMIN`].
    Admin,
}

impl Persona {
    /// Every persona, in the order of the matrix's columns.
    pub const ALL: [Self; 6] = [
        Self::Anon,
        Self::Learner,
        Self::OtherLearner,
        Self::Instructor,
        Self::OtherInstructor,
        Self::Admin,
    ];

    /// The persona's name in the matrix.
    pub fn name(self) -> &'static str {
        match self {
            Self::Anon => "anon",
            Self::Learner => "learner",
            Self::OtherLearner => "other_learner",
            Self::Instructor => "instructor",
            Self::OtherInstructor => "other_instructor",
            Self::Admin => "admin",
        }
    }

    /// Who the API sees.
    pub fn caller(self) -> Caller {
        match self {
            Self::Anon => Caller::Anonymous,
            Self::Learner => Caller::User(persona::LEARNER),
            Self::OtherLearner => Caller::User(persona::OTHER_LEARNER),
            Self::Instructor => Caller::User(persona::INSTRUCTOR),
            Self::OtherInstructor => Caller::User(persona::OTHER_INSTRUCTOR),
            Self::Admin => Caller::User(persona::ADMIN),
        }
    }
}

/// Opens a read-write request transaction as `who`, exactly as an API request does. Dropping
/// it rolls back.
pub async fn as_persona(api: &PgPool, who: Persona) -> Transaction<'static, Postgres> {
    session::begin(api, who.caller(), Access::ReadWrite)
        .await
        .expect("opening a request transaction")
}

/// The active service every course belongs to.
pub const SERVICE: Uuid = fixed(0x0201);
/// A retired (inactive) service: hidden from everyone but admins.
pub const SERVICE_RETIRED: Uuid = fixed(0x0202);

/// The instructor's published course.
pub const C1: Uuid = fixed(0x0301);
/// The instructor's unpublished course.
pub const C2: Uuid = fixed(0x0302);
/// The other instructor's published course.
pub const C3: Uuid = fixed(0x0303);

/// [`C1`]'s published module.
pub const C1_MODULE: Uuid = fixed(0x0401);
/// [`C2`]'s module: published itself, but its course is not.
pub const C2_MODULE: Uuid = fixed(0x0402);

/// [`C1`]'s first published lesson (the learners have progress on it).
pub const C1_LESSON: Uuid = fixed(0x0501);
/// [`C1`]'s second published lesson (nobody has progress on it yet).
pub const C1_LESSON_2: Uuid = fixed(0x0502);
/// [`C2`]'s draft lesson.
pub const C2_LESSON: Uuid = fixed(0x0503);

/// The lab category.
pub const LAB_CATEGORY: Uuid = fixed(0x0601);
/// The instructor's published lab.
pub const L1: Uuid = fixed(0x0701);
/// The instructor's unpublished lab.
pub const L2: Uuid = fixed(0x0702);
/// A published lab of the platform's own (no instructor).
pub const L3: Uuid = fixed(0x0703);

/// [`persona::LEARNER`]'s enrollment in [`C1`] (active).
pub const LEARNER_ENROLLMENT: Uuid = fixed(0x0801);
/// [`persona::OTHER_LEARNER`]'s enrollment in [`C1`] (active).
pub const OTHER_ENROLLMENT: Uuid = fixed(0x0802);

/// [`persona::LEARNER`]'s progress on [`C1_LESSON`].
pub const LEARNER_PROGRESS: Uuid = fixed(0x0901);
/// [`persona::OTHER_LEARNER`]'s progress on [`C1_LESSON`].
pub const OTHER_PROGRESS: Uuid = fixed(0x0902);

/// [`persona::LEARNER`]'s session in [`L1`].
pub const LEARNER_LAB_SESSION: Uuid = fixed(0x0a01);
/// [`persona::OTHER_LEARNER`]'s session in [`L1`].
pub const OTHER_LAB_SESSION: Uuid = fixed(0x0a02);
/// [`persona::LEARNER`]'s cloud environment for [`LEARNER_LAB_SESSION`].
pub const LEARNER_ENVIRONMENT: Uuid = fixed(0x0b01);

/// [`C1`]'s published quiz.
pub const C1_ASSESSMENT: Uuid = fixed(0x0c01);
/// The quiz's first question (answered by both learners).
pub const C1_QUESTION: Uuid = fixed(0x0d01);
/// The quiz's second question (not answered yet).
pub const C1_QUESTION_2: Uuid = fixed(0x0d02);
/// The answer key of [`C1_QUESTION`]: what a learner must never read.
pub const C1_QUESTION_ANSWER: &str = "docker ps";

/// [`persona::LEARNER`]'s attempt at [`C1_ASSESSMENT`], still open (not submitted).
pub const LEARNER_ATTEMPT: Uuid = fixed(0x0e01);
/// [`persona::OTHER_LEARNER`]'s attempt at [`C1_ASSESSMENT`], still open.
pub const OTHER_ATTEMPT: Uuid = fixed(0x0e02);
/// [`persona::LEARNER`]'s (ungraded) answer to [`C1_QUESTION`].
pub const LEARNER_ANSWER: Uuid = fixed(0x0f01);
/// [`persona::OTHER_LEARNER`]'s (ungraded) answer to [`C1_QUESTION`].
pub const OTHER_ANSWER: Uuid = fixed(0x0f02);

/// [`persona::LEARNER`]'s review of [`C1`].
pub const LEARNER_COURSE_REVIEW: Uuid = fixed(0x1001);
/// [`persona::LEARNER`]'s review of [`L1`].
pub const LEARNER_LAB_REVIEW: Uuid = fixed(0x1101);
/// [`persona::OTHER_LEARNER`]'s helpful vote on [`LEARNER_COURSE_REVIEW`] (nobody votes for
/// their own review, so this learner-owned row is the classmate's).
pub const OTHER_REVIEW_VOTE: Uuid = fixed(0x1102);
/// A progress update [`persona::LEARNER`] sent with a mutation id.
pub const LEARNER_MUTATION: Uuid = fixed(0x2a01);
/// [`persona::LEARNER`]'s payment for [`C1`].
pub const LEARNER_PAYMENT: Uuid = fixed(0x1201);
/// [`persona::LEARNER`]'s subscription.
pub const LEARNER_SUBSCRIPTION: Uuid = fixed(0x1301);
/// A file in [`LEARNER_ENVIRONMENT`].
pub const LEARNER_FILE: Uuid = fixed(0x1401);
/// The instructor's upload (a video for [`C1`]).
pub const INSTRUCTOR_UPLOAD: Uuid = fixed(0x1501);
/// [`persona::LEARNER`]'s notification.
pub const LEARNER_NOTIFICATION: Uuid = fixed(0x1601);
/// [`persona::OTHER_LEARNER`]'s notification.
pub const OTHER_NOTIFICATION: Uuid = fixed(0x1602);
/// [`persona::LEARNER`]'s activity (their enrollment).
pub const LEARNER_ACTIVITY: Uuid = fixed(0x1701);
/// [`persona::LEARNER`]'s analytics event.
pub const LEARNER_EVENT: Uuid = fixed(0x1801);
/// [`persona::LEARNER`]'s bookmark of [`C1`].
pub const LEARNER_BOOKMARK: Uuid = fixed(0x1901);

/// A tag (on [`C1`] and [`C2`]).
pub const TAG: Uuid = fixed(0x1a01);
/// A tag on no course.
pub const TAG_2: Uuid = fixed(0x1a02);
/// [`TAG`] on [`C1`].
pub const C1_TAG_LINK: Uuid = fixed(0x1b01);
/// [`TAG`] on the unpublished [`C2`].
pub const C2_TAG_LINK: Uuid = fixed(0x1b02);
/// [`C2`] requires [`C1`].
pub const C2_PREREQUISITE: Uuid = fixed(0x1c01);
/// [`L2`] requires [`L1`].
pub const L2_PREREQUISITE: Uuid = fixed(0x1d01);

/// A public setting.
pub const SETTING_PUBLIC: Uuid = fixed(0x1e01);
/// A private setting (admins only).
pub const SETTING_PRIVATE: Uuid = fixed(0x1e02);

/// [`persona::LEARNER`]'s certificate for [`C1`].
pub const LEARNER_CERTIFICATE: Uuid = fixed(0x1f01);
/// A published certificate signing key (its public half).
pub const SIGNING_KEY: Uuid = fixed(0x1f02);
/// A lab image the platform lists.
pub const LAB_IMAGE: Uuid = fixed(0x2c01);
/// A published desktop release.
pub const DESKTOP_RELEASE: Uuid = fixed(0x2f01);
/// The first step of [`L1`] (with scripts: [`L1_STEP_SCRIPTS`]).
pub const L1_STEP: Uuid = fixed(0x2d01);
/// The second step of [`L1`] (no scripts).
pub const L1_STEP_2: Uuid = fixed(0x2d02);
/// [`L1_STEP`]'s scripts: the lab's answer keys.
pub const L1_STEP_SCRIPTS: Uuid = fixed(0x2e01);

/// Writes the world into a freshly migrated database, as the schema owner.
#[expect(clippy::too_many_lines, reason = "one SQL script, read top to bottom")]
pub async fn load_world(owner: &PgPool) {
    use persona::{ADMIN, INSTRUCTOR, LEARNER, NEWCOMER, OTHER_INSTRUCTOR, OTHER_LEARNER};

    let sql = format!(
        r"
-- Accounts: the signup trigger makes each profile; roles are set afterwards, as an admin would.
INSERT INTO auth.users (id, email, raw_user_meta_data) VALUES
  ('{LEARNER}',          'learner@skilltrack.test',          jsonb_build_object('full_name', 'Lea Learner')),
  ('{OTHER_LEARNER}',    'other.learner@skilltrack.test',    jsonb_build_object('full_name', 'Otto Classmate')),
  ('{INSTRUCTOR}',       'instructor@skilltrack.test',       jsonb_build_object('full_name', 'Ines Instructor')),
  ('{OTHER_INSTRUCTOR}', 'other.instructor@skilltrack.test', jsonb_build_object('full_name', 'Oscar Otherteacher')),
  ('{ADMIN}',            'admin@skilltrack.test',            jsonb_build_object('full_name', 'Ada Admin')),
  ('{NEWCOMER}',         'newcomer@skilltrack.test',         jsonb_build_object('full_name', 'Nina Newcomer'));
UPDATE profiles SET role = 'instructor' WHERE id IN ('{INSTRUCTOR}', '{OTHER_INSTRUCTOR}');
UPDATE profiles SET role = 'admin' WHERE id = '{ADMIN}';
-- The newcomer's profile is missing (the target of the profiles insert case).
DELETE FROM profiles WHERE id = '{NEWCOMER}';

INSERT INTO services (id, slug, title, description, icon, is_active) VALUES
  ('{SERVICE}',         'cloud-computing', 'Cloud Computing', 'Clouds, containers and more.', 'cloud',  true),
  ('{SERVICE_RETIRED}', 'mainframes',      'Mainframes',      'No longer offered.',           'server', false);

INSERT INTO courses (id, service_id, slug, title, description, duration, level, price, instructor_id, is_published) VALUES
  ('{C1}', '{SERVICE}', 'docker-basics',   'Docker Basics',   'Containers from scratch.', '4 weeks', 'Beginner',     49.00, '{INSTRUCTOR}',       true),
  ('{C2}', '{SERVICE}', 'docker-advanced', 'Docker Advanced', 'Still being written.',     '6 weeks', 'Advanced',     99.00, '{INSTRUCTOR}',       false),
  ('{C3}', '{SERVICE}', 'kubernetes-101',  'Kubernetes 101',  'Orchestration basics.',    '5 weeks', 'Intermediate', 79.00, '{OTHER_INSTRUCTOR}', true);

INSERT INTO course_modules (id, course_id, title, sort_order, is_published) VALUES
  ('{C1_MODULE}', '{C1}', 'Getting started', 1, true),
  ('{C2_MODULE}', '{C2}', 'Multi-stage builds', 1, true);

INSERT INTO course_lessons (id, module_id, title, content_type, content_body, sort_order, is_published) VALUES
  ('{C1_LESSON}',   '{C1_MODULE}', 'What is a container?', 'text', '# Containers', 1, true),
  ('{C1_LESSON_2}', '{C1_MODULE}', 'Your first image',     'text', '# Images',     2, true),
  ('{C2_LESSON}',   '{C2_MODULE}', 'Build stages',         'text', '# Draft',      1, false);

INSERT INTO lab_categories (id, slug, name, description, icon) VALUES
  ('{LAB_CATEGORY}', 'containers', 'Containers', 'Hands-on container labs.', 'box');

INSERT INTO lab_images (id, name, digest, source, size_bytes, shell) VALUES
  ('{LAB_IMAGE}', 'fixture-image', 'sha256:' || repeat('0', 64), 'the RLS fixture', 1, '/bin/sh');

INSERT INTO desktop_releases (id, version, bundle, arch, file_name, size_bytes, sha256, signature) VALUES
  ('{DESKTOP_RELEASE}', '0.1.1', 'deb', 'x86_64', 'skilltrack_0.1.1_amd64.deb', 1, repeat('1', 64), 'c2lnbmF0dXJl');

INSERT INTO labs (id, category_id, instructor_id, slug, title, description, difficulty, duration, provider, is_published) VALUES
  ('{L1}', '{LAB_CATEGORY}', '{INSTRUCTOR}', 'run-a-container',  'Run a container',  'Start nginx.',       'Beginner', '1 hour',  'docker', true),
  ('{L2}', '{LAB_CATEGORY}', '{INSTRUCTOR}', 'build-an-image',   'Build an image',   'Still a draft.',     'Beginner', '2 hours', 'docker', false),
  ('{L3}', '{LAB_CATEGORY}', NULL,           'platform-sandbox', 'Platform sandbox', 'Free playground.',   'Beginner', '1 hour',  'docker', true);

INSERT INTO lab_steps (id, lab_id, position, title, body) VALUES
  ('{L1_STEP}',   '{L1}', 1, 'Start it', 'Run `docker run nginx`.'),
  ('{L1_STEP_2}', '{L1}', 2, 'Stop it',  'Run `docker stop`.');
INSERT INTO lab_step_scripts (id, step_id, verify_script, solve_script) VALUES
  ('{L1_STEP_SCRIPTS}', '{L1_STEP}', 'docker ps | grep -q nginx', 'docker run -d nginx');

INSERT INTO enrollments (id, user_id, course_id, status) VALUES
  ('{LEARNER_ENROLLMENT}', '{LEARNER}',       '{C1}', 'active'),
  ('{OTHER_ENROLLMENT}',   '{OTHER_LEARNER}', '{C1}', 'active');

INSERT INTO user_progress (id, user_id, course_id, lesson_id, progress_percentage, time_spent_minutes) VALUES
  ('{LEARNER_PROGRESS}', '{LEARNER}',       '{C1}', '{C1_LESSON}', 100, 12),
  ('{OTHER_PROGRESS}',   '{OTHER_LEARNER}', '{C1}', '{C1_LESSON}',  50,  5);

INSERT INTO assessments (id, course_id, title, type, max_attempts, passing_score, is_published) VALUES
  ('{C1_ASSESSMENT}', '{C1}', 'Container quiz', 'quiz', 3, 50, true);

INSERT INTO assessment_questions (id, assessment_id, question_text, question_type, options, correct_answer, explanation, points, sort_order) VALUES
  ('{C1_QUESTION}',   '{C1_ASSESSMENT}', 'Which command lists running containers?', 'multiple_choice',
   jsonb_build_object('choices', jsonb_build_array('docker ps', 'docker ls', 'docker top')),
   '{C1_QUESTION_ANSWER}', 'ps lists containers, like processes.', 1, 1),
  ('{C1_QUESTION_2}', '{C1_ASSESSMENT}', 'Containers share the host kernel.', 'true_false',
   jsonb_build_object('choices', jsonb_build_array('true', 'false')),
   'true', 'Unlike virtual machines.', 1, 2);

-- Open attempts (completed_at NULL): answers can still be saved into them.
INSERT INTO user_assessment_attempts (id, user_id, assessment_id, attempt_number) VALUES
  ('{LEARNER_ATTEMPT}', '{LEARNER}',       '{C1_ASSESSMENT}', 1),
  ('{OTHER_ATTEMPT}',   '{OTHER_LEARNER}', '{C1_ASSESSMENT}', 1);

INSERT INTO user_assessment_answers (id, attempt_id, question_id, answer_text) VALUES
  ('{LEARNER_ANSWER}', '{LEARNER_ATTEMPT}', '{C1_QUESTION}', 'docker ps'),
  ('{OTHER_ANSWER}',   '{OTHER_ATTEMPT}',   '{C1_QUESTION}', 'docker ls');

INSERT INTO course_reviews (id, user_id, course_id, rating, review_text) VALUES
  ('{LEARNER_COURSE_REVIEW}', '{LEARNER}', '{C1}', 5, 'Clear and practical.');

INSERT INTO lab_sessions (id, user_id, lab_id, session_id, status) VALUES
  ('{LEARNER_LAB_SESSION}', '{LEARNER}',       '{L1}', 'session-learner-1', 'active'),
  ('{OTHER_LAB_SESSION}',   '{OTHER_LEARNER}', '{L1}', 'session-other-1',   'completed');

INSERT INTO cloud_environments (id, user_id, lab_id, session_id, environment_id, status, template_name) VALUES
  ('{LEARNER_ENVIRONMENT}', '{LEARNER}', '{L1}', 'session-learner-1', 'env-learner-1', 'running', 'docker-basic');

INSERT INTO user_files (id, user_id, environment_id, filename, original_filename, file_path, file_type, file_size, mime_type) VALUES
  ('{LEARNER_FILE}', '{LEARNER}', '{LEARNER_ENVIRONMENT}', 'main.py', 'main.py', '/workspace/main.py', 'code', 120, 'text/x-python');

INSERT INTO lab_reviews (id, user_id, lab_id, rating, review_text) VALUES
  ('{LEARNER_LAB_REVIEW}', '{LEARNER}', '{L1}', 4, 'Worked first time.');

INSERT INTO applied_mutations (id, user_id, kind) VALUES
  ('{LEARNER_MUTATION}', '{LEARNER}', 'lesson_progress');

INSERT INTO review_votes (id, user_id, course_review_id) VALUES
  ('{OTHER_REVIEW_VOTE}', '{OTHER_LEARNER}', '{LEARNER_COURSE_REVIEW}');

INSERT INTO payments (id, user_id, course_id, amount, payment_method, payment_status, stripe_payment_intent_id) VALUES
  ('{LEARNER_PAYMENT}', '{LEARNER}', '{C1}', 49.00, 'stripe', 'completed', 'pi_learner_1');

INSERT INTO subscriptions (id, user_id, plan_name, plan_price, billing_cycle) VALUES
  ('{LEARNER_SUBSCRIPTION}', '{LEARNER}', 'Pro', 19.00, 'monthly');

INSERT INTO content_uploads (id, uploader_id, filename, original_filename, file_size, mime_type, file_url, entity_type, entity_id) VALUES
  ('{INSTRUCTOR_UPLOAD}', '{INSTRUCTOR}', 'intro.mp4', 'Intro.mp4', 1048576, 'video/mp4', '/media/intro.mp4', 'course', '{C1}');

INSERT INTO notifications (id, user_id, title, message) VALUES
  ('{LEARNER_NOTIFICATION}', '{LEARNER}',       'Welcome', 'Welcome to Docker Basics.'),
  ('{OTHER_NOTIFICATION}',   '{OTHER_LEARNER}', 'Welcome', 'Welcome to Docker Basics.');

INSERT INTO user_activities (id, user_id, activity_type, entity_type, entity_id, user_agent) VALUES
  ('{LEARNER_ACTIVITY}', '{LEARNER}', 'enrollment', 'course', '{C1}', 'tests');

INSERT INTO analytics_events (id, user_id, event_name, page_url) VALUES
  ('{LEARNER_EVENT}', '{LEARNER}', 'page_view', '/courses/docker-basics');

INSERT INTO user_bookmarks (id, user_id, entity_type, entity_id) VALUES
  ('{LEARNER_BOOKMARK}', '{LEARNER}', 'course', '{C1}');

INSERT INTO course_tags (id, name) VALUES
  ('{TAG}',   'docker'),
  ('{TAG_2}', 'kubernetes');

INSERT INTO course_tag_relationships (id, course_id, tag_id) VALUES
  ('{C1_TAG_LINK}', '{C1}', '{TAG}'),
  ('{C2_TAG_LINK}', '{C2}', '{TAG}');

INSERT INTO course_prerequisites (id, course_id, prerequisite_course_id) VALUES
  ('{C2_PREREQUISITE}', '{C2}', '{C1}');

INSERT INTO lab_prerequisites (id, lab_id, prerequisite_lab_id) VALUES
  ('{L2_PREREQUISITE}', '{L2}', '{L1}');

INSERT INTO system_settings (id, setting_key, setting_value, description, is_public) VALUES
  ('{SETTING_PUBLIC}',  'site_name',           to_jsonb('Skilltrack'::text), 'Shown in the header.', true),
  ('{SETTING_PRIVATE}', 'payments_webhook_url', to_jsonb('https://payments.invalid/hook'::text), 'Internal.', false);

INSERT INTO certificates (id, user_id, course_id, certificate_number, certificate_url) VALUES
  ('{LEARNER_CERTIFICATE}', '{LEARNER}', '{C1}', 'ST-TEST-000001', '/certificates/ST-TEST-000001.pdf');

INSERT INTO certificate_signing_keys (id, kid, public_jwk) VALUES
  ('{SIGNING_KEY}', 'fixture-key',
   jsonb_build_object('kty', 'OKP', 'crv', 'Ed25519', 'x', '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', 'kid', 'fixture-key'));
"
    );
    sqlx::raw_sql(&sql)
        .execute(owner)
        .await
        .expect("loading the fixture world");
}
