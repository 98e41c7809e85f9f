#!/bin/sh
mkdir -p "$HOME/lab/notes"
