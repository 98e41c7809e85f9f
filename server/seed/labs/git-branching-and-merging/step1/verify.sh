#!/bin/sh
git -C "$HOME/recipes" rev-parse --git-dir >/dev/null 2>&1 || { echo "~/recipes is not a Git repository yet: git init -b main ~/recipes"; exit 1; }
[ -n "$(git config --global user.email)" ] || { echo "Git does not know your e-mail yet: git config --global user.email ..."; exit 1; }
