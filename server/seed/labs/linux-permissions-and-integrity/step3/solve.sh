#!/bin/sh
sha256sum "$HOME/webapp/config/app.conf" "$HOME/webapp/public/index.html" > "$HOME/baseline.sha256"
