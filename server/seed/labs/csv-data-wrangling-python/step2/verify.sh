#!/bin/sh
cd "$HOME/csvlab" 2>/dev/null || { echo "There is no ~/csvlab."; exit 1; }
python3 - <<'EOF'
import csv, sys
try:
    rows = list(csv.DictReader(open("clean.csv", newline="")))
except FileNotFoundError:
    sys.exit("There is no ~/csvlab/clean.csv yet.")
if len(rows) != 5:
    sys.exit(f"clean.csv has {len(rows)} rows; the 5 with a number for amount should stay.")
bad = sorted({r["region"] for r in rows} - {"North", "South", "East"})
if bad:
    sys.exit(f"Regions should be stripped and title-cased (North, South, East), not {bad}.")
EOF
