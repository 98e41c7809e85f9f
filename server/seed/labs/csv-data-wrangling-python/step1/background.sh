#!/bin/sh
mkdir -p "$HOME/csvlab"
cat > "$HOME/csvlab/sales.csv" <<'EOF'
date,region,product,amount
2026-01-03, north ,widget,120.50
2026-01-04,South,gadget,
2026-01-05,north,widget,80
2026-01-05,EAST,gizmo,42.25
2026-01-06,south ,gadget,99.99
2026-01-07,east,widget,n/a
2026-01-08,North,gizmo,10
EOF
