//! The `skilltrack` CLI's commands: each a thin call into the client engine, printing text
//! for people or JSON for scripts.

#![allow(clippy::print_stdout, reason = "printing results is what a CLI is for")]

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use skilltrack_client::cache::CourseFilter;
use skilltrack_client::device;
use skilltrack_client::sync::{SyncEngine, lock};
use skilltrack_client::sync_lock::{Holder, SyncLock};
use skilltrack_client::tls::Trust;
use skilltrack_client::tokens::StoreKind;
use skilltrack_client::writes::ProgressInput;
use skilltrack_protocol::lab_steps::SelfTestRequest;
use uuid::Uuid;

/// Skilltrack from the command line: an offline cache of your courses that syncs with the server.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// The server.
    #[arg(
        long,
        env = "SKILLTRACK_SERVER",
        default_value = "http://127.0.0.1:8787",
        global = true
    )]
    server: String,
    /// Where the cache, downloads and (without a keyring) the session live.
    #[arg(long, env = "SKILLTRACK_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Where to keep the session: the OS keyring (falling back to a private file where none
    /// runs), or always the file.
    #[arg(
        long,
        env = "SKILLTRACK_TOKEN_STORE",
        value_enum,
        default_value = "keyring",
        global = true
    )]
    token_store: StoreKind,
    /// Certificate authorities to trust besides the public ones (a PEM file): for a server
    /// whose `https://` certificate comes from an organisation's own authority.
    #[arg(long, env = "SKILLTRACK_CA_FILE", global = true)]
    ca_file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in (the password is read from `$SKILLTRACK_PASSWORD`, else asked for).
    SignIn {
        /// Your e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Forget the session on this device (the cache stays).
    SignOut,
    /// Send queued work and fetch changes, once (or keep syncing with --watch). Refused
    /// (`cache_in_use`) while the desktop app syncs the same data directory.
    Sync {
        /// Rows per pulled page.
        #[arg(long, default_value_t = skilltrack_client::sync::PULL_PAGE)]
        page_size: u32,
        /// Mutations per push (at most the server's limit per push).
        #[arg(long, default_value_t = skilltrack_protocol::sync::MAX_PUSH_MUTATIONS)]
        push_batch: usize,
        /// Keep running: sync on every change signalled by the server, every local write, and
        /// every 30 s; Ctrl-C stops.
        #[arg(long)]
        watch: bool,
    },
    /// What the cache holds, what waits to be sent, and what the server refused.
    Status,
    /// Fetch everything again on the next sync (queued work is kept).
    Resync,
    /// Courses in the offline cache.
    Courses {
        /// Words to search for (titles, descriptions, tags).
        #[arg(long)]
        search: Option<String>,
        /// Only free courses.
        #[arg(long)]
        free: bool,
    },
    /// Record progress in a lesson (works offline; sent on the next sync).
    Progress {
        /// The lesson's id.
        lesson: Uuid,
        /// How far, 0–100.
        #[arg(long)]
        percent: Option<i32>,
        /// Minutes spent since the last report.
        #[arg(long)]
        minutes: Option<i32>,
        /// Mark the lesson complete.
        #[arg(long)]
        complete: bool,
    },
    /// Download a lesson's media for offline viewing (resumes an interrupted download).
    Download {
        /// The media URL or server path (e.g. /media/demo/intro.webm).
        url: String,
        /// The lesson it belongs to.
        #[arg(long)]
        lesson: Option<String>,
    },
    /// Delete a downloaded file.
    DeleteDownload {
        /// The media URL it was downloaded from.
        url: String,
    },
    /// Labs, for their authors (instructors and admins).
    Lab {
        #[command(subcommand)]
        command: LabCommand,
    },
    /// Courses as code: a course package is a folder (docs/course-packages.md). `new`,
    /// `validate` and `pack` need no server.
    Course {
        #[command(subcommand)]
        command: CourseCommand,
    },
    /// Signed certificates (Open Badges 3.0): fetch the issuer's keys, save yours, verify any
    /// offline.
    Certificate {
        #[command(subcommand)]
        command: CertificateCommand,
    },
}

#[derive(Debug, Subcommand)]
enum CertificateCommand {
    /// Fetch the server's certificate keys and revocation lists and keep them for offline
    /// verification (`skilltrack sync` does it too).
    Keys,
    /// Save one of your certificates with its signed credential: as JSON, a printable PDF or
    /// a PNG badge. Each carries the same VC-JWT, so `skilltrack certificate verify` (and any
    /// Open Badges 3.0 verifier) checks any of them.
    Get {
        /// The certificate's id (`skilltrack status` and the app show them).
        certificate: Uuid,
        /// What to save: `json` (the VC-JWT with the certificate's number and standing),
        /// `pdf` (a one-page certificate with the verification link and a QR code, the
        /// credential attached as `credential.jwt`), or `png` (a badge with the credential
        /// baked in, per Open Badges 3.0 baking).
        #[arg(long, value_enum, default_value_t = skilltrack_client::certificates::CredentialFormat::Json)]
        format: skilltrack_client::certificates::CredentialFormat,
        /// Where to write it (default: `<number>.credential.json`, `<number>.pdf` or
        /// `<number>.png`).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Verify a credential OFFLINE with the keys and revocation list cached at the last sync
    /// or `skilltrack certificate keys`. Prints the verdict; exits 0 only when it is valid:
    /// 2 tampered, 3 unknown key, 4 revoked, 5 expired, 6 status list stale, 7 no status list
    /// cached, 8 not a credential (1: nothing cached, or the file cannot be read).
    Verify {
        /// A VC-JWT, or the JSON, PDF or PNG badge `skilltrack certificate get` saves.
        file: PathBuf,
        /// The oldest revocation list accepted, in days.
        #[arg(long, default_value_t = skilltrack_client::certificates::DEFAULT_MAX_STATUS_AGE_DAYS)]
        max_status_age_days: i64,
    },
}

#[derive(Debug, Subcommand)]
enum CourseCommand {
    /// Write a new package that validates as it is: course.json, a module with a text lesson,
    /// a quiz and a lab of one step. The course's slug is the folder's name.
    New {
        /// A new or empty folder.
        dir: PathBuf,
    },
    /// Check a package: prints every problem as `file:line:column: what (fix)` and exits 1
    /// when there is any (for CI).
    Validate {
        /// The package's folder (the one holding course.json).
        dir: PathBuf,
    },
    /// Create or update the course on the server as a draft: uploads media it lacks (once per
    /// file, by hash), prints what changes, then changes it. Pushing a folder the server has
    /// already changes nothing.
    Push {
        /// The package's folder.
        dir: PathBuf,
        /// Only print what would change.
        #[arg(long)]
        dry_run: bool,
        /// Replace changes made to the course on the server since this folder's last pull
        /// or push (refused without it).
        #[arg(long)]
        force: bool,
        /// Publish the course (and its labs) once pushed; without it a push never publishes.
        #[arg(long)]
        publish: bool,
    },
    /// Write a course you teach on the server as a package (a new or empty folder, or the
    /// course's own folder to update it).
    Pull {
        /// The course's id or slug.
        course: String,
        /// The folder to write.
        dir: PathBuf,
    },
    /// The package as one reproducible archive (`.tar.gz`), after validating it.
    Pack {
        /// The package's folder.
        dir: PathBuf,
        /// The archive to write (default: `SLUG.tar.gz` beside the folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum LabCommand {
    /// Self-test a lab in a fresh sandbox on the server: for each step, run its setup, expect
    /// verify to fail, run solve, expect verify to pass. Prints a report per step; exits 1
    /// when a step fails (for CI).
    Test {
        /// A lab's directory (Killercoda's layout: index.json naming the step texts and
        /// scripts), tested as written without saving it; or the slug of a lab of yours on
        /// the server, tested as saved.
        lab: String,
        /// With a directory: run it in the environment of this lab of yours (its template,
        /// image and limits). Default: index.json's `skilltrack.lab`, else its
        /// `skilltrack.environment_template` and `docker_image`, else a plain shell.
        #[arg(long)]
        on: Option<String>,
    },
}

/// Runs the command line's command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Packages are files on this machine: no server, no data directory, no session.
    if let Command::Course { command } = &cli.command {
        if !matches!(
            command,
            CourseCommand::Push { .. } | CourseCommand::Pull { .. }
        ) {
            return course(command, cli.json);
        }
    }
    let data_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(device::default_data_dir);
    // Verifying is offline and needs no server, session or cache: only the cached keys.
    if let Command::Certificate {
        command:
            CertificateCommand::Verify {
                file,
                max_status_age_days,
            },
    } = &cli.command
    {
        return verify_certificate(file, &data_dir, *max_status_age_days, cli.json);
    }
    // Said first and plainly: a refused server is no trouble with the data directory.
    skilltrack_client::api::server_url(&cli.server)?;
    let trust = match &cli.ca_file {
        Some(file) => Trust::with_ca_file(file)?,
        None => Trust::public()?,
    };
    let engine = Arc::new(
        device::open_with_trust(&cli.server, &data_dir, &cli.token_store, &trust)
            .with_context(|| format!("opening Skilltrack's data in {}", data_dir.display()))?,
    );
    match cli.command {
        Command::SignIn { email } => sign_in(&engine, &email, cli.json).await?,
        Command::SignOut => {
            engine
                .sign_out()
                .await
                .map_err(|e| anyhow::anyhow!(e.explain()))?;
            say(
                cli.json,
                &serde_json::json!({"signed_out": true}),
                "Signed out.",
            );
        }
        Command::Sync {
            watch: keep_running,
            page_size,
            push_batch,
        } => {
            engine.set_page_size(page_size);
            engine.set_push_batch(push_batch);
            // Held until the sync ends; refused at once while the app (or another
            // `skilltrack sync`) syncs this cache: it holds the lock for as long as it runs,
            // so waiting would rarely help (decision 297).
            let _held = SyncLock::try_acquire(&data_dir, Holder::Cli)
                .map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
            if keep_running {
                watch(engine).await;
            } else {
                sync_once(&engine, &data_dir, cli.json).await?;
            }
        }
        Command::Resync => {
            lock(engine.cache()).forget_cursor()?;
            say(
                cli.json,
                &serde_json::json!({"resync": true}),
                "The next sync fetches everything again.",
            );
        }
        Command::Status => status(&engine, cli.json)?,
        Command::Courses { search, free } => courses(&engine, search, free, cli.json)?,
        Command::Progress {
            lesson,
            percent,
            minutes,
            complete,
        } => {
            let input = ProgressInput {
                percentage: percent,
                add_minutes: minutes,
                completed: complete,
            };
            progress(&engine, lesson, input, cli.json).await?;
        }
        Command::Download { url, lesson } => {
            download(&engine, &url, lesson.as_deref(), &data_dir, cli.json).await?;
        }
        Command::DeleteDownload { url } => {
            engine.delete_download(&url).await?;
            say(cli.json, &serde_json::json!({"deleted": url}), "Deleted.");
        }
        Command::Lab {
            command: LabCommand::Test { lab, on },
        } => lab_test(&engine, &lab, on, cli.json).await?,
        Command::Course { command } => course_on_server(&engine, &command, cli.json).await?,
        Command::Certificate { command } => {
            certificate(&engine, command, &data_dir, cli.json).await?;
        }
    }
    Ok(())
}

/// `skilltrack course push|pull`.
async fn course_on_server(
    engine: &SyncEngine,
    command: &CourseCommand,
    json: bool,
) -> anyhow::Result<()> {
    use skilltrack_client::course_packages::{PackageError, PushOptions};
    let explain = |e: PackageError, dir: &std::path::Path| -> anyhow::Error {
        match e {
            PackageError::Invalid(problems) => {
                print_problems(dir, &problems.0, json);
                anyhow::anyhow!("{} problem(s) in {}", problems.0.len(), dir.display())
            }
            PackageError::Server(e) => anyhow::anyhow!(e.explain()),
            other => anyhow::anyhow!(other),
        }
    };
    match command {
        CourseCommand::Push {
            dir,
            dry_run,
            force,
            publish,
        } => {
            let options = PushOptions {
                dry_run: *dry_run,
                force: *force,
                publish: *publish,
            };
            // What would change, first; then the push itself unless that was all.
            let plan = engine
                .push_package(
                    dir,
                    PushOptions {
                        dry_run: true,
                        ..options
                    },
                )
                .await
                .map_err(|e| explain(e, dir))?;
            if !json {
                print_plan(&plan.report);
            }
            if *dry_run || plan.report.changes.is_empty() {
                if json {
                    println!("{}", serde_json::to_value(&plan.report)?);
                }
                return Ok(());
            }
            let pushed = engine
                .push_package(dir, options)
                .await
                .map_err(|e| explain(e, dir))?;
            say(
                json,
                &serde_json::to_value(&pushed.report)?,
                &format!(
                    "Pushed {} change(s) to course {} ({} media file(s) uploaded){}.",
                    pushed.report.changes.len(),
                    pushed.report.course_id,
                    pushed.uploaded.len(),
                    if *publish {
                        ""
                    } else {
                        "; it stays a draft until you push with --publish"
                    }
                ),
            );
        }
        CourseCommand::Pull { course, dir } => {
            let pulled = engine
                .pull_package(course, dir)
                .await
                .map_err(|e| explain(e, dir))?;
            let lessons: usize = pulled.tree.modules.iter().map(|m| m.lessons.len()).sum();
            say(
                json,
                &serde_json::json!({
                    "course_id": pulled.course_id,
                    "revision": pulled.revision,
                    "dir": dir,
                }),
                &format!(
                    "Wrote course {} to {}: {} module(s), {} lesson(s), {} assessment(s), {} lab(s).",
                    pulled.tree.course.slug,
                    dir.display(),
                    pulled.tree.modules.len(),
                    lessons,
                    pulled.tree.assessments.len(),
                    pulled.tree.labs.len()
                ),
            );
        }
        _ => course(command, json)?,
    }
    Ok(())
}

/// `skilltrack sync`: once; then the issuer's keys and revocation lists, for verifying
/// certificates offline.
async fn sync_once(
    engine: &SyncEngine,
    data_dir: &std::path::Path,
    json: bool,
) -> anyhow::Result<()> {
    let report = engine
        .sync_once()
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    say(
        json,
        &serde_json::to_value(&report)?,
        &format!(
            "Sent {} change(s) ({} refused); received {} row(s) in {} page(s).",
            report.pushed, report.rejected, report.pulled, report.pages
        ),
    );
    if let Err(e) = skilltrack_client::certificates::refresh_trust(engine.api(), data_dir).await {
        tracing::warn!(error = %e, "the certificate keys could not be refreshed");
    }
    Ok(())
}

/// What a push changes, one line each: `+ create  lesson getting-started/welcome`.
fn print_plan(report: &skilltrack_protocol::course_packages::CoursePushReport) {
    use skilltrack_protocol::course_packages::ChangeAction;
    if report.changes.is_empty() {
        println!("Nothing to push: the server has this folder already.");
    }
    for change in &report.changes {
        let mark = match change.action {
            ChangeAction::Create => "+ create ",
            ChangeAction::Update => "~ update ",
            ChangeAction::Delete => "- delete ",
            ChangeAction::Publish => "* publish",
        };
        println!("{mark} {}", change.item);
    }
}

/// Prints a package's problems as `file:line:column: what (fix)` (or JSON).
fn print_problems(
    dir: &std::path::Path,
    problems: &[skilltrack_package::course::Problem],
    json: bool,
) {
    if json {
        println!(
            "{}",
            serde_json::json!({"valid": false, "problems": problems})
        );
    } else {
        // Paths from where the command ran, so editors and terminals jump to them.
        for p in problems {
            println!(
                "{}:{}:{}: {} ({})",
                dir.join(&p.file).display(),
                p.line,
                p.column,
                p.message,
                p.fix
            );
        }
    }
}

/// `skilltrack certificate keys|get`.
async fn certificate(
    engine: &SyncEngine,
    command: CertificateCommand,
    data_dir: &std::path::Path,
    json: bool,
) -> anyhow::Result<()> {
    use skilltrack_client::certificates;
    match command {
        CertificateCommand::Keys => {
            let trust = certificates::refresh_trust(engine.api(), data_dir).await?;
            say(
                json,
                &serde_json::json!({
                    "issuer": trust.issuer,
                    "keys": trust.keys.keys.len(),
                    "status_lists": trust.status_lists.len(),
                }),
                &format!(
                    "Cached {} key(s) and {} revocation list(s) of {} for offline verification.",
                    trust.keys.keys.len(),
                    trust.status_lists.len(),
                    trust.issuer
                ),
            );
        }
        CertificateCommand::Get {
            certificate,
            format,
            out,
        } => {
            let session = engine
                .session()
                .await
                .map_err(|e| anyhow::anyhow!(e.explain()))?;
            let credential =
                certificates::download_credential(engine.api(), &session.access_token, certificate)
                    .await?;
            let out = out
                .unwrap_or_else(|| PathBuf::from(format.file_name(&credential.certificate_number)));
            certificates::save_credential(&credential, format, &out)?;
            say(
                json,
                &serde_json::json!({
                    "saved": out,
                    "format": format,
                    "certificate_number": credential.certificate_number,
                }),
                &format!(
                    "Saved certificate {} to {}.",
                    credential.certificate_number,
                    out.display()
                ),
            );
        }
        CertificateCommand::Verify { .. } => {
            unreachable!("verify returns before the engine opens")
        }
    }
    Ok(())
}

/// `skilltrack certificate verify FILE`: offline; the exit code says the verdict.
fn verify_certificate(
    file: &std::path::Path,
    data_dir: &std::path::Path,
    max_status_age_days: i64,
    json: bool,
) -> anyhow::Result<()> {
    use skilltrack_credentials::CredentialVerdict as V;
    let now = chrono::Utc::now();
    let (v, trust) = skilltrack_client::certificates::verify_file(
        file,
        data_dir,
        now,
        chrono::Duration::days(max_status_age_days.max(0)),
    )?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "verdict": v.verdict,
                "detail": v.detail,
                "credential": v.credential,
                "status_issued_at": v.status_issued_at,
                "status_age_secs": v.status_age_secs,
                "keys_fetched_at": trust.fetched_at,
            })
        );
    } else {
        println!("{}", v.verdict.explain().to_uppercase());
        println!("  why:      {}", v.detail);
        if let Some(c) = &v.credential {
            println!(
                "  learner:  {}",
                c.learner_name.as_deref().unwrap_or("(none)")
            );
            println!(
                "  course:   {}",
                c.achievement.as_deref().unwrap_or("(none)")
            );
            println!(
                "  issuer:   {} ({})",
                c.issuer_name.as_deref().unwrap_or("(unnamed)"),
                c.issuer
            );
            if let Some(from) = c.valid_from {
                println!("  issued:   {}", from.format("%Y-%m-%d %H:%M UTC"));
            }
            println!("  key:      {}", c.kid);
        }
        if let Some(issued) = v.status_issued_at {
            println!(
                "  status:   revocation list of {} ({} old)",
                issued.format("%Y-%m-%d %H:%M UTC"),
                skilltrack_credentials::verify::human(now - issued)
            );
        }
        if let Some(fetched) = trust.fetched_at {
            println!(
                "  cached:   {} ago",
                skilltrack_credentials::verify::human(now - fetched)
            );
        }
    }
    let code = match v.verdict {
        V::Valid => return Ok(()),
        V::Tampered => 2,
        V::UnknownKey => 3,
        V::Revoked => 4,
        V::Expired => 5,
        V::StatusStale => 6,
        V::StatusUnknown => 7,
        V::Malformed => 8,
    };
    std::io::stdout().flush()?;
    std::process::exit(code);
}

/// `skilltrack course new|validate|pack DIR`.
fn course(command: &CourseCommand, json: bool) -> anyhow::Result<()> {
    use skilltrack_package::course;
    match command {
        CourseCommand::New { dir } => {
            course::write_skeleton(dir)?;
            say(
                json,
                &serde_json::json!({"created": dir}),
                &format!(
                    "Wrote a new course package in {}; check it with `skilltrack course validate {}`.",
                    dir.display(),
                    dir.display()
                ),
            );
        }
        CourseCommand::Validate { dir } => match course::read_dir(dir) {
            Ok(package) => {
                let lessons: usize = package.modules.iter().map(|m| m.lessons.len()).sum();
                say(
                    json,
                    &serde_json::json!({"valid": true, "problems": []}),
                    &format!(
                        "{} is valid: course {}, {} module(s), {} lesson(s), {} assessment(s), {} lab(s).",
                        dir.display(),
                        package.course.slug,
                        package.modules.len(),
                        lessons,
                        package.assessments.len(),
                        package.labs.len()
                    ),
                );
            }
            Err(course::Problems(problems)) => {
                print_problems(dir, &problems, json);
                bail!("{} problem(s) in {}", problems.len(), dir.display());
            }
        },
        CourseCommand::Pack { dir, out } => {
            let package = match course::read_dir(dir) {
                Ok(package) => package,
                Err(course::Problems(problems)) => {
                    print_problems(dir, &problems, json);
                    bail!("{} problem(s) in {}", problems.len(), dir.display());
                }
            };
            let out = out.clone().unwrap_or_else(|| {
                let parent = dir
                    .canonicalize()
                    .ok()
                    .and_then(|d| d.parent().map(std::path::Path::to_path_buf))
                    .unwrap_or_default();
                parent.join(format!("{}.tar.gz", package.course.slug))
            });
            let summary = skilltrack_package::pack::pack(dir, &out)
                .with_context(|| format!("packing {}", dir.display()))?;
            say(
                json,
                &serde_json::json!({"archive": out, "files": summary.files, "bytes": summary.bytes}),
                &format!(
                    "Wrote {} ({} file(s), {} bytes).",
                    out.display(),
                    summary.files,
                    summary.bytes
                ),
            );
        }
        CourseCommand::Push { .. } | CourseCommand::Pull { .. } => {
            unreachable!("push and pull run with the engine")
        }
    }
    Ok(())
}

/// `skilltrack progress LESSON`: recorded offline, sent on the next sync.
async fn progress(
    engine: &SyncEngine,
    lesson: Uuid,
    input: ProgressInput,
    json: bool,
) -> anyhow::Result<()> {
    let row = engine
        .record_progress(lesson, input)
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    say(
        json,
        &row,
        &format!(
            "Saved: {}% done, {} min; it will be sent on the next sync.",
            row["progress_percentage"], row["time_spent_minutes"]
        ),
    );
    Ok(())
}

/// `skilltrack lab test DIR-OR-SLUG`.
async fn lab_test(
    engine: &SyncEngine,
    lab: &str,
    on: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let dir = std::path::Path::new(lab);
    let request = if dir.is_dir() {
        let files = skilltrack_package::lab::read_dir(dir)
            .with_context(|| format!("reading the lab in {}", dir.display()))?;
        eprintln!(
            "Self-testing {} step(s) from {} in a fresh sandbox…",
            files.steps.steps.len(),
            dir.display()
        );
        SelfTestRequest {
            lab_slug: on.or(files.lab),
            steps: Some(files.steps),
            environment_template: files.environment_template,
            docker_image: files.docker_image,
            ..SelfTestRequest::default()
        }
    } else if lab.contains('/')
        || dir
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        bail!("{lab} is not a directory (a lab's directory holds its index.json)");
    } else {
        eprintln!("Self-testing the lab {lab} as saved, in a fresh sandbox…");
        SelfTestRequest {
            lab_slug: Some(lab.to_owned()),
            ..SelfTestRequest::default()
        }
    };
    let report = engine
        .self_test_lab(&request)
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for step in &report.steps {
            let mark = if step.ok { "ok  " } else { "FAIL" };
            println!("{mark} step {}: {}", step.position, step.title);
            for phase in &step.phases {
                let mark = if phase.ok { "ok  " } else { "FAIL" };
                println!("       {mark} {} ({} ms)", phase.message, phase.duration_ms);
                if !phase.ok && !phase.output.trim().is_empty() {
                    for line in phase.output.trim_end().lines().take(20) {
                        println!("            | {line}");
                    }
                }
            }
        }
        println!(
            "{} in {:.1} s",
            if report.ok {
                "Self-test passed"
            } else {
                "Self-test FAILED"
            },
            Duration::from_millis(report.duration_ms).as_secs_f64()
        );
    }
    if !report.ok {
        bail!("the lab's self-test failed");
    }
    Ok(())
}

async fn sign_in(engine: &SyncEngine, email: &str, json: bool) -> anyhow::Result<()> {
    let password = match std::env::var("SKILLTRACK_PASSWORD") {
        Ok(p) => p,
        Err(_) => prompt("Password: ")?,
    };
    let session = engine
        .sign_in(email, &password)
        .await
        .map_err(|e| anyhow::anyhow!(e.explain()))?;
    say(
        json,
        &serde_json::json!({"signed_in": session.user.email, "token_store": engine.tokens().kind()}),
        &format!(
            "Signed in as {} (session kept in the {:?} store).",
            session.user.email,
            engine.tokens().kind()
        ),
    );
    Ok(())
}

fn courses(
    engine: &SyncEngine,
    search: Option<String>,
    free: bool,
    json: bool,
) -> anyhow::Result<()> {
    let cards = lock(engine.cache()).courses(&CourseFilter {
        text: search,
        free_only: free,
        ..CourseFilter::default()
    })?;
    if json {
        println!("{}", serde_json::to_string(&cards)?);
    } else {
        for c in cards {
            println!(
                "{}  {}  ({})",
                c.course["id"].as_str().unwrap_or_default(),
                c.course["title"].as_str().unwrap_or_default(),
                c.course["level"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn download(
    engine: &SyncEngine,
    url: &str,
    lesson: Option<&str>,
    data_dir: &std::path::Path,
    json: bool,
) -> anyhow::Result<()> {
    let mut last = 0u64;
    let record = engine
        .download(url, lesson, &device::media_dir(data_dir), |p| {
            // A progress bar on stderr, redrawn every 1 %.
            if let Some(total) = p.total.filter(|t| *t > 0) {
                let pct = p.done * 100 / total;
                if pct != last || p.done == total {
                    last = pct;
                    let bar = "#".repeat(usize::try_from(pct / 2).unwrap_or(0));
                    eprint!("\r[{bar:<50}] {pct:>3}%  {} / {total} bytes", p.done);
                }
            }
        })
        .await?;
    eprintln!();
    say(
        json,
        &serde_json::to_value(&record)?,
        &format!("Saved to {}", record.path),
    );
    Ok(())
}

fn say(json: bool, value: &serde_json::Value, text: &str) {
    if json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

fn prompt(label: &str) -> anyhow::Result<String> {
    eprint!("{label}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let line = line.trim_end_matches(['\n', '\r']).to_owned();
    if line.is_empty() {
        bail!("no password given");
    }
    Ok(line)
}

fn status(engine: &SyncEngine, json: bool) -> anyhow::Result<()> {
    let cache = lock(engine.cache());
    let counts = cache.row_counts()?;
    let pending = cache.outbox_len()?;
    let rejected = cache.rejections()?;
    let media = cache.download_bytes()?;
    let integrity = cache.integrity_check()?;
    let cursor = cache.state("cursor")?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "rows": counts.iter().map(|(t, n)| (t.clone(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
                "pending": pending,
                "rejected": rejected,
                "download_bytes": media,
                "integrity": integrity,
                "cursor": cursor,
                "token_store": engine.tokens().kind(),
            })
        );
        return Ok(());
    }
    println!("Waiting to be sent: {pending}");
    for r in &rejected {
        println!("Refused by the server: {} ({})", r.reason, r.code);
    }
    println!("Downloads: {media} bytes");
    for (table, n) in counts {
        println!("  {table}: {n}");
    }
    println!("Cache integrity: {integrity}");
    Ok(())
}

async fn watch(engine: Arc<SyncEngine>) {
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let mut status = engine.status();
    let runner = tokio::spawn(Arc::clone(&engine).run(Duration::from_secs(30), stop));
    tokio::spawn(async move {
        while status.changed().await.is_ok() {
            let s = status.borrow().clone();
            if !s.syncing {
                match &s.problem {
                    Some(p) => eprintln!("{p}"),
                    None => eprintln!("In sync ({} waiting).", s.pending),
                }
            }
        }
    });
    let _ = tokio::signal::ctrl_c().await;
    let _ = stop_tx.send(true);
    let _ = runner.await;
}
