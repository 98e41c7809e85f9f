#!/bin/sh
[ "$(wc -l < "$HOME/lblab/access.log" 2>/dev/null || echo 0)" -eq 20000 ] || { echo "~/lblab/access.log should have 20000 lines: run the generator."; exit 1; }
