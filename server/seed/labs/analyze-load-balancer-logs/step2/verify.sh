#!/bin/sh
want=$(awk '$9 >= 500' "$HOME/lblab/access.log" | wc -l | tr -d ' ')
got=$(tr -d ' \n' < "$HOME/lblab/errors.txt" 2>/dev/null)
[ "$got" = "$want" ] || { echo "~/lblab/errors.txt should hold the number of responses with a status of 500 or more."; exit 1; }
