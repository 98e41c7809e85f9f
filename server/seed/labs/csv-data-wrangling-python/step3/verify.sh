#!/bin/sh
cd "$HOME/csvlab" 2>/dev/null || exit 1
printf 'region,total\nEast,42.25\nNorth,210.50\nSouth,99.99\n' | cmp -s - totals.csv || { echo "totals.csv should list East, North and South with their totals to two decimals."; exit 1; }
