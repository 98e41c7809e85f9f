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
# setpriv (util-linux) to run it unprivileged, a C toolchain for crates that build C.
apt_packages=(postgresql util-linux build-essential pkg-config ca-certificates curl)

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

ensure_everything() {
  ensure_apt_packages
  ensure_rust
  ensure_postgres_os_user
}
