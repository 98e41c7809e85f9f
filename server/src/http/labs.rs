//! Labs at run time: start a lab, pause, resume and stop it, list mine, save progress, and the
//! workspace's files. The terminal WebSocket is in [`super::terminal`].
//!
//! Reads run under the caller's RLS role, so a session is visible to its learner and to the
//! lab's instructor (and admins) only; what changes a session is the server's to write and runs
//! as `service_role` once the handler has checked the caller is the session's learner.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use skilltrack_protocol::labs::{
    LabImageList, LabProgress, LabSession, LabSessionList, LabStart, MakeDirectory, WorkspaceFile,
    WorkspaceListing,
};
use skilltrack_protocol::learning::Payment;
use skilltrack_protocol::{FileType, LabSessionStatus, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, SignedIn};
use crate::db::lab_images;
use crate::db::labs::{self as db, FileRecord, SessionRow};
use crate::db::session::{Access, begin, begin_service};
use crate::labs::driver::{DriverError, SandboxProfile, WorkspacePath};

/// Lab sessions and their files.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_lab))
        .routes(routes!(checkout_lab))
        .routes(routes!(my_sessions))
        .routes(routes!(get_session))
        .routes(routes!(pause_session))
        .routes(routes!(resume_session))
        .routes(routes!(stop_session))
        .routes(routes!(save_progress))
        .routes(routes!(list_files, delete_file))
        .routes(routes!(download_file, upload_file))
        .routes(routes!(make_directory))
        .routes(routes!(list_lab_images))
}

/// The images labs may run on (`docker_image`): for authors choosing one, and admins.
#[utoipa::path(
    get, path = "/api/v1/lab-images", tag = "labs",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The images, by name (empty for learners)", body = LabImageList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_lab_images(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Json<LabImageList>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let items = lab_images::list(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(LabImageList { items }))
}

/// Starts the session's shell in this process unless it runs, and records this process as its
/// host: a terminal opened through another process of the cluster is passed on here, and the
/// other processes' reapers leave the session to this one (decision 272).
pub(super) async fn ensure_shell(
    state: &AppState,
    id: Uuid,
    spec: &crate::labs::driver::EnvironmentSpec,
) -> Result<Arc<crate::labs::terminal::Terminal>, DriverError> {
    let terminal = state.labs.ensure_shell(id, spec).await?;
    if let Err(e) = crate::instance::host_session(&state.db, &state.instance, id).await {
        // The shell runs; only routing through other processes is affected until the next
        // start records it.
        tracing::warn!(session = %id, error = %e, "recording which server process hosts a lab failed");
    }
    Ok(terminal)
}

pub(super) fn rule(status: StatusCode, code: &str, detail: impl Into<String>) -> ApiError {
    ApiError::Rule {
        status,
        code: code.to_owned(),
        detail: detail.into(),
        errors: Vec::new(),
    }
}

impl From<DriverError> for ApiError {
    fn from(e: DriverError) -> Self {
        match e {
            DriverError::SandboxToolMissing { .. } | DriverError::SandboxUserMissing(_) => {
                tracing::error!(error = %e, "labs cannot run on this host");
                rule(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "sandbox_unavailable",
                    format!("Labs cannot run on this server right now: {e}."),
                )
            }
            DriverError::BadPath(detail) => ApiError::field("/path", "bad_path", detail),
            DriverError::NotFound => {
                ApiError::NotFound("No such file or directory in the workspace.".into())
            }
            DriverError::Conflict(detail) => rule(StatusCode::CONFLICT, "path_conflict", detail),
            DriverError::Denied => rule(
                StatusCode::FORBIDDEN,
                "path_denied",
                "That place is outside the workspace or read-only.",
            ),
            DriverError::QuotaExceeded { quota_bytes } => rule(
                StatusCode::CONFLICT,
                "quota_exceeded",
                format!("The workspace may hold at most {quota_bytes} bytes."),
            ),
            DriverError::NotRegularFile => rule(
                StatusCode::CONFLICT,
                "not_a_regular_file",
                "That is a named pipe, a socket or a device (or a link to one): only regular files and directories can be read or written here.",
            ),
            DriverError::TimedOut { seconds } => rule(
                StatusCode::GATEWAY_TIMEOUT,
                "sandbox_timeout",
                format!(
                    "The lab's sandbox did not finish within {seconds} seconds, so it was stopped; try again."
                ),
            ),
            DriverError::Stopped => rule(
                StatusCode::CONFLICT,
                "session_stopped",
                "The lab session was stopped while this ran.",
            ),
            DriverError::Busy => rule(
                StatusCode::SERVICE_UNAVAILABLE,
                "sandbox_busy",
                "The server is busy with other labs; try again in a moment.",
            ),
            DriverError::HostFull { max } => rule(
                StatusCode::SERVICE_UNAVAILABLE,
                "lab_host_full",
                format!("This server runs {max} labs, as many as it may; try again later."),
            ),
            DriverError::NetworkUnavailable(why) => {
                tracing::error!(why, "networked labs cannot run on this host");
                rule(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "lab_network_unavailable",
                    format!("This lab needs a network, which this server cannot give it: {why}."),
                )
            }
            DriverError::ImageUnavailable(why) => {
                tracing::error!(why, "a lab's image cannot be used on this host");
                rule(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "lab_image_unavailable",
                    format!("This lab runs on an image this server cannot give it: {why}."),
                )
            }
            DriverError::Io { .. } => ApiError::Internal(e.to_string()),
        }
    }
}

/// The session, for its learner only: 404 when the caller cannot see it, 403 when they see it
/// without being its learner (the lab's instructor).
pub(super) async fn my_session(
    state: &AppState,
    me: &SignedIn,
    id: Uuid,
) -> Result<SessionRow, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let row = db::session(&mut tx, id).await?;
    tx.commit().await?;
    let row = row.ok_or_else(|| ApiError::NotFound("No such lab session.".into()))?;
    if row.user_id != me.0.sub {
        return Err(rule(
            StatusCode::FORBIDDEN,
            "not_session_owner",
            "Only the learner of this session may do that.",
        ));
    }
    Ok(row)
}

pub(super) async fn read_session(
    state: &AppState,
    me: &SignedIn,
    id: Uuid,
) -> Result<LabSession, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let row = db::session(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row
        .ok_or_else(|| ApiError::NotFound("No such lab session.".into()))?
        .into_wire()?)
}

pub(super) fn wrong_state(row: &SessionRow, doing: &str) -> ApiError {
    let status = row.status().map(|s| s.to_string()).unwrap_or_default();
    rule(
        StatusCode::CONFLICT,
        "invalid_session_state",
        format!("A {status} session cannot be {doing}."),
    )
}

/// Starts a lab: creates the session and its environment, and starts its shell.
#[utoipa::path(
    post, path = "/api/v1/labs/{id}/sessions", tag = "labs",
    params(("id" = Uuid, Path, description = "The lab")),
    request_body = LabStart,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The session, active, its shell running", body = LabSession),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab (or not visible to the caller)", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "`payment_required`: a paid lab the caller has not bought (`POST /api/v1/labs/{id}/checkout`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`lab_session_active`: the caller has a live session of this lab; `lab_full`: `max_concurrent_users` are working in it; `lab_prerequisites_unmet`: labs to complete first (in `errors`); `lab_learner_limit`: the caller runs as many labs as a learner may; `lab_image_missing`: the lab's image was never imported", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`sandbox_unavailable`: the server cannot run sandboxes (no bubblewrap, no lab user); `lab_network_unavailable`: nor give this lab its network; `lab_host_full`: it runs as many as it may; `sandbox_busy`; `lab_image_unavailable`: this server does not have the lab's image; `sandbox_failed`: this one did not start", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn start_lab(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(lab_id): ApiPath<Uuid>,
    ApiJson(start): ApiJson<LabStart>,
) -> Result<(StatusCode, Json<LabSession>), ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let lab = db::lab_to_start(&mut tx, lab_id).await?;
    tx.commit().await?;
    let lab = lab.ok_or_else(|| ApiError::NotFound("No such lab.".into()))?;
    let labs = Arc::clone(&state.labs);
    labs.driver()
        .check()
        .inspect_err(|e| labs.failures().record(e))?;
    // Refused before anything is recorded; checked again, atomically, when the shell starts.
    let max = labs.settings.max_running_per_host;
    if labs.running().await >= usize::try_from(max).unwrap_or(usize::MAX) {
        return Err(DriverError::HostFull { max }.into());
    }
    if let Some(image) = &lab.docker_image {
        check_image(&state, image).await?;
    }
    let template = lab
        .environment_template
        .clone()
        .unwrap_or_else(|| "shell-basic".into());
    let profile = SandboxProfile::for_template(Some(&template));
    let limits = labs.limits_for(&lab.resource_requirements);
    let environment_data = serde_json::json!({
        "driver": labs.driver().name(),
        "profile": profile.name,
        "network": profile.network,
        "image": lab.docker_image,
        "limits": {
            "cpu_cores": limits.cpu_cores,
            "memory_bytes": limits.memory_bytes,
            "max_processes": limits.max_processes,
            "disk_bytes": limits.disk_bytes,
        },
    });
    let mut tx = begin_service(state.db.api()).await?;
    let id = db::open_session(
        &mut tx,
        &db::SessionOpening {
            user: me.0.sub,
            lab: lab.id,
            template: &template,
            resources: &lab.resource_requirements,
            environment_data: &environment_data,
            auto_save: start.auto_save_enabled.unwrap_or(true),
            max_running: labs.settings.max_running_per_learner,
        },
    )
    .await?;
    let row = db::session(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::Internal("the new session vanished".into()))?;
    tx.commit().await?;
    let spec = labs.spec_for(&row);
    if let Err(e) = ensure_shell(&state, id, &spec).await {
        tracing::error!(session = %id, error = %e, "a lab environment failed to start");
        let mut tx = begin_service(state.db.api()).await?;
        db::transition(
            &mut tx,
            id,
            &[LabSessionStatus::Starting],
            LabSessionStatus::Expired,
            "error",
        )
        .await?;
        tx.commit().await?;
        let _ = labs.stop(id, &spec, true).await;
        return Err(match e {
            DriverError::SandboxToolMissing { .. }
            | DriverError::SandboxUserMissing(_)
            | DriverError::NetworkUnavailable(_)
            | DriverError::HostFull { .. }
            | DriverError::Busy => e.into(),
            _ => rule(
                StatusCode::SERVICE_UNAVAILABLE,
                "sandbox_failed",
                "The lab environment did not start; try again.",
            ),
        });
    }
    let mut tx = begin_service(state.db.api()).await?;
    db::transition(
        &mut tx,
        id,
        &[LabSessionStatus::Starting],
        LabSessionStatus::Active,
        "running",
    )
    .await?;
    tx.commit().await?;
    super::lab_steps::start_first_setup(&state, &row).await?;
    Ok((
        StatusCode::CREATED,
        Json(read_session(&state, &me, id).await?),
    ))
}

/// The price of a paid lab when the `lab_price` setting is missing or not a number.
const DEFAULT_LAB_PRICE: rust_decimal::Decimal =
    rust_decimal::Decimal::from_parts(999, 0, 0, false, 2);

/// Pay for a lab (test mode: completes at once, moves no money). The payment is always the
/// caller's own: the request has no body, and one naming anybody is refused.
#[utoipa::path(
    post, path = "/api/v1/labs/{id}/checkout", tag = "labs",
    params(("id" = Uuid, Path, description = "The lab")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Paid; now start it", body = Payment),
        (status = 400, description = "Not a lab id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_paid`, or `lab_unpublished`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`lab_is_free`: nothing to pay; a body naming anything", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn checkout_lab(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(lab): ApiPath<Uuid>,
    body: Bytes,
) -> Result<(StatusCode, Json<Payment>), ApiError> {
    let named = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body)
        .map_or(!body.iter().all(u8::is_ascii_whitespace), |m| !m.is_empty());
    if named {
        return Err(ApiError::field(
            "/",
            "unexpected_body",
            "Checkout pays for the signed-in learner's own access and takes no body.",
        ));
    }
    let user = me.0.sub;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let (published, free) = db::lab_for_checkout(&mut tx, lab)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such lab.".to_owned()))?;
    let paid = db::has_paid_for_lab(&mut tx, user, lab).await?;
    let price = db::lab_price(&mut tx)
        .await?
        .filter(|p| !p.is_sign_negative())
        .unwrap_or(DEFAULT_LAB_PRICE);
    tx.commit().await?;
    if !published {
        return Err(rule(
            StatusCode::CONFLICT,
            "lab_unpublished",
            "This lab is a draft.",
        ));
    }
    if free {
        return Err(ApiError::field(
            "/lab",
            "lab_is_free",
            "This lab is free: start it directly.",
        ));
    }
    if paid {
        return Err(ApiError::Conflict {
            code: "already_paid",
            detail: "You have already paid for this lab.".to_owned(),
        });
    }
    let charge = state.payments.charge(price, &format!("lab {lab}"));
    // Recording a payment is the server's to do, not the learner's: service_role.
    let mut tx = begin_service(state.db.api()).await?;
    let payment =
        db::record_lab_payment(&mut tx, user, lab, price, charge.method, &charge.reference).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(payment)))
}

/// A lab on an image never falls back to the host's tools: the platform must list the image,
/// and this host must have it.
async fn check_image(state: &AppState, image: &str) -> Result<(), ApiError> {
    let mut tx = begin_service(state.db.api()).await?;
    let listed = lab_images::exists(&mut tx, image).await?;
    tx.commit().await?;
    if !listed {
        return Err(rule(
            StatusCode::CONFLICT,
            "lab_image_missing",
            format!(
                "This lab runs on the image {image:?}, which this platform does not have; its \
                 instructor or an admin must import it or choose another."
            ),
        ));
    }
    state
        .labs
        .images()
        .rootfs(image)
        .map_err(|e| DriverError::ImageUnavailable(e.to_string()))?;
    Ok(())
}

/// Query of `GET /api/v1/me/lab-sessions`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionsQuery {
    /// `true`: only starting, active and paused sessions.
    live: Option<bool>,
}

/// My lab sessions, newest first (at most 200).
#[utoipa::path(
    get, path = "/api/v1/me/lab-sessions", tag = "labs",
    params(SessionsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's sessions", body = LabSessionList),
        (status = 400, description = "A bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_sessions(
    State(state): State<AppState>,
    me: SignedIn,
    ApiQuery(query): ApiQuery<SessionsQuery>,
) -> Result<Json<LabSessionList>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let rows = db::sessions_of(&mut tx, me.0.sub, query.live.unwrap_or(false)).await?;
    tx.commit().await?;
    let items = rows
        .into_iter()
        .map(SessionRow::into_wire)
        .collect::<Result<_, _>>()?;
    Ok(Json(LabSessionList { items }))
}

/// A lab session: for its learner, and the lab's instructor.
#[utoipa::path(
    get, path = "/api/v1/lab-sessions/{id}", tag = "labs",
    params(("id" = Uuid, Path, description = "The session")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session", body = LabSession),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session (or not visible to the caller)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_session(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<LabSession>, ApiError> {
    Ok(Json(read_session(&state, &me, id).await?))
}

/// Pauses an active session: its shell and processes stop, the workspace stays.
#[utoipa::path(
    post, path = "/api/v1/lab-sessions/{id}/pause", tag = "labs",
    params(("id" = Uuid, Path, description = "The session")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session, paused", body = LabSession),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_session_owner`: only the session's learner may", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_session_state`: the session is not active", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn pause_session(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<LabSession>, ApiError> {
    let row = my_session(&state, &me, id).await?;
    let mut tx = begin_service(state.db.api()).await?;
    if !db::transition(
        &mut tx,
        id,
        &[LabSessionStatus::Active],
        LabSessionStatus::Paused,
        "paused",
    )
    .await?
    {
        return Err(wrong_state(&row, "paused"));
    }
    tx.commit().await?;
    state
        .labs
        .stop(id, &state.labs.spec_for(&row), true)
        .await?;
    Ok(Json(read_session(&state, &me, id).await?))
}

/// Resumes a paused session: a new shell over the same workspace.
#[utoipa::path(
    post, path = "/api/v1/lab-sessions/{id}/resume", tag = "labs",
    params(("id" = Uuid, Path, description = "The session")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session, active", body = LabSession),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_session_owner`: only the session's learner may", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_session_state`: the session is not paused; `lab_learner_limit`: the caller runs as many labs as a learner may", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`sandbox_unavailable`, `lab_network_unavailable`, `lab_host_full`, `sandbox_busy` or `sandbox_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resume_session(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<LabSession>, ApiError> {
    let row = my_session(&state, &me, id).await?;
    if row.status()? != LabSessionStatus::Paused {
        return Err(wrong_state(&row, "resumed"));
    }
    // The learner's running limit and the move to active are one step (under the learner's
    // lock); the shell starts after, and a shell that does not start puts the session back.
    let mut tx = begin_service(state.db.api()).await?;
    db::check_resume(&mut tx, id, state.labs.settings.max_running_per_learner).await?;
    if !db::transition(
        &mut tx,
        id,
        &[LabSessionStatus::Paused],
        LabSessionStatus::Active,
        "running",
    )
    .await?
    {
        return Err(wrong_state(&row, "resumed"));
    }
    tx.commit().await?;
    if let Err(e) = ensure_shell(&state, id, &state.labs.spec_for(&row)).await {
        let mut tx = begin_service(state.db.api()).await?;
        db::transition(
            &mut tx,
            id,
            &[LabSessionStatus::Active],
            LabSessionStatus::Paused,
            "paused",
        )
        .await?;
        tx.commit().await?;
        return Err(e.into());
    }
    Ok(Json(read_session(&state, &me, id).await?))
}

/// Stops a session for good (`completed`): the workspace is kept for the next session when
/// `auto_save_enabled`, deleted otherwise.
#[utoipa::path(
    post, path = "/api/v1/lab-sessions/{id}/stop", tag = "labs",
    params(("id" = Uuid, Path, description = "The session")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session, completed", body = LabSession),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_session_owner`: only the session's learner may", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_session_state`: the session has ended", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stop_session(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<LabSession>, ApiError> {
    let row = my_session(&state, &me, id).await?;
    let environment = if row.auto_save_enabled {
        "stopped"
    } else {
        "deleted"
    };
    let mut tx = begin_service(state.db.api()).await?;
    let live = [
        LabSessionStatus::Starting,
        LabSessionStatus::Active,
        LabSessionStatus::Paused,
    ];
    if !db::transition(&mut tx, id, &live, LabSessionStatus::Completed, environment).await? {
        return Err(wrong_state(&row, "stopped"));
    }
    tx.commit().await?;
    state
        .labs
        .stop(id, &state.labs.spec_for(&row), row.auto_save_enabled)
        .await?;
    Ok(Json(read_session(&state, &me, id).await?))
}

/// Saves the learner's progress in the lab (replaces what was saved).
#[utoipa::path(
    put, path = "/api/v1/lab-sessions/{id}/progress", tag = "labs",
    params(("id" = Uuid, Path, description = "The session")),
    request_body = LabProgress,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session", body = LabSession),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_session_owner`: only the session's learner may", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`progress_data` is not an object, or is over 64 KiB", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn save_progress(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(progress): ApiJson<LabProgress>,
) -> Result<Json<LabSession>, ApiError> {
    if !progress.progress_data.is_object() || progress.progress_data.to_string().len() > 64 * 1024 {
        return Err(ApiError::field(
            "/progress_data",
            "invalid",
            "A JSON object of at most 64 KiB.",
        ));
    }
    my_session(&state, &me, id).await?;
    let mut tx = begin_service(state.db.api()).await?;
    db::save_progress(&mut tx, id, &progress.progress_data).await?;
    tx.commit().await?;
    Ok(Json(read_session(&state, &me, id).await?))
}

// Files -----------------------------------------------------------------------------------------

/// Query naming a path in the workspace.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathQuery {
    /// A path from the workspace's top (`src/main.py`); empty or absent: the top.
    path: Option<String>,
}

/// The session (the caller's) and the parsed path.
async fn workspace_target(
    state: &AppState,
    me: &SignedIn,
    id: Uuid,
    path: Option<&str>,
) -> Result<(SessionRow, WorkspacePath), ApiError> {
    let path = WorkspacePath::parse(path.unwrap_or(""))?;
    let row = my_session(state, me, id).await?;
    Ok((row, path))
}

fn file_kind(name: &str) -> (FileType, &'static str) {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => (FileType::Image, "image/png"),
        "jpg" | "jpeg" => (FileType::Image, "image/jpeg"),
        "gif" => (FileType::Image, "image/gif"),
        "svg" => (FileType::Image, "image/svg+xml"),
        "mp4" => (FileType::Video, "video/mp4"),
        "webm" => (FileType::Video, "video/webm"),
        "mp3" => (FileType::Audio, "audio/mpeg"),
        "wav" => (FileType::Audio, "audio/wav"),
        "zip" => (FileType::Archive, "application/zip"),
        "gz" | "tgz" => (FileType::Archive, "application/gzip"),
        "tar" => (FileType::Archive, "application/x-tar"),
        "pdf" => (FileType::Document, "application/pdf"),
        "md" => (FileType::Document, "text/markdown"),
        "txt" | "log" | "csv" => (FileType::Document, "text/plain"),
        "json" => (FileType::Code, "application/json"),
        "py" | "sh" | "rs" | "js" | "ts" | "c" | "h" | "go" | "rb" | "toml" | "yaml" | "yml"
        | "html" | "css" => (FileType::Code, "text/plain"),
        _ => (FileType::Document, "application/octet-stream"),
    }
}

/// Lists a directory of the session's workspace.
#[utoipa::path(
    get, path = "/api/v1/lab-sessions/{id}/files", tag = "labs",
    params(("id" = Uuid, Path, description = "The session"), PathQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The directory's entries", body = WorkspaceListing),
        (status = 400, description = "A bad id or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_session_owner`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session or directory", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`bad_path`: absolute, `..`, or too long", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`sandbox_busy`: every driver thread is busy", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "`sandbox_timeout`: the sandbox ran past its deadline and was killed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_files(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PathQuery>,
) -> Result<Json<WorkspaceListing>, ApiError> {
    let (row, path) = workspace_target(&state, &me, id, query.path.as_deref()).await?;
    let spec = state.labs.spec_for(&row);
    let quota_bytes = spec.limits.disk_bytes;
    let dir = path.clone();
    let (entries, usage) = state
        .labs
        .blocking(move |driver| Ok((driver.list(&spec, &dir)?, driver.usage(&spec))))
        .await?;
    let items = entries
        .into_iter()
        .map(|e| WorkspaceFile {
            name: e.path.rsplit('/').next().unwrap_or_default().to_owned(),
            path: e.path,
            is_directory: e.is_directory,
            is_symlink: e.is_symlink,
            size: e.size,
            modified_at: chrono::DateTime::from_timestamp(e.modified_unix, 0).unwrap_or_default(),
        })
        .collect();
    Ok(Json(WorkspaceListing {
        path: path.as_str().to_owned(),
        items,
        used_bytes: usage.disk_bytes,
        quota_bytes,
    }))
}

/// Downloads a file of the session's workspace.
#[utoipa::path(
    get, path = "/api/v1/lab-sessions/{id}/files/content", tag = "labs",
    params(("id" = Uuid, Path, description = "The session"), PathQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file's bytes", content_type = "application/octet-stream"),
        (status = 400, description = "A bad id or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_session_owner`; `path_denied`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session or file", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`path_conflict`: a directory, or too large; `not_a_regular_file`: a FIFO, socket or device; `session_stopped`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`bad_path`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`sandbox_busy`: every driver thread is busy", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "`sandbox_timeout`: the sandbox ran past its deadline and was killed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn download_file(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PathQuery>,
) -> Result<Response, ApiError> {
    let (row, path) = workspace_target(&state, &me, id, query.path.as_deref()).await?;
    if path.is_root() {
        return Err(ApiError::field("/path", "bad_path", "Name a file."));
    }
    let spec = state.labs.spec_for(&row);
    let max = state.labs.settings.max_file_bytes;
    let target = path.clone();
    let bytes = state
        .labs
        .blocking(move |driver| driver.read(&spec, &target, max))
        .await?;
    let (_, mime) = file_kind(path.file_name());
    let disposition = format!(
        "attachment; filename=\"{}\"",
        path.file_name().replace(['"', '\\'], "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// Uploads a file into the session's workspace (the raw body; missing directories are made),
/// within the workspace's storage quota.
#[utoipa::path(
    put, path = "/api/v1/lab-sessions/{id}/files/content", tag = "labs",
    params(("id" = Uuid, Path, description = "The session"), PathQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Written"),
        (status = 400, description = "A bad id or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_session_owner`; `path_denied`: a link out of the workspace, or read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`path_conflict`: a directory is there; `quota_exceeded`; `not_a_regular_file`: a FIFO, socket or device is there; `session_stopped`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the request body limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`bad_path`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`sandbox_busy`: every driver thread is busy", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "`sandbox_timeout`: the sandbox ran past its deadline and was killed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload_file(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PathQuery>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let (row, path) = workspace_target(&state, &me, id, query.path.as_deref()).await?;
    if path.is_root() {
        return Err(ApiError::field("/path", "bad_path", "Name a file."));
    }
    let spec = state.labs.spec_for(&row);
    let size = body.len() as u64;
    let target = path.clone();
    state
        .labs
        .blocking(move |driver| {
            let quota = spec.limits.disk_bytes;
            if driver.usage(&spec).disk_bytes + size > quota {
                return Err(DriverError::QuotaExceeded { quota_bytes: quota });
            }
            driver.write(&spec, &target, &body)
        })
        .await?;
    let (file_type, mime) = file_kind(path.file_name());
    let parent = path.parent().filter(|p| !p.is_root());
    let mut tx = begin_service(state.db.api()).await?;
    db::upsert_file(
        &mut tx,
        &FileRecord {
            user_id: row.user_id,
            environment_id: row.environment_id,
            path: path.as_str(),
            name: path.file_name(),
            is_directory: false,
            size: i64::try_from(size).unwrap_or(i64::MAX),
            mime_type: mime,
            file_type,
        },
        parent.as_ref().map(WorkspacePath::as_str),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a directory (and missing parents) in the session's workspace.
#[utoipa::path(
    post, path = "/api/v1/lab-sessions/{id}/files/directories", tag = "labs",
    params(("id" = Uuid, Path, description = "The session")),
    request_body = MakeDirectory,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Made (or already there)"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_session_owner`; `path_denied`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`path_conflict`: a file is there", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`bad_path`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`sandbox_busy`: every driver thread is busy", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "`sandbox_timeout`: the sandbox ran past its deadline and was killed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn make_directory(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(dir): ApiJson<MakeDirectory>,
) -> Result<StatusCode, ApiError> {
    let (row, path) = workspace_target(&state, &me, id, Some(&dir.path)).await?;
    if path.is_root() {
        return Err(ApiError::field("/path", "bad_path", "Name a directory."));
    }
    let spec = state.labs.spec_for(&row);
    let target = path.clone();
    state
        .labs
        .blocking(move |driver| driver.make_dir(&spec, &target))
        .await?;
    let parent = path.parent().filter(|p| !p.is_root());
    let mut tx = begin_service(state.db.api()).await?;
    db::upsert_file(
        &mut tx,
        &FileRecord {
            user_id: row.user_id,
            environment_id: row.environment_id,
            path: path.as_str(),
            name: path.file_name(),
            is_directory: true,
            size: 0,
            mime_type: "inode/directory",
            file_type: FileType::Document,
        },
        parent.as_ref().map(WorkspacePath::as_str),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a file, or a directory with everything in it, from the session's workspace.
#[utoipa::path(
    delete, path = "/api/v1/lab-sessions/{id}/files", tag = "labs",
    params(("id" = Uuid, Path, description = "The session"), PathQuery),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A bad id or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_session_owner`; `path_denied`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session or file", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`bad_path` (the workspace itself cannot be deleted)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`sandbox_busy`: every driver thread is busy", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "`sandbox_timeout`: the sandbox ran past its deadline and was killed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_file(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PathQuery>,
) -> Result<StatusCode, ApiError> {
    let (row, path) = workspace_target(&state, &me, id, query.path.as_deref()).await?;
    let spec = state.labs.spec_for(&row);
    let target = path.clone();
    state
        .labs
        .blocking(move |driver| driver.remove(&spec, &target))
        .await?;
    let mut tx = begin_service(state.db.api()).await?;
    db::delete_files(&mut tx, row.environment_id, path.as_str()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
