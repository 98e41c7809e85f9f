#!/bin/sh
[ -f "$HOME/baseline.sha256" ] || { echo "There is no ~/baseline.sha256 yet."; exit 1; }
[ "$(wc -l < "$HOME/baseline.sha256")" -ge 2 ] || { echo "The baseline should list both files."; exit 1; }
sha256sum -c --quiet "$HOME/baseline.sha256" || { echo "The baseline does not match the files."; exit 1; }
