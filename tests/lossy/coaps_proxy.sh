#!/usr/bin/env bash
# CoAPs through `petrel proxy` at 20 % loss each way: GET /big (64 KiB,
# 64 Block2 exchanges) must arrive whole, with the checksum of the body
# rebuilt here, and the server must stop cleanly afterwards.
#
#   own      our coaps-client against our coaps-server, random loss (20 %
#            each way, netem's model), one proxy per seed, the seeds run at
#            the same time. Both use petrel's lossy-link DTLS profile; the
#            client uses CoAP transmission parameters for a lossy link with
#            a short round trip (ACK_TIMEOUT 1 s, libcoap's floor, and 10
#            retransmissions), so a run fails only if one message is lost
#            11 times in a row (p < 2e-5 per exchange).
#   libcoap  libcoap's own client (PEER, e.g. coap-client-openssl) against
#            our coaps-server, 20 % random loss of the requests (client to
#            server; seed 1, so the same ones every run). Not both ways:
#            libcoap 4.3.1's client drops its block-wise transfer state
#            93 s (RFC 7252's MAX_TRANSMIT_WAIT) after the transfer began,
#            however far along it is, and then ignores the remaining
#            blocks and waits for -B. With its fixed RFC 7252 timers
#            (ACK_TIMEOUT 2-3 s, doubling) 64 exchanges at 20 % loss each
#            way take 70 to 200 s, so it stalls in most runs, against
#            libcoap's own coap-server-openssl just as against ours
#            (docs/coaps.md, "Under loss"; docs/bench/coaps-loss.md). Loss
#            of the requests alone cost it 29 to 53 s over seeds 1-4.
#
# PETREL_LOSSY_DIVISOR > 1 (CI's sanitizer pass, as for test_lossy) keeps
# only the first seed of `own`.
#
# Every wait is bounded; the server and the proxies are stopped by PID.
# The last line is "coaps proxy test MODE: all as expected" only when
# every check held.
#
# usage: coaps_proxy.sh PETREL_TOOL COAPS_SERVER COAPS_CLIENT own SEED...
#        coaps_proxy.sh PETREL_TOOL COAPS_SERVER - libcoap PEER
set -uo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
petrel=$1 server=$2 client=$3 mode=$4
shift 4
key="petrel-coaps-loss"
work=$(mktemp -d)
pids=()
failures=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

check() { # NAME RESULT(0 = held) [LOG...]
    local name=$1 result=$2
    shift 2
    if [ "$result" -eq 0 ]; then
        echo "ok:   $name"
        return
    fi
    echo "FAIL: $name"
    for log in "$@"; do
        [ -f "$log" ] && sed "s/^/      | $(basename "$log"): /" "$log"
    done
    failures=$((failures + 1))
}

# Checks that the proxy lost datagrams (its counters, printed when it
# stops) client to server and, unless "c2s" is given, server to client
# too, so that no run passes because nothing was lost.
lost_as_asked() { # PROXY_LOG [c2s]
    local c2s s2c
    c2s=$(sed -n 's/^c2s: .* lost \([0-9]*\),.*/\1/p' "$1")
    s2c=$(sed -n 's/^s2c: .* lost \([0-9]*\),.*/\1/p' "$1")
    echo "proxy: lost ${c2s:-?} client to server, ${s2c:-?} server to client"
    [ "${c2s:-0}" -gt 0 ] && { [ "${2:-}" = c2s ] || [ "${s2c:-0}" -gt 0 ]; }
}

case $mode in
own)
    [ $# -gt 0 ] || { echo "usage: $0 PETREL SERVER CLIENT own SEED..."; exit 2; }
    if [ "${PETREL_LOSSY_DIVISOR:-1}" -gt 1 ] 2>/dev/null; then
        echo "PETREL_LOSSY_DIVISOR=$PETREL_LOSSY_DIVISOR: seed $1 only"
        set -- "$1"
    fi
    server_flags=(--lossy-link 20)
    ;;
libcoap)
    peer=${1:-}
    if ! peer=$(command -v "$peer"); then
        echo "FAIL: libcoap's client '${1:-}' is not installed (Debian: libcoap3-bin)"
        exit 1
    fi
    server_flags=(--lossy-link 20)
    ;;
*)
    echo "usage: $0 PETREL SERVER CLIENT own SEED... | PETREL SERVER - libcoap PEER"
    exit 2
    ;;
esac

# The /big body, rebuilt independently of the server: 1024 lines of 64 bytes.
line=' petrel coaps /big, RFC 7959 block-wise transfer test line.'
for i in $(seq 0 1023); do printf '%04d%s\n' "$i" "$line"; done >"$work/big.ref"
big_sha=$(sha256sum <"$work/big.ref" | cut -d' ' -f1)

"$server" -A 127.0.0.1 -p 0 -k "$key" "${server_flags[@]}" --port-file "$work/port" -v 6 \
    >"$work/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
if ! wait_for_file "$work/port" 10 "$server_pid"; then
    echo "FAIL: the server did not come up"
    cat "$work/server.log"
    exit 1
fi
port=$(cat "$work/port")
echo "coaps-server on 127.0.0.1:$port (pid $server_pid)"

start_proxy() { # NAME SEED IMPAIRMENT...: sets proxy_pid and proxy_port
    local name=$1 seed=$2
    shift 2
    "$petrel" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$port" "$@" \
        --seed "$seed" --port-file "$work/$name.proxy.port" >"$work/$name.proxy.log" 2>&1 &
    proxy_pid=$!
    pids+=("$proxy_pid")
    proxy_port=
    wait_for_file "$work/$name.proxy.port" 10 "$proxy_pid" && proxy_port=$(cat "$work/$name.proxy.port")
}

if [ "$mode" = own ]; then
    runs=()
    for seed in "$@"; do
        start_proxy "seed$seed" "$seed" --loss 20%
        if [ -z "$proxy_port" ]; then
            check "seed $seed: proxy up" 1 "$work/seed$seed.proxy.log"
            continue
        fi
        (
            t0=$(date +%s%N)
            timeout 300 "$client" -B 280 --lossy-link 20 --ack-timeout 1000 --max-retransmit 10 \
                -k "$key" -u "loss-$seed" -o "$work/seed$seed.big" \
                "coaps://127.0.0.1:$proxy_port/big" >"$work/seed$seed.client.log" 2>&1
            rc=$?
            echo "exit $rc after $((($(date +%s%N) - t0) / 1000000)) ms" >>"$work/seed$seed.client.log"
            exit $rc
        ) &
        runs+=("$seed:$!:$proxy_pid")
    done
    for run in "${runs[@]}"; do
        IFS=: read -r seed run_pid proxy_pid <<<"$run"
        wait "$run_pid"
        rc=$?
        stop "$proxy_pid"
        tail -1 "$work/seed$seed.client.log" | sed "s/^/seed $seed: client /"
        lost_as_asked "$work/seed$seed.proxy.log"
        lost=$?
        got=$(sha256sum <"$work/seed$seed.big" 2>/dev/null | cut -d' ' -f1)
        [ "$rc" -eq 0 ] && [ "$got" = "$big_sha" ] && [ "$lost" -eq 0 ]
        check "seed $seed: GET /big through 20 % random loss, sha256 matches" $? \
            "$work/seed$seed.client.log" "$work/seed$seed.proxy.log"
    done
else
    start_proxy libcoap 1 --c2s-loss 20%
    if [ -z "$proxy_port" ]; then
        check "proxy up" 1 "$work/libcoap.proxy.log"
    else
        t0=$(date +%s%N)
        timeout 120 "$peer" -B 100 -k "$key" -u libcoap-client -o "$work/libcoap.big" \
            "coaps://127.0.0.1:$proxy_port/big" >"$work/libcoap.client.log" 2>&1
        echo "$(basename "$peer"): exit $? after $((($(date +%s%N) - t0) / 1000000)) ms"
        stop "$proxy_pid"
        lost_as_asked "$work/libcoap.proxy.log" c2s
        lost=$?
        got=$(sha256sum <"$work/libcoap.big" 2>/dev/null | cut -d' ' -f1)
        # coap-client exits 0 whether or not it got the body: the file decides.
        [ "$got" = "$big_sha" ] && [ "$lost" -eq 0 ]
        check "$(basename "$peer"): GET /big losing 20 % of the requests, sha256 matches" \
            $? "$work/libcoap.client.log" "$work/libcoap.proxy.log"
    fi
fi

# The server is still healthy (one more GET, no loss), then stops cleanly
# on SIGTERM (a sanitizer build reports leaks at that exit).
if [ "$mode" = own ]; then
    timeout 30 "$client" -B 20 -k "$key" -u after "coaps://127.0.0.1:$port/hello" \
        >"$work/after.log" 2>&1
    check "the server still answers GET /hello" $? "$work/after.log"
fi
stop "$server_pid"
check "server stopped cleanly on SIGTERM (exit $stopped_rc)" "$stopped_rc" "$work/server.log"
while read -r f; do
    check "no sanitizer report in $(basename "$f")" 1 "$f"
done < <(grep -l 'Sanitizer' "$work"/*.log 2>/dev/null)
if [ "$failures" -eq 0 ]; then
    echo "coaps proxy test $mode: all as expected"
    exit 0
fi
echo "--- server log"
cat "$work/server.log"
echo "coaps proxy test $mode: $failures check(s) failed"
exit 1
