#!/usr/bin/env bash
# Runs the MatrixSSL example pair on 127.0.0.1: the server on a free port
# (it picks one and writes it to a port file), then the client twice in a
# row (the server serves two connections and exits), over DTLS or TLS,
# with a PSK or with certificates on both sides. Checks the lines both
# print; the last line is "run_pair PROTO AUTH: all as expected" only when
# every check held. Every wait is bounded; the server is stopped by PID.
# usage: run_pair.sh SERVER CLIENT dtls|tls psk|cert PKI_DIR
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../../tests/lossy/lib.sh
. "$(dirname "$0")/../../tests/lossy/lib.sh"
if [ $# -ne 5 ]; then
    echo "usage: $0 SERVER CLIENT dtls|tls psk|cert PKI_DIR"
    exit 2
fi
server=$1 client=$2 proto=$3 auth=$4 pki=$5
psk_hex=0102030405060708090a0b0c0d0e0f10
psk_id=mssl-example

case $auth in
psk)
    server_args=(-k "$psk_hex" -u "$psk_id")
    client_args=(-k "$psk_hex" -u "$psk_id")
    ;;
cert)
    server_args=(-c "$pki/ec-server-chain.pem" -K "$pki/ec-server.key" -A "$pki/ec-root.crt" -V)
    client_args=(-A "$pki/ec-root.crt" -n localhost -c "$pki/ec-client-chain.pem"
        -K "$pki/ec-client.key")
    ;;
*)
    echo "FAIL: the authentication is psk or cert, not '$auth'"
    exit 2
    ;;
esac

work=$(mktemp -d)
server_pid=""
cleanup() {
    stop "$server_pid"
    rm -rf "$work"
}
trap cleanup EXIT

"$server" -p 0 -P "$work/port" -N 2 -i 10000 "${server_args[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
if ! wait_for_file "$work/port" 10 "$server_pid"; then
    echo "FAIL: the server did not come up"
    cat "$work/server.log"
    exit 1
fi
port=$(cat "$work/port")

messages=("hello from a MatrixSSL client" "second $proto $auth message, \"quoted\"")
client_rc=()
for i in 0 1; do
    timeout 40 "$client" -p "$port" -m "${messages[$i]}" "${client_args[@]}" \
        >"$work/client$i.log" 2>&1
    client_rc+=($?)
done

# The server exits by itself after its two connections.
wait_exit "$server_pid" 10 && server_pid=""
server_rc=$exit_rc

for i in 0 1; do
    echo "---- client $((i + 1)) (exit ${client_rc[$i]})"
    cat "$work/client$i.log"
done
echo "---- server (exit $server_rc)"
cat "$work/server.log"
echo "----"

failures=0
expect() { # FILE FIXED_TEXT: a line of FILE holds the text
    if ! grep -qF -- "$2" "$1"; then
        echo "FAIL: $(basename "$1") lacks: $2"
        failures=$((failures + 1))
    fi
}
for i in 0 1; do
    log=$work/client$i.log
    msg=${messages[$i]}
    quoted=${msg//\"/\\\"}
    [ "${client_rc[$i]}" = 0 ] || {
        echo "FAIL: client $((i + 1)) exited ${client_rc[$i]}"
        failures=$((failures + 1))
    }
    expect "$log" "client: handshake complete"
    expect "$log" "client: received ${#msg} bytes: \"$quoted\""
    expect "$log" "client: sent close_notify"
    expect "$log" "client: done"
    expect "$work/server.log" "server: connection $((i + 1)): received ${#msg} bytes: \"$quoted\""
    expect "$work/server.log" "server: connection $((i + 1)) closed cleanly, echoed ${#msg} bytes"
    if [ "$auth" = cert ]; then
        expect "$log" "client: server certificate: subject CN=localhost, issuer CN=petrel test EC intermediate, alert 0"
    fi
done
if [ "$auth" = cert ]; then
    n=$(grep -c "server: client certificate: subject CN=petrel test client, issuer CN=petrel test EC intermediate, alert 0" "$work/server.log")
    [ "$n" -eq 2 ] || {
        echo "FAIL: the server saw $n valid client certificates, not 2"
        failures=$((failures + 1))
    }
fi
expect "$work/server.log" "server: done"
[ "$server_rc" = 0 ] || {
    echo "FAIL: the server's exit status is $server_rc"
    failures=$((failures + 1))
}
if [ "$failures" -ne 0 ]; then
    echo "run_pair $proto $auth: $failures checks failed"
    exit 1
fi
echo "run_pair $proto $auth: all as expected"
