#!/usr/bin/env bash
# The README's first command: installs what is missing, builds petrel, and
# runs a real DTLS 1.2 PSK handshake and echo on loopback between the
# petrel server and the petrel client, through `petrel proxy` dropping 30 %
# of the datagrams each way (seeded, so the same datagrams are lost every
# time), printing what each side and the proxy saw; then the same with
# certificates (an ECDSA chain from the test PKI, verified by the client),
# then the same handshake core over TCP (TLS 1.2, --tls), and last CoAP
# over DTLS: libcoap's CoAP with petrel's DTLS (examples/coap), a GET and
# an observation through the same lossy proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
petrel=build/tools/petrel
psk=000102030405060708090a0b0c0d0e0f
work=$(mktemp -d)
server_pid=
proxy_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# wait_for_port FILE PID LOG: waits (5 s at most) until the process PID has
# written its port to FILE; prints LOG and fails if it died or never did.
wait_for_port() {
    for _ in $(seq 100); do
        [ -s "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.05
    done
    [ -s "$1" ] && return 0
    echo "$(basename "$3" .log) did not start"
    cat "$3"
    exit 1
}

# stop_server: gives the server 3 s to finish on its own (it runs --once),
# then stops it.
stop_server() {
    for _ in $(seq 60); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        [ -n "${1:-}" ] && echo "$1"
        kill "$server_pid"
    fi
    wait "$server_pid" || true
    server_pid=
}

stop_proxy() {
    kill "$proxy_pid"
    wait "$proxy_pid" || true
    proxy_pid=
}

echo "== crypto self-test"
"$petrel" selftest -q
echo
echo "== DTLS 1.2 PSK server on 127.0.0.1 (port picked free), echoing"
"$petrel" server --dtls --listen 127.0.0.1:0 --port-file "$work/port" \
    --psk-identity demo --psk "$psk" --echo --once >"$work/server.log" 2>&1 &
server_pid=$!
wait_for_port "$work/port" "$server_pid" "$work/server.log"
port=$(cat "$work/port")
echo "== petrel proxy in front of it: 30 % loss and 25 ms delay each way, seed 7"
"$petrel" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$port" --loss 30% --delay 25ms \
    --seed 7 --port-file "$work/proxy.port" >"$work/proxy.log" 2>&1 &
proxy_pid=$!
wait_for_port "$work/proxy.port" "$proxy_pid" "$work/proxy.log"
echo "== client: handshake through the proxy, send, wait for the echo"
"$petrel" client --dtls --connect "127.0.0.1:$(cat "$work/proxy.port")" --psk-identity demo \
    --psk "$psk" --send "hello over DTLS 1.2, through a lossy link" --timeout 120000
# The client's close_notify crosses the lossy link too: give the server a
# moment to see it, or stop it (it would expire the session by itself).
stop_server "(the client's close_notify was lost on the way; stopping the server)"
stop_proxy
echo
echo "== what the server saw"
cat "$work/server.log"
echo
echo "== what the proxy did"
cat "$work/proxy.log"

# The same with certificates: an ECDSA server chain from the test PKI, a
# client that checks it against the test CA and the name 127.0.0.1, through
# the same lossy link (seed 3).
pki=tests/pki
echo
echo "== certificates: ECDSA server chain (tests/pki), client verifying against the test CA"
"$petrel" server --dtls --listen 127.0.0.1:0 --port-file "$work/cert.port" \
    --cert "$pki/ec-server-chain.pem" --key "$pki/ec-server.key" --echo --once \
    >"$work/cert-server.log" 2>&1 &
server_pid=$!
wait_for_port "$work/cert.port" "$server_pid" "$work/cert-server.log"
"$petrel" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$(cat "$work/cert.port")" --loss 30% \
    --delay 25ms --seed 3 --port-file "$work/cert-proxy.port" >"$work/cert-proxy.log" 2>&1 &
proxy_pid=$!
wait_for_port "$work/cert-proxy.port" "$proxy_pid" "$work/cert-proxy.log"
"$petrel" client --dtls --connect "127.0.0.1:$(cat "$work/cert-proxy.port")" \
    --ca "$pki/ca-all.pem" --servername 127.0.0.1 \
    --send "hello over DTLS 1.2 with certificates" --timeout 120000
stop_server
stop_proxy
grep -v '^listening' "$work/cert-server.log"

# The same handshake core over a byte stream: TLS 1.2 on TCP, the same
# certificates, the same tool with --tls.
echo
echo "== TLS 1.2 over TCP: the same core on a byte stream (petrel server/client --tls)"
"$petrel" server --tls --listen 127.0.0.1:0 --port-file "$work/tls.port" \
    --cert "$pki/ec-server-chain.pem" --key "$pki/ec-server.key" --echo --once \
    >"$work/tls-server.log" 2>&1 &
server_pid=$!
wait_for_port "$work/tls.port" "$server_pid" "$work/tls-server.log"
"$petrel" client --tls --connect "127.0.0.1:$(cat "$work/tls.port")" \
    --ca "$pki/ca-all.pem" --servername 127.0.0.1 \
    --send "hello over TLS 1.2" --timeout 10000
stop_server
grep -v '^listening' "$work/tls-server.log"

# CoAPs, the showcase: libcoap does the CoAP, petrel the DTLS
# (examples/coap, docs/coaps.md), through the lossy proxy again. The CoAP
# timers are set for a lossy link with a short round trip.
echo
echo "== CoAPs: libcoap's CoAP over petrel's DTLS (examples/coap), through 30 % loss each way"
coap=build/examples/coap
"$coap/coaps-server" -A 127.0.0.1 -p 0 -k demo-secret --lossy-link 50 --port-file "$work/coap.port" \
    -v 6 >"$work/coap-server.log" 2>&1 &
server_pid=$!
wait_for_port "$work/coap.port" "$server_pid" "$work/coap-server.log"
"$petrel" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$(cat "$work/coap.port")" --loss 30% \
    --delay 25ms --seed 5 --port-file "$work/coap-proxy.port" >"$work/coap-proxy.log" 2>&1 &
proxy_pid=$!
wait_for_port "$work/coap-proxy.port" "$proxy_pid" "$work/coap-proxy.log"
coap_uri="coaps://127.0.0.1:$(cat "$work/coap-proxy.port")"
coap_flags=(-k demo-secret -u demo-device --lossy-link 50 --ack-timeout 1000 --max-retransmit 10 -B 120)
echo "\$ coaps-client ${coap_flags[*]} $coap_uri/hello"
"$coap/coaps-client" "${coap_flags[@]}" -v 5 "$coap_uri/hello"
echo "\$ coaps-client ... -s 3 $coap_uri/time    (observe for 3 s)"
"$coap/coaps-client" "${coap_flags[@]}" -s 3 "$coap_uri/time"
kill "$server_pid"
wait "$server_pid" || true
server_pid=
stop_proxy
echo "-- what the server saw"
grep -E 'established|ended' "$work/coap-server.log" | sed 's/^coaps-server: //'
echo "-- what the proxy did"
tail -2 "$work/coap-proxy.log"
