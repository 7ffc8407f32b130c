#!/usr/bin/env bash
# The MatrixSSL example pair over DTLS through `petrel proxy` at 30 % loss
# each way, three runs with fixed seeds, each with a new server and a new
# proxy. Both sides run the application's resend timer at 300 ms (-t 300,
# doubling up to 2.4 s): the handshake must complete and the message come
# back, and at least one "timeout, resending flight" line must show that
# the application's timer (the seed's case 7) did the resending.
#
# DTLS retransmits neither application data nor alerts. The client sends
# its message again when no echo comes (a line says so), and the client's
# close_notify may be lost: the server then gives the connection up after
# 3 s of silence (-i 3000), which the script accepts and reports.
#
# usage: lossy_pair.sh PETREL_TOOL SERVER CLIENT
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../../tests/lossy/lib.sh
. "$(dirname "$0")/../../tests/lossy/lib.sh"
if [ $# -ne 3 ]; then
    echo "usage: $0 PETREL_TOOL SERVER CLIENT"
    exit 2
fi
petrel=$1 server=$2 client=$3
psk=(-k 0102030405060708090a0b0c0d0e0f10 -u mssl-lossy)
seeds=(1 2 3)
work=$(mktemp -d)
server_pid=""
proxy_pid=""
cleanup() {
    stop "$proxy_pid"
    stop "$server_pid"
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
resends=0
start=$SECONDS
check() { # FILE FIXED_TEXT RUN
    if ! grep -qF -- "$2" "$1"; then
        echo "FAIL: run $3: $(basename "$1") lacks: $2"
        failures=$((failures + 1))
    fi
}
for seed in "${seeds[@]}"; do
    run=$seed
    msg="hello through 30% loss, seed $seed"
    rm -f "$work/port" "$work/proxy.port"
    "$server" -p 0 -P "$work/port" -t 300 -i 3000 "${psk[@]}" >"$work/server$run.log" 2>&1 &
    server_pid=$!
    if ! wait_for_file "$work/port" 10 "$server_pid"; then
        echo "FAIL: run $run: the server did not come up"
        cat "$work/server$run.log"
        exit 1
    fi
    "$petrel" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$(cat "$work/port")" --loss 30% \
        --seed "$seed" --port-file "$work/proxy.port" >"$work/proxy$run.log" 2>&1 &
    proxy_pid=$!
    if ! wait_for_file "$work/proxy.port" 10 "$proxy_pid"; then
        echo "FAIL: run $run: the proxy did not come up"
        cat "$work/proxy$run.log"
        exit 1
    fi
    t0=$SECONDS
    timeout 40 "$client" -p "$(cat "$work/proxy.port")" -t 300 -m "$msg" "${psk[@]}" \
        >"$work/client$run.log" 2>&1
    client_rc=$?
    # The server ends by itself: at the client's close_notify, or 3 s
    # after the client fell silent when the close_notify was lost.
    wait_exit "$server_pid" 10 && server_pid=""
    server_rc=$exit_rc
    stop "$proxy_pid"
    proxy_pid=""

    echo "==== run $run (seed $seed): client exit $client_rc after $((SECONDS - t0)) s," \
        "server exit $server_rc"
    sed 's/^/  | /' "$work/client$run.log" "$work/server$run.log" "$work/proxy$run.log"
    slog=$work/server$run.log
    clog=$work/client$run.log
    [ "$client_rc" = 0 ] || {
        echo "FAIL: run $run: the client exited $client_rc"
        failures=$((failures + 1))
    }
    check "$clog" "client: handshake complete" "$run"
    check "$clog" "client: received ${#msg} bytes: \"$msg\"" "$run"
    check "$clog" "client: done" "$run"
    check "$slog" "server: connection 1: handshake complete" "$run"
    check "$slog" "server: connection 1: received ${#msg} bytes: \"$msg\"" "$run"
    if [ "$server_rc" = 0 ] && grep -q "server: connection 1 closed cleanly" "$slog"; then
        echo "run $run: the server saw the client's close_notify"
    elif [ "$server_rc" = 1 ] &&
        grep -q "server: connection 1: error: nothing from the client for 3000 ms" "$slog"; then
        echo "run $run: the client's close_notify was lost; the server gave up after 3 s"
    else
        echo "FAIL: run $run: the server ended neither cleanly nor by its idle limit" \
            "(exit $server_rc)"
        failures=$((failures + 1))
    fi
    n=$(cat "$clog" "$slog" | grep -c "timeout, resending flight")
    echo "run $run: $n resends on the application's timer"
    resends=$((resends + n))
done

if [ "$resends" -eq 0 ]; then
    echo "FAIL: no run printed \"timeout, resending flight\": the resend timer was not exercised"
    failures=$((failures + 1))
fi
echo "${#seeds[@]} runs, $resends resends in all, $((SECONDS - start)) s"
if [ "$failures" -ne 0 ]; then
    echo "lossy_pair: $failures checks failed"
    exit 1
fi
echo "lossy_pair: all as expected"
