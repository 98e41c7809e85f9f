#!/bin/sh
echo "hello, shell" > "$HOME/lab/notes/hello.txt"
