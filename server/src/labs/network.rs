//! Networked labs: each environment whose profile has network gets a network namespace of its
//! own, owned by the unprivileged lab user, reaching the outside only through user-mode
//! networking (slirp4netns), and never the host itself, its loopback services, link-local
//! addresses (the cloud metadata service at 169.254.169.254 among them), RFC 1918, CGNAT, or
//! the networks the host sits on.
//!
//! How, per environment:
//!
//! 1. A *holder* process, as the lab user: `unshare --user --map-root-user --net`, so it is
//!    root in a user namespace of its own that owns the new network namespace. While it has
//!    that privilege it loads the nftables rules (the slirp network's own addresses refused,
//!    but for DNS on port 53) and adds a `prohibit` route for every refused range, then sleeps
//!    for the life of the environment.
//! 2. `slirp4netns --configure --disable-host-loopback --enable-sandbox --enable-seccomp`,
//!    also as the lab user, attaches to the holder's namespaces: a `tap0` interface, a default
//!    route through it, and DNS at 10.0.2.3 (slirp forwards it to the host's resolver).
//! 3. The shell's sandbox joins that network namespace (`nsenter --net`, by the server as root
//!    before it drops to the lab user) and bubblewrap runs *without* `--unshare-net`. Its user
//!    namespace is a sibling of the holder's, not inside it, so the shell has no capability
//!    over the namespace's routes or rules: it cannot lift them.
//!
//! The files API's helpers never have network (`--unshare-net`). Both processes run in the
//! environment's cgroup and die with the server (`setpriv --pdeathsig`); stopping the
//! environment kills them.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::driver::DriverError;

/// Ranges a lab never reaches: "this" network, RFC 1918, CGNAT (RFC 6598), loopback,
/// link-local (the metadata service), IETF protocol assignments, benchmarking, multicast and
/// reserved. The host's own addresses and networks are added at start.
pub const REFUSED_RANGES: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/4",
    "240.0.0.0/4",
];

/// The nftables rules of a lab's namespace: slirp's own network (its gateway is an alias of the
/// host's loopback; its DNS address forwards to the host's resolver on *any* port) is refused
/// but for DNS; IPv6 (which slirp is not given) goes nowhere.
pub const NFT_RULES: &str = "table inet skilltrack_lab {
  chain egress {
    type filter hook output priority 0; policy accept;
    oifname \"lo\" accept
    ip daddr 10.0.2.3 udp dport 53 accept
    ip daddr 10.0.2.3 tcp dport 53 accept
    ip daddr 10.0.2.0/24 meta l4proto tcp reject with tcp reset
    ip daddr 10.0.2.0/24 reject
    meta nfproto ipv6 reject
  }
}
";

/// What a networked lab's `/etc/resolv.conf` says.
pub const RESOLV_CONF: &str = "nameserver 10.0.2.3\noptions edns0\n";

/// The holder's script (see the module docs): `$1` the rules file, then the refused ranges;
/// once it says `ready` it waits for a line of allowed ranges to route through slirp (which
/// configures `tap0` meanwhile), says `done`, and sleeps.
const HOLDER_SCRIPT: &str = r#"exec 2>&1
ip link set lo up || exit 1
nft -f "$1" || exit 1
shift
for cidr in "$@"; do ip route add prohibit "$cidr" || exit 1; done
echo ready
read -r allowed || exit 1
for cidr in $allowed; do ip route add "$cidr" via 10.0.2.2 dev tap0 || exit 1; done
echo done
exec sleep infinity"#;

/// The programs networked labs need, found at start.
#[derive(Debug, Clone)]
pub struct NetworkTools {
    unshare: PathBuf,
    nsenter: PathBuf,
    slirp4netns: PathBuf,
    setpriv: PathBuf,
}

impl NetworkTools {
    /// Finds them (with `find`), or says which is missing and what installs it. The holder's
    /// `ip` and `nft` must be on the sandbox `PATH` too.
    pub fn find(find: impl Fn(&str) -> Option<PathBuf>) -> Result<Self, String> {
        let need = |name: &str, package: &str| {
            find(name).ok_or_else(|| format!("{name} (Debian package `{package}`)"))
        };
        need("ip", "iproute2")?;
        need("nft", "nftables")?;
        Ok(Self {
            unshare: need("unshare", "util-linux")?,
            nsenter: need("nsenter", "util-linux")?,
            slirp4netns: need("slirp4netns", "slirp4netns")?,
            setpriv: need("setpriv", "util-linux")?,
        })
    }

    /// `nsenter`, which the shell's command line runs to join a namespace.
    pub fn nsenter(&self) -> &Path {
        &self.nsenter
    }
}

/// Whether the lab user may open `/dev/net/tun` (slirp4netns needs it; Debian makes it 0666,
/// some images 0600).
pub fn tun_usable() -> Result<(), String> {
    use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
    let meta = std::fs::metadata("/dev/net/tun")
        .map_err(|e| format!("/dev/net/tun is missing ({e}): the kernel needs TUN support"))?;
    if !meta.file_type().is_char_device() {
        return Err("/dev/net/tun is not a device".into());
    }
    if meta.permissions().mode() & 0o006 != 0o006 {
        return Err(format!(
            "/dev/net/tun has mode {:o}: the lab user cannot open it (scripts/lib.sh makes it 0666, as Debian's udev rules do)",
            meta.permissions().mode() & 0o777
        ));
    }
    Ok(())
}

/// The ranges to refuse on this host: [`REFUSED_RANGES`], then each of the host's IPv4
/// addresses and the network it is on (from `ip -o -4 addr show`), less the `allowed` ones.
pub fn refused_ranges(host_addresses: &str, allowed: &[String]) -> Vec<String> {
    let mut ranges: Vec<String> = REFUSED_RANGES.iter().map(|r| (*r).to_owned()).collect();
    for cidr in host_addresses
        .lines()
        .filter_map(|l| l.split_whitespace().skip_while(|f| *f != "inet").nth(1))
    {
        let Some((addr, prefix)) = cidr.split_once('/') else {
            continue;
        };
        let (Ok(addr), Ok(prefix)) = (addr.parse::<Ipv4Addr>(), prefix.parse::<u32>()) else {
            continue;
        };
        let mask = u32::MAX.checked_shl(32 - prefix.min(32)).unwrap_or(0);
        let network = Ipv4Addr::from(u32::from(addr) & mask);
        for range in [format!("{addr}/32"), format!("{network}/{prefix}")] {
            if !ranges.contains(&range) {
                ranges.push(range);
            }
        }
    }
    ranges.retain(|r| !allowed.contains(r));
    ranges
}

/// A running networked environment's namespace: the holder and slirp4netns.
#[derive(Debug)]
pub struct LabNetwork {
    holder: Child,
    slirp: Child,
    // Kept open: the holder's `read` and `sleep` inherit them, and a closed pipe would end it.
    _holder_io: (ChildStdin, BufReader<ChildStdout>),
}

/// Reads one line within `deadline` (a thread does the blocking read).
fn line_within(
    mut reader: BufReader<ChildStdout>,
    deadline: Duration,
) -> Result<(String, BufReader<ChildStdout>), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = reader.read_line(&mut line);
        let _ = tx.send(read.map(|_| (line, reader)));
    });
    match rx.recv_timeout(deadline) {
        Ok(Ok((line, reader))) => Ok((line.trim().to_owned(), reader)),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer in time".into()),
    }
}

/// The settings a namespace is made with.
#[derive(Debug)]
pub struct NetworkPlan<'a> {
    /// The tools.
    pub tools: &'a NetworkTools,
    /// The lab user.
    pub uid: u32,
    /// The lab user's group.
    pub gid: u32,
    /// A `sh -c` prefix that joins the environment's cgroups (`echo $$ > …; `), or empty.
    pub cgroup_joins: String,
    /// The nftables rules file.
    pub rules_file: &'a Path,
    /// Ranges refused.
    pub refused: Vec<String>,
    /// Ranges routed although refused (tests).
    pub allowed: &'a [String],
    /// How long each step may take.
    pub deadline: Duration,
}

impl NetworkPlan<'_> {
    /// `[sh -c joins] setpriv … --pdeathsig SIGKILL -- program args…`
    fn command(&self, program: &[&str]) -> Command {
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(format!("{}exec \"$@\"", self.cgroup_joins))
            .arg("sh")
            .arg(&self.tools.setpriv)
            .arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .args(["--clear-groups", "--pdeathsig", "SIGKILL", "--"])
            .args(program)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .current_dir("/");
        command
    }
}

impl LabNetwork {
    /// Makes the namespace (see the module docs). Call it from a long-lived thread: the
    /// processes die with the thread that spawned them.
    #[allow(
        clippy::too_many_lines,
        reason = "three steps in order, each undone if a later one fails"
    )]
    pub fn start(plan: &NetworkPlan<'_>) -> Result<Self, DriverError> {
        let fail = |what: &str, why: &dyn std::fmt::Display| {
            DriverError::io("starting the lab's network", format!("{what}: {why}"))
        };
        let unshare = plan.tools.unshare.to_string_lossy().into_owned();
        let rules = plan.rules_file.to_string_lossy().into_owned();
        let mut holder_line = vec![
            unshare.as_str(),
            "--user",
            "--map-root-user",
            "--net",
            "--",
            "/bin/sh",
            "-c",
            HOLDER_SCRIPT,
            "sh",
            rules.as_str(),
        ];
        holder_line.extend(plan.refused.iter().map(String::as_str));
        let mut holder = plan
            .command(&holder_line)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail("the namespace holder", &e))?;
        let (Some(mut stdin), Some(stdout)) = (holder.stdin.take(), holder.stdout.take()) else {
            let _ = holder.kill();
            let _ = holder.wait();
            return Err(fail("the namespace holder", &"no pipes"));
        };
        let kill = |child: &mut Child| {
            let _ = child.kill();
            let _ = child.wait();
        };
        let stdout = match line_within(BufReader::new(stdout), plan.deadline) {
            Ok((line, stdout)) if line == "ready" => stdout,
            Ok((line, _)) => {
                kill(&mut holder);
                return Err(fail("setting up the namespace", &line));
            }
            Err(e) => {
                kill(&mut holder);
                return Err(fail("setting up the namespace", &e));
            }
        };
        let slirp_program = plan.tools.slirp4netns.to_string_lossy().into_owned();
        let pid = holder.id().to_string();
        let mut slirp = match plan
            .command(&[
                "/bin/sh",
                "-c",
                // slirp4netns says it is ready on fd 3: that is our pipe; what it prints
                // otherwise goes nowhere (nobody would read it, and a full pipe would stall it).
                "exec \"$@\" 3>&1 >/dev/null 2>&1",
                "sh",
                &slirp_program,
                "--configure",
                "--mtu=65520",
                "--disable-host-loopback",
                "--enable-sandbox",
                "--enable-seccomp",
                "--ready-fd=3",
                &pid,
                "tap0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(s) => s,
            Err(e) => {
                kill(&mut holder);
                return Err(fail("slirp4netns", &e));
            }
        };
        let ready = slirp.stdout.take().map(|mut out| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let mut byte = [0u8; 1];
                let _ = tx.send(out.read_exact(&mut byte).map(|()| byte[0]));
            });
            rx.recv_timeout(plan.deadline)
        });
        if !matches!(ready, Some(Ok(Ok(b'1')))) {
            kill(&mut slirp);
            kill(&mut holder);
            return Err(fail("slirp4netns", &"it did not attach to the namespace"));
        }
        let routed = writeln!(stdin, "{}", plan.allowed.join(" "))
            .map_err(|e| e.to_string())
            .and_then(|()| line_within(stdout, plan.deadline));
        match routed {
            Ok((line, stdout)) if line == "done" => Ok(Self {
                holder,
                slirp,
                _holder_io: (stdin, stdout),
            }),
            other => {
                kill(&mut slirp);
                kill(&mut holder);
                let why = other.map_or_else(|e| e, |(line, _)| line);
                Err(fail("routing the allowed ranges", &why))
            }
        }
    }

    /// The namespace, for `nsenter --net=…`; `None` once the holder has died (its PID stays
    /// ours until it is reaped, so it never names another process's namespace).
    pub fn namespace(&mut self) -> Option<PathBuf> {
        match self.holder.try_wait() {
            Ok(None) => Some(PathBuf::from(format!("/proc/{}/ns/net", self.holder.id()))),
            _ => None,
        }
    }

    /// Kills both processes and reaps them.
    pub fn stop(mut self) {
        for child in [&mut self.slirp, &mut self.holder] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_addresses_and_networks_are_refused_but_the_allowed_ones() {
        let ip = "1: lo    inet 127.0.0.1/8 scope host lo\\\n4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\\n5: wg0    inet 203.0.113.7/32 scope global wg0\n";
        let refused = refused_ranges(ip, &[]);
        for range in [
            "10.0.0.0/8",
            "169.254.0.0/16",
            "100.64.0.0/10",
            "192.0.2.2/32",
            "192.0.2.0/24",
            "203.0.113.7/32",
        ] {
            assert!(refused.iter().any(|r| r == range), "{range}: {refused:?}");
        }
        assert_eq!(
            refused.iter().filter(|r| *r == "127.0.0.0/8").count(),
            1,
            "{refused:?}"
        );
        let allowed = refused_ranges(ip, &["192.0.2.2/32".to_owned()]);
        assert!(!allowed.contains(&"192.0.2.2/32".to_owned()));
        assert!(allowed.contains(&"192.0.2.0/24".to_owned()));
    }
}
