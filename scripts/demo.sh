#!/usr/bin/env bash
# The README's first command: installs what is missing, builds petrel, and
# runs the demo. Until the DTLS handshake lands, the demo is the crypto
# known-answer self-test through the installed backend.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/tools/petrel selftest
