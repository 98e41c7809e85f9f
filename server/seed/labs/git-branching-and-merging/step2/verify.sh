#!/bin/sh
n=$(git -C "$HOME/recipes" rev-list --count HEAD 2>/dev/null || echo 0)
[ "$n" -ge 1 ] || { echo "The repository has no commit yet: add README.md and commit it."; exit 1; }
