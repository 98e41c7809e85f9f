//! A learner's enrollments, progress, certificates and payments, under the caller's RLS role.
//! The rules (who may join, how progress merges, when a course completes) are the database's:
//! see `migrations/0010_learning.sql`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use skilltrack_protocol::catalog::CourseRef;
use skilltrack_protocol::learning::{
    Certificate, CertificateVerification, Enrollment, LessonProgress, Payment, ProgressUpdate,
};
use skilltrack_protocol::{EnrollmentStatus, PaymentMethod, PgEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{decode, with_scale};

const ENROLLMENT_COLUMNS: &str = "e.id, e.course_id, c.slug, c.title, e.status::text AS status,
    e.enrolled_at, e.completed_at, e.progress_percentage";

#[derive(sqlx::FromRow)]
struct EnrollmentRow {
    id: Uuid,
    course_id: Uuid,
    slug: String,
    title: String,
    status: String,
    enrolled_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    progress_percentage: i32,
}

impl TryFrom<EnrollmentRow> for Enrollment {
    type Error = sqlx::Error;
    fn try_from(r: EnrollmentRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: r.id,
            course: CourseRef {
                id: r.course_id,
                slug: r.slug,
                title: r.title,
            },
            status: decode("status", &r.status)?,
            enrolled_at: r.enrolled_at,
            completed_at: r.completed_at,
            progress_percentage: r.progress_percentage,
        })
    }
}

/// The caller's enrollment in a course, if any.
pub async fn my_enrollment(
    conn: &mut PgConnection,
    user: Uuid,
    course: Uuid,
) -> Result<Option<Enrollment>, sqlx::Error> {
    sqlx::query_as::<_, EnrollmentRow>(&format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM enrollments e JOIN courses c ON c.id = e.course_id
         WHERE e.user_id = $1 AND e.course_id = $2"
    ))
    .bind(user)
    .bind(course)
    .fetch_optional(conn)
    .await?
    .map(Enrollment::try_from)
    .transpose()
}

/// The caller's enrollments, newest first.
pub async fn my_enrollments(
    conn: &mut PgConnection,
    user: Uuid,
) -> Result<Vec<Enrollment>, sqlx::Error> {
    sqlx::query_as::<_, EnrollmentRow>(&format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM enrollments e JOIN courses c ON c.id = e.course_id
         WHERE e.user_id = $1 ORDER BY e.enrolled_at DESC, e.id DESC"
    ))
    .bind(user)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Enrollment::try_from)
    .collect()
}

/// Enrolls the caller, or brings back a cancelled enrollment. The database checks the rules
/// (published, open, prerequisites, payment, seats) and raises a coded error when one fails.
pub async fn enroll(
    conn: &mut PgConnection,
    user: Uuid,
    course: Uuid,
    existing: Option<&Enrollment>,
) -> Result<(), sqlx::Error> {
    if existing.is_some_and(|e| e.status == EnrollmentStatus::Cancelled) {
        sqlx::query(
            "UPDATE enrollments SET status = 'active' WHERE user_id = $1 AND course_id = $2",
        )
        .bind(user)
        .bind(course)
        .execute(conn)
        .await?;
    } else {
        sqlx::query("INSERT INTO enrollments (user_id, course_id) VALUES ($1, $2)")
            .bind(user)
            .bind(course)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Cancels the caller's active enrollment; false if there was none.
pub async fn cancel(
    conn: &mut PgConnection,
    user: Uuid,
    course: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE enrollments SET status = 'cancelled'
         WHERE user_id = $1 AND course_id = $2 AND status = 'active'",
    )
    .bind(user)
    .bind(course)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records `mutation` as applied; false if it had been (a retry).
pub async fn claim_mutation(
    conn: &mut PgConnection,
    user: Uuid,
    mutation: Uuid,
    kind: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO applied_mutations (id, user_id, kind) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(mutation)
    .bind(user)
    .bind(kind)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the mutations `ids` (all of one `kind`) as applied, in one statement; returns the
/// ids claimed now — an id missing from the answer had been claimed before (a retry), or
/// appears twice in `ids`.
pub async fn claim_mutations(
    conn: &mut PgConnection,
    user: Uuid,
    ids: &[Uuid],
    kind: &str,
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let claimed: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO applied_mutations (id, user_id, kind)
         SELECT u.id, $2, $3 FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n) ORDER BY u.n
         ON CONFLICT (id) DO NOTHING
         RETURNING id",
    )
    .bind(ids)
    .bind(user)
    .bind(kind)
    .fetch_all(conn)
    .await?;
    Ok(claimed.into_iter().collect())
}

/// One lesson's share of a batch of progress updates, merged: the highest percentage, the
/// minutes added up, completed if any update completed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergedProgress {
    /// The lesson.
    pub lesson: Uuid,
    /// 0–100.
    pub progress_percentage: i32,
    /// Minutes to add.
    pub add_minutes: i32,
    /// Whether to mark it completed.
    pub completed: bool,
}

/// [`record_progress`] for many lessons in one statement, each lesson at most once. The
/// database's merge applies to each row as it does to one; the per-row triggers (activity,
/// course progress) run at the end of the statement and see all of its rows.
pub async fn record_progress_rows(
    conn: &mut PgConnection,
    user: Uuid,
    rows: &[MergedProgress],
) -> Result<(), sqlx::Error> {
    let lessons: Vec<Uuid> = rows.iter().map(|r| r.lesson).collect();
    let percentages: Vec<i32> = rows.iter().map(|r| r.progress_percentage).collect();
    let minutes: Vec<i32> = rows.iter().map(|r| r.add_minutes).collect();
    let completed: Vec<bool> = rows.iter().map(|r| r.completed).collect();
    sqlx::query(
        "INSERT INTO user_progress (user_id, lesson_id, course_id, progress_percentage,
                                    time_spent_minutes, completed_at)
         SELECT $1, u.lesson_id, NULL, u.pct, u.minutes, CASE WHEN u.completed THEN now() END
         FROM unnest($2::uuid[], $3::int4[], $4::int4[], $5::bool[])
              AS u(lesson_id, pct, minutes, completed)
         ON CONFLICT (user_id, lesson_id) DO UPDATE SET
           progress_percentage = EXCLUDED.progress_percentage,
           time_spent_minutes = user_progress.time_spent_minutes + EXCLUDED.time_spent_minutes,
           completed_at = EXCLUDED.completed_at",
    )
    .bind(user)
    .bind(&lessons)
    .bind(&percentages)
    .bind(&minutes)
    .bind(&completed)
    .execute(conn)
    .await
    .map(drop)
}

const PROGRESS_COLUMNS: &str =
    "lesson_id, course_id, progress_percentage, time_spent_minutes, completed_at, updated_at";

#[derive(sqlx::FromRow)]
struct ProgressRow {
    lesson_id: Uuid,
    course_id: Uuid,
    progress_percentage: i32,
    time_spent_minutes: i32,
    completed_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl From<ProgressRow> for LessonProgress {
    fn from(r: ProgressRow) -> Self {
        Self {
            lesson_id: r.lesson_id,
            course_id: r.course_id,
            progress_percentage: r.progress_percentage,
            time_spent_minutes: r.time_spent_minutes,
            completed_at: r.completed_at,
            updated_at: r.updated_at,
        }
    }
}

/// Merges an update into the caller's progress in a lesson: the highest percentage wins,
/// completion sticks, minutes add up (the merge itself is a trigger, so sync obeys it too).
pub async fn record_progress(
    conn: &mut PgConnection,
    user: Uuid,
    lesson: Uuid,
    update: &ProgressUpdate,
) -> Result<LessonProgress, sqlx::Error> {
    sqlx::query_as::<_, ProgressRow>(&format!(
        "INSERT INTO user_progress (user_id, lesson_id, course_id, progress_percentage,
                                    time_spent_minutes, completed_at)
         VALUES ($1, $2, NULL, $3, $4, CASE WHEN $5 THEN now() END)
         ON CONFLICT (user_id, lesson_id) DO UPDATE SET
           progress_percentage = EXCLUDED.progress_percentage,
           time_spent_minutes = user_progress.time_spent_minutes + EXCLUDED.time_spent_minutes,
           completed_at = EXCLUDED.completed_at
         RETURNING {PROGRESS_COLUMNS}"
    ))
    .bind(user)
    .bind(lesson)
    .bind(update.progress_percentage.unwrap_or(0))
    .bind(update.add_minutes.unwrap_or(0))
    .bind(update.completed)
    .fetch_one(conn)
    .await
    .map(LessonProgress::from)
}

/// The caller's progress in one lesson, if any.
pub async fn lesson_progress(
    conn: &mut PgConnection,
    user: Uuid,
    lesson: Uuid,
) -> Result<Option<LessonProgress>, sqlx::Error> {
    sqlx::query_as::<_, ProgressRow>(&format!(
        "SELECT {PROGRESS_COLUMNS} FROM user_progress WHERE user_id = $1 AND lesson_id = $2"
    ))
    .bind(user)
    .bind(lesson)
    .fetch_optional(conn)
    .await
    .map(|r| r.map(LessonProgress::from))
}

/// The caller's progress in a course's lessons.
pub async fn course_progress(
    conn: &mut PgConnection,
    user: Uuid,
    course: Uuid,
) -> Result<Vec<LessonProgress>, sqlx::Error> {
    sqlx::query_as::<_, ProgressRow>(&format!(
        "SELECT {PROGRESS_COLUMNS} FROM user_progress WHERE user_id = $1 AND course_id = $2
         ORDER BY updated_at DESC"
    ))
    .bind(user)
    .bind(course)
    .fetch_all(conn)
    .await
    .map(|rows| rows.into_iter().map(LessonProgress::from).collect())
}

const CERTIFICATE_COLUMNS: &str = "ce.id, ce.course_id, co.slug, co.title, ce.certificate_number,
    ce.issued_at, ce.certificate_url, ce.is_valid";

type CertificateRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<String>,
    bool,
);

fn certificate(r: CertificateRow) -> Certificate {
    Certificate {
        id: r.0,
        course: CourseRef {
            id: r.1,
            slug: r.2,
            title: r.3,
        },
        certificate_number: r.4,
        issued_at: r.5,
        certificate_url: r.6,
        is_valid: r.7,
    }
}

/// The caller's certificates, newest first; `course` narrows to one course.
pub async fn my_certificates(
    conn: &mut PgConnection,
    user: Uuid,
    course: Option<Uuid>,
) -> Result<Vec<Certificate>, sqlx::Error> {
    sqlx::query_as::<_, CertificateRow>(&format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM certificates ce JOIN courses co ON co.id = ce.course_id
         WHERE ce.user_id = $1 AND ($2::uuid IS NULL OR ce.course_id = $2)
         ORDER BY ce.issued_at DESC"
    ))
    .bind(user)
    .bind(course)
    .fetch_all(conn)
    .await
    .map(|rows| rows.into_iter().map(certificate).collect())
}

/// What the public may learn of a certificate from its number (`verdict` is the caller's to
/// fill in: it comes from verifying the signed credential).
pub async fn verify_certificate(
    conn: &mut PgConnection,
    number: &str,
) -> Result<Option<CertificateVerification>, sqlx::Error> {
    sqlx::query_as::<_, (String, bool, DateTime<Utc>, String, Option<String>)>(
        "SELECT certificate_number, is_valid, issued_at, course_title, learner_name
         FROM public.verify_certificate($1)",
    )
    .bind(number)
    .fetch_optional(conn)
    .await
    .map(|r| {
        r.map(|r| CertificateVerification {
            certificate_number: r.0,
            is_valid: r.1,
            issued_at: r.2,
            course_title: r.3,
            learner_name: r.4,
            verdict: skilltrack_protocol::credentials::CredentialVerdict::StatusUnknown,
            revoked_at: None,
        })
    })
}

/// The price of a published course the caller can see; `None` if there is no such course.
pub async fn course_price(
    conn: &mut PgConnection,
    course: Uuid,
) -> Result<Option<(Decimal, bool)>, sqlx::Error> {
    sqlx::query_as("SELECT price, is_published FROM courses WHERE id = $1")
        .bind(course)
        .fetch_optional(conn)
        .await
}

/// Whether the caller has a completed payment for the course.
pub async fn has_paid(
    conn: &mut PgConnection,
    user: Uuid,
    course: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM payments WHERE user_id = $1 AND course_id = $2
                        AND payment_status = 'completed')",
    )
    .bind(user)
    .bind(course)
    .fetch_one(conn)
    .await
}

/// A completed charge, as the payment provider reported it.
#[derive(Debug, Clone)]
pub struct CompletedCharge {
    /// Who paid.
    pub user: Uuid,
    /// For which course.
    pub course: Uuid,
    /// How much (USD).
    pub amount: Decimal,
    /// How.
    pub method: PaymentMethod,
    /// The provider's reference.
    pub reference: String,
}

/// Records a completed charge, with its activity. Runs as `service_role`: payments are the
/// server's to write (RLS gives learners read access only).
pub async fn record_payment(
    conn: &mut PgConnection,
    charge: &CompletedCharge,
) -> Result<Payment, sqlx::Error> {
    let (id, created_at): (Uuid, DateTime<Utc>) = sqlx::query_as(
        "WITH p AS (INSERT INTO public.payments (user_id, course_id, amount, currency,
                      payment_method, payment_status, stripe_payment_intent_id)
                    VALUES ($1, $2, $3, 'USD', $4::payment_method, 'completed', $5)
                    RETURNING id, created_at),
              a AS (INSERT INTO public.user_activities (user_id, activity_type, entity_type, entity_id, metadata)
                    SELECT $1, 'payment', 'course', $2, jsonb_build_object('payment_id', p.id) FROM p)
         SELECT id, created_at FROM p",
    )
    .bind(charge.user)
    .bind(charge.course)
    .bind(charge.amount)
    .bind(charge.method.as_str())
    .bind(&charge.reference)
    .fetch_one(conn)
    .await?;
    Ok(Payment {
        id,
        course_id: Some(charge.course),
        lab_id: None,
        amount: with_scale(charge.amount, 2),
        currency: "USD".to_owned(),
        payment_method: charge.method,
        payment_status: skilltrack_protocol::PaymentStatus::Completed,
        test_mode: charge.reference.starts_with("test_"),
        created_at,
    })
}
