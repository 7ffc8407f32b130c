# shellcheck shell=bash
# shellcheck disable=SC2034 # globals the sourcing scripts read
# Shared helpers for the interop scripts (sourced, not run).
#
#   . "$(dirname "$0")/lib.sh"
#   interop_init NAME PETREL_BINARY     # scratch dir ./NAME, EXIT trap
#   require_peer openssl                # missing peer: FAIL and exit 1
#   ... cases: pass DESC / fail DESC REASON [LOG...] ...
#   interop_finish                      # "N passed, M failed", exit status
#
# Every background process is started through spawn (or start_udp_server)
# under `timeout`, its PID is recorded and it is stopped by that PID:
# between cases (stop_all) and in the EXIT trap. Every wait is a bounded
# poll of a condition; nothing synchronises on a bare sleep.

PSK_IDENTITY=id
PSK_HEX=0102030405060708090a0b0c0d0e0f10

# Upper bound on any one peer process's life (seconds): a safety net in
# case the script itself is killed before its EXIT trap runs.
INTEROP_PEER_LIMIT=${INTEROP_PEER_LIMIT:-90}
# Default bound for one wait (seconds).
INTEROP_WAIT=${INTEROP_WAIT:-10}

# Results the helpers leave for the calling script.
LAST_PID=  # spawn, start_udp_server, start_petrel_server
PEER_PORT= # start_udp_server, start_petrel_server
EXIT_RC=   # wait_for_exit
FIFO_PATH= # make_fifo
CASE_DIR=  # case_begin
INTEROP_PIDS=()
declare -A INTEROP_FIFO_FD=()
INTEROP_PASSED=0
INTEROP_FAILED=0
INTEROP_FAILED_NAMES=()

interop_init() { # NAME PETREL_BINARY
    local name=$1
    PETREL=${2:-}
    if [ -z "$PETREL" ] || [ ! -x "$PETREL" ]; then
        echo "FAIL: the petrel tool '${PETREL}' is not an executable (usage: $0 PETREL_BINARY)"
        exit 1
    fi
    case $PETREL in /*) ;; *) PETREL=$PWD/$PETREL ;; esac
    WORK=$PWD/$name
    rm -rf "$WORK"
    mkdir -p "$WORK" || exit 1
    trap interop_cleanup EXIT
    trap 'echo "interrupted"; exit 130' INT TERM HUP
    INTEROP_T0=$SECONDS
    echo "petrel: $PETREL"
    echo "logs: $WORK"
}

require_peer() { # BINARY
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "FAIL: peer $1 not installed"
        exit 1
    fi
}

# ---------------------------------------------------------------- results

pass() { # DESC
    echo "ok: $1"
    INTEROP_PASSED=$((INTEROP_PASSED + 1))
}

fail() { # DESC REASON [LOG...]
    local desc=$1 reason=$2 log
    shift 2
    echo "FAIL: $desc: $reason"
    for log in "$@"; do
        [ -e "$log" ] || continue
        echo "  ---- $log (last 40 lines) ----"
        tail -n 40 "$log" | sed 's/^/  | /'
    done
    INTEROP_FAILED=$((INTEROP_FAILED + 1))
    INTEROP_FAILED_NAMES+=("$desc")
}

interop_finish() {
    stop_all
    local name
    for name in "${INTEROP_FAILED_NAMES[@]}"; do echo "failed: $name"; done
    echo "$INTEROP_PASSED passed, $INTEROP_FAILED failed ($((SECONDS - INTEROP_T0)) s)"
    [ "$INTEROP_FAILED" -eq 0 ] && [ "$INTEROP_PASSED" -gt 0 ]
    exit $?
}

# ---------------------------------------------------------------- processes

pid_alive() { # PID -> 0 while it runs (a zombie counts as exited)
    local st
    kill -0 "$1" 2>/dev/null || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ "$st" != Z ]
}

_forget_pid() { # PID: drop it from the list once reaped (PIDs get reused)
    local keep=() p
    for p in "${INTEROP_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    INTEROP_PIDS=("${keep[@]}")
}

# wait_for_exit PID TIMEOUT_S: 0 once PID has exited (its status in
# EXIT_RC), 1 if it still runs after TIMEOUT_S.
wait_for_exit() {
    local pid=$1 i limit=$(($2 * 20))
    EXIT_RC=
    for ((i = 0; i < limit; i++)); do
        pid_alive "$pid" || break
        sleep 0.05
    done
    pid_alive "$pid" && return 1
    wait "$pid" 2>/dev/null
    EXIT_RC=$?
    _forget_pid "$pid"
    return 0
}

# stop_pid PID: SIGTERM (timeout forwards it to the peer), then SIGKILL to
# the PID and the children it has if it does not go within 5 s.
stop_pid() {
    local pid=$1 kids
    pid_alive "$pid" || { wait_for_exit "$pid" 1; return 0; }
    kill -TERM "$pid" 2>/dev/null
    if ! wait_for_exit "$pid" 5; then
        kids=$(ps -o pid= --ppid "$pid" 2>/dev/null)
        # shellcheck disable=SC2086
        kill -KILL "$pid" $kids 2>/dev/null
        wait_for_exit "$pid" 2 || true
    fi
}

stop_all() {
    local pid
    for pid in "${INTEROP_PIDS[@]}"; do stop_pid "$pid"; done
    for pid in "${!INTEROP_FIFO_FD[@]}"; do fifo_close "$pid"; done
}

interop_cleanup() {
    local rc=$?
    trap - EXIT
    stop_all
    exit $rc
}

_close_fifo_fds() { # in a child: do not hold other peers' stdin open
    local name fd
    for name in "${!INTEROP_FIFO_FD[@]}"; do
        fd=${INTEROP_FIFO_FD[$name]}
        exec {fd}>&-
    done
}

# spawn STDIN LOG CMD...: CMD in the background, stdin from the file STDIN
# ("/dev/null" or a fifo made by make_fifo), stdout and stderr to LOG, under
# `timeout`. Sets LAST_PID.
spawn() {
    local in=$1 log=$2
    shift 2
    (
        _close_fifo_fds
        exec timeout -k 2 "$INTEROP_PEER_LIMIT" "$@" <"$in" >"$log" 2>&1
    ) &
    LAST_PID=$!
    INTEROP_PIDS+=("$LAST_PID")
}

# make_fifo NAME: a fifo $WORK/NAME.fifo whose write end this shell holds
# (opened read-write so that the open does not block); a peer spawned with
# it as stdin sees EOF only at fifo_close. Prints the fifo's path.
make_fifo() {
    local path=$WORK/$1.fifo fd
    rm -f "$path"
    mkfifo "$path" || return 1
    exec {fd}<>"$path"
    INTEROP_FIFO_FD[$1]=$fd
    FIFO_PATH=$path
}

fifo_send() { # NAME LINE: one line into the peer's stdin
    local fd=${INTEROP_FIFO_FD[$1]:-}
    [ -n "$fd" ] || { echo "fifo_send: no fifo '$1'" >&2; return 1; }
    printf '%s\n' "$2" >&"$fd"
}

fifo_close() { # NAME: the peer reads EOF
    local fd=${INTEROP_FIFO_FD[$1]:-}
    [ -n "$fd" ] || return 0
    exec {fd}>&-
    unset "INTEROP_FIFO_FD[$1]"
}

# ---------------------------------------------------------------- waiting

# wait_for_line FILE REGEX TIMEOUT_S [PID...]: 0 as soon as a line of FILE
# matches the extended REGEX; 1 after TIMEOUT_S, or as soon as one of the
# PIDs (when given) has exited without the line appearing.
wait_for_line() {
    local file=$1 re=$2 limit=$(($3 * 20)) i pid
    shift 3
    for ((i = 0; i < limit; i++)); do
        grep -Eq -- "$re" "$file" 2>/dev/null && return 0
        for pid in "$@"; do
            pid_alive "$pid" || break 2
        done
        sleep 0.05
    done
    grep -Eq -- "$re" "$file" 2>/dev/null
}

wait_for_file() { # FILE TIMEOUT_S: non-empty
    local i limit=$(($2 * 20))
    for ((i = 0; i < limit; i++)); do
        [ -s "$1" ] && return 0
        sleep 0.05
    done
    [ -s "$1" ]
}

# ---------------------------------------------------------------- ports

# free_udp_port: a UDP port free on 0.0.0.0 (so on 127.0.0.1 too) and, when
# the host has IPv6, on :: (gnutls-serv binds both). Bind-tested with
# python3 when it works, else a random port absent from `ss -Huan`. The port
# can still be taken before the peer binds it: start_udp_server retries.
free_udp_port() {
    local port used i
    if port=$(python3 - 2>/dev/null <<'EOF'
import errno, socket
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    ok = True
    try:
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s6.bind(("::", port))
        s6.close()
    except OSError as e:
        ok = e.errno != errno.EADDRINUSE
    s.close()
    if ok:
        print(port)
        break
EOF
    ) && [ -n "$port" ]; then
        echo "$port"
        return 0
    fi
    used=$(ss -Huan 2>/dev/null | awk '{print $4}' | sed 's/.*://')
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + RANDOM % 40000))
        grep -qx -- "$port" <<<"$used" || { echo "$port"; return 0; }
    done
    return 1
}

# start_udp_server STDIN LOG READY_REGEX FAIL_REGEX CMD...: picks a free
# port, replaces @PORT@ in CMD (and in READY_REGEX) with it, spawns CMD and
# waits for READY_REGEX in LOG. If the peer exits or logs FAIL_REGEX (the
# port was taken meanwhile) it is stopped and retried on another port, up
# to 3 times. Sets PEER_PORT and LAST_PID; 1 on failure.
start_udp_server() {
    local in=$1 log=$2 ready=$3 bad=$4 attempt port arg
    shift 4
    for attempt in 1 2 3; do
        port=$(free_udp_port) || return 1
        local cmd=()
        for arg in "$@"; do cmd+=("${arg//@PORT@/$port}"); done
        spawn "$in" "$log" "${cmd[@]}"
        local i limit=$((INTEROP_WAIT * 20)) up=0
        for ((i = 0; i < limit; i++)); do
            if grep -Eq -- "${ready//@PORT@/$port}" "$log" 2>/dev/null; then
                up=1
                break
            fi
            grep -Eq -- "$bad" "$log" 2>/dev/null && break
            pid_alive "$LAST_PID" || break
            sleep 0.05
        done
        if [ $up = 1 ]; then
            PEER_PORT=$port
            return 0
        fi
        stop_pid "$LAST_PID"
        echo "  (peer did not come up on port $port, attempt $attempt)"
        cp "$log" "$log.attempt$attempt" 2>/dev/null
    done
    return 1
}

# start_petrel_server LOG ARGS...: `petrel server --dtls --listen
# 127.0.0.1:0 --port-file ...` plus ARGS; sets PEER_PORT and LAST_PID.
start_petrel_server() {
    local log=$1 portfile=$1.port
    shift
    rm -f "$portfile"
    spawn /dev/null "$log" "$PETREL" server --dtls --listen 127.0.0.1:0 --port-file "$portfile" \
        --psk-identity "$PSK_IDENTITY" --psk "$PSK_HEX" "$@"
    if ! wait_for_file "$portfile" "$INTEROP_WAIT" ||
        ! wait_for_line "$log" '^listening on ' "$INTEROP_WAIT" "$LAST_PID"; then
        return 1
    fi
    PEER_PORT=$(cat "$portfile")
}

# A string of N copies of the letter h (a long PSK identity hint).
long_hint() { printf 'h%.0s' $(seq "$1"); }

# case_begin DESC: 1 (and a FAIL line) once the script has spent its time
# budget, so that a run where every case times out still prints its summary
# well inside the ctest TIMEOUT; else makes CASE_DIR, a per-case scratch
# directory $WORK/NN-words-of-the-description.
INTEROP_BUDGET=${INTEROP_BUDGET:-200}
CASE_NO=0
case_begin() { # DESC
    if [ $((SECONDS - INTEROP_T0)) -ge "$INTEROP_BUDGET" ]; then
        fail "$1" "not run: the script's ${INTEROP_BUDGET} s budget is spent"
        return 1
    fi
    CASE_NO=$((CASE_NO + 1))
    local slug
    slug=$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '-' | tr -s '-' | cut -c1-80)
    CASE_DIR=$(printf '%s/%02d-%s' "$WORK" "$CASE_NO" "$slug")
    mkdir -p "$CASE_DIR"
}

# ---------------------------------------------------------------- certificates

# start_petrel_cert_server LOG ARGS...: `petrel server --dtls --listen
# 127.0.0.1:0 --port-file ...` plus ARGS, without the PSK options that
# start_petrel_server adds (certificate and raw-public-key runs); sets
# PEER_PORT and LAST_PID.
start_petrel_cert_server() {
    local log=$1 portfile=$1.port
    shift
    rm -f "$portfile"
    spawn /dev/null "$log" "$PETREL" server --dtls --listen 127.0.0.1:0 --port-file "$portfile" "$@"
    if ! wait_for_file "$portfile" "$INTEROP_WAIT" ||
        ! wait_for_line "$log" '^listening on ' "$INTEROP_WAIT" "$LAST_PID"; then
        return 1
    fi
    PEER_PORT=$(cat "$portfile")
}

# start_dump_proxy LOG DIR PORT: `petrel proxy` without impairments, from a
# port of its own on 127.0.0.1 to 127.0.0.1:PORT, writing every datagram to
# DIR as NNNNNN-c2s.bin / NNNNNN-s2c.bin (client to server / server to
# client). Sets PROXY_PORT and LAST_PID; 1 if it did not come up.
PROXY_PORT= # start_dump_proxy
start_dump_proxy() {
    local log=$1 dir=$2 portfile=$1.port
    rm -f "$portfile"
    spawn /dev/null "$log" "$PETREL" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$3" \
        --port-file "$portfile" --dump "$dir"
    wait_for_file "$portfile" "$INTEROP_WAIT" || return 1
    PROXY_PORT=$(cat "$portfile")
}

# datagram_stats DIR DIRECTION: prints "COUNT MAX_BYTES" of the datagrams
# start_dump_proxy wrote to DIR in DIRECTION (c2s or s2c).
datagram_stats() {
    local f n=0 max=0 size
    for f in "$1"/*-"$2".bin; do
        [ -e "$f" ] || continue
        size=$(stat -c %s "$f")
        n=$((n + 1))
        [ "$size" -gt "$max" ] && max=$size
    done
    echo "$n $max"
}

# split_args ARG...: the arguments before the first "--" into ARGS_A, the
# ones after it into ARGS_B (for cases that take two peers' arguments).
ARGS_A=()
ARGS_B=()
split_args() {
    local seen=0 a
    ARGS_A=()
    ARGS_B=()
    for a in "$@"; do
        if [ $seen = 0 ] && [ "$a" = -- ]; then
            seen=1
        elif [ $seen = 0 ]; then
            ARGS_A+=("$a")
        else
            ARGS_B+=("$a")
        fi
    done
}

# check_datagrams DIR SPEC: SPEC is DIRECTION:MIN:MAX (c2s or s2c). Prints
# nothing and returns 0 when DIR holds at least MIN datagrams of DIRECTION
# and none larger than MAX bytes; else prints why and returns 1.
check_datagrams() {
    local dir=$1 way min max n biggest
    IFS=: read -r way min max <<<"$2"
    read -r n biggest <<<"$(datagram_stats "$dir" "$way")"
    if [ "$n" -lt "$min" ]; then
        echo "only $n $way datagrams (expected at least $min)"
        return 1
    elif [ "$biggest" -gt "$max" ]; then
        echo "a $way datagram of $biggest bytes (limit $max)"
        return 1
    fi
}
