//! Labs in steps at run time: a learner's check (the step's verify script, in their own
//! sandbox, one at a time per session), a step's setup (in the background when the step
//! begins), and an author's self-test (a fresh sandbox; for each step: setup, verify expected
//! to fail, solve, verify expected to pass).
//!
//! Every script runs through [`EnvironmentDriver::run_script`](super::driver::EnvironmentDriver::run_script):
//! the learner's user, root filesystem, namespaces and limits, with the labs' check deadline
//! and output cap. Where the results are kept is `db::lab_steps`' business.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use skilltrack_protocol::lab_steps::{
    SelfTestPhase, SelfTestPhaseKind, SelfTestReport, SelfTestStep,
};
use uuid::Uuid;

use super::Labs;
use super::driver::{DriverError, EnvironmentSpec, ScriptRun};

/// A step's scripts, as the server runs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepScripts {
    /// Its position.
    pub position: i32,
    /// Its title.
    pub title: String,
    /// Runs when the step begins.
    pub setup: Option<String>,
    /// Exit 0: done.
    pub verify: Option<String>,
    /// Does the step.
    pub solve: Option<String>,
}

/// A session's one check at a time: held while its check runs, released when dropped.
#[derive(Debug)]
pub struct CheckSlot {
    session: Uuid,
    checks: Arc<Mutex<HashSet<Uuid>>>,
}

impl Drop for CheckSlot {
    fn drop(&mut self) {
        self.checks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.session);
    }
}

/// Milliseconds, saturated.
fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Labs {
    /// The session's check slot, or `None` while another check of it runs.
    pub fn check_slot(&self, session: Uuid) -> Option<CheckSlot> {
        let mut running = self.checks.lock().unwrap_or_else(PoisonError::into_inner);
        running.insert(session).then(|| CheckSlot {
            session,
            checks: Arc::clone(&self.checks),
        })
    }

    /// Whether a check of the session runs now.
    pub fn check_running(&self, session: Uuid) -> bool {
        self.checks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&session)
    }

    /// Runs a step's script in the environment (see the module docs).
    pub async fn run_step_script(
        &self,
        spec: &EnvironmentSpec,
        script: &str,
    ) -> Result<ScriptRun, DriverError> {
        let deadline = self.settings.check_deadline;
        let cap = self.settings.check_output_cap;
        let spec = spec.clone();
        let script = script.to_owned();
        self.blocking(move |driver| driver.run_script(&spec, &script, deadline, cap))
            .await
    }

    /// Starts a step's setup script in the background; its outcome is only logged (a learner
    /// whose setup failed sees it in their check's hint).
    pub fn start_setup(self: &Arc<Self>, spec: EnvironmentSpec, position: i32, script: String) {
        let labs = Arc::clone(self);
        tokio::spawn(async move {
            match labs.run_step_script(&spec, &script).await {
                Ok(run) if run.succeeded() => {
                    tracing::debug!(environment = %spec.environment_id, position, "step setup ran");
                }
                Ok(run) => tracing::warn!(
                    environment = %spec.environment_id,
                    position,
                    exit_code = ?run.exit_code,
                    timed_out = run.timed_out,
                    "a lab step's setup script failed"
                ),
                Err(e) => tracing::warn!(
                    environment = %spec.environment_id,
                    position,
                    error = %e,
                    "a lab step's setup script could not run"
                ),
            }
        });
    }

    /// Self-tests `steps` in a fresh environment like `template` (its own workspace, deleted
    /// after): for each step, setup must exit 0, verify must fail, solve must exit 0, then
    /// verify must pass. Stops at the first step that does not (later steps build on it).
    pub async fn self_test(
        &self,
        template: &EnvironmentSpec,
        steps: &[StepScripts],
    ) -> Result<SelfTestReport, DriverError> {
        let started = Instant::now();
        let spec = EnvironmentSpec {
            environment_id: Uuid::new_v4(),
            // A workspace of its own, never an author's or a learner's.
            user_id: Uuid::new_v4(),
            ..template.clone()
        };
        let created = {
            let spec = spec.clone();
            self.blocking(move |driver| driver.create(&spec)).await
        };
        let report = match created {
            Ok(()) => self.self_test_steps(&spec, steps).await,
            Err(e) => Err(e),
        };
        let cleanup = spec.clone();
        let _ = self
            .blocking(move |driver| driver.destroy(&cleanup))
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "cleaning up a self-test's sandbox"));
        let reports = report?;
        Ok(SelfTestReport {
            ok: !reports.is_empty() && reports.len() == steps.len() && reports.iter().all(|s| s.ok),
            steps: reports,
            duration_ms: millis(started.elapsed()),
        })
    }

    async fn self_test_steps(
        &self,
        spec: &EnvironmentSpec,
        steps: &[StepScripts],
    ) -> Result<Vec<SelfTestStep>, DriverError> {
        let seconds = self.settings.check_deadline.as_secs();
        let mut reports = Vec::new();
        for step in steps {
            let mut phases = Vec::new();
            let mut phase = |kind, ok, message: String, run: Option<&ScriptRun>| {
                phases.push(SelfTestPhase {
                    kind,
                    ok,
                    message,
                    exit_code: run.and_then(|r| r.exit_code),
                    output: run.map(ScriptRun::output_text).unwrap_or_default(),
                    duration_ms: run.map_or(0, |r| millis(r.elapsed)),
                });
            };
            let ended = |run: &ScriptRun| {
                if run.timed_out {
                    format!("did not finish within {seconds} s")
                } else {
                    run.exit_code
                        .map_or_else(|| "was killed".to_owned(), |c| format!("exited {c}"))
                }
            };
            if let Some(setup) = &step.setup {
                let run = self.run_step_script(spec, setup).await?;
                let ok = run.succeeded();
                phase(
                    SelfTestPhaseKind::Setup,
                    ok,
                    format!("setup {} (must exit 0)", ended(&run)),
                    Some(&run),
                );
            }
            if let Some(verify) = &step.verify {
                let run = self.run_step_script(spec, verify).await?;
                let ok = !run.succeeded();
                let message = if ok {
                    format!("verify {} before the solution, as it must", ended(&run))
                } else {
                    "verify passed before the solution: it would pass a learner who did nothing"
                        .to_owned()
                };
                phase(SelfTestPhaseKind::VerifyBefore, ok, message, Some(&run));
            }
            match &step.solve {
                Some(solve) => {
                    let run = self.run_step_script(spec, solve).await?;
                    let ok = run.succeeded();
                    phase(
                        SelfTestPhaseKind::Solve,
                        ok,
                        format!("solve {} (must exit 0)", ended(&run)),
                        Some(&run),
                    );
                }
                None if step.verify.is_some() => phase(
                    SelfTestPhaseKind::Solve,
                    false,
                    "the step has a verify script but no solve script: it cannot be self-tested"
                        .to_owned(),
                    None,
                ),
                None => {}
            }
            if let Some(verify) = &step.verify {
                let run = self.run_step_script(spec, verify).await?;
                let ok = run.succeeded();
                let message = if ok {
                    "verify passed after the solution".to_owned()
                } else {
                    format!("verify {} after the solution (must exit 0)", ended(&run))
                };
                phase(SelfTestPhaseKind::VerifyAfter, ok, message, Some(&run));
            }
            let ok = phases.iter().all(|p| p.ok);
            reports.push(SelfTestStep {
                position: step.position,
                title: step.title.clone(),
                ok,
                phases,
            });
            if !ok {
                break;
            }
        }
        Ok(reports)
    }
}
