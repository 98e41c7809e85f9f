#!/bin/sh
mkdir -p "$HOME/webapp/config" "$HOME/webapp/public" "$HOME/webapp/logs"
echo "db_password=hunter2" > "$HOME/webapp/config/app.conf"
echo "<h1>Hello</h1>" > "$HOME/webapp/public/index.html"
chmod 666 "$HOME/webapp/config/app.conf" "$HOME/webapp/public/index.html"
chmod 777 "$HOME/webapp/public"
