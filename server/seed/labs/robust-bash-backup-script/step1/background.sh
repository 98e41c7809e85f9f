#!/bin/sh
mkdir -p "$HOME/backuplab/data/docs" "$HOME/backuplab/data/photos"
echo "quarterly report" > "$HOME/backuplab/data/docs/report.txt"
echo "not really a photo" > "$HOME/backuplab/data/photos/cat.jpg"
