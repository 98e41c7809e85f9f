#!/bin/sh
s="$HOME/backuplab/backup.sh"
[ -x "$s" ] || { echo "~/backuplab/backup.sh is missing or not executable (chmod +x)."; exit 1; }
grep -q 'set -euo pipefail' "$s" || { echo "Use strict mode: set -euo pipefail"; exit 1; }
code=0; "$s" >/dev/null 2>&1 || code=$?
[ "$code" = 2 ] || { echo "Without arguments the script should exit 2 (it exited $code)."; exit 1; }
"$s" 2>&1 | grep -qi usage || { echo "Without arguments it should print a usage message."; exit 1; }
