# Shared by the scripts in this folder: installs what is missing, idempotently.
# Sourced, not run.

set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/skilltrack/target}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages the project needs: PostgreSQL's server binaries for the embedded cluster,
# setpriv (util-linux) to run it unprivileged, a C toolchain for crates that build C,
# bubblewrap for the lab sandboxes (with util-linux's setpriv, prlimit, unshare and nsenter,
# bsdutils' script), and for networked labs slirp4netns (user-mode networking), nftables and
# iproute2 (the namespace's egress rules); python3 for the sandbox tests' system-call probes.
apt_packages=(postgresql util-linux build-essential pkg-config ca-certificates curl bubblewrap bsdutils
  slirp4netns nftables iproute2 python3)
# python3-venv for the certificate tests' independent verifier (ensure_python_verifier).
apt_packages+=(python3-venv)
# The demo labs' tools, which their self-test runs: git (the Git lab), gzip and tar (the backup lab).
apt_packages+=(git gzip tar)
# The cluster test (tests/cluster.rs) puts three server processes behind nginx, which it starts
# itself on a loopback port from a configuration of its own; Debian's default site (port 80) is
# never used, and is not started where the install cannot start services.
apt_packages+=(nginx)
# Lab images: the tests build a tiny image from busybox-static. (`skilltrack-server lab-images
# build` also needs mmdebstrap, which the tests do not use.)
apt_packages+=(busybox-static)
# The installer test (tests/desktop_install_e2e.rs) installs the app's .deb into a clean Debian
# made with mmdebstrap (ensure_debian_root).
apt_packages+=(mmdebstrap)
# The desktop app (Tauri v2 on Linux): WebKitGTK 4.1 and GTK 3 to build and run it, librsvg for
# its icons, GStreamer's plugins to play lesson videos (base and good: WebM/VP8, Vorbis and the
# MP4 demuxer; libav: H.264 and AAC; bad: the H.264 parser); for its end-to-end test, Xvfb (with
# xauth) as the display and WebKitWebDriver (webkit2gtk-driver) under tauri-driver.
apt_packages+=(libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-libav gstreamer1.0-plugins-bad webkit2gtk-driver xvfb
  xauth)
# xdg-utils: xdg-open, through which the app opens links in the browser and a lesson's PDF in
# the learner's own reader.
apt_packages+=(xdg-utils)
# dbus-daemon: the desktop tests give each app a session bus of their own, through which a
# second launch hands its command line (a skilltrack:// link) to the first.
apt_packages+=(dbus-daemon)

ensure_apt_packages() {
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    say "installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  local version
  version="$(rustc --version | awk '{print $2}')"
  if [ "$(printf '%s\n' 1.85.0 "$version" | sort -V | head -n1)" != 1.85.0 ]; then
    if command -v rustup >/dev/null 2>&1; then
      say "Rust $version is too old; updating with rustup"
      rustup toolchain install stable --profile minimal
      rustup default stable
    else
      echo "Rust $version is too old: Skilltrack needs 1.85 or newer (install rustup)" >&2
      exit 1
    fi
  fi
  if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
  fi
}

# PostgreSQL refuses to run as root; as root the embedded cluster runs as this user, which the
# postgresql package creates.
ensure_postgres_os_user() {
  if [ "$(id -u)" -eq 0 ] && ! id -u "${SKILLTRACK_PG_OS_USER:-postgres}" >/dev/null 2>&1; then
    say "creating the system user ${SKILLTRACK_PG_OS_USER:-postgres} for the embedded PostgreSQL"
    useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin "${SKILLTRACK_PG_OS_USER:-postgres}"
  fi
}

# Lab sandboxes never run as root: as root the server drops to this user before bubblewrap.
ensure_lab_sandbox_user() {
  local user="${SKILLTRACK_LAB_SANDBOX_USER:-skilltrack-lab}"
  if [ "$(id -u)" -eq 0 ] && ! id -u "$user" >/dev/null 2>&1; then
    say "creating the system user $user that lab sandboxes run as"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  fi
}

# Networked labs: slirp4netns, run as the lab user, opens /dev/net/tun. Debian's udev rules
# make it 0666 (opening it grants nothing by itself: making an interface needs CAP_NET_ADMIN in
# a network namespace); some images leave it 0600, which would refuse every networked lab.
ensure_tun_device() {
  if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
    say "letting unprivileged users open /dev/net/tun (networked labs), as Debian does"
    chmod 0666 /dev/net/tun
  fi
}

# The desktop app's front end (ui/) is built with Node; Debian's nodejs is too old for Vite 6.
ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node and npm are missing: the desktop app's front end (ui/) needs Node.js 18 or newer" >&2
    echo "(install it from https://nodejs.org or your distribution's nodejs 20 package)" >&2
    exit 1
  fi
  local major
  major="$(node --version | sed 's/^v//; s/\..*//')"
  if [ "$major" -lt 18 ]; then
    echo "Node.js $(node --version) is too old: the desktop app's front end needs 18 or newer" >&2
    exit 1
  fi
}

# ui/node_modules as package-lock.json says, reinstalled only when the lock file changed.
ensure_ui_packages() {
  ensure_node
  local stamp="$top/ui/node_modules/.skilltrack-lock-sha256" want
  want="$(sha256sum "$top/ui/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing the front end's packages (npm ci in ui/)"
    (cd "$top/ui" && npm ci --no-audit --no-fund)
    echo "$want" >"$stamp"
  fi
}

# tauri-driver (WebDriver for the desktop app's end-to-end test), in a fixed place.
ensure_tauri_driver() {
  local tools="$HOME/.cache/skilltrack/tools"
  if [ ! -x "$tools/bin/tauri-driver" ]; then
    say "installing tauri-driver into $tools"
    CARGO_TARGET_DIR="$tools/target" cargo install tauri-driver --locked --version '^2' --root "$tools"
    rm -rf "$tools/target"
  fi
  export SKILLTRACK_TAURI_DRIVER="$tools/bin/tauri-driver"
}

# A clean Debian (bookworm, with its updates; mmdebstrap's `apt` variant: the essential
# packages and apt) as an archive, made once: the installer test unpacks a fresh copy for each
# run and installs the app's .deb into it as a learner would.
ensure_debian_root() {
  local archive="$HOME/.cache/skilltrack/debian-bookworm-apt.tar"
  if [ ! -s "$archive" ]; then
    say "making a clean Debian root for the installer test (mmdebstrap, once)"
    mkdir -p "$(dirname "$archive")"
    as_root mmdebstrap --quiet --variant=apt --format=tar bookworm "$archive.partial" \
      "deb http://deb.debian.org/debian bookworm main" \
      "deb http://deb.debian.org/debian bookworm-updates main" \
      "deb http://deb.debian.org/debian-security bookworm-security main"
    mv "$archive.partial" "$archive"
  fi
}

# The desktop app's front end, into ui/dist (the app embeds it when it is built).
build_ui() {
  ensure_ui_packages
  say "building the desktop app's front end (ui/dist)"
  (cd "$top/ui" && npm run --silent build)
}

# A Python virtual environment in ~/.cache/skilltrack/NAME with the packages pinned in
# REQUIREMENTS, reinstalled only when that file changes.
ensure_venv() {
  local name="$1" requirements="$2" why="$3" venv want
  venv="$HOME/.cache/skilltrack/$name"
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ "$(cat "$venv/.skilltrack-requirements-sha256" 2>/dev/null)" != "$want" ]; then
    say "installing $why into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" >"$venv/.skilltrack-requirements-sha256"
  fi
}

# PyJWT and cryptography: the independent verifier the certificate tests run against our
# VC-JWTs (with pypdf and Pillow for the PDF and the badge).
ensure_python_verifier() {
  ensure_venv pyjwt-venv "$top/scripts/verifier-requirements.txt" \
    "the independent credential verifier (PyJWT, cryptography, pypdf, Pillow)"
  export SKILLTRACK_VERIFIER_PYTHON="$HOME/.cache/skilltrack/pyjwt-venv/bin/python"
}

# Schemathesis (scripts/api-fuzz): the API fuzzer, pinned.
ensure_schemathesis() {
  ensure_venv schemathesis-venv "$top/scripts/api-fuzz/requirements.txt" "Schemathesis"
  export SKILLTRACK_SCHEMATHESIS="$HOME/.cache/skilltrack/schemathesis-venv/bin/schemathesis"
}

# aiosmtpd: the real SMTP server the account recovery tests start (tests/smtp-sink/sink.py).
ensure_smtp_sink() {
  ensure_venv smtp-sink-venv "$top/scripts/smtp-sink-requirements.txt" "the test SMTP server (aiosmtpd)"
  export SKILLTRACK_SMTP_SINK_PYTHON="$HOME/.cache/skilltrack/smtp-sink-venv/bin/python"
}

ensure_everything() {
  ensure_apt_packages
  ensure_rust
  ensure_postgres_os_user
  ensure_lab_sandbox_user
  ensure_tun_device
  ensure_ui_packages
  ensure_python_verifier
  ensure_schemathesis
  ensure_smtp_sink
}
