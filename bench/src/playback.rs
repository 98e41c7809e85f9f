//! `playback-bench`: course playback (issue 17).
//!
//! 1. Click to first frame of an online video on loopback (target: p50 ≤ 500 ms): the real
//!    app under Xvfb and `WebDriver`, signed in as the demo learner against the demo server,
//!    clicks the course's video lesson, which streams (no download) through the app's
//!    loopback media server; a capture-phase listener notes the click and the player's
//!    `loadeddata` (its first frame decoded), both on the page's own clock.
//! 2. Whole-course download throughput (target: ≥ 0.8× curl): the engine downloads every file
//!    of the demo course (video, poster, captions, pictures) into an empty directory, beside
//!    `curl` fetching the same files from the same server over one connection, alternating,
//!    in the same run. `--video-mib 64` makes the demo video that large for these runs, so
//!    they measure throughput, not latency.
//!
//! ```text
//! cargo build -p skilltrack-desktop -p skilltrack-bench --bin playback-bench
//! target/debug/playback-bench --help
//! ```

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "the table on stdout is this program's output"
)]
#![allow(
    clippy::cast_precision_loss,
    reason = "milliseconds and bytes per second"
)]

#[allow(dead_code, reason = "only the percentile")]
mod stack;
mod stats;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use serde_json::json;
use skilltrack_client::sync::lock;
use skilltrack_client::tokens::StoreKind;
use skilltrack_server::seed::demo_id;
use skilltrack_tests::api::{Api, session};
use skilltrack_tests::desktop::{DesktopApp, click, find};
use skilltrack_tests::spawn_demo_server;

use crate::stats::percentile;

/// Measures click-to-first-frame of a streamed lesson video and whole-course downloads.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Clicks on the video lesson (each opens it anew).
    #[arg(long, default_value_t = 20)]
    clicks: usize,
    /// Whole-course downloads, and as many curl runs.
    #[arg(long, default_value_t = 10)]
    downloads: usize,
    /// The app (default: `skilltrack-desktop` beside this program).
    #[arg(long)]
    app: Option<PathBuf>,
    /// Make the demo video this many MiB for the download runs (its bytes, then zeros: a
    /// download does not decode), so they measure throughput rather than four requests'
    /// latency; 0: the clip as it is. The clicks play the real clip, put back after.
    #[arg(long, default_value_t = 0)]
    video_mib: usize,
}

const LEARNER: &str = "learner@skilltrack.dev";
const PASSWORD: &str = "learner-demo-pass";
const COURSE: &str = "intro-to-the-command-line";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn first_frames(args: &Args, server: &str) -> anyhow::Result<Vec<Duration>> {
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
    let data = tempfile::tempdir()?;
    let app = DesktopApp::launch_app(&app_path, server, data.path()).await;
    app.sign_in(LEARNER, PASSWORD).await;
    let client = &app.client;
    let course = demo_id(&format!("course/{COURSE}"));
    let mut samples = Vec::new();
    for i in 0..args.clicks {
        let step = format!("click {i}");
        click(client, r#"[data-testid="nav-learning"]"#, &step).await;
        click(
            client,
            &format!(r#"[data-testid="learning-item"][data-course-id="{course}"]"#),
            &step,
        )
        .await;
        find(
            client,
            r#"[data-testid="lesson-link"][data-type="video"]"#,
            &step,
        )
        .await;
        // Armed before the click: the click and the new player's first frame, page clock.
        client
            .execute(
                "window.__frame = null;
                 const link = document.querySelector('[data-testid=\"lesson-link\"][data-type=\"video\"]');
                 link.addEventListener('click', () => {
                   const clicked = performance.now();
                   const watch = () => {
                     const v = document.querySelector('video');
                     if (!v) return requestAnimationFrame(watch);
                     if (v.readyState >= 2) return (window.__frame = performance.now() - clicked);
                     v.addEventListener('loadeddata', () => (window.__frame = performance.now() - clicked), { once: true });
                     v.addEventListener('error', () => (window.__frame = -1), { once: true });
                   };
                   watch();
                 }, { capture: true, once: true });",
                vec![],
            )
            .await
            .context("arming the listener")?;
        click(
            client,
            r#"[data-testid="lesson-link"][data-type="video"]"#,
            &step,
        )
        .await;
        let frame = client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const started = Date.now();
                 const wait = () => {
                   if (window.__frame !== null) done(window.__frame);
                   else if (Date.now() - started > 20000) done(null);
                   else setTimeout(wait, 5);
                 };
                 wait();",
                vec![],
            )
            .await
            .context("waiting for the first frame")?;
        match frame.as_f64() {
            Some(f) if f >= 0.0 => samples.push(Duration::from_secs_f64(f / 1000.0)),
            _ => bail!("click {i}: no first frame ({frame})"),
        }
        let src = client
            .execute(
                "return document.querySelector('video').currentSrc;",
                vec![json!(null)],
            )
            .await?;
        if !src.as_str().is_some_and(|s| s.contains("/stream/")) {
            bail!("click {i}: the video did not stream ({src}); was it downloaded?");
        }
    }
    app.close().await;
    Ok(samples)
}

/// Bytes per second of the engine's whole-course download and of curl, each run.
async fn downloads(args: &Args, server: &str) -> anyhow::Result<(Vec<f64>, Vec<f64>, u64, usize)> {
    let api = Api::new(server);
    let me = session(&api.sign_in(LEARNER, PASSWORD).await);
    let data = tempfile::tempdir()?;
    let engine = skilltrack_client::device::open(server, data.path(), &StoreKind::File)?;
    engine.adopt(me.clone()).await?;
    engine.sync_once().await?;
    let course = demo_id(&format!("course/{COURSE}")).to_string();
    let files = lock(engine.cache()).course_files(&course, None)?;
    if files.is_empty() {
        bail!("the demo course has no files to download");
    }
    let (mut ours, mut curls) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    for run in 0..args.downloads {
        let dir = data.path().join(format!("run-{run}"));
        let started = Instant::now();
        let done = engine.download_course(&course, None, &dir, |_| {}).await?;
        let took = started.elapsed();
        bytes = done.bytes_done;
        ours.push(bytes as f64 / took.as_secs_f64());
        // The next run starts from nothing.
        for f in &files {
            lock(engine.cache()).forget_download(&f.url)?;
        }
        std::fs::remove_dir_all(&dir)?;

        let curl_dir = tempfile::tempdir()?;
        let mut curl = Command::new("curl");
        curl.args(["--silent", "--show-error", "--fail"])
            .arg("-H")
            .arg(format!("Authorization: Bearer {}", me.access_token));
        for (i, f) in files.iter().enumerate() {
            curl.arg("-o")
                .arg(curl_dir.path().join(i.to_string()))
                .arg(format!("{server}{}", f.url));
        }
        let started = Instant::now();
        let status = curl.status().context("running curl (apt install curl)")?;
        let took = started.elapsed();
        if !status.success() {
            bail!("curl failed: {status}");
        }
        curls.push(bytes as f64 / took.as_secs_f64());
    }
    Ok((ours, curls, bytes, files.len()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server = spawn_demo_server().await;
    let video = skilltrack_server::media_dir(server.data_dir.path())
        .join("demo/intro-to-the-terminal.webm");
    let clip = std::fs::read(&video).context("reading the demo video")?;
    if args.video_mib > 0 {
        let mut larger = clip.clone();
        larger.resize(clip.len().max(args.video_mib * 1024 * 1024), 0);
        std::fs::write(&video, &larger).context("writing the larger demo video")?;
    }
    let (ours, curls, bytes, files) = downloads(&args, &server.url).await?;
    std::fs::write(&video, &clip).context("putting the demo video back")?;
    let mut frames = first_frames(&args, &server.url).await?;
    frames.sort();

    println!("Course playback ({})\n", std::env::consts::ARCH);
    println!("| measure | p50 | p95 | min | max |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| click to first frame, streamed video, {} clicks (ms) | {:.0} | {:.0} | {:.0} | {:.0} |",
        frames.len(),
        ms(percentile(&frames, 0.5)),
        ms(percentile(&frames, 0.95)),
        ms(*frames.first().unwrap_or(&Duration::ZERO)),
        ms(*frames.last().unwrap_or(&Duration::ZERO)),
    );
    let (a, b) = (median(ours), median(curls));
    println!(
        "\nWhole-course download of the demo course ({files} files, {bytes} bytes), {} runs each, median:",
        args.downloads
    );
    println!("| client | MB/s |");
    println!("|---|---:|");
    println!("| the engine (`download_course`) | {:.1} |", a / 1e6);
    println!("| curl, one connection | {:.1} |", b / 1e6);
    println!("\nengine / curl: {:.2}×", a / b.max(1.0));
    Ok(())
}
