//! `preview-bench`: save-to-repaint in the desktop app's live preview of a course package
//! (issue 15: p95 over 50 edits ≤ 300 ms). The real app, under Xvfb and `WebDriver` like the
//! end-to-end tests, with no server, previews a package (`skilltrack course new`'s skeleton)
//! with its first lesson open. Each edit rewrites the lesson's file with a new marker; a
//! `MutationObserver` in the page notes the first animation frame after the marker is in the
//! lesson's text, so what is timed is file written → text on screen, with no polling delay.
//! The app's own read of the folder (the banner's `data-read-at`) splits each into the watcher's
//! part (debounce and read) and the window's (event, reload, render).
//!
//!     cargo build -p skilltrack-desktop -p skilltrack-bench --bin preview-bench
//!     target/debug/preview-bench --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the table on stdout is this program's output"
)]
#![allow(clippy::cast_precision_loss, reason = "milliseconds")]

#[allow(
    dead_code,
    reason = "only its percentile: this benchmark runs no server"
)]
mod stack;
mod stats;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use clap::Parser;
use serde_json::json;
use skilltrack_tests::desktop::{DesktopApp, click, free_port, open_package_folder, wait_text};

use crate::stats::percentile;

/// Measures save-to-repaint in the desktop app's live preview of a course folder.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Edits of the lesson's file.
    #[arg(long, default_value_t = 50)]
    edits: usize,
    /// Milliseconds between one edit's repaint and the next edit.
    #[arg(long, default_value_t = 250)]
    pause_ms: u64,
    /// The app (default: `skilltrack-desktop` beside this program).
    #[arg(long)]
    app: Option<PathBuf>,
}

const LESSON: &str = "01-getting-started/01-welcome.md";
const BODY: &str = r#"[data-testid="lesson-body"]"#;

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|r| {
            r.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_owned())
            })
        })
        .unwrap_or_default();
    format!("{cores} cores of {cpu}, {os}")
}

fn row(name: &str, mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len().max(1) as f64;
    format!(
        "| {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.95)),
        ms(*samples.last().unwrap_or(&Duration::ZERO)),
        ms(*samples.first().unwrap_or(&Duration::ZERO)),
        mean,
    )
}

fn duration_ms(ms: f64) -> Duration {
    Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

#[tokio::main]
#[allow(clippy::too_many_lines, reason = "one measurement, read top to bottom")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let app_path = match &args.app {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("skilltrack-desktop"),
    };
    if !app_path.exists() {
        bail!(
            "{} is missing: build it first (`cargo build -p skilltrack-desktop`, with ui/dist built)",
            app_path.display()
        );
    }
    let tmp = tempfile::tempdir()?;
    let package = tmp.path().join("bench-course");
    skilltrack_package::course::write_skeleton(&package).context("writing the package")?;
    let data = tempfile::tempdir()?;
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let app = DesktopApp::launch_app(&app_path, &nowhere, data.path()).await;
    let client = &app.client;

    let step = "opening the package and its first lesson";
    click(client, r#"[data-testid="preview-folder-signed-out"]"#, step).await;
    open_package_folder(client, &package, step).await;
    click(client, r#"[data-testid="course-card"]"#, step).await;
    click(
        client,
        r#"[data-testid="lesson-link"][data-type="text"]"#,
        step,
    )
    .await;
    wait_text(client, BODY, step, |t| t.contains("edit it in any editor")).await;

    let (mut total, mut watcher, mut window) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..args.edits {
        let marker = format!("Edit number {i} of the benchmark.");
        // Armed before the write: the observer notes the frame after the marker shows.
        client
            .execute(
                "const [marker, css] = arguments;
                 window.__repaint = null;
                 const seen = () => {
                   const body = document.querySelector(css);
                   return body !== null && body.textContent.includes(marker);
                 };
                 const note = () => requestAnimationFrame(() => {
                   const banner = document.querySelector('[data-testid=\"package-preview-banner\"]');
                   window.__repaint = { at: Date.now(), readAt: Number(banner?.dataset.readAt ?? 0) };
                 });
                 const observer = new MutationObserver(() => {
                   if (seen()) { observer.disconnect(); note(); }
                 });
                 observer.observe(document.body, { subtree: true, childList: true, characterData: true });",
                vec![json!(marker), json!(BODY)],
            )
            .await
            .context("arming the observer")?;
        let written = now_ms();
        std::fs::write(
            package.join(LESSON),
            format!("---\ntitle: Welcome\ntype: text\n---\n\n{marker}\n"),
        )?;
        let seen = client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const started = Date.now();
                 const wait = () => {
                   if (window.__repaint) done(window.__repaint);
                   else if (Date.now() - started > 20000) done(null);
                   else setTimeout(wait, 5);
                 };
                 wait();",
                vec![],
            )
            .await
            .context("waiting for the repaint")?;
        let Some(at) = seen["at"].as_f64() else {
            bail!("edit {i}: the new text never showed within 20 s");
        };
        let read_at = seen["readAt"].as_f64().unwrap_or(written);
        total.push(duration_ms(at - written));
        watcher.push(duration_ms(read_at - written));
        window.push(duration_ms(at - read_at));
        tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
    }
    app.close().await;

    println!(
        "Save-to-repaint in the live preview, {} edits of a lesson's file",
        args.edits
    );
    println!("({}; the app: {})\n", machine(), app_path.display());
    println!("| part | p50 ms | p95 ms | max ms | min ms | mean ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!("{}", row("file written → new text painted", total));
    println!(
        "{}",
        row("file written → package read (watcher, debounce)", watcher)
    );
    println!(
        "{}",
        row("package read → painted (event, reload, render)", window)
    );
    Ok(())
}
