//! Labs in steps over HTTP: learners read a lab's steps and check them in their own sandbox;
//! authors write the steps with their scripts and self-test a lab in a fresh sandbox.
//!
//! The scripts (setup, verify, solve) are the lab's answer keys: they are read only by the
//! lab's managers (RLS on `lab_step_scripts`) and by the server, as `service_role`, to run them.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use skilltrack_protocol::lab_steps::{
    AuthoredLabSteps, CheckOutcome, CheckRequest, CheckResult, LabSteps, LabStepsDraft,
    SelfTestReport, SelfTestRequest,
};
use skilltrack_protocol::{LabSessionStatus, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, SignedIn};
use super::labs::{my_session, rule, wrong_state};
use super::validate::Checks;
use crate::db::lab_steps as db;
use crate::db::session::{Access, begin, begin_service};
use crate::labs::driver::{EnvironmentSpec, SandboxProfile};
use crate::labs::steps::StepScripts;

/// The largest script, in bytes.
const MAX_SCRIPT: usize = 64 * 1024;
/// The most steps a lab has.
const MAX_STEPS: usize = 100;

/// Steps, checks and self-tests.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lab_steps))
        .routes(routes!(authored_steps, put_steps))
        .routes(routes!(check_step))
        .routes(routes!(self_test))
}

/// A lab's intro, steps (their text and hints; never their scripts) and finish page.
#[utoipa::path(
    get, path = "/api/v1/labs/{id}/steps", tag = "labs",
    params(("id" = Uuid, Path, description = "The lab")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The steps, in order", body = LabSteps),
        (status = 400, description = "Not a lab id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab (or not visible to the caller)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn lab_steps(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<LabSteps>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let steps = db::steps(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(steps.ok_or_else(|| {
        ApiError::NotFound("No such lab.".into())
    })?))
}

/// A lab's steps with their scripts, for its managers.
#[utoipa::path(
    get, path = "/api/v1/authoring/labs/{id}/steps", tag = "authoring",
    params(("id" = Uuid, Path, description = "The lab")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The steps with their scripts", body = AuthoredLabSteps),
        (status = 400, description = "Not a lab id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab among those the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn authored_steps(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AuthoredLabSteps>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let steps = db::authored_steps(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(steps.ok_or_else(|| {
        ApiError::NotFound("No such lab among those you manage.".into())
    })?))
}

fn check_script(c: &mut Checks, script: Option<&String>, pointer: &str) {
    if let Some(script) = script {
        c.check(
            !script.trim().is_empty(),
            pointer,
            "blank",
            "Leave a script out rather than send it empty.",
        )
        .check(
            script.len() <= MAX_SCRIPT,
            pointer,
            "too_long",
            format!("At most {MAX_SCRIPT} bytes."),
        )
        .check(
            !script.contains('\0'),
            pointer,
            "invalid",
            "A script may not contain NUL.",
        );
    }
}

/// Every rule a lab's steps must keep, all problems at once.
pub fn check_steps(draft: &LabStepsDraft) -> Result<(), ApiError> {
    let mut c = Checks::default();
    c.check(
        draft.steps.len() <= MAX_STEPS,
        "/steps",
        "too_many",
        format!("At most {MAX_STEPS} steps."),
    );
    if let Some(finish) = &draft.finish {
        c.length(finish, "/finish", 0, 100_000);
    }
    for (i, step) in draft.steps.iter().enumerate().take(MAX_STEPS) {
        let at = format!("/steps/{i}");
        c.length(step.title.trim(), &format!("{at}/title"), 1, 200);
        c.length(&step.body, &format!("{at}/body"), 0, 100_000);
        c.check(
            step.hints.len() <= 20,
            &format!("{at}/hints"),
            "too_many",
            "At most 20 hints.",
        );
        for (h, hint) in step.hints.iter().enumerate().take(20) {
            c.length(hint, &format!("{at}/hints/{h}"), 1, 2000);
        }
        check_script(&mut c, step.setup.as_ref(), &format!("{at}/setup"));
        check_script(&mut c, step.verify.as_ref(), &format!("{at}/verify"));
        check_script(&mut c, step.solve.as_ref(), &format!("{at}/solve"));
    }
    c.finish()
}

/// Replaces a lab's steps and finish page. Steps keep their ids by position, so learners'
/// progress survives an edit of the text.
#[utoipa::path(
    put, path = "/api/v1/authoring/labs/{id}/steps", tag = "authoring",
    params(("id" = Uuid, Path, description = "The lab")),
    request_body = LabStepsDraft,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The steps as saved", body = AuthoredLabSteps),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (every problem listed in `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_steps(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut draft): ApiJson<LabStepsDraft>,
) -> Result<Json<AuthoredLabSteps>, ApiError> {
    for step in &mut draft.steps {
        step.title = step.title.trim().to_owned();
    }
    check_steps(&draft)?;
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadWrite).await?;
    if !db::replace_steps(&mut tx, id, &draft).await? {
        return Err(ApiError::NotFound(
            "No such lab among those you manage.".into(),
        ));
    }
    let steps = db::authored_steps(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(steps.ok_or_else(|| {
        ApiError::NotFound("No such lab among those you manage.".into())
    })?))
}

/// The first line of a failed check's output that says something, as its hint.
fn hint_of(output: &str) -> Option<&str> {
    output.lines().map(str::trim).find(|l| !l.is_empty())
}

/// Checks a step of the caller's live session: its verify script runs in the learner's own
/// sandbox (one check at a time per session, with a deadline and an output cap). Passing the
/// last step completes the lab.
#[utoipa::path(
    post, path = "/api/v1/lab-sessions/{id}/check", tag = "labs",
    params(("id" = Uuid, Path, description = "The session")),
    request_body = CheckRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The check ran: passed, failed (its output is the hint) or timed out", body = CheckResult),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_session_owner`: only the session's learner may", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session; `lab_step_not_found`: no such step of its lab", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_session_state`: the session is not active; `check_running`: a check of this session runs now; `lab_steps_done`: every step has passed; `lab_has_no_steps`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`sandbox_busy`, `sandbox_unavailable` or `sandbox_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn check_step(
    State(state): State<AppState>,
    me: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<CheckRequest>,
) -> Result<Json<CheckResult>, ApiError> {
    let row = my_session(&state, &me, id).await?;
    if row.status()? != LabSessionStatus::Active {
        return Err(wrong_state(&row, "checked"));
    }
    let Some(_slot) = state.labs.check_slot(id) else {
        return Err(rule(
            StatusCode::CONFLICT,
            "check_running",
            "A check of this session is running; wait for its result.",
        ));
    };
    let mut tx = begin_service(state.db.api()).await?;
    let step = db::step_to_check(&mut tx, id, request.step_id).await?;
    let has_steps = !db::scripts(&mut tx, row.lab_id).await?.is_empty();
    tx.commit().await?;
    let Some((step_id, scripts)) = step else {
        return Err(match (request.step_id, has_steps) {
            (_, false) => rule(
                StatusCode::CONFLICT,
                "lab_has_no_steps",
                "This lab has no steps to check.",
            ),
            (Some(_), true) => rule(
                StatusCode::NOT_FOUND,
                "lab_step_not_found",
                "That step is not a step of this lab.",
            ),
            (None, true) => rule(
                StatusCode::CONFLICT,
                "lab_steps_done",
                "Every step of this lab has passed.",
            ),
        });
    };
    let labs = Arc::clone(&state.labs);
    let spec = labs.spec_for(&row);
    let (outcome, output, duration_ms) = match &scripts.verify {
        None => (CheckOutcome::Passed, String::new(), 0),
        Some(verify) => {
            // The environment of an active session exists; after a server restart its resource
            // controls may not, and making them again is harmless.
            let created = spec.clone();
            labs.blocking(move |driver| driver.create(&created)).await?;
            let run = labs.run_step_script(&spec, verify).await?;
            let outcome = if run.timed_out {
                CheckOutcome::TimedOut
            } else if run.succeeded() {
                CheckOutcome::Passed
            } else {
                CheckOutcome::Failed
            };
            (
                outcome,
                run.output_text(),
                u64::try_from(run.elapsed.as_millis()).unwrap_or(u64::MAX),
            )
        }
    };
    let passed = outcome == CheckOutcome::Passed;
    let mut tx = begin_service(state.db.api()).await?;
    let before = row.step_progress().unwrap_or_default();
    let progress = db::record_check(&mut tx, id, step_id, passed, &output).await?;
    let next_setup = if passed && progress.current > before.current.max(1) {
        db::setup_at(&mut tx, row.lab_id, progress.current).await?
    } else {
        None
    };
    tx.commit().await?;
    if let Some(setup) = next_setup {
        labs.start_setup(spec, progress.current, setup);
    }
    let seconds = labs.settings.check_deadline.as_secs();
    let message = match outcome {
        CheckOutcome::Passed
            if progress.completed_at.is_some() && progress.current > progress.total =>
        {
            format!(
                "Step {} passed. Every step is done: the lab is complete.",
                scripts.position
            )
        }
        CheckOutcome::Passed => format!("Step {} passed.", scripts.position),
        CheckOutcome::Failed => match hint_of(&output) {
            Some(hint) => format!("Not yet: {hint}"),
            None => "Not yet: the check did not pass.".to_owned(),
        },
        CheckOutcome::TimedOut => format!(
            "The check did not finish within {seconds} seconds and was stopped; your session \
             is fine. Try again, or tell your instructor."
        ),
    };
    Ok(Json(CheckResult {
        step_id,
        position: scripts.position,
        outcome,
        message,
        output,
        duration_ms,
        progress,
    }))
}

/// Starts the first step's setup of a session that has just started (in the background).
pub(super) async fn start_first_setup(
    state: &AppState,
    row: &crate::db::labs::SessionRow,
) -> Result<(), ApiError> {
    let mut tx = begin_service(state.db.api()).await?;
    let current = row.step_progress().map_or(1, |p| p.current);
    let setup = db::setup_at(&mut tx, row.lab_id, current).await?;
    tx.commit().await?;
    if let Some(setup) = setup {
        state
            .labs
            .start_setup(state.labs.spec_for(row), current, setup);
    }
    Ok(())
}

/// A self-test's image: a name that can be no image is the request's mistake (422
/// `invalid_image`), and so is one this host does not have (422 `lab_image_missing`, a
/// reference to nothing, as an unknown lab is); a saved lab on a missing image stays a 503 when
/// it starts, since the lab is fine and the host is not.
fn check_image(state: &AppState, image: &str) -> Result<(), ApiError> {
    Checks::default()
        .check(
            crate::labs::images::check_name(image).is_ok(),
            "/docker_image",
            "invalid_image",
            "1–128 lowercase letters, digits, `.`, `_`, `-`, and an optional `:tag` (e.g. \
             `python-tools:1`).",
        )
        .finish()?;
    Checks::default()
        .check(
            state.labs.images().rootfs(image).is_ok(),
            "/docker_image",
            "lab_image_missing",
            "This server has no lab image by that name: see `skilltrack-server lab-images list`.",
        )
        .finish()
}

/// Self-tests a lab in a fresh sandbox: for each step, setup must exit 0, verify must fail,
/// solve must exit 0, then verify must pass. For authors: a lab of theirs (its saved steps, or
/// `steps` in its environment), or `steps` alone in the environment named.
#[utoipa::path(
    post, path = "/api/v1/authoring/lab-self-tests", tag = "authoring",
    request_body = SelfTestRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report (`ok` false when a step failed)", body = SelfTestReport),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_an_author`: only instructors and admins self-test labs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab among those the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule; `nothing_to_test`: neither a lab nor steps", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`sandbox_busy`, `sandbox_unavailable`, `lab_image_unavailable` or `sandbox_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn self_test(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(request): ApiJson<SelfTestRequest>,
) -> Result<Json<SelfTestReport>, ApiError> {
    let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
    let author = db::is_author(&mut tx).await?;
    tx.commit().await?;
    if !author {
        return Err(rule(
            StatusCode::FORBIDDEN,
            "not_an_author",
            "Only instructors and admins self-test labs.",
        ));
    }
    if let Some(draft) = &request.steps {
        check_steps(draft)?;
    }
    if let Some(image) = &request.docker_image {
        check_image(&state, image)?;
    }
    let labs = Arc::clone(&state.labs);
    let lab_id = match (&request.lab_id, &request.lab_slug) {
        (Some(id), _) => Some(*id),
        (None, Some(slug)) => {
            let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
            let id = db::lab_by_slug(&mut tx, slug).await?;
            tx.commit().await?;
            Some(id.ok_or_else(|| {
                ApiError::NotFound(format!("No lab is called {slug:?} among those you manage."))
            })?)
        }
        (None, None) => None,
    };
    let (spec, steps) = if let Some(lab) = lab_id {
        let mut tx = begin(state.db.api(), me.caller(), Access::ReadOnly).await?;
        let authored = db::authored_steps(&mut tx, lab).await?;
        let found = crate::db::labs::lab_to_start(&mut tx, lab).await;
        tx.commit().await?;
        if authored.is_none() {
            return Err(ApiError::NotFound(
                "No such lab among those you manage.".into(),
            ));
        }
        let lab_row = found?
            .ok_or_else(|| ApiError::NotFound("No such lab among those you manage.".into()))?;
        let template = lab_row
            .environment_template
            .clone()
            .unwrap_or_else(|| "shell-basic".into());
        let spec = EnvironmentSpec {
            environment_id: Uuid::nil(),
            user_id: me.0.sub,
            lab_id: lab,
            profile: SandboxProfile::for_template(Some(&template)),
            limits: labs.limits_for(&lab_row.resource_requirements),
            image: lab_row.docker_image.clone(),
        };
        let steps = if let Some(draft) = &request.steps {
            scripts_of(draft)
        } else {
            let mut tx = begin_service(state.db.api()).await?;
            let steps = db::scripts(&mut tx, lab).await?;
            tx.commit().await?;
            steps
        };
        (spec, steps)
    } else {
        let Some(draft) = &request.steps else {
            return Err(rule(
                StatusCode::UNPROCESSABLE_ENTITY,
                "nothing_to_test",
                "Name a lab (`lab_id`) or send its steps (`steps`).",
            ));
        };
        let template = request
            .environment_template
            .clone()
            .unwrap_or_else(|| "shell-basic".into());
        let spec = EnvironmentSpec {
            environment_id: Uuid::nil(),
            user_id: me.0.sub,
            lab_id: Uuid::nil(),
            profile: SandboxProfile::for_template(Some(&template)),
            limits: labs.limits_for(&serde_json::json!({})),
            image: request.docker_image.clone(),
        };
        (spec, scripts_of(draft))
    };
    labs.driver().check()?;
    let report = labs.self_test(&spec, &steps).await?;
    tracing::info!(
        author = %me.0.sub,
        lab = ?lab_id,
        ok = report.ok,
        steps = report.steps.len(),
        duration_ms = report.duration_ms,
        "lab self-test"
    );
    Ok(Json(report))
}

fn scripts_of(draft: &LabStepsDraft) -> Vec<StepScripts> {
    (1..)
        .zip(&draft.steps)
        .map(|(position, s)| StepScripts {
            position,
            title: s.title.clone(),
            setup: s.setup.clone(),
            verify: s.verify.clone(),
            solve: s.solve.clone(),
        })
        .collect()
}
