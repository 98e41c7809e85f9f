#!/bin/sh
awk '{print $1}' "$HOME/lblab/access.log" | sort | uniq -c | sort -rn | head -1 | awk '{print $2}' > "$HOME/lblab/top-ip.txt"
