#!/bin/sh
"$HOME/backuplab/backup.sh" "$HOME/backuplab/data" "$HOME/backuplab/backups"
