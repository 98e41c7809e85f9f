#!/bin/sh
cd "$HOME/csvlab" && python3 -c 'import csv; print(len(list(csv.DictReader(open("sales.csv")))))' > rows.txt
