#!/bin/sh
cd "$HOME/recipes" 2>/dev/null || { echo "There is no ~/recipes."; exit 1; }
git rev-parse --verify -q add-soup >/dev/null || { echo "There is no branch add-soup yet."; exit 1; }
git merge-base --is-ancestor add-soup main || { echo "add-soup is not merged into main yet: git switch main && git merge add-soup"; exit 1; }
[ -f soup.md ] || { echo "soup.md is not in main's working tree."; exit 1; }
