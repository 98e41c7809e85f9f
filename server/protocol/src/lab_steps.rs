//! Labs in steps: what learners read (a step's text and hints), what authors write (the
//! scripts too: setup, verify, solve, the lab's answer keys, never sent to a learner), a
//! learner's checks and progress, and an author's self-test of a lab.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// One step of a lab as a learner sees it (no scripts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabStep {
    /// Id.
    pub id: Uuid,
    /// 1, 2, …: the order learners take the steps in.
    pub position: i32,
    /// Its title.
    pub title: String,
    /// What to do, in markdown. A code block whose info string has `exec`
    /// (```` ```bash exec ````) gets a Run button that types it into the terminal.
    pub body: String,
    /// Hints, revealed one at a time.
    pub hints: Vec<String>,
    /// The step has a verify script: Check runs it in the learner's sandbox. Without one, the
    /// step passes when the learner moves on.
    pub checked: bool,
}

/// `GET /api/v1/labs/{id}/steps`: a lab's intro, steps and finish page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LabSteps {
    /// The lab.
    pub lab_id: Uuid,
    /// The intro (the lab's `instructions`), markdown.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub intro: Option<String>,
    /// The steps, in order (empty: the lab is one page of instructions).
    pub steps: Vec<LabStep>,
    /// What the learner reads after the last step, markdown.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub finish: Option<String>,
}

/// One step as its author writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabStepDraft {
    /// 1 to 200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub title: String,
    /// What to do, in markdown (up to 100000 characters).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100_000))]
    pub body: String,
    /// Up to 20 hints, each 1 to 2000 characters.
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<String>>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub hints: Vec<String>,
    /// Run in the background in the learner's sandbox when the step begins (a shell script).
    #[serde(default)]
    #[ts(optional)]
    pub setup: Option<String>,
    /// Exit 0: the step is done; otherwise its output is the learner's hint.
    #[serde(default)]
    #[ts(optional)]
    pub verify: Option<String>,
    /// Does the step, for the self-test (and authors showing the way).
    #[serde(default)]
    #[ts(optional)]
    pub solve: Option<String>,
}

/// `PUT /api/v1/authoring/labs/{id}/steps`: replace a lab's steps and finish page. Steps keep
/// their ids by position, so a learner's progress survives an edit of their text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LabStepsDraft {
    /// Up to 100 steps, in order.
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub steps: Vec<LabStepDraft>,
    /// The finish page, markdown.
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100_000))]
    pub finish: Option<String>,
}

/// One step as its author sees it: with the scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AuthoredLabStep {
    /// What learners see.
    pub step: LabStep,
    /// The setup script.
    pub setup: Option<String>,
    /// The verify script.
    pub verify: Option<String>,
    /// The solve script.
    pub solve: Option<String>,
}

/// `GET /api/v1/authoring/labs/{id}/steps`: the steps with their scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AuthoredLabSteps {
    /// The lab.
    pub lab_id: Uuid,
    /// The intro (the lab's `instructions`).
    pub intro: Option<String>,
    /// The steps, in order.
    pub steps: Vec<AuthoredLabStep>,
    /// The finish page.
    pub finish: Option<String>,
}

/// What the learner's checks of one step came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct StepRecord {
    /// The step.
    pub step_id: Uuid,
    /// Its position.
    pub position: i32,
    /// Checks run.
    pub attempts: i32,
    /// When it first passed.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub passed_at: Option<DateTime<Utc>>,
    /// The last check.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_checked_at: Option<DateTime<Utc>>,
    /// Whether the last check passed.
    pub last_passed: bool,
    /// What the last check printed (its hint when it failed), cut to 4000 characters.
    pub last_output: String,
}

/// A session's progress through its lab's steps (kept by the server in
/// `lab_sessions.progress_data.steps`; the client's own saves never replace it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct StepProgress {
    /// The step the learner is on (its position); `total + 1` once every step has passed.
    pub current: i32,
    /// How many steps the lab has.
    pub total: i32,
    /// When the last step passed (the lab is complete).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub completed_at: Option<DateTime<Utc>>,
    /// Each step checked so far, by position.
    pub records: Vec<StepRecord>,
}

/// `POST /api/v1/lab-sessions/{id}/check`: check a step (the one the learner is on when
/// `step_id` is absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CheckRequest {
    /// The step.
    #[serde(default)]
    #[ts(optional)]
    pub step_id: Option<Uuid>,
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CheckOutcome {
    /// The verify script exited 0 (or the step has none).
    Passed,
    /// It exited otherwise: its output is the hint.
    Failed,
    /// It ran past its deadline and was stopped; the session lives on.
    TimedOut,
}

/// The answer to a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CheckResult {
    /// The step checked.
    pub step_id: Uuid,
    /// Its position.
    pub position: i32,
    /// Passed, failed or timed out.
    pub outcome: CheckOutcome,
    /// The result in words, for the learner.
    pub message: String,
    /// What the verify script printed (cut at the server's output cap).
    pub output: String,
    /// How long the check ran, in milliseconds.
    #[ts(type = "number")]
    pub duration_ms: u64,
    /// The session's progress after this check.
    pub progress: StepProgress,
}

/// `POST /api/v1/authoring/lab-self-tests`: self-test a lab in a fresh sandbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SelfTestRequest {
    /// The lab whose environment (template, image, limits) the test runs in, and whose saved
    /// steps it tests unless `steps` is given. One of the caller's labs.
    #[serde(default)]
    #[ts(optional)]
    pub lab_id: Option<Uuid>,
    /// The lab by its slug, instead of `lab_id`.
    #[serde(default)]
    #[ts(optional)]
    pub lab_slug: Option<String>,
    /// Steps to test instead of the saved ones (a lab being written, from its files).
    #[serde(default)]
    #[ts(optional)]
    pub steps: Option<LabStepsDraft>,
    /// Without `lab_id`: the environment template (default `shell-basic`).
    #[serde(default)]
    #[ts(optional)]
    pub environment_template: Option<String>,
    /// Without `lab_id`: the lab image to run on (default: the host's tools).
    #[serde(default)]
    #[ts(optional)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 128,
            pattern = r"^[a-z0-9][a-z0-9._-]*(:[a-z0-9][a-z0-9._-]*)?$"
        )
    )]
    pub docker_image: Option<String>,
}

/// One phase of a step's self-test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SelfTestPhaseKind {
    /// The setup script: must exit 0.
    Setup,
    /// Verify before the solution: must fail.
    VerifyBefore,
    /// The solve script: must exit 0.
    Solve,
    /// Verify after the solution: must pass.
    VerifyAfter,
}

/// What one phase did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SelfTestPhase {
    /// Which.
    pub kind: SelfTestPhaseKind,
    /// Whether it did what it must.
    pub ok: bool,
    /// What was expected and what happened, in words.
    pub message: String,
    /// Its exit code (`None`: killed at the deadline).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub exit_code: Option<i32>,
    /// What it printed (cut at the server's output cap).
    pub output: String,
    /// How long it ran, in milliseconds.
    #[ts(type = "number")]
    pub duration_ms: u64,
}

/// One step's self-test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SelfTestStep {
    /// Its position.
    pub position: i32,
    /// Its title.
    pub title: String,
    /// Every phase did what it must.
    pub ok: bool,
    /// The phases run, in order.
    pub phases: Vec<SelfTestPhase>,
}

/// The self-test's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SelfTestReport {
    /// Every step passed its self-test (and the lab has at least one step).
    pub ok: bool,
    /// Each step, in order (the test stops at the first step that fails: later steps build on
    /// its work).
    pub steps: Vec<SelfTestStep>,
    /// How long the whole test took, in milliseconds.
    #[ts(type = "number")]
    pub duration_ms: u64,
}
