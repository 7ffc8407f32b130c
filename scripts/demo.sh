#!/usr/bin/env bash
# The README's first command: installs what is missing, builds petrel, and
# runs a real DTLS 1.2 PSK handshake and echo on loopback between the
# petrel server and the petrel client, printing what each side saw.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
petrel=build/tools/petrel
psk=000102030405060708090a0b0c0d0e0f
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== crypto self-test"
"$petrel" selftest -q
echo
echo "== DTLS 1.2 PSK server on 127.0.0.1 (port picked free), echoing"
"$petrel" server --dtls --listen 127.0.0.1:0 --port-file "$work/port" \
    --psk-identity demo --psk "$psk" --echo --once >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    [ -s "$work/port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
    sleep 0.05
done
[ -s "$work/port" ] || { echo "server did not start"; cat "$work/server.log"; exit 1; }
port=$(cat "$work/port")
echo "== client: handshake, send, wait for the echo"
"$petrel" client --dtls --connect "127.0.0.1:$port" --psk-identity demo --psk "$psk" \
    --send "hello over DTLS 1.2"
wait "$server_pid"
server_pid=
echo
echo "== what the server saw"
cat "$work/server.log"
