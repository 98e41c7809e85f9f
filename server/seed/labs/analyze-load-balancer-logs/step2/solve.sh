#!/bin/sh
awk '$9 >= 500' "$HOME/lblab/access.log" | wc -l > "$HOME/lblab/errors.txt"
