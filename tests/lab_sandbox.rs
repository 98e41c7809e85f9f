//! The escape suite: from inside a lab's shell, each attempt must fail safely, and the server
//! keeps serving everyone else throughout. Limits are the test server's small ones (64
//! processes, 256 MiB of memory, 64 MiB of disk, a 16 MiB `/tmp`), so the bombs stay light.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use skilltrack_server::labs::sandbox::SandboxFault;
use skilltrack_tests::process::{eventually, processes_with};

use crate::labs_api::LabWorld;

#[tokio::test]
async fn escapes_fail_safely_and_the_server_keeps_serving() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let bo = w.learner("bo").await;
    let s_ana = w.start(&ana, w.lab).await;
    let s_bo = w.start(&bo, w.lab).await;
    let id_ana = s_ana["id"].as_str().unwrap().to_owned();
    let id_bo = s_bo["id"].as_str().unwrap().to_owned();
    let env_ana = s_ana["environment"]["id"].as_str().unwrap().to_owned();
    let mut t = w.term(&ana, &id_ana).await;
    let mut other = w.term(&bo, &id_bo).await;
    other.run("echo secret > bo-secret.txt").await;

    // Never root, inside or out; no capabilities; no new user namespaces; no setuid way up.
    let out = t
        .run("id -u; grep CapEff /proc/self/status; unshare -r id 2>&1; touch /etc/owned 2>&1")
        .await;
    let lab_uid = nix::unistd::User::from_name("skilltrack-lab")
        .unwrap()
        .map(|u| u.uid.as_raw());
    let expected_uid = lab_uid.unwrap_or_else(|| nix::unistd::getuid().as_raw());
    assert!(out.contains(&format!("{expected_uid}\r\n")), "{out:?}");
    assert!(out.contains("CapEff:\t0000000000000000"), "{out:?}");
    assert!(!out.contains("uid=0"), "{out:?}");
    assert!(
        out.contains("Read-only file system") || out.contains("Permission denied"),
        "{out:?}"
    );
    assert!(!std::path::Path::new("/etc/owned").exists());

    // The server's data directory, another learner's workspace, the database's socket.
    let data_dir = w.server.data_dir.path().display().to_string();
    let bo_workspace = w.workspace(&bo, w.lab).display().to_string();
    let out = t
        .run(&format!(
            "ls {data_dir} 2>&1; cat {bo_workspace}/bo-secret.txt 2>&1; ls -d /tmp/skilltrack-tests-* /run/postgresql /var/lib/skilltrack 2>&1; ls /home"
        ))
        .await;
    assert!(!out.contains("secret\r"), "{out:?}");
    assert!(
        out.matches("No such file or directory").count() >= 5,
        "{out:?}"
    );

    // No network in an offline lab: not this server, not PostgreSQL over TCP, not the outside.
    let port = w.server.url.rsplit(':').next().unwrap().to_owned();
    let out = t
        .run(&format!(
            "for target in 127.0.0.1/{port} 127.0.0.1/5432 1.1.1.1/53; do (exec 3<>/dev/tcp/$target) 2>/dev/null && echo REACHED-$target || echo blocked; done; ls /sys/class/net 2>&1"
        ))
        .await;
    assert!(!out.contains("REACHED-1"), "{out:?}");
    assert_eq!(out.matches("blocked\r\n").count(), 3, "{out:?}");

    // TIOCSTI into the outer terminal (the PTY the server reads) is refused: the shell runs in
    // a new session whose terminal is its own.
    let out = t
        .run(r#"for p in /proc/[0-9]*; do perl -e 'open(my $f, "+<", $ARGV[0]) or exit 0; ioctl($f, 0x5412, "x") ? print "INJECTED $ARGV[0]\n" : print "refused: $!\n"' $p/fd/0 2>&1; done"#)
        .await;
    let outer_refused = out.lines().filter(|l| l.contains("refused")).count();
    let injected: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("INJECTED /proc/"))
        .collect();
    // Injecting into the sandbox's own inner terminal is harmless; the outer one is /dev/pts
    // of the host, which the sandbox can only reach through bubblewrap's and script's fd 0.
    assert!(outer_refused >= 1, "{out:?}");
    for line in &injected {
        let path = line.rsplit("INJECTED ").next().unwrap().trim();
        let pid: u32 = path
            .split('/')
            .nth(2)
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("{line:?} in {out:?}"));
        assert!(
            pid > 2,
            "injected into the outer terminal via {path}: {out:?}"
        );
    }
    t.send(b"\x15").await; // Clear whatever landed on the shell's own line.

    // Fill the disk: the largest file is the quota; the private /tmp is bounded.
    let out = t
        .run("head -c 100000000 /dev/zero > big 2>&1; stat -c %s big; head -c 40000000 /dev/zero > /tmp/big 2>&1; echo tmp-$?")
        .await;
    let big: u64 = out
        .lines()
        .find_map(|l| l.rsplit('\r').next().and_then(|l| l.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{out:?}"));
    assert!(big <= 64 << 20, "{big}");
    assert!(out.contains("tmp-1"), "{out:?}");
    t.run("rm -f big /tmp/big").await;
    // Many files, each under the largest-file cap, stop at the workspace's quota too: as root
    // on a host with loop devices (CI, the dev VM) each workspace is its own 64 MiB filesystem.
    if nix::unistd::geteuid().is_root() && std::path::Path::new("/dev/loop-control").exists() {
        let out = t
            .run("for i in 1 2 3 4 5 6; do head -c 20000000 /dev/zero > fill-$i 2>/dev/null; done; echo used=$(du -sb . | cut -f1); rm -f fill-*; echo removed")
            .await;
        // The last `used=` is the output: the command line itself may be echoed more than
        // once (typed before the prompt, then redrawn by readline).
        let used: u64 = out
            .rsplit("used=")
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{out:?}"));
        assert!(
            used <= (64 << 20) + (1 << 20),
            "120 MB of files in a 64 MiB workspace: {used} bytes written"
        );
        assert!(used >= 60 << 20, "the whole quota is usable: {used}");
        assert!(out.contains("removed"), "{out:?}");
    }

    // Memory bomb: killed at the memory limit, the shell lives on.
    let out = t
        .run("head -c 600000000 /dev/zero | tail > /dev/null; echo mem-$?")
        .await;
    assert!(
        !out.contains("mem-0"),
        "the memory bomb should have been killed: {out:?}"
    );
    assert!(t.run("echo survived").await.contains("survived"));

    // Fork bomb: held at the process limit while the server serves everyone else.
    t.send(b"b(){ b|b& }; b 2>/dev/null\n").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pids = std::fs::read_to_string(format!(
        "/sys/fs/cgroup/pids/skilltrack-labs/{env_ana}/pids.current"
    ))
    .ok()
    .and_then(|s| s.trim().parse::<u32>().ok());
    if let Some(pids) = pids {
        assert!(pids <= 64, "{pids} processes");
    }
    let started = Instant::now();
    let ready = w.api.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(other.run("echo bo-is-fine").await.contains("bo-is-fine"));
    let listed = w
        .call(Method::GET, "/api/v1/me/lab-sessions", &bo, None)
        .await;
    assert_eq!(listed.status, StatusCode::OK);

    // Stopping the session ends every process of it.
    drop(t);
    w.stop(&ana, &id_ana).await;
    for controller in ["pids", "memory", "cpu"] {
        let dir = std::path::Path::new("/sys/fs/cgroup")
            .join(controller)
            .join("skilltrack-labs")
            .join(&env_ana);
        assert!(!dir.exists(), "{} is left", dir.display());
    }
    other.close().await;
    w.stop(&bo, &id_bo).await;
}

#[tokio::test]
async fn the_files_api_refuses_traversal_and_symlink_escapes() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let bo = w.learner("bo").await;
    let id = w.start(&ana, w.lab).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id_bo = w.start(&bo, w.lab).await["id"].as_str().unwrap().to_owned();
    let mut other = w.term(&bo, &id_bo).await;
    other.run("echo bo-secret > secret.txt").await;
    other.close().await;
    let data_dir = w.server.data_dir.path().display().to_string();
    let bo_workspace = w.workspace(&bo, w.lab).display().to_string();
    std::fs::write(
        w.server.data_dir.path().join("server-secret"),
        "do not read",
    )
    .unwrap();
    let mut t = w.term(&ana, &id).await;
    t.run(&format!(
        "ln -s /etc etc-link; ln -s {data_dir} data-link; ln -s {bo_workspace}/secret.txt bo-link; ln -s /etc/shadow shadow-link; ln -s / root-link"
    ))
    .await;
    t.close().await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        http.get(format!(
            "{}/api/v1/lab-sessions/{id}/files/content",
            w.server.url
        ))
        .query(&[("path", path)])
        .bearer_auth(&ana.access_token)
        .send()
    };
    // Traversal is refused before anything runs.
    for path in ["../../etc/passwd", "a/../../x", "..", "x/\0y"] {
        let r = get(path.to_owned()).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    }
    // Links resolve inside the sandbox: only what the shell could already read.
    for (path, allowed) in [
        (
            "data-link/server-secret",
            [StatusCode::NOT_FOUND].as_slice(),
        ),
        ("bo-link", &[StatusCode::NOT_FOUND]),
        (
            "shadow-link",
            &[StatusCode::FORBIDDEN, StatusCode::NOT_FOUND],
        ),
        (
            "root-link/proc/1/environ",
            &[StatusCode::FORBIDDEN, StatusCode::NOT_FOUND, StatusCode::OK],
        ),
    ] {
        let r = get(path.to_owned()).await.unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(allowed.contains(&status), "{path}: {status} {body}");
        assert!(
            !body.contains("do not read") && !body.contains("bo-secret") && !body.contains("root:"),
            "{path}: {body}"
        );
    }
    // Writing through a link to a read-only or absent place fails; nothing lands on the host.
    for path in ["etc-link/owned", "data-link/owned", "root-link/usr/owned"] {
        let r = http
            .put(format!(
                "{}/api/v1/lab-sessions/{id}/files/content",
                w.server.url
            ))
            .query(&[("path", path)])
            .bearer_auth(&ana.access_token)
            .body("owned")
            .send()
            .await
            .unwrap();
        // 409: `data-link` is a link to nothing inside the sandbox, so no directory can be made.
        assert!(
            matches!(
                r.status(),
                StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::CONFLICT
            ),
            "{path}: {}",
            r.status()
        );
    }
    assert!(!std::path::Path::new("/etc/owned").exists());
    assert!(!w.server.data_dir.path().join("owned").exists());
    assert!(!std::path::Path::new("/usr/owned").exists());
    // Deleting through a link removes the link, never its target.
    let del = w
        .call(
            Method::DELETE,
            &format!("/api/v1/lab-sessions/{id}/files?path=data-link"),
            &ana,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert!(w.server.data_dir.path().join("server-secret").exists());
    let del = w
        .call(
            Method::DELETE,
            &format!("/api/v1/lab-sessions/{id}/files?path=data-link/server-secret"),
            &ana,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NOT_FOUND);
    // Quota: the workspace may not grow past its storage limit.
    let big = vec![b'x'; 900_000];
    for i in 0..80 {
        let r = http
            .put(format!(
                "{}/api/v1/lab-sessions/{id}/files/content?path=fill/{i}",
                w.server.url
            ))
            .bearer_auth(&ana.access_token)
            .body(big.clone())
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::CONFLICT {
            let problem: serde_json::Value = r.json().await.unwrap();
            assert_eq!(problem["code"], "quota_exceeded");
            break;
        }
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "upload {i}");
        assert!(i < 75, "the quota never stopped the uploads");
    }
    let mkdir = w
        .call(
            Method::POST,
            &format!("/api/v1/lab-sessions/{id}/files/directories"),
            &ana,
            Some(json!({"path": "../up"})),
        )
        .await;
    assert_eq!(mkdir.status, StatusCode::UNPROCESSABLE_ENTITY);
    w.stop(&ana, &id).await;
    w.stop(&bo, &id_bo).await;
}

/// A reqwest client that gives up on an answer after a minute (a hang shows as a failure).
fn patient_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

#[tokio::test]
async fn fifos_sockets_and_devices_are_refused_by_the_files_api_at_once() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let id = w.start(&ana, w.lab).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut t = w.term(&ana, &id).await;
    t.run(
        "mkfifo pipe; ln -s pipe pipe-link; ln -s /dev/zero zero; python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"sock\")'; echo text > plain.txt",
    )
    .await;
    t.close().await;
    let http = patient_client();
    let url = format!("{}/api/v1/lab-sessions/{id}/files/content", w.server.url);
    for path in ["pipe", "pipe-link", "zero", "sock"] {
        let read = http
            .get(&url)
            .query(&[("path", path)])
            .bearer_auth(&ana.access_token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("reading {path}: {e}"));
        let status = read.status();
        let body = read.text().await.unwrap();
        assert_eq!(status, StatusCode::CONFLICT, "reading {path}: {body}");
        assert!(
            body.contains("\"not_a_regular_file\""),
            "reading {path}: {body}"
        );
        let write = http
            .put(&url)
            .query(&[("path", path)])
            .bearer_auth(&ana.access_token)
            .body("x")
            .send()
            .await
            .unwrap_or_else(|e| panic!("writing {path}: {e}"));
        let status = write.status();
        let body = write.text().await.unwrap();
        assert_eq!(status, StatusCode::CONFLICT, "writing {path}: {body}");
        assert!(
            body.contains("\"not_a_regular_file\""),
            "writing {path}: {body}"
        );
    }
    // Regular files still read, and what was refused is as it was.
    let plain = http
        .get(&url)
        .query(&[("path", "plain.txt")])
        .bearer_auth(&ana.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(plain.text().await.unwrap(), "text\n");
    let mut t = w.term(&ana, &id).await;
    let out = t.run("stat -c '%F' pipe sock").await;
    assert!(out.contains("fifo") && out.contains("socket"), "{out:?}");
    t.close().await;
    w.stop(&ana, &id).await;
}

#[tokio::test]
async fn a_file_operation_that_hangs_is_killed_with_its_sandbox_at_the_deadline() {
    let w = LabWorld::new(|s| {
        s.sandbox.fault = Some(SandboxFault::HangFileOperations);
        s.driver_deadline = Duration::from_secs(2);
    })
    .await;
    let ana = w.learner("ana").await;
    let id = w.start(&ana, w.lab).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = format!("deadline-probe-{}", uuid::Uuid::now_v7().simple());
    let answer = patient_client()
        .get(format!(
            "{}/api/v1/lab-sessions/{id}/files/content",
            w.server.url
        ))
        .query(&[("path", &token)])
        .bearer_auth(&ana.access_token)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let body = answer.text().await.unwrap();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(body.contains("\"sandbox_timeout\""), "{body}");
    // Killing bubblewrap ends its PID namespace: nothing of that sandbox is left.
    assert!(
        eventually(|| processes_with(&token).is_empty()).await,
        "left running: {:?}",
        processes_with(&token)
    );
    w.stop(&ana, &id).await;
}

#[tokio::test]
async fn stopping_a_session_kills_its_running_file_operations() {
    let w = LabWorld::new(|s| {
        s.sandbox.fault = Some(SandboxFault::HangFileOperations);
        s.driver_deadline = Duration::from_secs(3600);
    })
    .await;
    let ana = w.learner("ana").await;
    let id = w.start(&ana, w.lab).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = format!("stop-probe-{}", uuid::Uuid::now_v7().simple());
    let read = tokio::spawn(
        patient_client()
            .get(format!(
                "{}/api/v1/lab-sessions/{id}/files/content",
                w.server.url
            ))
            .query(&[("path", &token)])
            .bearer_auth(&ana.access_token)
            .send(),
    );
    assert!(
        eventually(|| !processes_with(&token).is_empty()).await,
        "the file operation never started"
    );
    w.stop(&ana, &id).await;
    assert!(
        eventually(|| processes_with(&token).is_empty()).await,
        "stopping the session left its file operation running: {:?}",
        processes_with(&token)
    );
    let answer = read.await.unwrap().unwrap();
    let status = answer.status();
    let body = answer.text().await.unwrap();
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("\"session_stopped\""), "{body}");
}

/// Driver work has a pool of its own: with every driver thread stuck in a sandbox, signing in
/// (Argon2, on tokio's blocking pool) still answers. The runtime is built here with a blocking
/// pool as small as the driver pool, so sharing one would show.
#[test]
fn signing_in_answers_while_every_lab_driver_thread_is_busy() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let scenario = async {
        let w = LabWorld::new(|s| {
            s.sandbox.fault = Some(SandboxFault::HangFileOperations);
            s.driver_deadline = Duration::from_secs(3600);
            s.driver_threads = 2;
        })
        .await;
        let ana = w.learner("ana").await;
        let id = w.start(&ana, w.lab).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let tokens: Vec<String> = (0..2)
            .map(|i| format!("busy-probe-{i}-{}", uuid::Uuid::now_v7().simple()))
            .collect();
        let mut reads = Vec::new();
        for token in &tokens {
            reads.push(tokio::spawn(
                patient_client()
                    .get(format!(
                        "{}/api/v1/lab-sessions/{id}/files/content",
                        w.server.url
                    ))
                    .query(&[("path", token)])
                    .bearer_auth(&ana.access_token)
                    .send(),
            ));
        }
        assert!(
            eventually(|| tokens.iter().all(|t| !processes_with(t).is_empty())).await,
            "the file operations never started"
        );
        let signed_in = patient_client()
            .post(format!("{}/api/v1/auth/sign-in", w.server.url))
            .json(&json!({"email": "ana@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .map(|r| r.status());
        assert!(
            matches!(signed_in, Ok(StatusCode::OK)),
            "sign-in while the driver pool is busy: {signed_in:?}"
        );
        w.stop(&ana, &id).await;
        for read in reads {
            let _ = read.await;
        }
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(scenario)));
    // Never wait for stuck blocking threads: that is what this test is about.
    rt.shutdown_background();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn the_sandbox_sees_only_the_parts_of_etc_a_shell_needs() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let id = w.start(&ana, w.lab).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut t = w.term(&ana, &id).await;
    // Secrets and server configuration that exist on this host stay outside.
    let hidden: Vec<&str> = [
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/sudoers",
        "/etc/ssh",
        "/etc/postgresql",
        "/etc/ssl/private",
        "/etc/machine-id",
        "/etc/hostname",
        "/etc/resolv.conf",
    ]
    .into_iter()
    .filter(|p| std::path::Path::new(p).exists())
    .collect();
    assert!(hidden.contains(&"/etc/shadow"), "{hidden:?}");
    let out = t
        .run(&format!(
            "for f in {}; do [ -e $f ] || [ -L $f ] && echo VISIBLE:$f; done; echo checked",
            hidden.join(" ")
        ))
        .await;
    assert!(!out.contains("VISIBLE:/"), "{out:?}");
    // What a shell, git and Python need still works.
    let out = t
        .run("whoami; git --version; python3 -c 'import ssl, json; print(6*7)'; ls /etc/ssl/certs/ca-certificates.crt; getent hosts localhost; echo fine | grep -c fine")
        .await;
    assert!(out.contains("\rlab\r\n"), "{out:?}");
    assert!(out.contains("git version"), "{out:?}");
    assert!(out.contains("42"), "{out:?}");
    assert!(!out.contains("No such file"), "{out:?}");
    assert!(out.contains("localhost"), "{out:?}");
    // The sandbox's root is read-only: /etc cannot be written even where bubblewrap made it.
    let out = t.run("touch /etc/owned /owned 2>&1").await;
    assert_eq!(out.matches("Read-only file system").count(), 2, "{out:?}");
    t.close().await;
    w.stop(&ana, &id).await;
}

/// Each system call the seccomp filter denies, probed from the shell with Python's ctypes:
/// `name result errno`. The arguments are such that, unfiltered, each call fails otherwise
/// (EFAULT, EBADF, ENOKEY) or succeeds.
const SYSCALL_PROBE: &str = r#"
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
s = ctypes.c_char_p
calls = {
    "io_uring_setup": (425, 1, 0),
    "io_uring_enter": (426, -1, 0, 0, 0, 0, 0),
    "io_uring_register": (427, -1, 0, 0, 0),
    "keyctl": (250, 0, -3, 0),
    "add_key": (248, s(b"user"), s(b"probe"), s(b"x"), 1, -3),
    "request_key": (249, s(b"user"), s(b"nope"), 0, 0),
    "perf_event_open": (298, 0, 0, -1, -1, 0),
    "bpf": (321, 0, 0, 0),
    "userfaultfd": (323, 1),
    "kexec_load": (246, 0, 0, 0, 0),
    "mount": (165, s(b"none"), s(b"/tmp"), s(b"tmpfs"), 0, 0),
    "io_uring_setup_x32": (425 | 0x40000000, 1, 0),
}
for name, (nr, *args) in calls.items():
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[a if isinstance(a, s) else ctypes.c_long(a) for a in args])
    print("probe", name, r, ctypes.get_errno())
print("probe getpid", libc.syscall(ctypes.c_long(39)), ctypes.get_errno())
"#;

#[tokio::test]
async fn denied_system_calls_fail_with_eperm_inside_the_sandbox() {
    let w = LabWorld::new(|_| {}).await;
    let ana = w.learner("ana").await;
    let id = w.start(&ana, w.lab).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let put = reqwest::Client::new()
        .put(format!(
            "{}/api/v1/lab-sessions/{id}/files/content?path=tools/probe.py",
            w.server.url
        ))
        .bearer_auth(&ana.access_token)
        .body(SYSCALL_PROBE)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    let mut t = w.term(&ana, &id).await;
    let out = t.run("python3 tools/probe.py 2>&1").await;
    let results: Vec<(String, i64, i64)> = out
        .lines()
        .filter_map(|l| {
            // The first line may start with the terminal's own escape sequences.
            let mut f = l.split("probe ").nth(1)?.split_whitespace();
            Some((
                f.next()?.to_owned(),
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
            ))
        })
        .collect();
    assert_eq!(results.len(), 13, "{out:?}");
    for (name, result, errno) in &results {
        if name == "getpid" {
            assert!(*result > 0, "{out:?}");
            continue;
        }
        assert_eq!(
            (*result, *errno),
            (-1, 1),
            "{name} was not denied with EPERM: {out:?}"
        );
    }
    t.close().await;
    w.stop(&ana, &id).await;
}

/// The host's own IPv4 addresses, loopback aside.
fn host_addresses() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["-o", "-4", "addr", "show"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().skip_while(|f| *f != "inet").nth(1))
        .filter_map(|cidr| cidr.split('/').next())
        .filter(|a| !a.starts_with("127."))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_networked_lab_reaches_neither_the_host_nor_private_networks() {
    let w = LabWorld::new(|_| {}).await;
    let lab = w.add_lab("net-lab", "shell-basic-net", true).await;
    let ana = w.learner("ana").await;
    let s = w.start(&ana, lab).await;
    assert_eq!(s["environment"]["network"], true, "{s}");
    let id = s["id"].as_str().unwrap().to_owned();
    // Something listening on every address of the host, and the server on loopback.
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server_port = w.server.url.rsplit(':').next().unwrap().to_owned();
    let mut targets = vec![
        format!("127.0.0.1/{server_port}"),
        format!("127.0.0.1/{port}"),
    ];
    targets.extend(host_addresses().iter().map(|a| format!("{a}/{port}")));
    let mut t = w.term(&ana, &id).await;
    let out = t
        .run(&format!(
            "for target in {}; do (exec 3<>/dev/tcp/$target) 2>/dev/null && echo REACHED-$target || echo refused; done",
            targets.join(" ")
        ))
        .await;
    assert!(!out.contains("REACHED-1"), "{out:?}");
    assert_eq!(out.matches("refused\r\n").count(), targets.len(), "{out:?}");
    // slirp's alias of the host's loopback, tried only where it is slirp's (never off this
    // machine).
    let out = t
        .run(&format!(
            "case \"$(ip route get 10.0.2.2 2>&1)\" in *'dev tap0'*) (exec 3<>/dev/tcp/10.0.2.2/{server_port}) 2>/dev/null && echo REACHED-alias || echo alias-refused;; *) echo NOT-SLIRP;; esac"
        ))
        .await;
    assert!(out.contains("alias-refused\r\n"), "{out:?}");
    // The refused ranges, each tried only once the route it would take is known to refuse
    // it, so that a broken rule never sends a packet off this machine.
    let out = t
        .run(
            "for a in 169.254.169.254 10.1.2.3 172.16.0.1 192.168.1.1 100.64.0.1; do case \"$(ip route get $a 2>&1)\" in prohibit*|*'Permission denied'*) (exec 3<>/dev/tcp/$a/80) 2>&1 | grep -q 'Permission denied' && echo denied-$a || echo ODD-$a;; *) echo ROUTED-$a;; esac; done",
        )
        .await;
    assert!(
        !out.contains("ROUTED-1") && !out.contains("ODD-1"),
        "{out:?}"
    );
    assert_eq!(out.matches("denied-1").count(), 5, "{out:?}");
    // Elsewhere is routed through the user-mode network (checked without sending anything).
    let out = t.run("ip route get 1.1.1.1; cat /etc/resolv.conf").await;
    assert!(out.contains("dev tap0"), "{out:?}");
    assert!(out.contains("nameserver 10.0.2.3"), "{out:?}");
    // The shell cannot lift the rules.
    let out = t
        .run("ip route del prohibit 10.0.0.0/8 2>&1; ip link set tap0 down 2>&1")
        .await;
    assert_eq!(out.matches("Operation not permitted").count(), 2, "{out:?}");
    t.close().await;
    w.stop(&ana, &id).await;
    drop(listener);
}

#[tokio::test]
async fn a_networked_lab_reaches_an_address_it_is_allowed() {
    let Some(host) = host_addresses().into_iter().next() else {
        panic!("this host has no address but loopback");
    };
    let allowed = format!("{host}/32");
    let w = LabWorld::new(|s| s.sandbox.network_allowed_cidrs = vec![allowed]).await;
    let lab = w.add_lab("net-lab", "python-net", true).await;
    let ana = w.learner("ana").await;
    let id = w.start(&ana, lab).await["id"].as_str().unwrap().to_owned();
    let listener = std::net::TcpListener::bind((host.as_str(), 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let greeter = std::thread::spawn(move || {
        use std::io::Write as _;
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"hello-from-the-host\n").unwrap();
    });
    let mut t = w.term(&ana, &id).await;
    let out = t
        .run(&format!(
            "exec 3<>/dev/tcp/{host}/{port}; head -1 <&3; exec 3<&-"
        ))
        .await;
    assert!(out.contains("hello-from-the-host"), "{out:?}");
    greeter.join().unwrap();
    t.close().await;
    w.stop(&ana, &id).await;
}
