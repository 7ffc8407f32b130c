#!/usr/bin/env bash
# The MatrixSSL socket layer over UDP through `petrel proxy` at 30 % loss
# both ways (10 ms each way): the example reflector
# (examples/sockets/reflector.c) behind the proxy, and the example client
# run ten times in turn, each time through a new proxy with its own seed.
# Every run must complete its DTLS handshake (retransmitted inside the
# blocking sslConnect / sslAccept) and get its message echoed back.
#
# Both examples use petrel's lossy-link retransmission profile (their
# --lossy-link flag, matrixSslKeysSetLossyLink): with RFC 6347's 1 s
# doubling timers a run at 30 % loss takes seconds to minutes, too long
# for ten runs in a test. The client resends its message when no echo
# comes within 300 ms (DTLS does not retransmit application data), and
# the reflector drops a client silent for 3 s (its close_notify may be
# lost; until the reflector lets go of it, the next client's hellos are
# refused by the connected UDP socket and retransmitted). The idle time
# spans ten of the client's attempts, so a live client is not dropped.
#
# usage: sslsocket_proxy.sh PETREL_TOOL REFLECTOR CLIENT
set -uo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
petrel=$1 reflector=$2 client=$3
runs=10
work=$(mktemp -d)
reflector_pid=""
proxy_pid=""
cleanup() {
    stop "$proxy_pid"
    stop "$reflector_pid"
    rm -rf "$work"
}
trap cleanup EXIT

"$reflector" --tls-port 0 --dtls-port 0 --port-file "$work/ports" --lossy-link 40 \
    --idle-ms 3000 >"$work/reflector.log" 2>&1 &
reflector_pid=$!
if ! wait_for_file "$work/ports" 10 "$reflector_pid"; then
    echo "FAIL: the reflector did not come up"
    cat "$work/reflector.log"
    exit 1
fi
read -r _ dtls_port <"$work/ports"

start=$SECONDS
passed=0 failed=0
for i in $(seq "$runs"); do
    seed=$((1000 + i))
    rm -f "$work/proxy.port"
    "$petrel" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$dtls_port" --loss 30% \
        --delay 10ms --seed "$seed" --port-file "$work/proxy.port" >"$work/proxy$i.log" 2>&1 &
    proxy_pid=$!
    if ! wait_for_file "$work/proxy.port" 10 "$proxy_pid"; then
        echo "FAIL: run $i: the proxy did not come up"
        cat "$work/proxy$i.log"
        failed=$((failed + 1))
        stop "$proxy_pid"
        proxy_pid=
        continue
    fi
    t0=$(date +%s%N)
    timeout 60 "$client" --dtls --port "$(cat "$work/proxy.port")" --lossy-link 40 \
        --retry-ms 300 --timeout-ms 15000 --message "hello $i through 30% loss" \
        >"$work/client$i.log" 2>&1
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    stop "$proxy_pid"
    proxy_pid=
    if [ "$rc" -eq 0 ] && grep -q "echo ok: \"hello $i through 30% loss\"" "$work/client$i.log"; then
        echo "ok: run $i (seed $seed): $ms ms: $(grep -E 'handshake complete|echo ok' "$work/client$i.log" | tr '\n' ' ')"
        passed=$((passed + 1))
    else
        echo "FAIL: run $i (seed $seed): exit $rc after $ms ms"
        sed 's/^/  | /' "$work/client$i.log" "$work/proxy$i.log"
        failed=$((failed + 1))
    fi
done
stop "$reflector_pid"
reflector_pid=
echo "reflector:"
sed 's/^/  | /' "$work/reflector.log"
echo "$passed passed, $failed failed in $((SECONDS - start)) s"
[ "$failed" -eq 0 ] && [ "$passed" -eq "$runs" ]
