#!/bin/sh
[ -d "$HOME/lab/notes" ] || { echo "There is no ~/lab/notes directory yet: make it with mkdir -p ~/lab/notes"; exit 1; }
