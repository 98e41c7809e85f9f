#!/bin/sh
a=$(ls "$HOME"/backuplab/backups/backup-*.tar.gz 2>/dev/null | head -1)
[ -n "$a" ] || { echo "There is no ~/backuplab/backups/backup-*.tar.gz yet: run the script."; exit 1; }
tar -tzf "$a" | grep -q 'data/docs/report.txt' || { echo "$a does not hold data/docs/report.txt."; exit 1; }
