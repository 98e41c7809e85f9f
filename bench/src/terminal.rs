//! `terminal-bench`: the lab terminal end to end — keystroke echo through the server, its
//! WebSocket and the sandbox, beside the same echo on a bare PTY in the same run; output
//! throughput; lab start to first prompt; server memory per idle terminal. The server runs in
//! this process (its own runtime) over an embedded PostgreSQL with the demo data. Needs
//! bubblewrap and, as root, the `skilltrack-lab` user (`scripts/lib.sh` makes both).
//!
//!     cargo run --release -p skilltrack-bench --bin terminal-bench -- --help

#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    reason = "the figures on stdout are this program's output"
)]

mod stack;
mod stats;

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use futures_util::{SinkExt as _, StreamExt as _};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::stack::{Stack, StackOptions, call};
use crate::stats::percentile;

/// Measures the lab terminal.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Keystrokes timed for the echo figures.
    #[arg(long, default_value_t = 500)]
    keystrokes: usize,
    /// Bytes printed for the throughput figures.
    #[arg(long, default_value_t = 200_000_000)]
    bytes: u64,
    /// Lab starts timed.
    #[arg(long, default_value_t = 10)]
    starts: usize,
    /// Idle terminals held open to measure memory.
    #[arg(long, default_value_t = 20)]
    idle: usize,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

/// Echo latency and throughput of a shell on a bare PTY in this process.
fn bare_pty(args: &Args) -> anyhow::Result<(Vec<Duration>, f64)> {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut cmd = CommandBuilder::new("/bin/bash");
    cmd.args(["--norc", "--noprofile", "-i"]);
    cmd.env("PS1", "$ ");
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(pair.slave);
    let mut reader = pair
        .master
        .try_clone_reader()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut writer = pair
        .master
        .take_writer()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &[u8], limit: Duration| -> anyhow::Result<u64> {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        let mut total = 0u64;
        loop {
            let chunk = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))?;
            total += chunk.len() as u64;
            seen.extend_from_slice(&chunk);
            if seen.windows(needle.len()).any(|w| w == needle) {
                return Ok(total);
            }
            if seen.len() > 4096 {
                seen.drain(..seen.len() - 4096);
            }
        }
    };
    wait_for(b"$ ", Duration::from_secs(10))?;
    let mut echoes = Vec::with_capacity(args.keystrokes);
    for i in 0..args.keystrokes {
        let key = [b'a' + u8::try_from(i % 26).unwrap_or(0)];
        let t = Instant::now();
        writer.write_all(&key)?;
        writer.flush()?;
        wait_for(&key, Duration::from_secs(5))?;
        echoes.push(t.elapsed());
        if i % 60 == 59 {
            writer.write_all(b"\x15")?;
            std::thread::sleep(Duration::from_millis(20));
            while rx.try_recv().is_ok() {}
        }
    }
    writer.write_all(b"\x15")?;
    std::thread::sleep(Duration::from_millis(100));
    while rx.try_recv().is_ok() {}
    let t = Instant::now();
    writeln!(
        writer,
        "head -c {} /dev/zero | tr '\\0' x; echo; echo tp-''done",
        args.bytes
    )?;
    let total = wait_for(b"tp-done", Duration::from_secs(300))?;
    let rate = total as f64 / t.elapsed().as_secs_f64() / 1e6;
    let _ = child.kill();
    echoes.sort();
    Ok((echoes, rate))
}

async fn connect(url: &str, session: &str, token: &str) -> anyhow::Result<Socket> {
    let ws = format!(
        "{}/api/v1/lab-sessions/{session}/terminal",
        url.replacen("http", "ws", 1)
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(ws).await?;
    socket
        .send(Message::Text(
            json!({"type": "auth", "token": token}).to_string().into(),
        ))
        .await?;
    Ok(socket)
}

/// Reads until the output holds `needle`; returns the bytes of output read.
async fn wait_for(socket: &mut Socket, needle: &[u8], limit: Duration) -> anyhow::Result<u64> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut seen = Vec::new();
    let mut total = 0u64;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .context("timed out")?
            .with_context(|| format!("closed after {:?}", String::from_utf8_lossy(&seen)))??;
        if let Message::Text(t) = &message {
            if t.as_str().contains("\"error\"") {
                bail!("the terminal refused: {}", t.as_str());
            }
        }
        if let Message::Binary(b) = message {
            total += b.len() as u64;
            seen.extend_from_slice(&b);
            if seen.windows(needle.len()).any(|w| w == needle) {
                return Ok(total);
            }
            if seen.len() > 4096 {
                seen.drain(..seen.len() - 4096);
            }
        }
    }
}

async fn sign_up(http: &reqwest::Client, url: &str, i: usize) -> anyhow::Result<String> {
    let res: Value = http
        .post(format!("{url}/api/v1/auth/sign-up"))
        .json(&json!({"email": format!("bench{i}@example.com"), "password": "bench-password-1", "full_name": format!("Bench {i}")}))
        .send()
        .await?
        .json()
        .await?;
    res["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no token")
}

struct Figures {
    echo: Vec<Duration>,
    throughput: f64,
    starts: Vec<Duration>,
    image_starts: Vec<Duration>,
    rss_per_terminal: f64,
    sandbox_memory: f64,
}

#[allow(
    clippy::too_many_lines,
    reason = "the measurements in the order they run"
)]
async fn measure(url: &str, args: &Args, image_lab: uuid::Uuid) -> anyhow::Result<Figures> {
    let http = reqwest::Client::new();
    let lab: Value = http
        .get(format!("{url}/api/v1/labs/terminal-first-steps"))
        .send()
        .await?
        .json()
        .await?;
    let lab_id = lab["lab"]["id"]
        .as_str()
        .context("the demo lab")?
        .to_owned();
    let token = sign_up(&http, url, 0).await?;
    let start_url = format!("{url}/api/v1/labs/{lab_id}/sessions");

    // Start to first prompt.
    let mut starts = Vec::new();
    for _ in 0..args.starts {
        let t = Instant::now();
        let s = call(
            &http,
            reqwest::Method::POST,
            &start_url,
            &token,
            Some(json!({})),
        )
        .await?;
        let id = s["id"].as_str().context("id")?.to_owned();
        let mut socket = connect(url, &id, &token).await?;
        wait_for(&mut socket, b"$ ", Duration::from_secs(10)).await?;
        starts.push(t.elapsed());
        drop(socket);
        call(
            &http,
            reqwest::Method::POST,
            &format!("{url}/api/v1/lab-sessions/{id}/stop"),
            &token,
            None,
        )
        .await?;
    }
    starts.sort();

    // Start to first prompt on an imported image (busybox's `sh`: its prompt ends in `# `).
    let mut image_starts = Vec::new();
    for _ in 0..args.starts {
        let t = Instant::now();
        let s = call(
            &http,
            reqwest::Method::POST,
            &format!("{url}/api/v1/labs/{image_lab}/sessions"),
            &token,
            Some(json!({})),
        )
        .await?;
        let id = s["id"].as_str().context("id")?.to_owned();
        let mut socket = connect(url, &id, &token).await?;
        wait_for(&mut socket, b"# ", Duration::from_secs(10)).await?;
        image_starts.push(t.elapsed());
        drop(socket);
        call(
            &http,
            reqwest::Method::POST,
            &format!("{url}/api/v1/lab-sessions/{id}/stop"),
            &token,
            None,
        )
        .await?;
    }
    image_starts.sort();

    // Echo and throughput through the server.
    let s = call(
        &http,
        reqwest::Method::POST,
        &start_url,
        &token,
        Some(json!({})),
    )
    .await?;
    let id = s["id"].as_str().context("id")?.to_owned();
    let mut socket = connect(url, &id, &token).await?;
    wait_for(&mut socket, b"$ ", Duration::from_secs(10)).await?;
    let mut echo = Vec::with_capacity(args.keystrokes);
    for i in 0..args.keystrokes {
        let key = [b'a' + u8::try_from(i % 26).unwrap_or(0)];
        let t = Instant::now();
        socket.send(Message::Binary(key.to_vec().into())).await?;
        wait_for(&mut socket, &key, Duration::from_secs(5)).await?;
        echo.push(t.elapsed());
        if i % 60 == 59 {
            socket
                .send(Message::Binary(b"\x15".to_vec().into()))
                .await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    echo.sort();
    socket
        .send(Message::Binary(b"\x15".to_vec().into()))
        .await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let command = format!(
        "head -c {} /dev/zero | tr '\\0' x; echo; echo tp-''done\n",
        args.bytes
    );
    let t = Instant::now();
    socket
        .send(Message::Binary(command.into_bytes().into()))
        .await?;
    let total = wait_for(&mut socket, b"tp-done", Duration::from_secs(300)).await?;
    let throughput = total as f64 / t.elapsed().as_secs_f64() / 1e6;
    drop(socket);
    call(
        &http,
        reqwest::Method::POST,
        &format!("{url}/api/v1/lab-sessions/{id}/stop"),
        &token,
        None,
    )
    .await?;

    // Memory per idle terminal: this process holds the server and the clients' sockets.
    let mut learners = Vec::new();
    for i in 0..args.idle {
        learners.push(sign_up(&http, url, i + 1).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_bytes();
    let mut held = Vec::new();
    for token in &learners {
        let s = call(
            &http,
            reqwest::Method::POST,
            &start_url,
            token,
            Some(json!({})),
        )
        .await?;
        let id = s["id"].as_str().context("id")?.to_owned();
        let env = s["environment"]["id"].as_str().context("env")?.to_owned();
        let mut socket = connect(url, &id, token).await?;
        wait_for(&mut socket, b"$ ", Duration::from_secs(10)).await?;
        held.push((socket, id, env, token.clone()));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_bytes();
    let sandbox: u64 = held
        .iter()
        .filter_map(|(_, _, env, _)| {
            std::fs::read_to_string(format!(
                "/sys/fs/cgroup/memory/skilltrack-labs/{env}/memory.usage_in_bytes"
            ))
            .or_else(|_| {
                std::fs::read_to_string(format!(
                    "/sys/fs/cgroup/skilltrack-labs/{env}/memory.current"
                ))
            })
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
        })
        .sum();
    let n = held.len().max(1) as f64;
    for (socket, id, _, token) in held {
        drop(socket);
        call(
            &http,
            reqwest::Method::POST,
            &format!("{url}/api/v1/lab-sessions/{id}/stop"),
            &token,
            None,
        )
        .await?;
    }
    Ok(Figures {
        echo,
        throughput,
        starts,
        image_starts,
        rss_per_terminal: after.saturating_sub(before) as f64 / n,
        sandbox_memory: sandbox as f64 / n,
    })
}

#[allow(
    clippy::too_many_lines,
    reason = "setup, measurement and the table, in order"
)]
fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let stack = Stack::start(&StackOptions {
        pg_bin_dir: None,
        pool: 16,
        server_threads: args.server_threads,
        labs: true,
    })?;
    let url = stack.url.clone();
    let image_lab = busybox_lab(&stack)?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let server = client_rt.block_on(measure(&url, &args, image_lab))?;
    let (bare_echo, bare_rate) = bare_pty(&args)?;

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "Machine: {cores} cores ({cpu}), server runtime {} threads",
        args.server_threads
    );
    println!();
    println!("| figure | through server + WebSocket + sandbox | bare PTY (same run) | target |");
    println!("|---|---|---|---|");
    println!(
        "| keystroke echo p50 ({} keys) | {} | {} | |",
        args.keystrokes,
        ms(percentile(&server.echo, 0.5)),
        ms(percentile(&bare_echo, 0.5))
    );
    println!(
        "| keystroke echo p99 | {} | {} | ≤ 5 ms |",
        ms(percentile(&server.echo, 0.99)),
        ms(percentile(&bare_echo, 0.99))
    );
    println!(
        "| output throughput ({} MB) | {:.1} MB/s | {:.1} MB/s | ≥ 50 MB/s |",
        args.bytes / 1_000_000,
        server.throughput,
        bare_rate
    );
    println!(
        "| lab start to first prompt p50 ({} starts) | {} | | ≤ 100 ms |",
        args.starts,
        ms(percentile(&server.starts, 0.5))
    );
    println!(
        "| lab start to first prompt p99 | {} | | |",
        ms(percentile(&server.starts, 0.99))
    );
    println!(
        "| lab start to first prompt on an imported image (busybox), p50 | {} | | ≤ 150 ms |",
        ms(percentile(&server.image_starts, 0.5))
    );
    println!(
        "| lab start to first prompt on an imported image, p99 | {} | | |",
        ms(percentile(&server.image_starts, 0.99))
    );
    println!(
        "| server memory per idle terminal ({} open) | {:.0} KiB | | ≤ 1 MB |",
        args.idle,
        server.rss_per_terminal / 1024.0
    );
    println!(
        "| sandbox memory per idle environment (its cgroup) | {:.0} KiB | | |",
        server.sandbox_memory / 1024.0
    );

    drop(stack);
    Ok(())
}

/// A published lab on a tiny image made here from Debian's `busybox-static` (statically
/// linked, so it needs nothing of the host's), imported as `skilltrack-server lab-images
/// import` would.
fn busybox_lab(stack: &Stack) -> anyhow::Result<uuid::Uuid> {
    let work = tempfile::tempdir()?;
    let root = work.path().join("rootfs");
    std::fs::create_dir_all(root.join("bin"))?;
    std::fs::create_dir_all(root.join("etc"))?;
    std::fs::copy("/bin/busybox", root.join("bin/busybox"))
        .context("copying /bin/busybox (Debian's busybox-static)")?;
    for applet in ["sh", "ls", "cat", "echo"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))?;
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")?;
    let archive = work.path().join("rootfs.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&archive)?);
    builder.follow_symlinks(false);
    builder.append_dir_all(".", &root)?;
    builder.finish()?;
    let owner =
        nix::unistd::User::from_name("skilltrack-lab")?.map(|u| (u.uid.as_raw(), u.gid.as_raw()));
    let store = skilltrack_server::labs::images::ImageStore::new(stack.dir().join("lab-images"));
    let info = store.import_archive("bench-busybox", &archive, owner)?;
    stack.runtime.block_on(async {
        let mut tx = skilltrack_server::db::session::begin_service(stack.db.api()).await?;
        skilltrack_server::db::lab_images::register(&mut tx, &info).await?;
        tx.commit().await?;
        let lab = sqlx::query_scalar(
            "INSERT INTO labs (slug, title, description, difficulty, duration, provider,
               environment_template, docker_image, is_published, is_free)
             VALUES ('bench-busybox', 'Busybox', 'A lab on an image.', 'Beginner', '5 min',
               'local', 'shell-basic', 'bench-busybox', true, true)
             RETURNING id",
        )
        .fetch_one(stack.db.owner())
        .await?;
        anyhow::Ok(lab)
    })
}
