#!/bin/sh
cd "$HOME/csvlab"
printf 'region,total\nEast,42.25\nNorth,210.50\nSouth,99.99\n' > totals.csv
