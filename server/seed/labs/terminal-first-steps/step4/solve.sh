#!/bin/sh
ls /usr/bin | wc -l > "$HOME/lab/count.txt"
