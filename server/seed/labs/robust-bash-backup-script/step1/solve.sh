#!/bin/sh
cat > "$HOME/backuplab/backup.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
usage() { echo "usage: backup.sh SOURCE_DIR DEST_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
src=$1 dest=$2
[ -d "$src" ] || { echo "no such directory: $src" >&2; exit 2; }
mkdir -p "$dest"
archive="$dest/backup-$(date +%Y%m%d-%H%M%S).tar.gz"
tar -czf "$archive" -C "$(dirname "$src")" "$(basename "$src")"
echo "wrote $archive"
EOF
chmod +x "$HOME/backuplab/backup.sh"
