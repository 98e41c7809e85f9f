//! The escape suite: from inside a lab's shell, each attempt must fail safely, and the server
//! keeps serving everyone else throughout. Limits are the test server's small ones (64
//! processes, 256 MiB of memory, 64 MiB of disk, a 16 MiB `/tmp`), so the bombs stay light.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

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
        let used: u64 = out
            .split("used=")
            .nth(2)
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
