#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -DPETREL_FUZZ=ON) and runs each one
# for SECONDS (default 60) from its committed corpus in tests/fuzz/corpus/.
# Any crash, leak or sanitizer report fails the script. New inputs go to a
# scratch directory, not into the repository.
# usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DPETREL_FUZZ=ON -DPETREL_BUILD_TESTS=OFF -DPETREL_BUILD_TOOLS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in build-fuzz/tests/fuzz/fuzz_*; do
    [ -x "$target" ] || continue
    name=$(basename "$target")
    corpus=tests/fuzz/corpus/${name#fuzz_}
    mkdir -p "$scratch/$name"
    echo "== $name for ${seconds}s (seeds: $corpus)"
    "$target" -max_total_time="$seconds" -print_final_stats=1 "$scratch/$name" "$corpus" \
        2>"$scratch/$name.log" || { tail -n 60 "$scratch/$name.log"; exit 1; }
    grep -E '^(stat::number_of_executed_units|Done)' "$scratch/$name.log" || true
done
echo "fuzz: all targets ran ${seconds}s without a finding"
