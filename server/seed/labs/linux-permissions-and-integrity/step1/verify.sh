#!/bin/sh
mode=$(stat -c %a "$HOME/webapp/config/app.conf" 2>/dev/null)
[ "$mode" = 600 ] || { echo "app.conf has mode ${mode:-none}; it should be 600 (rw for you, nothing for anyone else)."; exit 1; }
