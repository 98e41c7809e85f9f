#!/bin/sh
chmod 600 "$HOME/webapp/config/app.conf"
