//! A learner's own learning: enroll and cancel, record progress, certificates, test-mode
//! checkout. The rules are the database's (`migrations/0010_learning.sql`); these handlers
//! check the request's shape, run it under the caller's role, and report what happened.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use skilltrack_protocol::learning::{
    CertificateList, CertificateVerification, Enrollment, EnrollmentList, Payment, ProgressList,
    ProgressReport, ProgressUpdate,
};
use skilltrack_protocol::{EnrollmentStatus, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::certificate_page;
use super::error::ApiError;
use super::extract::{AnyCaller, ApiJson, ApiPath, ApiQuery, SignedIn};
use super::validate::Checks;
use crate::db::auth::ClientInfo;
use crate::db::catalog;
use crate::db::learning::{self, CompletedCharge};
use crate::db::session::{Access, begin, begin_service};

/// The learning routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enroll, cancel_enrollment))
        .routes(routes!(my_enrollments))
        .routes(routes!(record_progress))
        .routes(routes!(my_progress))
        .routes(routes!(my_certificates))
        .routes(routes!(verify_certificate))
        .routes(routes!(checkout))
}

fn problem_enrolled(detail: &str) -> ApiError {
    ApiError::Conflict {
        code: "already_enrolled",
        detail: detail.to_owned(),
    }
}

/// Enroll in a course (or come back after cancelling).
#[utoipa::path(
    post, path = "/api/v1/courses/{id}/enrollment", tag = "learning",
    params(("id" = Uuid, Path, description = "The course")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Enrolled", body = Enrollment),
        (status = 400, description = "Not a course id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "`payment_required`: a paid course, not paid for and no subscription", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_enrolled`, `course_unpublished`, `course_full`, `enrollment_closed`, `course_ended`, or `prerequisites_missing` (listing them in `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn enroll(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(course): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<Enrollment>), ApiError> {
    let user = me.0.sub;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let (_, published) = learning::course_price(&mut tx, course)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such course.".to_owned()))?;
    if !published {
        return Err(ApiError::Conflict {
            code: "course_unpublished",
            detail: "This course is a draft: publish it before anyone can enroll.".to_owned(),
        });
    }
    let existing = learning::my_enrollment(&mut tx, user, course).await?;
    match existing.as_ref().map(|e| e.status) {
        Some(EnrollmentStatus::Active) => {
            return Err(problem_enrolled("You are already enrolled in this course."));
        }
        Some(EnrollmentStatus::Completed) => {
            return Err(problem_enrolled("You have already completed this course."));
        }
        Some(EnrollmentStatus::Cancelled) | None => {}
    }
    learning::enroll(&mut tx, user, course, existing.as_ref()).await?;
    let enrollment = learning::my_enrollment(&mut tx, user, course)
        .await?
        .ok_or_else(|| ApiError::Internal("an enrollment vanished after it was made".to_owned()))?;
    tx.commit().await?;
    tracing::info!(%user, %course, "enrolled");
    Ok((StatusCode::CREATED, Json(enrollment)))
}

/// Leave a course (progress is kept; enrolling again picks it up).
#[utoipa::path(
    delete, path = "/api/v1/courses/{id}/enrollment", tag = "learning",
    params(("id" = Uuid, Path, description = "The course")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled", body = Enrollment),
        (status = 400, description = "Not a course id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No active enrollment in this course", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel_enrollment(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(course): ApiPath<Uuid>,
) -> Result<Json<Enrollment>, ApiError> {
    let user = me.0.sub;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    if !learning::cancel(&mut tx, user, course).await? {
        return Err(ApiError::NotFound(
            "You have no active enrollment in this course.".to_owned(),
        ));
    }
    let enrollment = learning::my_enrollment(&mut tx, user, course)
        .await?
        .ok_or_else(|| ApiError::Internal("a cancelled enrollment vanished".to_owned()))?;
    tx.commit().await?;
    Ok(Json(enrollment))
}

/// The caller's enrollments.
#[utoipa::path(
    get, path = "/api/v1/me/enrollments", tag = "learning",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = EnrollmentList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_enrollments(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Json<EnrollmentList>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let items = learning::my_enrollments(&mut tx, me.0.sub).await?;
    tx.commit().await?;
    Ok(Json(EnrollmentList { items }))
}

/// Record progress in a lesson: the percentage only goes up, completion is kept once set, and
/// minutes add up. Send a `mutation_id` so that a retried request changes nothing.
#[utoipa::path(
    put, path = "/api/v1/lessons/{id}/progress", tag = "learning",
    params(("id" = Uuid, Path, description = "The lesson")),
    request_body = ProgressUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The progress after the update, and the course's", body = ProgressReport),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only enrolled learners record progress", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lesson, or not yours to study", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn record_progress(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(lesson): ApiPath<Uuid>,
    ApiJson(update): ApiJson<ProgressUpdate>,
) -> Result<Json<ProgressReport>, ApiError> {
    Checks::default()
        .check(
            update
                .progress_percentage
                .is_none_or(|p| (0..=100).contains(&p)),
            "/progress_percentage",
            "out_of_range",
            "From 0 to 100.",
        )
        .check(
            update.add_minutes.is_none_or(|m| (0..=1440).contains(&m)),
            "/add_minutes",
            "out_of_range",
            "From 0 to 1440 (a day).",
        )
        .finish()?;
    let user = me.0.sub;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    let course = catalog::lesson(&mut tx, lesson)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound("No such lesson, or you are not enrolled in its course.".to_owned())
        })?
        .course_id;
    let applied = match update.mutation_id {
        Some(mutation) => {
            learning::claim_mutation(&mut tx, user, mutation, "lesson_progress").await?
        }
        None => true,
    };
    let progress = if applied {
        learning::record_progress(&mut tx, user, lesson, &update)
            .await
            .map_err(|e| match ApiError::from(e) {
                ApiError::Forbidden(_) => ApiError::Forbidden(
                    "Only learners enrolled in the course record progress in its lessons."
                        .to_owned(),
                ),
                other => other,
            })?
    } else {
        learning::lesson_progress(&mut tx, user, lesson)
            .await?
            .ok_or_else(|| ApiError::Internal("a recorded update left no progress".to_owned()))?
    };
    let enrollment = learning::my_enrollment(&mut tx, user, course)
        .await?
        .ok_or_else(|| ApiError::Internal("progress without an enrollment".to_owned()))?;
    let certificate = learning::my_certificates(&mut tx, user, Some(course))
        .await?
        .into_iter()
        .next();
    tx.commit().await?;
    if applied && certificate.is_some() {
        // The write that completes a course signs its certificate's credential before it
        // answers (later writes find it signed: one indexed look-up).
        crate::certificates::sign_pending_of(&state.db, &state.certificates, user).await?;
    }
    Ok(Json(ProgressReport {
        lesson: progress,
        enrollment,
        certificate,
        applied,
    }))
}

/// Query of `GET /api/v1/me/progress`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressQuery {
    /// The course.
    course: Uuid,
}

/// The caller's progress in a course's lessons.
#[utoipa::path(
    get, path = "/api/v1/me/progress", tag = "learning",
    params(ProgressQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One entry per lesson started", body = ProgressList),
        (status = 400, description = "No or a bad `course`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_progress(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<ProgressQuery>,
) -> Result<Json<ProgressList>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let items = learning::course_progress(&mut tx, me.0.sub, query.course).await?;
    tx.commit().await?;
    Ok(Json(ProgressList { items }))
}

/// The caller's certificates.
#[utoipa::path(
    get, path = "/api/v1/me/certificates", tag = "learning",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = CertificateList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_certificates(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Json<CertificateList>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let items = learning::my_certificates(&mut tx, me.0.sub, None).await?;
    tx.commit().await?;
    Ok(Json(CertificateList { items }))
}

/// Public certificate checks per client address per minute: plenty for an employer, far too few
/// to guess numbers.
pub const CERTIFICATE_CHECKS_PER_MINUTE: u32 = 60;

/// The limiter of [`CERTIFICATE_CHECKS_PER_MINUTE`].
pub fn certificate_check_limiter() -> crate::auth::rate_limit::RateLimiter {
    crate::auth::rate_limit::RateLimiter::new(crate::auth::rate_limit::Limit {
        limit: CERTIFICATE_CHECKS_PER_MINUTE,
        window: std::time::Duration::from_secs(60),
    })
}

/// Verify a certificate by its number: anyone may ask (a limited number of times a minute).
#[utoipa::path(
    get, path = "/api/v1/certificates/{number}", tag = "learning",
    params(("number" = String, Path, description = "e.g. `SKT-2026-7F3K9-QXMA2-0HBV4-TR8CW`")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The certificate's standing: `verdict` is what verifying its signed credential concludes (`valid`, `revoked`, ...). A browser (an `Accept` that ranks `text/html` above JSON) gets the same verdict as a page; so do its errors.", content(
            (CertificateVerification = "application/json"),
            (String = "text/html"),
        )),
        (status = 401, description = "A bad or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No certificate has this number", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many checks from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_certificate(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    client: ClientInfo,
    headers: HeaderMap,
    ApiPath(number): ApiPath<String>,
) -> Response {
    let checked = check_certificate(&state, caller, &client, &number).await;
    let mut response = if certificate_page::wants_html(&headers) {
        match checked {
            Ok(found) => certificate_page::found(
                &found,
                state.certificates.name(),
                state.certificates.public_url(),
            ),
            Err(e) => certificate_page::failed(e),
        }
    } else {
        checked.map(Json).into_response()
    };
    certificate_page::vary_on_accept(&mut response);
    response
}

/// The check behind both answers of [`verify_certificate`].
async fn check_certificate(
    state: &AppState,
    caller: crate::db::session::Caller,
    client: &ClientInfo,
    number: &str,
) -> Result<CertificateVerification, ApiError> {
    let address = client
        .ip
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    state
        .certificate_check_limit
        .check(&address, std::time::Instant::now())
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let number = number.trim().to_uppercase();
    if number.len() > 64 {
        return Err(ApiError::NotFound(
            "No certificate has this number.".to_owned(),
        ));
    }
    let not_found = || ApiError::NotFound("No certificate has this number.".to_owned());
    let mut tx = begin(state.db.api(), caller, Access::ReadOnly).await?;
    let mut found = learning::verify_certificate(&mut tx, &number)
        .await?
        .ok_or_else(not_found)?;
    crate::certificates::publish_keys(&state.db, &state.certificates).await?;
    let keys = crate::db::certificates::published_keys(&mut tx).await?;
    tx.commit().await?;
    // The same verdict an offline verifier reaches, with the keys as published and the
    // revocation list as of now.
    let id = {
        let mut service = begin_service(state.db.api()).await?;
        let source = crate::db::certificates::source_by_number(&mut service, &number).await?;
        service.commit().await?;
        source.ok_or_else(not_found)?.id
    };
    let issuer = &state.certificates;
    let source = crate::certificates::ensure_credential(&state.db, issuer, id)
        .await?
        .ok_or_else(not_found)?;
    let (list, _) = crate::certificates::list_and_bit(source.status_index);
    let status = crate::certificates::status_list(&state.db, issuer, list).await?;
    let trust = skilltrack_credentials::TrustedIssuer {
        issuer: issuer.id(),
        keys: skilltrack_protocol::credentials::JwkSet { keys },
        status_lists: status.into_iter().collect(),
        fetched_at: None,
    };
    let verification = skilltrack_credentials::verify(
        source.credential.as_deref().unwrap_or_default(),
        &trust,
        chrono::Utc::now(),
        chrono::Duration::days(1),
    );
    found.verdict = verification.verdict;
    found.is_valid = found.is_valid
        && verification.verdict == skilltrack_protocol::credentials::CredentialVerdict::Valid;
    found.revoked_at = source.revoked_at;
    Ok(found)
}

/// Pay for a course (test mode: completes at once, moves no money).
#[utoipa::path(
    post, path = "/api/v1/courses/{id}/checkout", tag = "learning",
    params(("id" = Uuid, Path, description = "The course")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Paid; now enroll", body = Payment),
        (status = 400, description = "Not a course id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_paid`, or `course_unpublished`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`course_is_free`: nothing to pay", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn checkout(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(course): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<Payment>), ApiError> {
    let user = me.0.sub;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let (price, published) = learning::course_price(&mut tx, course)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such course.".to_owned()))?;
    let paid = learning::has_paid(&mut tx, user, course).await?;
    tx.commit().await?;
    if !published {
        return Err(ApiError::Conflict {
            code: "course_unpublished",
            detail: "This course is a draft.".to_owned(),
        });
    }
    if price.is_zero() {
        return Err(ApiError::Validation {
            detail: "This course is free: enroll directly.".to_owned(),
            errors: vec![skilltrack_protocol::FieldError {
                pointer: "/course".to_owned(),
                code: "course_is_free".to_owned(),
                detail: "Nothing to pay.".to_owned(),
            }],
        });
    }
    if paid {
        return Err(ApiError::Conflict {
            code: "already_paid",
            detail: "You have already paid for this course.".to_owned(),
        });
    }
    let charge = state.payments.charge(price, &format!("course {course}"));
    // Recording a payment is the server's to do, not the learner's: service_role.
    let mut tx = begin_service(state.db.api()).await?;
    let payment = learning::record_payment(
        &mut tx,
        &CompletedCharge {
            user,
            course,
            amount: price,
            method: charge.method,
            reference: charge.reference,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(payment)))
}
