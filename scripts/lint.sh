#!/usr/bin/env bash
# Cheap guardrails (STYLE.md §11): formatting, and greps that ban raw
# memcmp (secrets compare through the provider's constant-time function)
# and malloc/free outside the allocator hook in library code.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
mapfile -t files < <(git ls-files '*.c' '*.h')
if ! clang-format --dry-run -Werror "${files[@]}"; then
    echo "lint: run clang-format -i on the files above" >&2
    status=1
fi
lib_dirs=(common crypto handshake dtls tls conn transport matrixssl)
existing=()
for d in "${lib_dirs[@]}"; do [ -d "$d" ] && existing+=("$d"); done
# transport/ compares socket addresses, which are not secret.
if grep -rnE '\bmemcmp\s*\(' "${existing[@]}" | grep -v '^transport/'; then
    echo "lint: memcmp in library code; use the provider's ct_equal" >&2
    status=1
fi
if grep -rnE '\b(malloc|calloc|realloc|free)\s*\(' "${existing[@]}" | grep -v '^common/platform.c:'; then
    echo "lint: allocation outside common/platform.c; use platform_alloc/platform_free" >&2
    status=1
fi
exit $status
