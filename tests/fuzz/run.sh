#!/bin/bash
# Run every libFuzzer target for SECONDS (default 30) each, starting from the
# committed seed corpus (tests/fuzz/corpus/TARGET/) plus what earlier runs
# found (build/fuzz/corpus/TARGET/). Crashes fail the run; a crash input is
# kept in build/fuzz/ and must become a regression file in
# tests/fuzz/regressions/TARGET/ (replayed below on every run).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-30}
# lsan.supp names libconfig's functions: leak reports need symbols
if ! command -v llvm-symbolizer >/dev/null 2>&1; then
    for s in /usr/lib/llvm-*/bin/llvm-symbolizer /usr/bin/llvm-symbolizer-*; do
        [ -x "$s" ] && export ASAN_SYMBOLIZER_PATH="$s" && break
    done
    if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
        echo "fuzz: llvm-symbolizer not found (package llvm): leak" \
             "suppressions need symbol names" >&2
        exit 1
    fi
fi
LSAN_OPTIONS="suppressions=$(pwd)/tests/fuzz/lsan.supp:print_suppressions=0"
export LSAN_OPTIONS
status=0
for bin in build/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    seeds="tests/fuzz/corpus/$name"
    work="build/fuzz/corpus/$name"
    mkdir -p "$work"
    if [ -d "tests/fuzz/regressions/$name" ]; then
        # known crashers stay fixed
        "$bin" -runs=0 tests/fuzz/regressions/"$name"/* >/dev/null 2>&1 || {
            echo "fuzz: $name: a regression input crashes again" >&2
            status=1
        }
    fi
    dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    if "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
        -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="build/fuzz/$name-" "${dirs[@]}" \
        >"build/fuzz/$name.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build/fuzz/$name.log")
        echo "fuzz: $name: ${runs:-?} runs in ${seconds}s, no crash"
    else
        echo "fuzz: $name: CRASH, see build/fuzz/$name.log" >&2
        tail -30 "build/fuzz/$name.log" >&2
        status=1
    fi
done
exit $status
