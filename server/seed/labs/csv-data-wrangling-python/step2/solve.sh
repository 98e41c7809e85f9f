#!/bin/sh
cd "$HOME/csvlab"
cat > clean.py <<'EOF'
import csv
with open("sales.csv", newline="") as f, open("clean.csv", "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["date", "region", "product", "amount"])
    for row in csv.DictReader(f):
        try:
            amount = float(row["amount"])
        except ValueError:
            continue
        w.writerow([row["date"], row["region"].strip().title(), row["product"], f"{amount:.2f}"])
EOF
python3 clean.py
