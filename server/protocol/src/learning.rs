//! A learner's own learning: enrollments, progress, certificates, payments.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::catalog::CourseRef;
use crate::enums::{EnrollmentStatus, PaymentMethod, PaymentStatus};

/// A learner's place in a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Enrollment {
    /// Id.
    pub id: Uuid,
    /// The course.
    pub course: CourseRef,
    /// Active, completed or cancelled.
    pub status: EnrollmentStatus,
    /// Joined.
    pub enrolled_at: DateTime<Utc>,
    /// Completed.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub completed_at: Option<DateTime<Utc>>,
    /// Share of the course's published lessons completed, 0–100.
    pub progress_percentage: i32,
}

/// The caller's enrollments, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct EnrollmentList {
    /// The enrollments.
    pub items: Vec<Enrollment>,
}

/// `PUT /api/v1/lessons/{id}/progress`: what happened in a lesson. Progress only moves
/// forward: a lower percentage than recorded is ignored, completion is kept once set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"progress_percentage": 100, "add_minutes": 12, "completed": true}))
)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ProgressUpdate {
    /// How far through the lesson, 0–100.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub progress_percentage: Option<i32>,
    /// Minutes spent since the last update (added to the total), 0–1440.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1440))]
    pub add_minutes: Option<i32>,
    /// The lesson is done.
    #[serde(default)]
    pub completed: bool,
    /// A UUID for this update (UUIDv7 recommended): a retry with the same id changes nothing.
    #[serde(default)]
    pub mutation_id: Option<Uuid>,
}

/// A learner's progress in one lesson.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LessonProgress {
    /// The lesson.
    pub lesson_id: Uuid,
    /// Its course.
    pub course_id: Uuid,
    /// How far, 0–100.
    pub progress_percentage: i32,
    /// Total minutes spent.
    pub time_spent_minutes: i32,
    /// When it was completed.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub completed_at: Option<DateTime<Utc>>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// The answer to a progress update: the lesson's progress and where the course stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ProgressReport {
    /// The lesson's progress after the update.
    pub lesson: LessonProgress,
    /// The enrollment after the update (completed when the course is done).
    pub enrollment: Enrollment,
    /// The certificate, once the course is completed.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub certificate: Option<Certificate>,
    /// False when `mutation_id` had been applied before (nothing changed this time).
    pub applied: bool,
}

/// The caller's progress in one course's lessons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ProgressList {
    /// One entry per lesson started.
    pub items: Vec<LessonProgress>,
}

/// A certificate of completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Certificate {
    /// Id.
    pub id: Uuid,
    /// The course completed.
    pub course: CourseRef,
    /// The number anyone can verify, e.g. `SKT-2026-7F3K9-QXMA2-0HBV4-TR8CW` (older ones: `SKT-2026-7F3K-9QXM`).
    pub certificate_number: String,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// Where it can be verified.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub certificate_url: Option<String>,
    /// False once revoked.
    pub is_valid: bool,
}

/// The caller's certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CertificateList {
    /// Newest first.
    pub items: Vec<Certificate>,
}

/// What anyone may learn about a certificate from its number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CertificateVerification {
    /// The number asked about.
    pub certificate_number: String,
    /// Whether it stands.
    pub is_valid: bool,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// The course.
    pub course_title: String,
    /// Who earned it.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub learner_name: Option<String>,
    /// What verifying its signed credential concludes, with the server's own keys and
    /// revocation list (the verdict `skilltrack certificate verify` gives offline).
    pub verdict: crate::credentials::CredentialVerdict,
    /// When it was revoked, if it was.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Payment {
    /// Id.
    pub id: Uuid,
    /// The course paid for.
    pub course_id: Option<Uuid>,
    /// The lab paid for.
    pub lab_id: Option<Uuid>,
    /// Amount.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "49.00"))]
    #[ts(type = "string")]
    pub amount: Decimal,
    /// ISO 4217 currency.
    pub currency: String,
    /// How.
    pub payment_method: PaymentMethod,
    /// Where it stands.
    pub payment_status: PaymentStatus,
    /// Made by the test-mode provider: no money moved.
    pub test_mode: bool,
    /// When.
    pub created_at: DateTime<Utc>,
}
