#!/usr/bin/env bash
# Runs the socket-layer example pair on 127.0.0.1: the reflector on free
# ports (it picks them and writes them to a port file), then the client
# over TLS or DTLS; the reflector serves that one connection and exits.
# Every wait is bounded and every process is stopped by its PID.
# usage: run_pair.sh REFLECTOR CLIENT tls|dtls [--cert PKI_DIR] [CLIENT_ARGS...]
set -uo pipefail
reflector=$1 client=$2 proto=$3
shift 3
server_args=()
if [ "${1:-}" = --cert ]; then
    server_args=(--cert "$2")
fi
work=$(mktemp -d)
reflector_pid=
cleanup() {
    if [ -n "$reflector_pid" ] && kill -0 "$reflector_pid" 2>/dev/null; then
        kill "$reflector_pid" 2>/dev/null
        wait "$reflector_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$reflector" --tls-port 0 --dtls-port 0 --port-file "$work/ports" --count 1 --idle-ms 10000 \
    "${server_args[@]}" >"$work/reflector.log" 2>&1 &
reflector_pid=$!
for _ in $(seq 200); do # 10 s
    [ -s "$work/ports" ] && break
    kill -0 "$reflector_pid" 2>/dev/null || break
    sleep 0.05
done
if [ ! -s "$work/ports" ]; then
    echo "FAIL: the reflector did not come up"
    cat "$work/reflector.log"
    exit 1
fi
read -r tls_port dtls_port <"$work/ports"
port=$tls_port
[ "$proto" = dtls ] && port=$dtls_port

timeout 60 "$client" "--$proto" --port "$port" "$@"
client_rc=$?

# The reflector exits by itself after its one connection.
for _ in $(seq 200); do # 10 s
    kill -0 "$reflector_pid" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$reflector_pid" 2>/dev/null; then
    echo "FAIL: the reflector did not finish"
    reflector_rc=1
else
    wait "$reflector_pid"
    reflector_rc=$?
fi
reflector_pid=
cat "$work/reflector.log"
echo "client exit $client_rc, reflector exit $reflector_rc"
[ "$client_rc" -eq 0 ] && [ "$reflector_rc" -eq 0 ]
