#!/bin/sh
[ -f "$HOME/lab/archive.txt" ] || { echo "There is no ~/lab/archive.txt yet."; exit 1; }
[ ! -e "$HOME/lab/notes/copy.txt" ] || { echo "~/lab/notes/copy.txt is still there: move it, do not copy it."; exit 1; }
cmp -s "$HOME/lab/archive.txt" "$HOME/lab/notes/hello.txt" || { echo "~/lab/archive.txt should be a copy of hello.txt."; exit 1; }
