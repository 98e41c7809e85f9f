//! Row Level Security, table by table: every table of the public schema × six personas × four
//! operations, each run exactly as an API request runs (one transaction as `anon` or
//! `authenticated` with the caller's claims), then rolled back.
//!
//! The expected outcomes are written down in [`EXPECTED`] from the rules in the header of
//! `migrations/0006_row_level_security.sql`, not read off the policies: where a policy
//! disagrees with the rules, the matrix fails and says where.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Instant;

use skilltrack_tests::fixtures::persona::{
    INSTRUCTOR, LEARNER, NEWCOMER, OTHER_INSTRUCTOR, OTHER_LEARNER,
};
use skilltrack_tests::fixtures::{
    C1, C1_ASSESSMENT, C1_LESSON, C1_LESSON_2, C1_MODULE, C1_QUESTION, C1_QUESTION_2,
    C1_QUESTION_ANSWER, C2, C2_MODULE, C2_PREREQUISITE, C2_TAG_LINK, C3, DESKTOP_RELEASE,
    INSTRUCTOR_UPLOAD, L1, L1_STEP, L1_STEP_2, L1_STEP_SCRIPTS, L2, L2_PREREQUISITE, L3,
    LAB_CATEGORY, LAB_IMAGE, LEARNER_ACTIVITY, LEARNER_ANSWER, LEARNER_ATTEMPT, LEARNER_BOOKMARK,
    LEARNER_CERTIFICATE, LEARNER_COURSE_REVIEW, LEARNER_ENROLLMENT, LEARNER_ENVIRONMENT,
    LEARNER_EVENT, LEARNER_FILE, LEARNER_LAB_REVIEW, LEARNER_LAB_SESSION, LEARNER_MUTATION,
    LEARNER_NOTIFICATION, LEARNER_PAYMENT, LEARNER_PROGRESS, LEARNER_SUBSCRIPTION,
    OTHER_REVIEW_VOTE, Persona, SERVICE, SERVICE_RETIRED, SETTING_PRIVATE, SIGNING_KEY, TAG, TAG_2,
    as_persona, load_world,
};
use skilltrack_tests::{TestDb, test_db};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

/// Who may do what to the target row of each table (see [`targets`]): `Y` allowed, `-` denied.
///
/// Columns: `anon`, `learner` (`LEARNER`, who owns the learner-owned targets), `other` (the
/// classmate `OTHER_LEARNER`, also enrolled in C1), `instr` (`INSTRUCTOR`, who owns C1, C2, L1
/// and L2), `other_instr` (`OTHER_INSTRUCTOR`, who owns C3 only), `admin`.
const EXPECTED: &str = "
// table                   op      anon learner other instr other_instr admin
// LEARNER's profile: its owner's own data. Instructors see their learners' names and pictures
// through public.learner_cards, never the row with its contact details (issue 14).
// Profiles are made by the signup trigger; admins may do everything, inserting one included.
profiles                   select  -    Y       -     -     -           Y
profiles                   insert  -    -       -     -     -           Y
profiles                   update  -    Y       -     -     -           Y
profiles                   delete  -    -       -     -     -           Y
// A retired (inactive) service: admins only.
services                   select  -    -       -     -     -           Y
services                   insert  -    -       -     -     -           Y
services                   update  -    -       -     -     -           Y
services                   delete  -    -       -     -     -           Y
// C2, the instructor's unpublished course.
courses                    select  -    -       -     Y     -           Y
courses                    insert  -    -       -     Y     -           Y
courses                    update  -    -       -     Y     -           Y
courses                    delete  -    -       -     Y     -           Y
// C2's module (published itself, but its course is not).
course_modules             select  -    -       -     Y     -           Y
course_modules             insert  -    -       -     Y     -           Y
course_modules             update  -    -       -     Y     -           Y
course_modules             delete  -    -       -     Y     -           Y
// C1's published lesson: enrolled learners (both!), the course's instructor, admins.
course_lessons             select  -    Y       Y     Y     -           Y
course_lessons             insert  -    -       -     Y     -           Y
course_lessons             update  -    -       -     Y     -           Y
course_lessons             delete  -    -       -     Y     -           Y
// Categories are public; admins curate them.
lab_categories             select  Y    Y       Y     Y     Y           Y
lab_categories             insert  -    -       -     -     -           Y
lab_categories             update  -    -       -     -     -           Y
lab_categories             delete  -    -       -     -     -           Y
// L2, the instructor's unpublished lab.
labs                       select  -    -       -     Y     -           Y
labs                       insert  -    -       -     Y     -           Y
labs                       update  -    -       -     Y     -           Y
labs                       delete  -    -       -     Y     -           Y
// LEARNER's enrollment in C1 (insert: LEARNER enrolls in C3). Learners may only cancel.
enrollments                select  -    Y       -     Y     -           Y
enrollments                insert  -    Y       -     -     -           Y
enrollments                update  -    Y       -     -     -           Y
enrollments                delete  -    -       -     -     -           Y
// LEARNER's progress (insert: on C1's second lesson).
user_progress              select  -    Y       -     Y     -           Y
user_progress              insert  -    Y       -     -     -           Y
user_progress              update  -    Y       -     -     -           Y
user_progress              delete  -    -       -     -     -           Y
// LEARNER's session in L1: the server decides; the lab's instructor reads it.
lab_sessions               select  -    Y       -     Y     -           Y
lab_sessions               insert  -    -       -     -     -           Y
lab_sessions               update  -    -       -     -     -           Y
lab_sessions               delete  -    -       -     -     -           Y
cloud_environments         select  -    Y       -     Y     -           Y
cloud_environments         insert  -    -       -     -     -           Y
cloud_environments         update  -    -       -     -     -           Y
cloud_environments         delete  -    -       -     -     -           Y
// C1's published quiz: enrolled learners take it.
assessments                select  -    Y       Y     Y     -           Y
assessments                insert  -    -       -     Y     -           Y
assessments                update  -    -       -     Y     -           Y
assessments                delete  -    -       -     Y     -           Y
// Its question, answer key included: the course's instructor and admins only.
assessment_questions       select  -    -       -     Y     -           Y
assessment_questions       insert  -    -       -     Y     -           Y
assessment_questions       update  -    -       -     Y     -           Y
assessment_questions       delete  -    -       -     Y     -           Y
// LEARNER's open attempt (insert: their second attempt); the instructor grades it.
user_assessment_attempts   select  -    Y       -     Y     -           Y
user_assessment_attempts   insert  -    Y       -     -     -           Y
user_assessment_attempts   update  -    Y       -     Y     -           Y
user_assessment_attempts   delete  -    -       -     -     -           Y
// LEARNER's answer (insert: to the second question).
user_assessment_answers    select  -    Y       -     Y     -           Y
user_assessment_answers    insert  -    Y       -     -     -           Y
user_assessment_answers    update  -    Y       -     Y     -           Y
user_assessment_answers    delete  -    -       -     -     -           Y
// LEARNER's review of published C1 is public (insert: OTHER_LEARNER reviews C1).
course_reviews             select  Y    Y       Y     Y     Y           Y
course_reviews             insert  -    -       Y     -     -           Y
course_reviews             update  -    Y       -     -     -           Y
course_reviews             delete  -    Y       -     -     -           Y
// LEARNER's review of published L1 (insert: OTHER_LEARNER, who has tried L1, reviews it).
lab_reviews                select  Y    Y       Y     Y     Y           Y
lab_reviews                insert  -    -       Y     -     -           Y
lab_reviews                update  -    Y       -     -     -           Y
lab_reviews                delete  -    Y       -     -     -           Y
// OTHER_LEARNER's helpful vote on LEARNER's course review: who voted is private to the voter
// (the review's author sees only the count); a vote is cast and taken back, moved only by
// admins (insert: OTHER_LEARNER votes for LEARNER's lab review).
review_votes               select  -    -       Y     -     -           Y
review_votes               insert  -    -       Y     -     -           Y
review_votes               update  -    -       -     -     -           Y
review_votes               delete  -    -       Y     -     -           Y
// LEARNER's record of an applied mutation (idempotent progress): the learner reads and writes
// their own; only admins change or remove them.
applied_mutations          select  -    Y       -     -     -           Y
applied_mutations          insert  -    Y       -     -     -           Y
applied_mutations          update  -    -       -     -     -           Y
applied_mutations          delete  -    -       -     -     -           Y
// Lab images: authors choose among them, learners have no use for them; admins manage them
// (a lab host's `skilltrack-server lab-images` writes them as the owner).
lab_images                 select  -    -       -     Y     Y           Y
lab_images                 insert  -    -       -     -     -           Y
lab_images                 update  -    -       -     -     -           Y
lab_images                 delete  -    -       -     -     -           Y
// A step of published L1 reads like the lab (insert: a third step); its scripts are the lab's
// answer keys, for its managers alone (insert: scripts for L1's second step).
lab_steps                  select  Y    Y       Y     Y     Y           Y
lab_steps                  insert  -    -       -     Y     -           Y
lab_steps                  update  -    -       -     Y     -           Y
lab_steps                  delete  -    -       -     Y     -           Y
lab_step_scripts           select  -    -       -     Y     -           Y
lab_step_scripts           insert  -    -       -     Y     -           Y
lab_step_scripts           update  -    -       -     Y     -           Y
lab_step_scripts           delete  -    -       -     Y     -           Y
// The server decides payments, subscriptions and files: their owner reads, admins write.
payments                   select  -    Y       -     -     -           Y
payments                   insert  -    -       -     -     -           Y
payments                   update  -    -       -     -     -           Y
payments                   delete  -    -       -     -     -           Y
subscriptions              select  -    Y       -     -     -           Y
subscriptions              insert  -    -       -     -     -           Y
subscriptions              update  -    -       -     -     -           Y
subscriptions              delete  -    -       -     -     -           Y
user_files                 select  -    Y       -     -     -           Y
user_files                 insert  -    -       -     -     -           Y
user_files                 update  -    -       -     -     -           Y
user_files                 delete  -    -       -     -     -           Y
// The instructor's upload.
content_uploads            select  -    -       -     Y     -           Y
content_uploads            insert  -    -       -     Y     -           Y
content_uploads            update  -    -       -     Y     -           Y
content_uploads            delete  -    -       -     Y     -           Y
// LEARNER's notification: the server sends; the recipient reads, marks read, deletes.
notifications              select  -    Y       -     -     -           Y
notifications              insert  -    -       -     -     -           Y
notifications              update  -    Y       -     -     -           Y
notifications              delete  -    Y       -     -     -           Y
user_activities            select  -    Y       -     -     -           Y
user_activities            insert  -    -       -     -     -           Y
user_activities            update  -    -       -     -     -           Y
user_activities            delete  -    -       -     -     -           Y
// LEARNER's event: they send their own; only admins read analytics, even the sender's own.
analytics_events           select  -    -       -     -     -           Y
analytics_events           insert  -    Y       -     -     -           Y
analytics_events           update  -    -       -     -     -           Y
analytics_events           delete  -    -       -     -     -           Y
user_bookmarks             select  -    Y       -     -     -           Y
user_bookmarks             insert  -    Y       -     -     -           Y
user_bookmarks             update  -    Y       -     -     -           Y
user_bookmarks             delete  -    Y       -     -     -           Y
// Tags: anyone reads, authors (instructors, admins) add, admins curate.
course_tags                select  Y    Y       Y     Y     Y           Y
course_tags                insert  -    -       -     Y     Y           Y
course_tags                update  -    -       -     -     -           Y
course_tags                delete  -    -       -     -     -           Y
// A tag on C2, C2's prerequisite, L2's prerequisite: visible and managed with their parent.
course_tag_relationships   select  -    -       -     Y     -           Y
course_tag_relationships   insert  -    -       -     Y     -           Y
course_tag_relationships   update  -    -       -     Y     -           Y
course_tag_relationships   delete  -    -       -     Y     -           Y
course_prerequisites       select  -    -       -     Y     -           Y
course_prerequisites       insert  -    -       -     Y     -           Y
course_prerequisites       update  -    -       -     Y     -           Y
course_prerequisites       delete  -    -       -     Y     -           Y
lab_prerequisites          select  -    -       -     Y     -           Y
lab_prerequisites          insert  -    -       -     Y     -           Y
lab_prerequisites          update  -    -       -     Y     -           Y
lab_prerequisites          delete  -    -       -     Y     -           Y
// A private setting.
system_settings            select  -    -       -     -     -           Y
system_settings            insert  -    -       -     -     -           Y
system_settings            update  -    -       -     -     -           Y
system_settings            delete  -    -       -     -     -           Y
// LEARNER's certificate for C1: issued by the server; the course's instructor reads it.
certificates               select  -    Y       -     Y     -           Y
certificates               insert  -    -       -     -     -           Y
certificates               update  -    -       -     -     -           Y
certificates               delete  -    -       -     -     -           Y
// A certificate signing key's public half: anyone reads the key set; the server adds keys as
// service_role; admins may withdraw (or add) one.
certificate_signing_keys   select  Y    Y       Y     Y     Y           Y
certificate_signing_keys   insert  -    -       -     -     -           Y
certificate_signing_keys   update  -    -       -     -     -           Y
certificate_signing_keys   delete  -    -       -     -     -           Y
// A published desktop release: anyone reads it (an app checks for updates before signing in);
// the operator's command writes them as the owner; admins may too.
desktop_releases           select  Y    Y       Y     Y     Y           Y
desktop_releases           insert  -    -       -     -     -           Y
desktop_releases           update  -    -       -     -     -           Y
desktop_releases           delete  -    -       -     -     -           Y
";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Select,
    Insert,
    Update,
    Delete,
}

impl Op {
    const ALL: [Self; 4] = [Self::Select, Self::Insert, Self::Update, Self::Delete];

    fn name(self) -> &'static str {
        match self {
            Self::Select => "select",
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == s)
    }
}

/// What the matrix aims at in one table.
struct Target {
    table: &'static str,
    /// The protected row that select, update and delete aim at.
    id: Uuid,
    /// The update's `SET` clause: a harmless column the API roles may write.
    set: &'static str,
    /// An insert of a new row belonging to the protected owner or parent.
    insert: String,
}

fn target(table: &'static str, id: Uuid, set: &'static str, insert: String) -> Target {
    Target {
        table,
        id,
        set,
        insert,
    }
}

impl Target {
    fn sql(&self, op: Op) -> String {
        let Self {
            table,
            id,
            set,
            insert,
        } = self;
        match op {
            Op::Select => format!("SELECT count(*) FROM {table} WHERE id = '{id}'"),
            Op::Insert => insert.clone(),
            Op::Update => format!("UPDATE {table} SET {set} WHERE id = '{id}'"),
            Op::Delete => format!("DELETE FROM {table} WHERE id = '{id}'"),
        }
    }
}

/// One target per table of the public schema (ids from the fixture world).
#[expect(
    clippy::too_many_lines,
    reason = "one entry per table, read as a table"
)]
fn targets() -> Vec<Target> {
    vec![
        target(
            "profiles",
            LEARNER,
            "bio = 'Edited'",
            // The e-mail is copied from the account by a trigger.
            format!("INSERT INTO profiles (id) VALUES ('{NEWCOMER}')"),
        ),
        target(
            "lab_images",
            LAB_IMAGE,
            "source = 'Edited'",
            "INSERT INTO lab_images (name, digest, source, size_bytes, shell)
                 VALUES ('another-image', 'sha256:' || repeat('1', 64), 'new', 1, '/bin/sh')"
                .to_owned(),
        ),
        target(
            "lab_steps",
            L1_STEP,
            "title = 'Edited'",
            format!(
                "INSERT INTO lab_steps (id, lab_id, position, title)
                 VALUES (gen_random_uuid(), '{L1}', 3, 'A third step')"
            ),
        ),
        target(
            "lab_step_scripts",
            L1_STEP_SCRIPTS,
            "verify_script = 'true'",
            format!(
                "INSERT INTO lab_step_scripts (id, step_id, verify_script)
                 VALUES (gen_random_uuid(), '{L1_STEP_2}', 'true')"
            ),
        ),
        target(
            "services",
            SERVICE_RETIRED,
            "title = 'Edited'",
            "INSERT INTO services (id, slug, title, description, icon)
                 VALUES (gen_random_uuid(), 'new-service', 'New', 'A new service.', 'star')"
                .to_owned(),
        ),
        target(
            "courses",
            C2,
            "title = 'Edited'",
            format!(
                "INSERT INTO courses
                 (id, service_id, slug, title, description, duration, level, instructor_id)
                 VALUES (gen_random_uuid(), '{SERVICE}', 'new-course', 'New', 'Draft.', '1 week',
                 'Beginner', '{INSTRUCTOR}')"
            ),
        ),
        target(
            "course_modules",
            C2_MODULE,
            "title = 'Edited'",
            format!(
                "INSERT INTO course_modules (id, course_id, title)
                 VALUES (gen_random_uuid(), '{C2}', 'New module')"
            ),
        ),
        target(
            "course_lessons",
            C1_LESSON,
            "title = 'Edited'",
            format!(
                "INSERT INTO course_lessons (id, module_id, title, content_type)
                 VALUES (gen_random_uuid(), '{C1_MODULE}', 'New lesson', 'text')"
            ),
        ),
        target(
            "lab_categories",
            LAB_CATEGORY,
            "description = 'Edited'",
            "INSERT INTO lab_categories (id, slug, name, description, icon)
                 VALUES (gen_random_uuid(), 'new-category', 'New', 'A new category.', 'star')"
                .to_owned(),
        ),
        target(
            "labs",
            L2,
            "title = 'Edited'",
            format!(
                "INSERT INTO labs (id, category_id, instructor_id, slug, title, description,
                 difficulty, duration, provider)
                 VALUES (gen_random_uuid(), '{LAB_CATEGORY}', '{INSTRUCTOR}', 'new-lab', 'New',
                 'Draft.', 'Beginner', '1 hour', 'docker')"
            ),
        ),
        target(
            "enrollments",
            LEARNER_ENROLLMENT,
            "status = 'cancelled'",
            format!(
                "INSERT INTO enrollments (id, user_id, course_id)
                 VALUES (gen_random_uuid(), '{LEARNER}', '{C3}')"
            ),
        ),
        target(
            "user_progress",
            LEARNER_PROGRESS,
            "time_spent_minutes = 42",
            format!(
                "INSERT INTO user_progress (id, user_id, course_id, lesson_id, time_spent_minutes)
                 VALUES (gen_random_uuid(), '{LEARNER}', '{C1}', '{C1_LESSON_2}', 3)"
            ),
        ),
        target(
            "lab_sessions",
            LEARNER_LAB_SESSION,
            "auto_save_enabled = false",
            format!(
                "INSERT INTO lab_sessions (id, user_id, lab_id, session_id)
                 VALUES (gen_random_uuid(), '{LEARNER}', '{L1}', 'session-learner-2')"
            ),
        ),
        target(
            "cloud_environments",
            LEARNER_ENVIRONMENT,
            "auto_stop_minutes = 60",
            format!(
                "INSERT INTO cloud_environments (id, user_id, lab_id, session_id, template_name)
                 VALUES (gen_random_uuid(), '{LEARNER}', '{L1}', 'session-learner-2', 'docker-basic')"
            ),
        ),
        target(
            "assessments",
            C1_ASSESSMENT,
            "title = 'Edited'",
            format!(
                "INSERT INTO assessments (id, course_id, title, type)
                 VALUES (gen_random_uuid(), '{C1}', 'Final exam', 'final_exam')"
            ),
        ),
        target(
            "assessment_questions",
            C1_QUESTION,
            "question_text = 'Edited?'",
            format!(
                "INSERT INTO assessment_questions
                 (id, assessment_id, question_text, question_type, correct_answer)
                 VALUES (gen_random_uuid(), '{C1_ASSESSMENT}', 'Name a registry.', 'short_answer',
                 'Docker Hub')"
            ),
        ),
        target(
            "user_assessment_attempts",
            LEARNER_ATTEMPT,
            // Submitting: the one change a learner makes to an attempt.
            "completed_at = now()",
            format!(
                "INSERT INTO user_assessment_attempts (id, user_id, assessment_id, attempt_number)
                 VALUES (gen_random_uuid(), '{LEARNER}', '{C1_ASSESSMENT}', 2)"
            ),
        ),
        target(
            "user_assessment_answers",
            LEARNER_ANSWER,
            "answer_text = 'docker container ls'",
            format!(
                "INSERT INTO user_assessment_answers (id, attempt_id, question_id, answer_text)
                 VALUES (gen_random_uuid(), '{LEARNER_ATTEMPT}', '{C1_QUESTION_2}', 'true')"
            ),
        ),
        target(
            "course_reviews",
            LEARNER_COURSE_REVIEW,
            "review_text = 'Edited'",
            format!(
                "INSERT INTO course_reviews (id, user_id, course_id, rating, review_text)
                 VALUES (gen_random_uuid(), '{OTHER_LEARNER}', '{C1}', 4, 'Good.')"
            ),
        ),
        target(
            "lab_reviews",
            LEARNER_LAB_REVIEW,
            "review_text = 'Edited'",
            format!(
                "INSERT INTO lab_reviews (id, user_id, lab_id, rating)
                 VALUES (gen_random_uuid(), '{OTHER_LEARNER}', '{L1}', 3)"
            ),
        ),
        target(
            "applied_mutations",
            LEARNER_MUTATION,
            "kind = 'edited'",
            format!(
                "INSERT INTO applied_mutations (id, user_id, kind)
                 VALUES (gen_random_uuid(), '{LEARNER}', 'lesson_progress')"
            ),
        ),
        target(
            "review_votes",
            OTHER_REVIEW_VOTE,
            "created_at = now()",
            format!(
                "INSERT INTO review_votes (id, user_id, lab_review_id)
                 VALUES (gen_random_uuid(), '{OTHER_LEARNER}', '{LEARNER_LAB_REVIEW}')"
            ),
        ),
        target(
            "payments",
            LEARNER_PAYMENT,
            "billing_address = jsonb_build_object('country', 'NL')",
            format!(
                "INSERT INTO payments (id, user_id, course_id, amount, payment_method)
                 VALUES (gen_random_uuid(), '{LEARNER}', '{C1}', 49.00, 'stripe')"
            ),
        ),
        target(
            "subscriptions",
            LEARNER_SUBSCRIPTION,
            "plan_name = 'Pro (edited)'",
            format!(
                "INSERT INTO subscriptions (id, user_id, plan_name, plan_price, billing_cycle)
                 VALUES (gen_random_uuid(), '{LEARNER}', 'Team', 49.00, 'yearly')"
            ),
        ),
        target(
            "user_files",
            LEARNER_FILE,
            "filename = 'edited.py'",
            format!(
                "INSERT INTO user_files (id, user_id, environment_id, filename, original_filename,
                 file_path, file_type, file_size, mime_type)
                 VALUES (gen_random_uuid(), '{LEARNER}', '{LEARNER_ENVIRONMENT}', 'notes.md',
                 'notes.md', '/workspace/notes.md', 'document', 10, 'text/markdown')"
            ),
        ),
        target(
            "content_uploads",
            INSTRUCTOR_UPLOAD,
            "original_filename = 'Edited.mp4'",
            format!(
                "INSERT INTO content_uploads (id, uploader_id, filename, original_filename, file_size,
                 mime_type, file_url)
                 VALUES (gen_random_uuid(), '{INSTRUCTOR}', 'slides.pdf', 'Slides.pdf', 2048,
                 'application/pdf', '/media/slides.pdf')"
            ),
        ),
        target(
            "notifications",
            LEARNER_NOTIFICATION,
            "read_at = now()",
            format!(
                "INSERT INTO notifications (id, user_id, title, message)
                 VALUES (gen_random_uuid(), '{LEARNER}', 'Reminder', 'Keep going.')"
            ),
        ),
        target(
            "user_activities",
            LEARNER_ACTIVITY,
            "user_agent = 'edited'",
            format!(
                "INSERT INTO user_activities (id, user_id, activity_type)
                 VALUES (gen_random_uuid(), '{LEARNER}', 'login')"
            ),
        ),
        target(
            "analytics_events",
            LEARNER_EVENT,
            "page_url = '/edited'",
            format!(
                "INSERT INTO analytics_events (id, user_id, event_name)
                 VALUES (gen_random_uuid(), '{LEARNER}', 'lesson_view')"
            ),
        ),
        target(
            "user_bookmarks",
            LEARNER_BOOKMARK,
            "created_at = now()",
            format!(
                "INSERT INTO user_bookmarks (id, user_id, entity_type, entity_id)
                 VALUES (gen_random_uuid(), '{LEARNER}', 'course', '{C3}')"
            ),
        ),
        target(
            "course_tags",
            TAG,
            "description = 'Edited'",
            "INSERT INTO course_tags (id, name) VALUES (gen_random_uuid(), 'containers')"
                .to_owned(),
        ),
        target(
            "course_tag_relationships",
            C2_TAG_LINK,
            "created_at = now()",
            format!(
                "INSERT INTO course_tag_relationships (id, course_id, tag_id)
                 VALUES (gen_random_uuid(), '{C2}', '{TAG_2}')"
            ),
        ),
        target(
            "course_prerequisites",
            C2_PREREQUISITE,
            "created_at = now()",
            format!(
                "INSERT INTO course_prerequisites (id, course_id, prerequisite_course_id)
                 VALUES (gen_random_uuid(), '{C2}', '{C3}')"
            ),
        ),
        target(
            "lab_prerequisites",
            L2_PREREQUISITE,
            "created_at = now()",
            format!(
                "INSERT INTO lab_prerequisites (id, lab_id, prerequisite_lab_id)
                 VALUES (gen_random_uuid(), '{L2}', '{L3}')"
            ),
        ),
        target(
            "system_settings",
            SETTING_PRIVATE,
            "description = 'Edited'",
            "INSERT INTO system_settings (id, setting_key, setting_value)
                 VALUES (gen_random_uuid(), 'maintenance_mode', 'false'::jsonb)"
                .to_owned(),
        ),
        target(
            "certificates",
            LEARNER_CERTIFICATE,
            "certificate_url = '/certificates/edited.pdf'",
            format!(
                "INSERT INTO certificates (id, user_id, course_id, certificate_number)
                 VALUES (gen_random_uuid(), '{LEARNER}', '{C1}', 'ST-TEST-000002')"
            ),
        ),
        target(
            "desktop_releases",
            DESKTOP_RELEASE,
            "notes = 'Edited'",
            "INSERT INTO desktop_releases
                 (version, bundle, arch, file_name, size_bytes, sha256, signature)
                 VALUES ('0.1.2', 'deb', 'x86_64', 'skilltrack_0.1.2_amd64.deb', 1,
                 repeat('2', 64), 'c2lnbmF0dXJl')"
                .to_owned(),
        ),
        target(
            "certificate_signing_keys",
            SIGNING_KEY,
            "created_at = now()",
            "INSERT INTO certificate_signing_keys (kid, public_jwk)
                 VALUES ('another-key', '{\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"x\": \"AA\", \"kid\": \"another-key\"}')"
                .to_owned(),
        ),
    ]
}

/// [`EXPECTED`], parsed: (table, op) → allowed, per persona in [`Persona::ALL`] order.
fn expected() -> BTreeMap<(String, Op), [bool; 6]> {
    let mut rows = BTreeMap::new();
    for (n, line) in EXPECTED.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cells.len(),
            8,
            "EXPECTED line {n}: want table, op and 6 cells: {line}"
        );
        let op = Op::parse(cells[1]).unwrap_or_else(|| panic!("EXPECTED line {n}: bad op"));
        let mut allowed = [false; 6];
        for (slot, cell) in allowed.iter_mut().zip(&cells[2..]) {
            *slot = match *cell {
                "Y" => true,
                "-" => false,
                other => panic!("EXPECTED line {n}: cell {other:?} is neither Y nor -"),
            };
        }
        let previous = rows.insert((cells[0].to_owned(), op), allowed);
        assert!(
            previous.is_none(),
            "EXPECTED line {n}: {} {} twice",
            cells[0],
            cells[1]
        );
    }
    rows
}

/// What one case did.
#[derive(Debug, Clone)]
enum Outcome {
    Allowed,
    /// Denied, and how: "0 rows" or the 42501 message.
    Denied(String),
}

/// Runs one statement and says whether it was allowed. `Err` means the case itself is broken
/// (a syntax error, a constraint violation, an unexpected row count): never a denial.
async fn attempt(conn: &mut PgConnection, op: Op, sql: &str) -> Result<Outcome, String> {
    let rows = if op == Op::Select {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&mut *conn)
            .await
            .map(|n| u64::try_from(n).unwrap_or(u64::MAX))
    } else {
        sqlx::query(sql)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected())
    };
    match rows {
        Ok(1) => Ok(Outcome::Allowed),
        // An INSERT ... VALUES inserts its row or fails: 0 rows would be a broken case.
        Ok(0) if op != Op::Insert => Ok(Outcome::Denied("0 rows".to_owned())),
        Ok(n) => Err(format!("{n} rows (the case aims at exactly one)")),
        Err(e) => denial(&e),
    }
}

/// A 42501 is a denial: a table or column privilege, an RLS check ("new row violates
/// row-level security policy") or a guard trigger. Anything else, including a missing
/// privilege on a function or schema a statement happens to need, breaks the case.
fn denial(e: &sqlx::Error) -> Result<Outcome, String> {
    match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("42501") => {
            let message = db.message();
            if ["for function", "for schema", "for sequence"]
                .iter()
                .any(|s| message.contains(s))
            {
                Err(format!("42501 {message}"))
            } else {
                Ok(Outcome::Denied(format!("42501 {message}")))
            }
        }
        sqlx::Error::Database(db) => Err(format!(
            "{} {}",
            db.code().unwrap_or_default(),
            db.message()
        )),
        other => Err(other.to_string()),
    }
}

async fn world() -> TestDb {
    let t = test_db().await;
    load_world(t.owner()).await;
    t
}

/// The tables of the public schema, but for sqlx's bookkeeping (`_sqlx_migrations`, checked by
/// [`the_migrations_table_is_out_of_reach`]).
async fn public_tables(owner: &PgPool) -> BTreeSet<String> {
    sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables
         WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations'",
    )
    .fetch_all(owner)
    .await
    .expect("listing tables")
    .into_iter()
    .collect()
}

/// The matrix's own shape: every public table, all four operations, a statement for each, and
/// in every row at least one persona allowed (so no denial is an artefact of a broken case).
fn check_shape(expected: &BTreeMap<(String, Op), [bool; 6]>, tables: &BTreeSet<String>) {
    let mut problems = Vec::new();
    let in_matrix: BTreeSet<String> = expected.keys().map(|(t, _)| t.clone()).collect();
    for missing in tables.difference(&in_matrix) {
        problems.push(format!("table {missing} is not in the matrix"));
    }
    for extra in in_matrix.difference(tables) {
        problems.push(format!(
            "the matrix has {extra}, which is not a table of the public schema"
        ));
    }
    for table in &in_matrix {
        for op in Op::ALL {
            if !expected.contains_key(&(table.clone(), op)) {
                problems.push(format!("{table} has no {} row", op.name()));
            }
        }
    }
    for ((table, op), allowed) in expected {
        if !allowed.contains(&true) {
            problems.push(format!(
                "{table} {}: nobody is allowed, so no case proves the statement works",
                op.name()
            ));
        }
    }
    let targeted: BTreeSet<String> = targets().iter().map(|t| t.table.to_owned()).collect();
    if targeted != in_matrix || targeted.len() != targets().len() {
        problems.push(format!(
            "targets() and EXPECTED differ: targets {targeted:?}, matrix {in_matrix:?}"
        ));
    }
    assert!(
        problems.is_empty(),
        "the RLS matrix is malformed:\n  {}",
        problems.join("\n  ")
    );
}

fn render(results: &BTreeMap<(String, Op), Vec<Outcome>>) -> String {
    let mut out = String::from(
        "// table                   op      anon learner other instr other_instr admin\n",
    );
    for table in targets().iter().map(|t| t.table) {
        for op in Op::ALL {
            let Some(row) = results.get(&(table.to_owned(), op)) else {
                continue;
            };
            let cells: Vec<&str> = row
                .iter()
                .map(|o| {
                    if matches!(o, Outcome::Allowed) {
                        "Y"
                    } else {
                        "-"
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "{table:<26} {:<7} {:<4} {:<7} {:<5} {:<5} {:<11} {}",
                op.name(),
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                cells[4],
                cells[5]
            );
        }
    }
    out
}

#[tokio::test]
async fn rls_matrix() {
    let t = world().await;
    let expected = expected();
    check_shape(&expected, &public_tables(t.owner()).await);
    let targets = targets();

    // Every statement must work for the owner (no RLS, no guards): the target exists, the SQL
    // is valid and the new rows satisfy every constraint.
    let mut broken = Vec::new();
    for target in &targets {
        for op in Op::ALL {
            let mut tx = t.owner().begin().await.expect("owner transaction");
            match attempt(&mut tx, op, &target.sql(op)).await {
                Ok(Outcome::Allowed) => {}
                other => broken.push(format!(
                    "{} {} as owner: {other:?}",
                    target.table,
                    op.name()
                )),
            }
            tx.rollback().await.expect("rollback");
        }
    }
    assert!(
        broken.is_empty(),
        "broken cases:\n  {}",
        broken.join("\n  ")
    );

    let started = Instant::now();
    let mut results: BTreeMap<(String, Op), Vec<Outcome>> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for target in &targets {
        for op in Op::ALL {
            let sql = target.sql(op);
            let allowed = expected[&(target.table.to_owned(), op)];
            let mut row = Vec::new();
            for (who, expect_allowed) in Persona::ALL.into_iter().zip(allowed) {
                let mut tx = as_persona(t.api(), who).await;
                let outcome = attempt(&mut tx, op, &sql).await;
                tx.rollback().await.expect("rollback");
                let case = format!("{} {} {}", target.table, op.name(), who.name());
                let outcome = match outcome {
                    Ok(outcome) => outcome,
                    Err(e) => {
                        mismatches.push(format!("{case}: broken case: {e}"));
                        Outcome::Denied(e)
                    }
                };
                match (&outcome, expect_allowed) {
                    (Outcome::Allowed, false) => {
                        mismatches.push(format!("{case}: expected denied, was allowed"));
                    }
                    (Outcome::Denied(how), true) => {
                        mismatches.push(format!("{case}: expected allowed, was denied ({how})"));
                    }
                    _ => {}
                }
                row.push(outcome);
            }
            results.insert((target.table.to_owned(), op), row);
        }
    }
    let elapsed = started.elapsed();
    let cases = targets.len() * Op::ALL.len() * Persona::ALL.len();
    eprintln!("RLS matrix: {cases} cases in {elapsed:.2?}");
    assert!(
        mismatches.is_empty(),
        "{} of {cases} RLS cases differ from the rules:\n  {}\n\nobserved:\n{}",
        mismatches.len(),
        mismatches.join("\n  "),
        render(&results)
    );
}

/// Runs `sql` as `who` and rolls back: rows affected (or the count a `SELECT count(*)` found).
async fn run(api: &PgPool, who: Persona, sql: &str) -> Result<u64, sqlx::Error> {
    let mut tx = as_persona(api, who).await;
    let result = if sql
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("SELECT COUNT(*)")
    {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&mut *tx)
            .await
            .map(|n| u64::try_from(n).expect("a count"))
    } else {
        sqlx::query(sql)
            .execute(&mut *tx)
            .await
            .map(|r| r.rows_affected())
    };
    tx.rollback().await.expect("rollback");
    result
}

fn sqlstate(result: &Result<u64, sqlx::Error>) -> Option<String> {
    match result {
        Err(sqlx::Error::Database(db)) => db.code().map(std::borrow::Cow::into_owned),
        _ => None,
    }
}

/// Asserts that `sql` as `who` fails with 42501 (`insufficient_privilege`).
async fn assert_forbidden(api: &PgPool, who: Persona, sql: &str) {
    let result = run(api, who, sql).await;
    assert_eq!(
        sqlstate(&result).as_deref(),
        Some("42501"),
        "{}: {sql}: {result:?}",
        who.name()
    );
}

async fn ids(api: &PgPool, who: Persona, sql: &str) -> BTreeSet<Uuid> {
    let mut tx = as_persona(api, who).await;
    let ids: Vec<Uuid> = sqlx::query_scalar(sql)
        .fetch_all(&mut *tx)
        .await
        .expect(sql);
    tx.rollback().await.expect("rollback");
    ids.into_iter().collect()
}

#[tokio::test]
async fn learner_cannot_read_correct_answers_by_any_route() {
    let t = world().await;
    let api = t.api();

    // The table: nothing, for either enrolled learner, however it is reached.
    for who in [Persona::Learner, Persona::OtherLearner] {
        assert_eq!(
            run(api, who, "SELECT count(*) FROM assessment_questions")
                .await
                .unwrap(),
            0
        );
        let mut tx = as_persona(api, who).await;
        let keys: Vec<Option<String>> =
            sqlx::query_scalar("SELECT correct_answer FROM assessment_questions")
                .fetch_all(&mut *tx)
                .await
                .unwrap();
        assert!(keys.is_empty(), "{} read answer keys: {keys:?}", who.name());
        let joined: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT q.correct_answer FROM user_assessment_answers a
             JOIN assessment_questions q ON q.id = a.question_id",
        )
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        assert!(
            joined.is_empty(),
            "{} read answer keys through answers: {joined:?}",
            who.name()
        );
        tx.rollback().await.unwrap();
    }

    // The learner's route: the questions, without the key or the explanation.
    let mut tx = as_persona(api, Persona::Learner).await;
    let rows: Vec<PgRow> = sqlx::query("SELECT * FROM public.assessment_questions_for_learner($1)")
        .bind(C1_ASSESSMENT)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(rows.len(), 2, "the learner gets both questions");
    let columns: Vec<&str> = rows[0].columns().iter().map(sqlx::Column::name).collect();
    assert_eq!(
        columns,
        [
            "id",
            "assessment_id",
            "question_text",
            "question_type",
            "options",
            "points",
            "sort_order"
        ]
    );
    assert!(!columns.contains(&"correct_answer") && !columns.contains(&"explanation"));
    let returned: BTreeSet<Uuid> = rows.iter().map(|r| r.get::<Uuid, _>("id")).collect();
    assert_eq!(returned, BTreeSet::from([C1_QUESTION, C1_QUESTION_2]));

    // Another instructor gets nothing from it; anonymous visitors may not call it at all.
    let mut tx = as_persona(api, Persona::OtherInstructor).await;
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM public.assessment_questions_for_learner($1)")
            .bind(C1_ASSESSMENT)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(n, 0, "another instructor read C1's questions");
    assert_forbidden(
        api,
        Persona::Anon,
        &format!("SELECT count(*) FROM public.assessment_questions_for_learner('{C1_ASSESSMENT}')"),
    )
    .await;

    // The course's instructor reads the key from the table.
    let mut tx = as_persona(api, Persona::Instructor).await;
    let key: Option<String> =
        sqlx::query_scalar("SELECT correct_answer FROM assessment_questions WHERE id = $1")
            .bind(C1_QUESTION)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(key.as_deref(), Some(C1_QUESTION_ANSWER));
}

#[tokio::test]
async fn learner_cannot_grade_themselves() {
    let t = world().await;
    let api = t.api();
    let answer = |grading: &str| {
        format!(
            "INSERT INTO user_assessment_answers (id, attempt_id, question_id, answer_text{grading})
             VALUES (gen_random_uuid(), '{LEARNER_ATTEMPT}', '{C1_QUESTION_2}', 'true'{})",
            match grading {
                ", is_correct" => ", true",
                ", points_earned" => ", 1",
                _ => "",
            }
        )
    };
    // Saving an ungraded answer is fine: the denials below are about grading alone.
    assert_eq!(run(api, Persona::Learner, &answer("")).await.unwrap(), 1);
    for sql in [
        answer(", is_correct"),
        answer(", points_earned"),
        format!("UPDATE user_assessment_answers SET is_correct = true WHERE id = '{LEARNER_ANSWER}'"),
        format!("UPDATE user_assessment_answers SET points_earned = 1 WHERE id = '{LEARNER_ANSWER}'"),
        format!("UPDATE user_assessment_attempts SET score = 100 WHERE id = '{LEARNER_ATTEMPT}'"),
        format!("UPDATE user_assessment_attempts SET passed = true WHERE id = '{LEARNER_ATTEMPT}'"),
        format!(
            "INSERT INTO user_assessment_attempts (id, user_id, assessment_id, attempt_number, score, passed)
             VALUES (gen_random_uuid(), '{LEARNER}', '{C1_ASSESSMENT}', 2, 100, true)"
        ),
    ] {
        assert_forbidden(api, Persona::Learner, &sql).await;
    }

    // The course's instructor grades.
    let graded = format!(
        "UPDATE user_assessment_answers SET points_earned = 1, is_correct = true WHERE id = '{LEARNER_ANSWER}'"
    );
    assert_eq!(run(api, Persona::Instructor, &graded).await.unwrap(), 1);
    let scored = format!(
        "UPDATE user_assessment_attempts SET score = 100, passed = true WHERE id = '{LEARNER_ATTEMPT}'"
    );
    assert_eq!(run(api, Persona::Instructor, &scored).await.unwrap(), 1);
}

#[tokio::test]
async fn anonymous_cannot_see_unpublished_courses_or_labs() {
    let t = world().await;
    let api = t.api();
    for who in [Persona::Anon, Persona::Learner, Persona::OtherInstructor] {
        let courses = ids(api, who, "SELECT id FROM courses").await;
        assert!(
            courses.contains(&C1) && courses.contains(&C3),
            "{}: {courses:?}",
            who.name()
        );
        assert!(
            !courses.contains(&C2),
            "{} sees the unpublished course",
            who.name()
        );
        let labs = ids(api, who, "SELECT id FROM labs").await;
        assert!(
            labs.contains(&L1) && labs.contains(&L3),
            "{}: {labs:?}",
            who.name()
        );
        assert!(
            !labs.contains(&L2),
            "{} sees the unpublished lab",
            who.name()
        );
        let modules = ids(api, who, "SELECT id FROM course_modules").await;
        assert!(modules.contains(&C1_MODULE), "{}: {modules:?}", who.name());
        assert!(
            !modules.contains(&C2_MODULE),
            "{} sees a module of the unpublished course",
            who.name()
        );
    }
    let courses = ids(api, Persona::Instructor, "SELECT id FROM courses").await;
    assert!(
        [C1, C2, C3].iter().all(|c| courses.contains(c)),
        "instructor: {courses:?}"
    );
    let labs = ids(api, Persona::Instructor, "SELECT id FROM labs").await;
    assert!(
        [L1, L2, L3].iter().all(|l| labs.contains(l)),
        "instructor: {labs:?}"
    );
}

#[tokio::test]
async fn instructor_cannot_change_another_instructors_course() {
    let t = world().await;
    let api = t.api();
    let retitle = format!("UPDATE courses SET title = 'Hijacked' WHERE id = '{C3}'");
    assert_eq!(run(api, Persona::Instructor, &retitle).await.unwrap(), 0);
    let steal = format!("UPDATE courses SET instructor_id = '{INSTRUCTOR}' WHERE id = '{C3}'");
    assert_eq!(run(api, Persona::Instructor, &steal).await.unwrap(), 0);
    let hand_over =
        format!("UPDATE courses SET instructor_id = '{OTHER_INSTRUCTOR}' WHERE id = '{C1}'");
    assert_forbidden(api, Persona::Instructor, &hand_over).await;
    assert_eq!(run(api, Persona::Admin, &hand_over).await.unwrap(), 1);
    assert_eq!(
        run(api, Persona::OtherInstructor, &retitle).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn a_learner_cannot_promote_themselves() {
    let t = world().await;
    let api = t.api();
    for set in [
        "role = 'admin'",
        "role = 'instructor'",
        "is_verified = true",
        "subscription_tier = 'pro'",
    ] {
        let sql = format!("UPDATE profiles SET {set} WHERE id = '{LEARNER}'");
        assert_forbidden(api, Persona::Learner, &sql).await;
    }
    let promote = format!("UPDATE profiles SET role = 'instructor' WHERE id = '{LEARNER}'");
    assert_eq!(run(api, Persona::Admin, &promote).await.unwrap(), 1);
    let role: String = sqlx::query_scalar("SELECT role::text FROM profiles WHERE id = $1")
        .bind(LEARNER)
        .fetch_one(t.owner())
        .await
        .unwrap();
    assert_eq!(role, "student", "every case above was rolled back");
}

#[tokio::test]
async fn private_rows_stay_private() {
    let t = world().await;
    // Each table with the predicate that picks a user's own rows ($1: the user).
    let tables = [
        ("enrollments", "user_id = $1"),
        ("user_progress", "user_id = $1"),
        ("user_assessment_attempts", "user_id = $1"),
        (
            "user_assessment_answers",
            "attempt_id IN (SELECT id FROM user_assessment_attempts WHERE user_id = $1)",
        ),
        ("payments", "user_id = $1"),
        ("subscriptions", "user_id = $1"),
        ("notifications", "user_id = $1"),
        ("user_files", "user_id = $1"),
        ("lab_sessions", "user_id = $1"),
    ];
    for (table, owned_by) in tables {
        let owned = format!("SELECT id FROM {table} WHERE {owned_by}");
        let learners: Vec<Uuid> = sqlx::query_scalar(&owned)
            .bind(LEARNER)
            .fetch_all(t.owner())
            .await
            .unwrap();
        let own: Vec<Uuid> = sqlx::query_scalar(&owned)
            .bind(OTHER_LEARNER)
            .fetch_all(t.owner())
            .await
            .unwrap();
        assert!(
            !learners.is_empty(),
            "the world gives LEARNER rows in {table}"
        );

        let mut tx = as_persona(t.api(), Persona::OtherLearner).await;
        let visible: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let of_learner: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE id = ANY($1)"))
                .bind(&learners)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(
            of_learner, 0,
            "OTHER_LEARNER sees LEARNER's rows in {table}"
        );
        assert_eq!(
            usize::try_from(visible).unwrap(),
            own.len(),
            "OTHER_LEARNER sees rows other than their own in {table}"
        );
    }
}

/// sqlx keeps its migration log in the public schema, next to the tables of the matrix: the API
/// roles may neither read nor write it (no privilege, or RLS without a policy).
#[tokio::test]
async fn the_migrations_table_is_out_of_reach() {
    let t = test_db().await;
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(t.owner())
        .await
        .unwrap();
    assert!(applied > 0);
    for who in Persona::ALL {
        for sql in [
            "SELECT count(*) FROM _sqlx_migrations",
            "UPDATE _sqlx_migrations SET description = description",
            "DELETE FROM _sqlx_migrations",
        ] {
            let result = run(t.api(), who, sql).await;
            let denied = matches!(result, Ok(0)) || sqlstate(&result).as_deref() == Some("42501");
            assert!(denied, "{}: {sql}: {result:?}", who.name());
        }
    }
}

/// The tables several server processes share (migration 0072: rate-limit counters, periodic
/// runs, the processes and the lab sessions they host), and the server's message catalog
/// (0091), are the server's alone: no API role may
/// read or write them, whatever its claims (no privilege, and RLS without a policy).
#[tokio::test]
async fn the_cluster_tables_are_out_of_reach() {
    let t = world().await;
    let tables = [
        (
            "private.rate_limits",
            "INSERT INTO private.rate_limits (limiter, key_hash, started_at, hits, expires_at)
             VALUES ('sign_in_per_ip', decode(repeat('00', 32), 'hex'), now(), 0, now())",
        ),
        (
            "private.periodic_runs",
            "INSERT INTO private.periodic_runs (job, last_started_at, last_instance)
             VALUES ('lab_reaper', now(), gen_random_uuid())",
        ),
        (
            "private.server_instances",
            "INSERT INTO private.server_instances (id) VALUES (gen_random_uuid())",
        ),
        (
            // The server's message catalog (migration 0091): read by its SECURITY DEFINER
            // functions only.
            "private.server_messages",
            "INSERT INTO private.server_messages (key, language, title, body)
             VALUES ('rls_probe', 'en', 'Probe', 'A probe.')",
        ),
        (
            "private.lab_session_hosts",
            "INSERT INTO private.lab_session_hosts (session_id, instance_id)
             SELECT id, gen_random_uuid() FROM lab_sessions LIMIT 1",
        ),
    ];
    for (table, insert) in tables {
        // Something to hide: a row of each, written as the owner.
        let mut owner = t.owner().begin().await.unwrap();
        sqlx::raw_sql(insert).execute(&mut *owner).await.unwrap();
        owner.commit().await.unwrap();
        for who in Persona::ALL {
            for sql in [
                format!("SELECT count(*) FROM {table}"),
                insert.to_owned(),
                format!("DELETE FROM {table}"),
            ] {
                let result = run(t.api(), who, &sql).await;
                let denied =
                    matches!(result, Ok(0)) || sqlstate(&result).as_deref() == Some("42501");
                assert!(denied, "{}: {sql}: {result:?}", who.name());
            }
        }
    }
}

/// The mailed links of account recovery (`auth.account_tokens`, migration 0090) are the
/// server's alone: every persona, the account's owner included, is refused every operation
/// (no privilege at all, and RLS on with no policy behind it), while the server's own
/// `service_role` path reads and writes them.
#[tokio::test]
async fn account_recovery_links_are_out_of_reach_of_every_persona() {
    let t = world().await;
    sqlx::query(
        "INSERT INTO auth.account_tokens (user_id, purpose, token_hash, email, expires_at)
         SELECT id, 'password_reset', sha256('a token'::bytea), email, now() + interval '1 hour'
         FROM auth.users WHERE id = $1",
    )
    .bind(LEARNER)
    .execute(t.owner())
    .await
    .unwrap();
    let rls: bool = sqlx::query_scalar(
        "SELECT relrowsecurity FROM pg_class WHERE oid = 'auth.account_tokens'::regclass",
    )
    .fetch_one(t.owner())
    .await
    .unwrap();
    assert!(rls, "RLS is enabled on auth.account_tokens");
    let attempts = [
        "SELECT count(*) FROM auth.account_tokens".to_owned(),
        format!(
            "INSERT INTO auth.account_tokens (user_id, purpose, token_hash, email, expires_at)
             VALUES ('{LEARNER}', 'password_reset', sha256('mine'::bytea), 'x@example.com',
                     now() + interval '1 hour')"
        ),
        "UPDATE auth.account_tokens SET used_at = NULL".to_owned(),
        "DELETE FROM auth.account_tokens".to_owned(),
    ];
    for who in Persona::ALL {
        for sql in &attempts {
            let result = run(t.api(), who, sql).await;
            assert_eq!(
                sqlstate(&result).as_deref(),
                Some("42501"),
                "{}: {sql}: {result:?}",
                who.name()
            );
        }
    }
    // The allowed case: the server's recovery code, as service_role.
    let mut tx = skilltrack_server::db::session::begin_service(t.api())
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM auth.account_tokens")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let used = sqlx::query("UPDATE auth.account_tokens SET used_at = now()")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(used.rows_affected(), 1);
    tx.rollback().await.unwrap();
}

/// What a learner may not do on insert, they may not do by updating a row of their own into
/// that shape either: an enrollment moved to another (unpublished) course or inserted as already
/// completed ("a learner may cancel an enrollment; anything else is decided by the server or an
/// admin"), a review moved to a course they are not enrolled in or a lab they never tried
/// ("written by enrolled learners" / "by learners who have tried the lab"), a submitted attempt
/// reopened so its answers can be changed (answers are saved only into open attempts).
#[tokio::test]
async fn learners_cannot_slip_past_the_insert_checks_by_updating() {
    let t = world().await;
    let api = t.api();
    let reopen = [
        format!(
            "UPDATE user_assessment_attempts SET completed_at = now() WHERE id = '{LEARNER_ATTEMPT}'"
        ),
        format!(
            "UPDATE user_assessment_attempts SET completed_at = NULL WHERE id = '{LEARNER_ATTEMPT}'"
        ),
    ];
    let cases: [&[String]; 6] = [
        &[format!(
            "UPDATE enrollments SET course_id = '{C2}' WHERE id = '{LEARNER_ENROLLMENT}'"
        )],
        &[format!(
            "UPDATE enrollments SET course_id = '{C3}' WHERE id = '{LEARNER_ENROLLMENT}'"
        )],
        &[format!(
            "INSERT INTO enrollments (id, user_id, course_id, status)
             VALUES (gen_random_uuid(), '{LEARNER}', '{C3}', 'completed')"
        )],
        &[format!(
            "UPDATE course_reviews SET course_id = '{C3}' WHERE id = '{LEARNER_COURSE_REVIEW}'"
        )],
        &[format!(
            "UPDATE lab_reviews SET lab_id = '{L3}' WHERE id = '{LEARNER_LAB_REVIEW}'"
        )],
        // Submitting is the learner's to do; reopening is not.
        &reopen,
    ];
    let mut got_past = Vec::new();
    for statements in cases {
        let mut tx = as_persona(api, Persona::Learner).await;
        let mut result = Ok(0);
        for sql in statements {
            result = sqlx::query(sql)
                .execute(&mut *tx)
                .await
                .map(|r| r.rows_affected());
        }
        tx.rollback().await.unwrap();
        let last = statements.last().expect("a statement");
        match result {
            Ok(0) => {}
            Ok(_) => got_past.push(format!("allowed: {last}")),
            Err(e) => {
                if !matches!(denial(&e), Ok(Outcome::Denied(_))) {
                    got_past.push(format!("broken case ({e}): {last}"));
                }
            }
        }
    }
    assert!(
        got_past.is_empty(),
        "LEARNER got past the rules:\n  {}",
        got_past.join("\n  ")
    );
}

#[tokio::test]
async fn attempts_are_stamped_by_the_database_and_bounded_by_max_attempts() {
    let t = world().await;
    let second = Uuid::now_v7();
    let mut tx = as_persona(t.api(), Persona::Learner).await;
    // The start is the database's clock, whatever the learner sends.
    sqlx::query(&format!(
        "INSERT INTO user_assessment_attempts (id, user_id, assessment_id, attempt_number, started_at)
         VALUES ('{second}', '{LEARNER}', '{C1_ASSESSMENT}', 2, now() - interval '3 hours')"
    ))
    .execute(&mut *tx)
    .await
    .unwrap();
    let fresh: bool = sqlx::query_scalar(&format!(
        "SELECT started_at > now() - interval '1 minute' FROM user_assessment_attempts
         WHERE id = '{second}'"
    ))
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(fresh, "a back-dated start was kept");
    // The assessment allows 3 attempts: a fourth is refused.
    let err = sqlx::query(&format!(
        "INSERT INTO user_assessment_attempts (id, user_id, assessment_id, attempt_number)
         VALUES (gen_random_uuid(), '{LEARNER}', '{C1_ASSESSMENT}', 4)"
    ))
    .execute(&mut *tx)
    .await
    .unwrap_err();
    let db = err.as_database_error().unwrap();
    assert_eq!(
        (db.code().as_deref(), db.message()),
        (Some("P0001"), "no_attempts_left"),
        "{err}"
    );
}

/// Payments for labs (`payments.lab_id`, migration 0040) are as private as those for courses:
/// their payer and admins read them, nobody but an admin writes one, not even for themselves,
/// and the lab's instructor does not see who paid.
#[tokio::test]
async fn lab_payments_belong_to_their_payer_alone() {
    let t = world().await;
    let api = t.api();
    let payment = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO payments (id, user_id, lab_id, amount, payment_method, payment_status)
         VALUES ($1, $2, $3, 9.99, 'credit_card', 'completed')",
    )
    .bind(payment)
    .bind(LEARNER)
    .bind(L1)
    .execute(t.owner())
    .await
    .unwrap();
    let seen = format!("SELECT id FROM payments WHERE lab_id = '{L1}'");
    for (who, visible) in [
        (Persona::Anon, false),
        (Persona::Learner, true),
        (Persona::OtherLearner, false),
        (Persona::Instructor, false),
        (Persona::OtherInstructor, false),
        (Persona::Admin, true),
    ] {
        let found = if who == Persona::Anon {
            run(
                api,
                who,
                &format!("SELECT count(*) FROM payments WHERE id = '{payment}'"),
            )
            .await
            .map_or(0, |n| n)
                > 0
        } else {
            ids(api, who, &seen).await.contains(&payment)
        };
        assert_eq!(found, visible, "{} reading a lab payment", who.name());
    }
    // Paying is the server's: a learner cannot record a payment, for themselves or for another.
    for (who, payer) in [
        (Persona::Learner, LEARNER),
        (Persona::OtherLearner, LEARNER),
    ] {
        assert_forbidden(
            api,
            who,
            &format!(
                "INSERT INTO payments (user_id, lab_id, amount, payment_method, payment_status)
                 VALUES ('{payer}', '{L1}', 0, 'credit_card', 'completed')"
            ),
        )
        .await;
    }
    let moved = run(
        api,
        Persona::Learner,
        &format!("UPDATE payments SET lab_id = '{L2}' WHERE id = '{payment}'"),
    )
    .await;
    assert!(
        matches!(moved, Ok(0)) || sqlstate(&moved).as_deref() == Some("42501"),
        "{moved:?}"
    );
    // One payment pays for one thing.
    let both = sqlx::query(
        "INSERT INTO payments (user_id, course_id, lab_id, amount, payment_method)
         VALUES ($1, $2, $3, 1, 'credit_card')",
    )
    .bind(LEARNER)
    .bind(C1)
    .bind(L1)
    .execute(t.owner())
    .await;
    assert!(both.is_err(), "a payment for a course and a lab at once");
}
