#!/bin/sh
cp "$HOME/lab/notes/hello.txt" "$HOME/lab/archive.txt"
