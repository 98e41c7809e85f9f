#!/bin/sh
want=$(awk '{print $1}' "$HOME/lblab/access.log" | sort | uniq -c | sort -rn | head -1 | awk '{print $2}')
got=$(tr -d ' \n' < "$HOME/lblab/top-ip.txt" 2>/dev/null)
[ "$got" = "$want" ] || { echo "~/lblab/top-ip.txt should hold the one address that sent the most requests."; exit 1; }
