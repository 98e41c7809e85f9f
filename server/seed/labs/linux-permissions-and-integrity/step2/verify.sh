#!/bin/sh
left=$(find "$HOME/webapp" -perm -o+w 2>/dev/null)
[ -z "$left" ] || { echo "Still writable by anyone: $left"; exit 1; }
[ "$(stat -c %a "$HOME/webapp/public/index.html")" = 644 ] || { echo "index.html should be 644."; exit 1; }
