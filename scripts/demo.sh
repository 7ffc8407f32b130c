#!/usr/bin/env bash
# The README's first command: installs what is missing, builds petrel, and
# runs a real DTLS 1.2 PSK handshake and echo on loopback between the
# petrel server and the petrel client, through `petrel proxy` dropping 30 %
# of the datagrams each way (seeded, so the same datagrams are lost every
# time), printing what each side and the proxy saw; then the same with
# certificates (an ECDSA chain from the test PKI, verified by the client).
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
echo "== petrel proxy in front of it: 30 % loss and 25 ms delay each way, seed 7"
"$petrel" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$port" --loss 30% --delay 25ms \
    --seed 7 --port-file "$work/proxy.port" >"$work/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 100); do
    [ -s "$work/proxy.port" ] && break
    sleep 0.05
done
[ -s "$work/proxy.port" ] || { echo "proxy did not start"; cat "$work/proxy.log"; exit 1; }
echo "== client: handshake through the proxy, send, wait for the echo"
"$petrel" client --dtls --connect "127.0.0.1:$(cat "$work/proxy.port")" --psk-identity demo \
    --psk "$psk" --send "hello over DTLS 1.2, through a lossy link" --timeout 120000
# The client's close_notify crosses the lossy link too: give the server a
# moment to see it, or stop it (it would expire the session by itself).
for _ in $(seq 60); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$server_pid" 2>/dev/null; then
    echo "(the client's close_notify was lost on the way; stopping the server)"
    kill "$server_pid"
fi
wait "$server_pid" || true
server_pid=
kill "$proxy_pid"
wait "$proxy_pid" || true
proxy_pid=
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
for _ in $(seq 100); do
    [ -s "$work/cert.port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/cert-server.log"; exit 1; }
    sleep 0.05
done
[ -s "$work/cert.port" ] || { echo "server did not start"; cat "$work/cert-server.log"; exit 1; }
"$petrel" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$(cat "$work/cert.port")" --loss 30% \
    --delay 25ms --seed 3 --port-file "$work/cert-proxy.port" >"$work/cert-proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 100); do
    [ -s "$work/cert-proxy.port" ] && break
    sleep 0.05
done
[ -s "$work/cert-proxy.port" ] || { echo "proxy did not start"; cat "$work/cert-proxy.log"; exit 1; }
"$petrel" client --dtls --connect "127.0.0.1:$(cat "$work/cert-proxy.port")" \
    --ca "$pki/ca-all.pem" --servername 127.0.0.1 \
    --send "hello over DTLS 1.2 with certificates" --timeout 120000
for _ in $(seq 60); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
done
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" || true
server_pid=
kill "$proxy_pid"
wait "$proxy_pid" || true
proxy_pid=
grep -v '^listening' "$work/cert-server.log"

# The same handshake core over a byte stream: TLS 1.2 on TCP, the same
# certificates, the same tool with --tls.
echo
echo "== TLS 1.2 over TCP: the same core on a byte stream (petrel server/client --tls)"
"$petrel" server --tls --listen 127.0.0.1:0 --port-file "$work/tls.port" \
    --cert "$pki/ec-server-chain.pem" --key "$pki/ec-server.key" --echo --once \
    >"$work/tls-server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    [ -s "$work/tls.port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/tls-server.log"; exit 1; }
    sleep 0.05
done
[ -s "$work/tls.port" ] || { echo "server did not start"; cat "$work/tls-server.log"; exit 1; }
"$petrel" client --tls --connect "127.0.0.1:$(cat "$work/tls.port")" \
    --ca "$pki/ca-all.pem" --servername 127.0.0.1 \
    --send "hello over TLS 1.2" --timeout 10000
for _ in $(seq 60); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
done
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" || true
server_pid=
grep -v '^listening' "$work/tls-server.log"
