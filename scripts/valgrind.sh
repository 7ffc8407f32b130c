#!/usr/bin/env bash
# Runs every unit test binary under valgrind memcheck: any error or any
# definite/indirect leak fails. usage: scripts/valgrind.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
failed=0 passed=0
for test in "$build"/tests/unit/test_* "$build"/examples/example_*; do
    [ -x "$test" ] || continue
    name=$(basename "$test")
    if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect "$test" >"$build/valgrind-$name.log" 2>&1; then
        passed=$((passed + 1))
    else
        echo "FAIL: $name under valgrind:"
        tail -n 40 "$build/valgrind-$name.log"
        failed=$((failed + 1))
    fi
done
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
