//! nginx from Debian in front of several `skilltrack-server` processes, as docs/deployment.md
//! (section 3) deploys it: started as a child with a configuration written in a temporary
//! directory (pid, logs and temporary files there too), on a free loopback port, never port 80.
//! The cluster tests and the `cluster-load` benchmark use it.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (free when asked: bind it soon).
///
/// # Panics
/// When no port can be bound.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding a loopback port")
}

/// A running nginx, stopped when dropped.
pub struct Nginx {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    /// nginx round-robin over `upstreams` (`host:port` each), with the WebSocket upgrade
    /// headers and unbuffered answers (the live channel is a long stream), one worker.
    ///
    /// # Panics
    /// When nginx is not installed or never answers.
    pub fn start(upstreams: &[&str]) -> Self {
        Self::start_with_workers(upstreams, 1)
    }

    /// [`Self::start`] with `workers` worker processes.
    ///
    /// # Panics
    /// When nginx is not installed or never answers.
    pub fn start_with_workers(upstreams: &[&str], workers: usize) -> Self {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::Builder::new()
            .prefix("skilltrack-nginx-")
            .tempdir_in("/tmp")
            .expect("a directory for nginx");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("opening nginx's directory to its workers");
        let port = free_port();
        let mut servers = String::new();
        for address in upstreams {
            let _ = writeln!(
                servers,
                "    server {address} max_fails=1 fail_timeout=60s;"
            );
        }
        let d = dir.path().display();
        // Root or not, workers run as the user starting nginx: the temporary paths are ours.
        let user = if nix::unistd::geteuid().is_root() {
            "user root root;\n"
        } else {
            ""
        };
        let conf = format!(
            "{user}worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 4096; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/client_body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream skilltrack {{
{servers}    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 10m;
    location / {{
      proxy_pass http://skilltrack;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_buffering off;
      proxy_read_timeout 1h;
    }}
  }}
}}
"
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("writing nginx.conf");
        let nginx = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("nginx");
        let child = Command::new(nginx)
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(dir.path())
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting nginx (scripts/lib.sh installs Debian's `nginx`)");
        let url = format!("http://127.0.0.1:{port}");
        // Up when its port accepts connections.
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx never answered; its log:\n{}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, url, dir }
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}
