//! Labs at run time: environments behind the [`driver::EnvironmentDriver`] trait (the local
//! [`sandbox::LocalSandbox`] by default), the shells running in them ([`terminal::Terminal`]),
//! and the idle [`reaper`]. The lifecycle's records (`lab_sessions`, `cloud_environments`,
//! `user_files`) are written by `http::labs` through `db::labs`; this module only runs things.

pub mod deadline;
pub mod driver;
pub mod images;
pub mod leftovers;
pub mod network;
pub mod reaper;
pub mod recovery;
pub mod sandbox;
pub mod seccomp;
pub mod steps;
pub mod terminal;
pub mod volume;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use portable_pty::PtySize;
use uuid::Uuid;

use self::driver::{
    DriverError, EnvironmentDriver, EnvironmentSpec, ResourceLimits, SandboxProfile,
};
use self::sandbox::{LocalSandbox, SandboxSettings};
use self::terminal::Terminal;

/// How labs run on this server.
#[derive(Debug, Clone)]
pub struct LabSettings {
    /// The local sandbox driver's settings.
    pub sandbox: SandboxSettings,
    /// How long a shell outlives its last dropped connection.
    pub reconnect_grace: Duration,
    /// How much recent output is replayed to a client that (re)connects, in bytes.
    pub replay_bytes: usize,
    /// How often the reaper looks for idle environments.
    pub reaper_interval: Duration,
    /// How long before an idle environment stops its learner is warned.
    pub idle_warning: Duration,
    /// Origins a browser-based terminal may connect from (a request without `Origin`, from a
    /// native client, is always allowed; one from the server's own host too).
    pub allowed_origins: Vec<String>,
    /// The largest file the files API reads or writes, in bytes.
    pub max_file_bytes: u64,
    /// The longest one driver call (a file operation, starting a shell) may take before its
    /// sandbox is killed.
    pub driver_deadline: Duration,
    /// The longest a lab step's script (a check, a setup, a self-test's phase) may run.
    pub check_deadline: Duration,
    /// How much of a step script's output is kept, in bytes.
    pub check_output_cap: usize,
    /// How many driver calls may run at once, each on a thread of its own (never on tokio's
    /// blocking pool, which signing in shares).
    pub driver_threads: usize,
    /// The most running sandboxes (active sessions) one learner may have, across labs.
    pub max_running_per_learner: u32,
    /// The most running sandboxes this server runs at once.
    pub max_running_per_host: u32,
}

impl LabSettings {
    /// The defaults, with workspaces under `data_dir/labs`.
    pub fn defaults(data_dir: &std::path::Path) -> Self {
        Self {
            sandbox: SandboxSettings {
                workspace_root: data_dir.join("labs"),
                os_user: "skilltrack-lab".into(),
                memory_cap_bytes: 2 << 30,
                process_cap: 256,
                disk_cap_bytes: 2 << 30,
                tmp_bytes: 256 << 20,
                bwrap: "bwrap".into(),
                workspace_volumes: true,
                fault: None,
                network_allowed_cidrs: Vec::new(),
                images_dir: data_dir.join("lab-images"),
            },
            reconnect_grace: Duration::from_secs(300),
            replay_bytes: 64 * 1024,
            reaper_interval: Duration::from_secs(30),
            idle_warning: Duration::from_secs(5 * 60),
            allowed_origins: vec![
                "tauri://localhost".into(),
                "http://tauri.localhost".into(),
                "https://tauri.localhost".into(),
            ],
            max_file_bytes: 16 << 20,
            driver_deadline: Duration::from_secs(30),
            check_deadline: Duration::from_secs(20),
            check_output_cap: 16 * 1024,
            driver_threads: 8,
            max_running_per_learner: 2,
            max_running_per_host: 32,
        }
    }
}

/// The longest shutting down waits for sandboxes to be cleaned up (cgroups, volumes).
pub const SHUTDOWN_CLEANUP: Duration = Duration::from_secs(10);

/// The default PTY size until the client says otherwise.
pub const DEFAULT_SIZE: PtySize = PtySize {
    rows: 24,
    cols: 80,
    pixel_width: 0,
    pixel_height: 0,
};

/// The running side of labs: the driver and the shells of this server, by lab session.
#[derive(Debug)]
pub struct Labs {
    /// The settings.
    pub settings: LabSettings,
    driver: Arc<dyn EnvironmentDriver>,
    terminals: tokio::sync::Mutex<HashMap<Uuid, Arc<Terminal>>>,
    /// One permit per driver thread (see [`Labs::blocking`]).
    driver_threads: Arc<tokio::sync::Semaphore>,
    /// Sessions whose check runs now (one at a time per session, [`steps::CheckSlot`]).
    checks: Arc<std::sync::Mutex<std::collections::HashSet<Uuid>>>,
    /// Environments that failed to start, for `/metrics`.
    failures: SandboxFailures,
}

/// Why a lab's sandbox failed to start, as `/metrics` labels it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct FailureLabels {
    /// `unavailable` (no bubblewrap or lab user on this host), `network`, `image`, `timeout`
    /// or `error` (anything else: the sandbox or its shell did not start).
    pub reason: &'static str,
}

/// Lab environments whose sandbox failed to start, by reason: a counter the metrics registry
/// and the labs share (cloning shares it).
#[derive(Clone, Debug, Default)]
pub struct SandboxFailures(
    prometheus_client::metrics::family::Family<
        FailureLabels,
        prometheus_client::metrics::counter::Counter,
    >,
);

impl SandboxFailures {
    /// Counts a failure to start an environment. A refusal for capacity (the host or the
    /// driver's threads are full) is not a failure of the sandbox, and is not counted.
    pub fn record(&self, error: &DriverError) {
        let reason = match error {
            DriverError::Busy | DriverError::HostFull { .. } => return,
            DriverError::SandboxToolMissing { .. } | DriverError::SandboxUserMissing(_) => {
                "unavailable"
            }
            DriverError::NetworkUnavailable(_) => "network",
            DriverError::ImageUnavailable(_) => "image",
            DriverError::TimedOut { .. } => "timeout",
            _ => "error",
        };
        self.0.get_or_create(&FailureLabels { reason }).inc();
    }

    /// The failures counted for `reason`.
    pub fn count(&self, reason: &'static str) -> u64 {
        self.0.get_or_create(&FailureLabels { reason }).get()
    }

    /// The counters, to register with a metrics registry.
    pub fn family(
        &self,
    ) -> prometheus_client::metrics::family::Family<
        FailureLabels,
        prometheus_client::metrics::counter::Counter,
    > {
        self.0.clone()
    }
}

impl Labs {
    /// Labs on the local sandbox driver.
    pub fn new(settings: LabSettings) -> Self {
        let driver = Arc::new(LocalSandbox::new(
            settings.sandbox.clone(),
            settings.driver_deadline,
        ));
        // What a killed server left is reclaimed by the server's start ([`recovery`]), which
        // first makes sure no other process uses these workspaces.
        Self::with_driver(settings, driver)
    }

    /// How many lab shells this server runs now.
    pub fn running_shells(&self) -> usize {
        self.terminals.try_lock().map_or(0, |t| t.len())
    }

    /// Labs on another driver.
    pub fn with_driver(settings: LabSettings, driver: Arc<dyn EnvironmentDriver>) -> Self {
        Self {
            driver_threads: Arc::new(tokio::sync::Semaphore::new(settings.driver_threads.max(1))),
            settings,
            driver,
            terminals: tokio::sync::Mutex::new(HashMap::new()),
            checks: Arc::default(),
            failures: SandboxFailures::default(),
        }
    }

    /// The same labs, counting failed starts in `failures` (the metrics registry's counter).
    #[must_use]
    pub fn counting_failures_in(mut self, failures: SandboxFailures) -> Self {
        self.failures = failures;
        self
    }

    /// Environments that failed to start.
    pub fn failures(&self) -> &SandboxFailures {
        &self.failures
    }

    /// An environment's limits: what its lab asks (`cpu` cores, `memory` and `storage` in GB),
    /// within the server's caps.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "small positive numbers, clamped first"
    )]
    pub fn limits_for(&self, resources: &serde_json::Value) -> ResourceLimits {
        let caps = &self.settings.sandbox;
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as f64;
        let number = |key: &str, default: f64| resources[key].as_f64().unwrap_or(default).max(0.0);
        let gib = |gb: f64| (gb * f64::from(1u32 << 30)) as u64;
        ResourceLimits {
            cpu_cores: number("cpu", 1.0).clamp(1.0, cores).ceil() as u32,
            memory_bytes: gib(number("memory", 2.0)).clamp(64 << 20, caps.memory_cap_bytes),
            max_processes: caps.process_cap,
            disk_bytes: gib(number("storage", 10.0)).clamp(1 << 20, caps.disk_cap_bytes),
        }
    }

    /// The driver's view of a session's environment.
    pub fn spec_for(&self, row: &crate::db::labs::SessionRow) -> EnvironmentSpec {
        EnvironmentSpec {
            environment_id: row.environment_id,
            user_id: row.user_id,
            lab_id: row.lab_id,
            profile: SandboxProfile::for_template(Some(&row.template_name)),
            limits: self.limits_for(&row.resource_config),
            image: row.environment_data["image"].as_str().map(str::to_owned),
        }
    }

    /// The lab images of this host.
    pub fn images(&self) -> images::ImageStore {
        images::ImageStore::new(self.settings.sandbox.images_dir.clone())
    }

    /// The driver.
    pub fn driver(&self) -> Arc<dyn EnvironmentDriver> {
        Arc::clone(&self.driver)
    }

    /// Runs a blocking driver call on a thread of its own, at most `driver_threads` at once: not
    /// on tokio's blocking pool, which Argon2 (signing in) needs free. A call waits up to the
    /// driver deadline for a thread, then fails with [`DriverError::Busy`]. The thread (and its
    /// permit) outlives a caller that goes away; the call itself is bounded by the driver's
    /// deadline.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn EnvironmentDriver) -> Result<T, DriverError> + Send + 'static,
    ) -> Result<T, DriverError> {
        let permit = tokio::time::timeout(
            self.settings.driver_deadline,
            Arc::clone(&self.driver_threads).acquire_owned(),
        )
        .await
        .map_err(|_| DriverError::Busy)?
        .map_err(|_| DriverError::Busy)?;
        let driver = self.driver();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("lab-driver".into())
            .stack_size(512 * 1024)
            .spawn(move || {
                let _permit = permit;
                let _ = tx.send(f(driver.as_ref()));
            })
            .map_err(|e| DriverError::io("starting a driver thread", e))?;
        rx.await
            .map_err(|_| DriverError::io("the driver call", "its thread ended without an answer"))?
    }

    /// Shells running on this server now.
    pub async fn running(&self) -> usize {
        self.terminals
            .lock()
            .await
            .values()
            .filter(|t| !t.has_exited())
            .count()
    }

    /// The session's shell, started (with its environment) if it is not running.
    pub async fn ensure_shell(
        &self,
        session: Uuid,
        spec: &EnvironmentSpec,
    ) -> Result<Arc<Terminal>, DriverError> {
        let mut terminals = self.terminals.lock().await;
        if let Some(t) = terminals.get(&session) {
            if !t.has_exited() {
                return Ok(Arc::clone(t));
            }
        }
        // Checked under the lock that every new shell takes, so two starts cannot both pass.
        let max = self.settings.max_running_per_host;
        let running = terminals.values().filter(|t| !t.has_exited()).count();
        if running >= usize::try_from(max).unwrap_or(usize::MAX) {
            return Err(DriverError::HostFull { max });
        }
        let spec = spec.clone();
        let replay = self.settings.replay_bytes;
        let terminal = self
            .blocking(move |driver| {
                driver.create(&spec)?;
                let shell = driver.start_shell(&spec, DEFAULT_SIZE)?;
                Terminal::spawn(spec, shell, replay)
            })
            .await
            .inspect_err(|e| self.failures.record(e))?;
        terminals.insert(session, Arc::clone(&terminal));
        Ok(terminal)
    }

    /// The session's shell, if it runs on this server.
    pub async fn terminal(&self, session: Uuid) -> Option<Arc<Terminal>> {
        self.terminals.lock().await.get(&session).cloned()
    }

    /// Every shell of this server, by session.
    pub async fn terminals(&self) -> Vec<(Uuid, Arc<Terminal>)> {
        self.terminals
            .lock()
            .await
            .iter()
            .map(|(k, v)| (*k, Arc::clone(v)))
            .collect()
    }

    /// Stops the session's shell and every process of its environment; deletes the workspace
    /// too when `keep_workspace` is false.
    pub async fn stop(
        &self,
        session: Uuid,
        spec: &EnvironmentSpec,
        keep_workspace: bool,
    ) -> Result<(), DriverError> {
        if let Some(t) = self.terminals.lock().await.remove(&session) {
            t.kill();
        }
        self.driver.interrupt(spec);
        let spec = spec.clone();
        self.blocking(move |driver| {
            if keep_workspace {
                driver.stop(&spec)
            } else {
                driver.destroy(&spec)
            }
        })
        .await
    }

    /// Kills every sandbox process of this server at once, without waiting for anything: the
    /// shells, the running file operations (their requests then answer), the networks. Called
    /// as soon as the server is told to stop, so that nothing it waits for hangs on a sandbox.
    pub fn kill_everything(&self) {
        if let Ok(terminals) = self.terminals.try_lock() {
            for t in terminals.values() {
                t.kill();
            }
        }
        self.driver.stop_everything();
    }

    /// Stops every shell of this server and removes their resource controls (at shutdown),
    /// waiting [`SHUTDOWN_CLEANUP`] at most. Sessions stay active: a terminal that connects
    /// after a restart starts a new shell over the same workspace.
    pub async fn shut_down(&self) {
        self.kill_everything();
        let terminals: Vec<Arc<Terminal>> = self
            .terminals
            .lock()
            .await
            .drain()
            .map(|(_, t)| t)
            .collect();
        let driver = self.driver();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // A thread of its own, never waited for past the bound: shutting down must not hang on
        // a sandbox (cgroup removal and unmounting are bounded, but a wedged kernel is not).
        let cleanup = std::thread::Builder::new()
            .name("lab-shutdown".into())
            .spawn(move || {
                for t in terminals {
                    t.kill();
                    let _ = driver.stop(&t.spec);
                }
                driver.release_mounts();
                let _ = tx.send(());
            });
        if cleanup.is_ok() && tokio::time::timeout(SHUTDOWN_CLEANUP, rx).await.is_err() {
            tracing::warn!("lab sandboxes were still being cleaned up when the server stopped");
        }
    }
}

impl Drop for Labs {
    /// Whatever still runs when the labs go away (a test's server, a failed start) is killed
    /// and its cgroups removed, so nothing outlives the server.
    fn drop(&mut self) {
        self.driver.stop_everything();
        for (_, t) in self.terminals.get_mut().drain() {
            t.kill();
            let _ = self.driver.stop(&t.spec);
        }
        self.driver.release_mounts();
    }
}
