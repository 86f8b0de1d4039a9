#!/bin/bash
# Run the benchmarks in bench/ (what `./build.sh bench` calls):
#   bench/run.sh            every executable file here except this one
#   bench/run.sh NAME...    only those (e.g. accounts.py)
# Each benchmark prints its own results; the numbers that are kept go to
# docs/BENCHMARKS.md by hand, with how they were measured.
set -uo pipefail
cd "$(dirname "$0")" || exit 1

if [ $# -gt 0 ]; then
    benches=("$@")
else
    benches=()
    for b in *; do
        if [ "$b" != run.sh ] && [ -f "$b" ] && [ -x "$b" ]; then
            benches+=("$b")
        fi
    done
fi
if [ ${#benches[@]} -eq 0 ]; then
    echo "bench/run.sh: no benchmarks found" >&2
    exit 1
fi
failed=()
for b in "${benches[@]}"; do
    printf '==> bench/%s\n' "$b"
    if ! "./$b"; then
        failed+=("$b")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "bench/run.sh: failed: ${failed[*]}" >&2
    exit 1
fi
