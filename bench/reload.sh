#!/bin/bash
# Reloads under load, 65 s with and 65 s without (see bench/reload.py):
#   bench/reload.sh [--seconds N] [--pace MS] [--seed N] [--markdown]
set -euo pipefail
cd "$(dirname "$0")"
exec /usr/bin/python3 reload.py "$@"
