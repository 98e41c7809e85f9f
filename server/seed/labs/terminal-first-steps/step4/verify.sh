#!/bin/sh
want=$(ls /usr/bin | wc -l | tr -d ' ')
got=$(tr -d ' \n' < "$HOME/lab/count.txt" 2>/dev/null)
[ "$got" = "$want" ] || { echo "~/lab/count.txt should hold the number of entries in /usr/bin ($want)."; exit 1; }
