#!/usr/bin/env bash
# Real processes through `petrel proxy` at 30 % loss both ways (10 ms each
# way): a petrel server, the proxy in front of it, and ten petrel clients
# at once, each doing a handshake and an echo. Every client must finish.
# usage: proxy_handshakes.sh PETREL_BINARY
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
petrel=$1
psk=000102030405060708090a0b0c0d0e0f
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

"$petrel" server --dtls --listen 127.0.0.1:0 --port-file "$work/server.port" \
    --psk-identity id --psk "$psk" --echo >"$work/server.log" 2>&1 &
pids+=($!)
wait_for_file "$work/server.port" 10 || { echo "FAIL: server.port did not appear within 10 s"; exit 1; }
"$petrel" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$(cat "$work/server.port")" \
    --loss 30% --delay 10ms --seed 7 --port-file "$work/proxy.port" >"$work/proxy.log" 2>&1 &
proxy_pid=$!
pids+=("$proxy_pid")
wait_for_file "$work/proxy.port" 10 || { echo "FAIL: proxy.port did not appear within 10 s"; exit 1; }
port=$(cat "$work/proxy.port")

clients=()
for i in $(seq 10); do
    "$petrel" client --dtls --connect "127.0.0.1:$port" --psk-identity id --psk "$psk" \
        --send "hello $i" --timeout 240000 >"$work/client$i.log" 2>&1 &
    clients+=($!)
done
passed=0 failed=0
for i in $(seq 10); do
    if wait "${clients[$((i - 1))]}"; then
        echo "ok: client $i: $(head -n 1 "$work/client$i.log")"
        passed=$((passed + 1))
    else
        echo "FAIL: client $i:"
        cat "$work/client$i.log"
        failed=$((failed + 1))
    fi
done
kill "$proxy_pid"
wait "$proxy_pid" || true
cat "$work/proxy.log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
