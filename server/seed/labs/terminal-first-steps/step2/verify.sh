#!/bin/sh
grep -qx "hello, shell" "$HOME/lab/notes/hello.txt" 2>/dev/null || { echo "~/lab/notes/hello.txt should hold one line: hello, shell"; exit 1; }
