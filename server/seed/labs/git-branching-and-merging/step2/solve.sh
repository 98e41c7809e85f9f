#!/bin/sh
cd "$HOME/recipes"
echo "# Recipes" > README.md
git add README.md
git commit -q -m "Start the recipe book"
