#!/bin/sh
chmod 644 "$HOME/webapp/public/index.html"
chmod 755 "$HOME/webapp/public"
