# shellcheck shell=bash
# shellcheck disable=SC2034 # globals the sourcing scripts read
# Shared helpers for the interop scripts (sourced, not run).
#
#   . "$(dirname "$0")/lib.sh"
#   interop_init NAME PETREL_BINARY     # scratch dir ./NAME, EXIT trap
#   interop_transport tls               # optional: TLS over TCP (default DTLS)
#   require_peer openssl                # missing peer: FAIL and exit 1
#   ... cases: pass DESC / fail DESC REASON [LOG...] ...
#   interop_finish                      # "N passed, M failed", exit status
#
# The common shapes of case are one call of a skeleton (at the end of this
# file): petrel client -> peer server and peer client -> petrel server,
# completing with data both ways or refused, for OpenSSL (ossl_*) and
# GnuTLS (gnutls_*), on the transport interop_transport chose. Other cases
# are written out: case_begin, then checks with need / need_line /
# await_line / need_exit (the first that fails gives the case's reason,
# the ones after it do nothing), then case_end.
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
CASE_WHY=  # case_begin clears it; need and the checks after it set it
INTEROP_PIDS=()
declare -A INTEROP_FIFO_FD=()
INTEROP_PASSED=0
INTEROP_FAILED=0
INTEROP_FAILED_NAMES=()

# ---------------------------------------------------------------- transport

# What differs between DTLS and TLS runs, for the helpers and skeletons:
#   PETREL_PROTO   the petrel tool's flag (--dtls / --tls)
#   PROTO_NAME     the version petrel prints ("DTLS 1.2" / "TLS 1.2")
#   OSSL_PROTO     openssl s_server's and s_client's flag (-dtls1_2 / -tls1_2)
#   GNUTLS_PROTO   gnutls-serv's and gnutls-cli's flags (--udp / none)
#   GNUTLS_VERS    the version in GnuTLS priority strings
#   PORT_KIND      the kind of port the servers bind (udp / tcp)
PETREL_PROTO=--dtls
PROTO_NAME="DTLS 1.2"
OSSL_PROTO=-dtls1_2
GNUTLS_PROTO=(--udp)
GNUTLS_VERS=VERS-DTLS1.2
PORT_KIND=udp

interop_transport() { # dtls | tls
    case $1 in
    dtls)
        PETREL_PROTO=--dtls PROTO_NAME="DTLS 1.2" OSSL_PROTO=-dtls1_2
        GNUTLS_PROTO=(--udp) GNUTLS_VERS=VERS-DTLS1.2 PORT_KIND=udp
        ;;
    tls)
        PETREL_PROTO=--tls PROTO_NAME="TLS 1.2" OSSL_PROTO=-tls1_2
        GNUTLS_PROTO=() GNUTLS_VERS=VERS-TLS1.2 PORT_KIND=tcp
        ;;
    *)
        echo "FAIL: interop_transport takes dtls or tls, not '$1'"
        exit 1
        ;;
    esac
    echo "transport: $PROTO_NAME"
}

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

# wait_for_size FILE BYTES TIMEOUT_S [PID...]: 0 as soon as FILE holds at
# least BYTES bytes; 1 after TIMEOUT_S, or once one of the PIDs has exited
# without that.
wait_for_size() {
    local file=$1 want=$2 limit=$(($3 * 20)) i pid
    shift 3
    for ((i = 0; i < limit; i++)); do
        [ "$(stat -c %s "$file" 2>/dev/null || echo 0)" -ge "$want" ] && return 0
        for pid in "$@"; do
            pid_alive "$pid" || break 2
        done
        sleep 0.05
    done
    [ "$(stat -c %s "$file" 2>/dev/null || echo 0)" -ge "$want" ]
}

# ---------------------------------------------------------------- ports

# free_port udp|tcp: a port free on 0.0.0.0 (so on 127.0.0.1 too) and,
# when the host has IPv6, on :: (gnutls-serv binds both). Bind-tested with
# python3 when it works, else a random port absent from `ss -Huan` (-Htan
# for TCP). The port can still be taken before the peer binds it:
# start_udp_server and its siblings retry.
free_port() {
    local kind=$1 port used i
    if port=$("${INTEROP_PYTHON:-python3}" - "$kind" 2>/dev/null <<'EOF'
import errno, socket, sys
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
for _ in range(100):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    ok = True
    try:
        s6 = socket.socket(socket.AF_INET6, kind)
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
    if [ "$kind" = tcp ]; then
        used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://')
    else
        used=$(ss -Huan 2>/dev/null | awk '{print $4}' | sed 's/.*://')
    fi
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + RANDOM % 40000))
        grep -qx -- "$port" <<<"$used" || { echo "$port"; return 0; }
    done
    return 1
}

# interop_python: sets INTEROP_PYTHON to the python3 interpreter itself, so
# that free_port does not pay for a version manager's shim each call
# (pyenv's took 0.9 s, the interpreter 0.06 s); plain "python3" when it
# cannot tell. start_server_on calls it (in the script's shell: free_port
# runs in a subshell and could not keep the answer).
INTEROP_PYTHON=
interop_python() {
    [ -n "$INTEROP_PYTHON" ] && return 0
    INTEROP_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) ||
        INTEROP_PYTHON=
    [ -x "$INTEROP_PYTHON" ] || INTEROP_PYTHON=python3
}

free_udp_port() { free_port udp; }
free_tcp_port() { free_port tcp; }

# start_udp_server STDIN LOG READY_REGEX FAIL_REGEX CMD...: picks a free
# port, replaces @PORT@ in CMD (and in READY_REGEX) with it, spawns CMD and
# waits for READY_REGEX in LOG. If the peer exits or logs FAIL_REGEX (the
# port was taken meanwhile) it is stopped and retried on another port, up
# to 3 times. Sets PEER_PORT and LAST_PID; 1 on failure.
start_udp_server() { start_server_on udp "$@"; }
# start_tcp_server ...: the same on a TCP port.
start_tcp_server() { start_server_on tcp "$@"; }
# start_peer_server ...: the same on the transport interop_transport chose.
start_peer_server() { start_server_on "$PORT_KIND" "$@"; }

start_server_on() { # udp|tcp STDIN LOG READY_REGEX FAIL_REGEX CMD...
    local kind=$1 in=$2 log=$3 ready=$4 bad=$5 attempt port arg
    shift 5
    interop_python
    for attempt in 1 2 3; do
        port=$(free_port "$kind") || return 1
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
# 127.0.0.1:0 --port-file ...` (--tls after `interop_transport tls`) with
# the PSK options and ARGS; sets PEER_PORT and LAST_PID.
start_petrel_server() {
    local log=$1
    shift
    start_petrel "$log" --psk-identity "$PSK_IDENTITY" --psk "$PSK_HEX" "$@"
}

# start_petrel LOG ARGS...: `petrel server` on the current transport with
# ARGS alone (the caller gives every credential); sets PEER_PORT and
# LAST_PID; 1 if it did not come up.
start_petrel() {
    local log=$1 portfile=$1.port
    shift
    rm -f "$portfile"
    spawn /dev/null "$log" "$PETREL" server "$PETREL_PROTO" --listen 127.0.0.1:0 \
        --port-file "$portfile" "$@"
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
    CASE_WHY=
    local slug
    slug=$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '-' | tr -s '-' | cut -c1-80)
    CASE_DIR=$(printf '%s/%02d-%s' "$WORK" "$CASE_NO" "$slug")
    mkdir -p "$CASE_DIR"
}

# ---------------------------------------------------------------- certificates

# start_petrel_cert_server LOG ARGS...: start_petrel, for certificate and
# raw-public-key runs (no PSK options added); sets PEER_PORT and LAST_PID.
start_petrel_cert_server() { start_petrel "$@"; }

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

# via_dump_proxy SPEC: for the skeletons' dgrams=SPEC keyword (DTLS only).
# With SPEC empty, nothing. Else a dump proxy (start_dump_proxy: datagrams
# to $CASE_DIR/datagrams, log $CASE_DIR/proxy.log) in front of the server
# just started on PEER_PORT, and PEER_PORT set to the proxy's port, so that
# the client goes through it. LAST_PID stays the server's. 1 (CASE_WHY
# set) if the proxy did not start, or on TLS.
via_dump_proxy() {
    [ -n "$1" ] || return 0
    local server_pid=$LAST_PID
    need "dgrams= is for DTLS: petrel proxy relays datagrams" [ "$PORT_KIND" = udp ] || return 1
    need "petrel proxy did not start" start_dump_proxy "$CASE_DIR/proxy.log" \
        "$CASE_DIR/datagrams" "$PEER_PORT" || return 1
    PEER_PORT=$PROXY_PORT
    LAST_PID=$server_pid
}

# need_datagrams SPEC: with SPEC empty, nothing; else check_datagrams on
# what via_dump_proxy recorded, its answer the case's reason.
need_datagrams() {
    [ -n "$1" ] || return 0
    [ -z "$CASE_WHY" ] || return 1
    CASE_WHY=$(check_datagrams "$CASE_DIR/datagrams" "$1")
}

# ---------------------------------------------------------------- checks

# need REASON CMD...: while no check of the case has failed, runs CMD; if
# it fails, REASON becomes the case's reason (CASE_WHY). Returns 0 while
# every check holds, so that actions between checks can be skipped with
# `[ -z "$CASE_WHY" ] && ...`.
need() {
    local reason=$1
    shift
    [ -z "$CASE_WHY" ] || return 1
    "$@" && return 0
    CASE_WHY=$reason
    return 1
}

# grep_any REGEX FILE...: a line of one of the FILEs matches REGEX (extended).
grep_any() {
    local re=$1
    shift
    cat -- "$@" 2>/dev/null | grep -Eq -- "$re"
}

need_line() { # FILE REGEX REASON: a line of FILE matches REGEX (extended)
    need "$3" grep_any "$2" "$1"
}

need_no_line() { # FILE REGEX REASON: no line of FILE matches REGEX
    need "$3" _no_line "$1" "$2"
}
_no_line() { ! grep_any "$2" "$1"; }

await_line() { # FILE REGEX REASON [PID...]: wait_for_line, INTEROP_WAIT s
    local file=$1 re=$2 reason=$3
    shift 3
    need "$reason" wait_for_line "$file" "$re" "$INTEROP_WAIT" "$@"
}

# need_exit PID NAME WANT [TIMEOUT_S]: PID exits within TIMEOUT_S (default
# INTEROP_WAIT) with the status WANT: 0, "fail" (non-zero, not killed by a
# signal) or "any". NAME names it in the reason. EXIT_RC holds the status.
need_exit() {
    local pid=$1 name=$2 want=$3 limit=${4:-$INTEROP_WAIT}
    [ -z "$CASE_WHY" ] || return 1
    if ! wait_for_exit "$pid" "$limit"; then
        CASE_WHY="$name still running after $limit s"
        return 1
    fi
    case $want in
    0) [ "$EXIT_RC" -eq 0 ] || CASE_WHY="$name exited $EXIT_RC" ;;
    fail)
        if [ "$EXIT_RC" -eq 0 ]; then
            CASE_WHY="$name exited 0"
        elif [ "$EXIT_RC" -gt 128 ]; then
            CASE_WHY="$name died of signal $((EXIT_RC - 128))"
        fi
        ;;
    esac
    [ -z "$CASE_WHY" ]
}

# need_same_file FILE EXPECTED REASON: FILE holds exactly EXPECTED's bytes;
# the reason says how they differ (sizes, SHA-256).
need_same_file() {
    [ -z "$CASE_WHY" ] || return 1
    cmp -s -- "$1" "$2" && return 0
    local got want
    got="$(stat -c %s "$1" 2>/dev/null || echo no) bytes, sha256 $(sha256sum <"$1" 2>/dev/null | cut -c1-16)"
    want="$(stat -c %s "$2") bytes, sha256 $(sha256sum <"$2" | cut -c1-16)"
    CASE_WHY="$3: got $got, expected $want"
    return 1
}

# case_end DESC NOTE LOG...: pass (with " (NOTE)" when NOTE is not empty)
# or fail with CASE_WHY and the LOGs; then stops the case's processes.
case_end() {
    local desc=$1 note=$2
    shift 2
    if [ -n "$CASE_WHY" ]; then
        fail "$desc" "$CASE_WHY" "$@"
    elif [ -n "$note" ]; then
        pass "$desc ($note)"
    else
        pass "$desc"
    fi
    stop_all
}

# descendants PID: the PIDs below PID, children first.
descendants() {
    local kid
    for kid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$kid"
        descendants "$kid"
    done
}

# kill_peer PID: SIGKILL to the processes that spawn started as PID (under
# `timeout`, and any wrapper shell), as a crash would: the kernel closes
# the peer's sockets, so TCP ends with a FIN and no close_notify.
# Reaps PID at once, so that bash does not report its death by a signal
# ("Killed") on the script's output; EXIT_RC gets its status.
kill_peer() {
    local pids
    pids=$(descendants "$1")
    [ -n "$pids" ] || return 1
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    # `timeout` dies with its child's signal as soon as the child is gone.
    {
        wait "$1"
        EXIT_RC=$?
    } 2>/dev/null
    _forget_pid "$1"
}

# regex_quote TEXT: TEXT as an extended regular expression matching itself.
regex_quote() {
    # shellcheck disable=SC2001 # a character class with a back-reference
    sed 's/[][\\.*^$+?(){}|]/\\&/g' <<<"$1"
}

# make_text_file PATH BYTES: about BYTES bytes (at least) of printable
# lines of 76 characters, so that line-based peers (s_server -rev,
# gnutls-serv's CRLF handling) keep them intact.
make_text_file() {
    head -c $(($2 * 3 / 4 + 57)) /dev/urandom | base64 -w 76 >"$1"
}

# ---------------------------------------------------------------- petrel and peers

# petrel_client LOG ARG...: `petrel client` on the current transport to
# 127.0.0.1:PEER_PORT with ARGs. Sets LAST_PID.
petrel_client() {
    local log=$1
    shift
    spawn /dev/null "$log" "$PETREL" client "$PETREL_PROTO" --connect "127.0.0.1:$PEER_PORT" "$@"
}

# ossl_identity VAR CHAIN KEY: VAR (an array's name) becomes the openssl
# arguments for the leaf-first chain file CHAIN and the key file KEY:
# -cert LEAF -key KEY [-cert_chain REST], LEAF and REST written to $WORK
# (openssl's -cert reads only the first certificate of a file).
ossl_identity() {
    local -n ident=$1
    local base
    base=$(basename "${2%.pem}")
    local leaf=$WORK/$base.leaf.pem rest=$WORK/$base.rest.pem
    rm -f "$leaf" "$rest"
    awk -v leaf="$leaf" -v rest="$rest" '
        /-----BEGIN CERTIFICATE-----/ { n++ }
        n == 1 { print > leaf }
        n > 1 { print > rest }' "$2" || return 1
    [ -s "$leaf" ] || return 1
    ident=(-cert "$leaf" -key "$3")
    if [ -s "$rest" ]; then ident+=(-cert_chain "$rest"); fi
}

# ossl_start_server LOG S_SERVER_ARG...: openssl s_server on a free port of
# 127.0.0.1, its stdin the fifo "s_server" (it quits at EOF on stdin).
# Sets LAST_PID and PEER_PORT; 1 on failure.
ossl_start_server() {
    local log=$1
    shift
    make_fifo s_server
    start_peer_server "$FIFO_PATH" "$log" '^ACCEPT' 'unable to bind|Address already in use' \
        openssl s_server "$OSSL_PROTO" -accept 127.0.0.1:@PORT@ "$@"
}

# ossl_start_client OUT ERR S_CLIENT_ARG...: openssl s_client -quiet to
# 127.0.0.1:PEER_PORT, its stdin the fifo "s_client", stdout (the data it
# receives) to OUT, stderr (handshake and verification) to ERR.
# -no_ign_eof: EOF on stdin sends close_notify and ends it. -nocommands:
# a line (or read) starting with Q, R, k or K is data, not a command.
# Sets LAST_PID.
ossl_start_client() {
    local out=$1 err=$2
    shift 2
    make_fifo s_client
    # shellcheck disable=SC2016
    spawn "$FIFO_PATH" "$out" bash -c '"$@" 2>"$0"' "$err" \
        openssl s_client "$OSSL_PROTO" -connect "127.0.0.1:$PEER_PORT" -quiet -no_ign_eof \
        -nocommands "$@"
}

# gnutls_priority KX CIPHER: a priority string with one version (the
# transport's), one key exchange and one AEAD cipher.
gnutls_priority() {
    echo "NORMAL:-VERS-ALL:+$GNUTLS_VERS:-KX-ALL:+$1:-CIPHER-ALL:+$2:-MAC-ALL:+AEAD"
}

# gnutls_psk_file: prints the path of the ID:HEXKEY file that gnutls-serv
# --pskpasswd reads (written on first use).
gnutls_psk_file() {
    local f=$WORK/psk.txt
    [ -s "$f" ] || echo "$PSK_IDENTITY:$PSK_HEX" >"$f"
    echo "$f"
}

# gnutls_start_server LOG GNUTLS_SERV_ARG...: gnutls-serv --echo on a free
# port (it binds 0.0.0.0 and ::). Sets LAST_PID and PEER_PORT; 1 on failure.
gnutls_start_server() {
    local log=$1
    shift
    start_peer_server /dev/null "$log" 'listening on IPv4 .* port @PORT@\.\.\.done' \
        'bind\(\) failed' gnutls-serv "${GNUTLS_PROTO[@]}" --echo -p @PORT@ "$@"
}

# gnutls_start_client OUT ERR GNUTLS_CLI_ARG...: gnutls-cli to
# 127.0.0.1:PEER_PORT, its stdin the fifo "gnutls-cli" (it sends each line
# and close_notify at EOF), stdout (data and session information, and the
# wrapper shell's report of a crash) to OUT, stderr to ERR. Sets LAST_PID.
gnutls_start_client() {
    local out=$1 err=$2
    shift 2
    make_fifo gnutls-cli
    # shellcheck disable=SC2016
    spawn "$FIFO_PATH" "$out" bash -c '"$@" 2>"$0"' "$err" \
        gnutls-cli "${GNUTLS_PROTO[@]}" -p "$PEER_PORT" 127.0.0.1 "$@"
}

# same_pem_body PEM1 PEM2: the two PEM files hold the same base64 body,
# whatever their BEGIN/END labels.
same_pem_body() {
    local a b
    a=$(grep -v -- '-----' "$1" 2>/dev/null | tr -d '\n')
    b=$(grep -v -- '-----' "$2" 2>/dev/null | tr -d '\n')
    [ -n "$a" ] && [ "$a" = "$b" ]
}

# ---------------------------------------------------------------- case skeletons
#
# Each takes keywords first (KEY=VALUE), then its fixed arguments, then
# petrel's arguments, "--", and the peer's arguments (see split_args). The
# credentials are all in those arguments (PSK ones included), so one
# skeleton serves PSK, certificate and raw-public-key cases, and DTLS
# options such as petrel's --mtu and the peers' -mtu / --mtu pass through
# them too. Every case that completes moves application data both ways and
# ends with close_notify, which the other side must see.
#
# The four that complete also take dgrams=DIR:MIN:MAX (DTLS only): the
# client goes through a dump proxy (via_dump_proxy), and at least MIN
# datagrams must have gone in DIR (c2s or s2c), none larger than MAX bytes
# (check_datagrams), so that a small-MTU run is checked, not assumed.

# The "server:" (client) and "client:" (server) words petrel prints when no
# keyword says otherwise.
SKEL_ANY_SERVER='PSK|certificate verified|raw public key verified'
SKEL_ANY_CLIENT='PSK|anonymous'

# ossl_client_case [server=REGEX] [subject=TEXT] [peer_log=REGEX]...
#                  [dgrams=DIR:MIN:MAX]
#                  SUITE OSSL_NAME LABEL PETREL_ARG... -- S_SERVER_ARG...
# petrel client -> openssl s_server. petrel sends "ping"; once s_server
# logs it the script types "pong-SUITE" into s_server (neither openssl
# tool echoes over DTLS), which petrel must print; petrel then closes and
# s_server must log DONE (it saw close_notify) and no ERROR.
#   server=REGEX    what petrel says after "server: " (default SKEL_ANY_SERVER)
#   subject=TEXT    s_server must log "subject=TEXT" (petrel's client
#                   certificate) and no verify error
#   peer_log=REGEX  must match a line of s_server's log (repeatable)
#   OSSL_NAME       s_server's -cipher ("" leaves its default)
ossl_client_case() {
    local server=$SKEL_ANY_SERVER subject='' peer_res=() dgrams='' re
    while :; do
        case $1 in
        server=*) server=${1#server=} ;;
        subject=*) subject=${1#subject=} ;;
        peer_log=*) peer_res+=("${1#peer_log=}") ;;
        dgrams=*) dgrams=${1#dgrams=} ;;
        *) break ;;
        esac
        shift
    done
    local suite=$1 name=$2 label=$3
    shift 3
    split_args "$@"
    local desc="petrel client -> openssl s_server, $suite$label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/s_server.log cli_log=$CASE_DIR/petrel-client.log
    local reply="pong-$suite" cipher_opt=()
    [ -z "$name" ] || cipher_opt=(-cipher "$name")
    if ! need "openssl s_server did not start" ossl_start_server "$srv_log" "${cipher_opt[@]}" \
        "${ARGS_B[@]}" || ! via_dump_proxy "$dgrams"; then
        case_end "$desc" "" "$srv_log" "$CASE_DIR/proxy.log"
        return
    fi
    local srv=$LAST_PID
    petrel_client "$cli_log" --suites "$suite" --send ping --expect "$reply" --timeout 10000 \
        "${ARGS_A[@]}"
    local cli=$LAST_PID
    await_line "$srv_log" 'ping' "s_server never logged the client's \"ping\"" "$srv" "$cli" &&
        fifo_send s_server "$reply"
    need_exit "$cli" "petrel client" 0
    # petrel sends close_notify before exiting: s_server prints DONE.
    await_line "$srv_log" '(^|ping)DONE$' "s_server did not see petrel's close_notify (no DONE)" \
        "$srv"
    need_line "$cli_log" "^handshake complete: $suite, $PROTO_NAME, .*server: ($server)\$" \
        "petrel did not report \"$suite, $PROTO_NAME, ... server: $server\""
    need_line "$cli_log" "^received: $reply" "petrel did not print the reply \"$reply\""
    [ -z "$name" ] || need_line "$srv_log" "^CIPHER is $name\$" \
        "s_server did not report \"CIPHER is $name\""
    need_no_line "$srv_log" '^ERROR$' "s_server logged an ERROR"
    if [ -n "$subject" ]; then
        need "s_server did not log the client certificate \"subject=$subject\"" \
            grep -qxF "subject=$subject" "$srv_log"
        need_no_line "$srv_log" '^verify error' "s_server logged a verify error"
    fi
    for re in "${peer_res[@]}"; do
        need_line "$srv_log" "$re" "s_server's log does not match \"$re\""
    done
    need_datagrams "$dgrams"
    case_end "$desc" "" "$cli_log" "$srv_log"
}

# ossl_server_case [client=REGEX] [peer_log=REGEX]... [dgrams=DIR:MIN:MAX]
#                  SUITE OSSL_NAME LABEL PETREL_ARG... -- S_CLIENT_ARG...
# openssl s_client -> petrel server --echo --once. s_client sends
# "echo-SUITE" and must print it back; at EOF on its stdin it sends
# close_notify, which petrel must log ("closed: close_notify") before it
# exits 0; s_client must exit 0 without a verify error.
#   client=REGEX    what petrel server says after "client: " (default
#                   SKEL_ANY_CLIENT; "anonymous": not asked for a certificate)
#   peer_log=REGEX  must match a line of s_client's output (repeatable)
ossl_server_case() {
    local client=$SKEL_ANY_CLIENT peer_res=() dgrams='' re
    while :; do
        case $1 in
        client=*) client=${1#client=} ;;
        peer_log=*) peer_res+=("${1#peer_log=}") ;;
        dgrams=*) dgrams=${1#dgrams=} ;;
        *) break ;;
        esac
        shift
    done
    local suite=$1 name=$2 label=$3
    shift 3
    split_args "$@"
    local desc="openssl s_client -> petrel server, $suite$label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_out=$CASE_DIR/s_client.out
    local cli_err=$CASE_DIR/s_client.err line="echo-$suite" cipher_opt=()
    [ -z "$name" ] || cipher_opt=(-cipher "$name")
    if ! need "petrel server did not start" start_petrel "$srv_log" --echo --once \
        "${ARGS_A[@]}" || ! via_dump_proxy "$dgrams"; then
        case_end "$desc" "" "$srv_log" "$CASE_DIR/proxy.log"
        return
    fi
    local srv=$LAST_PID
    ossl_start_client "$cli_out" "$cli_err" "${cipher_opt[@]}" "${ARGS_B[@]}"
    local cli=$LAST_PID
    fifo_send s_client "$line"
    await_line "$cli_out" "^$line\$" "s_client did not print the echo \"$line\"" "$cli" &&
        fifo_close s_client # EOF: s_client sends close_notify and exits
    await_line "$srv_log" 'closed: close_notify$' \
        "petrel server did not log \"closed: close_notify\" after s_client's EOF" "$srv"
    need_exit "$srv" "petrel server --once" 0
    need_line "$srv_log" ": handshake complete: $suite, client: ($client)\$" \
        "petrel server did not report \"$suite, client: $client\""
    need_line "$srv_log" ": received [0-9]* bytes: $line" \
        "petrel server did not log the received \"$line\""
    need_exit "$cli" "s_client" 0
    need_no_line "$cli_err" '^verify error' "s_client logged a verify error"
    for re in "${peer_res[@]}"; do
        need "s_client's output does not match \"$re\"" grep_any "$re" "$cli_out" "$cli_err"
    done
    need_datagrams "$dgrams"
    case_end "$desc" "" "$srv_log" "$cli_out" "$cli_err"
}

# ossl_refused_client_case LABEL PETREL_REGEX S_SERVER_REGEX
#                          PETREL_ARG... -- S_SERVER_ARG...
# petrel client -> openssl s_server, where the handshake must fail.
#   PETREL_REGEX     must match petrel's "handshake failed" line
#   S_SERVER_REGEX   must match a line of s_server's log (the alert it saw
#                    or sent)
ossl_refused_client_case() {
    local label=$1 petrel_re=$2 peer_re=$3
    shift 3
    split_args "$@"
    local desc="petrel client -> openssl s_server, $label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/s_server.log cli_log=$CASE_DIR/petrel-client.log
    if ! need "openssl s_server did not start" ossl_start_server "$srv_log" "${ARGS_B[@]}"; then
        case_end "$desc" "" "$srv_log"
        return
    fi
    local srv=$LAST_PID
    petrel_client "$cli_log" --send ping --no-echo --timeout 10000 "${ARGS_A[@]}"
    local cli=$LAST_PID
    need_exit "$cli" "petrel client" fail 15
    need_no_line "$cli_log" '^handshake complete' "petrel client reported a complete handshake"
    need_line "$cli_log" "^petrel client: handshake failed[,:] .*$petrel_re" \
        "petrel's error does not match \"$petrel_re\""
    await_line "$srv_log" "$peer_re" "s_server's log does not match \"$peer_re\"" "$srv"
    case_end "$desc" "$(grep -m1 '^petrel client: handshake failed' "$cli_log" |
        sed 's/^petrel client: handshake failed: //')" "$cli_log" "$srv_log"
}

# ossl_refused_server_case LABEL PETREL_REGEX S_CLIENT_REGEX
#                          PETREL_ARG... -- S_CLIENT_ARG...
# openssl s_client -> petrel server --once, where the handshake must fail.
#   PETREL_REGEX     must match petrel server's "closed: " reason
#   S_CLIENT_REGEX   must match a line of s_client's output (the alert)
ossl_refused_server_case() {
    local label=$1 petrel_re=$2 peer_re=$3
    shift 3
    split_args "$@"
    local desc="openssl s_client -> petrel server, $label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_out=$CASE_DIR/s_client.out
    local cli_err=$CASE_DIR/s_client.err
    if ! need "petrel server did not start" start_petrel "$srv_log" --echo --once \
        "${ARGS_A[@]}"; then
        case_end "$desc" "" "$srv_log"
        return
    fi
    local srv=$LAST_PID
    ossl_start_client "$cli_out" "$cli_err" "${ARGS_B[@]}"
    local cli=$LAST_PID
    need_exit "$srv" "petrel server --once" any 15
    need_no_line "$srv_log" ': handshake complete' "petrel server reported a complete handshake"
    need_line "$srv_log" ": closed: .*$petrel_re" \
        "petrel server's \"closed:\" reason does not match \"$petrel_re\""
    need_exit "$cli" "s_client" fail
    need "s_client's output does not match \"$peer_re\"" grep_any "$peer_re" "$cli_out" "$cli_err"
    case_end "$desc" "$(grep -m1 ': closed: ' "$srv_log" | sed 's/^.*: closed: //')" \
        "$srv_log" "$cli_out" "$cli_err"
}

# gnutls_client_case [server=REGEX] [peer_log=REGEX]... [dgrams=DIR:MIN:MAX]
#                    SUITE LABEL PETREL_ARG... -- GNUTLS_SERV_ARG...
# petrel client -> gnutls-serv --echo: petrel sends the line "ping-SUITE",
# must print the echo, and closes.
#   server=REGEX    what petrel says after "server: " (default SKEL_ANY_SERVER)
#   peer_log=REGEX  must match a line of gnutls-serv's log (repeatable)
gnutls_client_case() {
    local server=$SKEL_ANY_SERVER peer_res=() dgrams='' re
    while :; do
        case $1 in
        server=*) server=${1#server=} ;;
        peer_log=*) peer_res+=("${1#peer_log=}") ;;
        dgrams=*) dgrams=${1#dgrams=} ;;
        *) break ;;
        esac
        shift
    done
    local suite=$1 label=$2
    shift 2
    split_args "$@"
    local desc="petrel client -> gnutls-serv, $suite$label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/gnutls-serv.log cli_log=$CASE_DIR/petrel-client.log
    local line="ping-$suite"
    if ! need "gnutls-serv did not start" gnutls_start_server "$srv_log" "${ARGS_B[@]}" ||
        ! via_dump_proxy "$dgrams"; then
        case_end "$desc" "" "$srv_log" "$CASE_DIR/proxy.log"
        return
    fi
    # A whole line: gnutls-serv over TCP echoes nothing before the newline.
    petrel_client "$cli_log" --suites "$suite" --send "$line"$'\n' --expect "$line" \
        --timeout 10000 "${ARGS_A[@]}"
    local cli=$LAST_PID
    need_exit "$cli" "petrel client" 0 15
    need_line "$cli_log" "^handshake complete: $suite, $PROTO_NAME, .*server: ($server)\$" \
        "petrel did not report \"$suite, $PROTO_NAME, ... server: $server\""
    need_line "$cli_log" "^received: $line" "petrel did not print the echo \"$line\""
    need_line "$srv_log" "Processing [0-9]* bytes command: $line" \
        "gnutls-serv did not log the received \"$line\""
    for re in "${peer_res[@]}"; do
        need_line "$srv_log" "$re" "gnutls-serv's log does not match \"$re\""
    done
    need_datagrams "$dgrams"
    case_end "$desc" "" "$cli_log" "$srv_log"
}

# gnutls_server_case [client=REGEX] [peer_log=REGEX]... [same_key=FILE]
#                    [crash_ok=1] [dgrams=DIR:MIN:MAX]
#                    SUITE LABEL PETREL_ARG... -- GNUTLS_CLI_ARG...
# gnutls-cli -> petrel server --echo --once: gnutls-cli sends
# "echo-SUITE" and must print it back; at EOF on its stdin it sends
# close_notify, which petrel must log before it exits 0.
#   client=REGEX    what petrel server says after "client: " (default
#                   SKEL_ANY_CLIENT)
#   peer_log=REGEX  must match a line of gnutls-cli's output (repeatable)
#   same_key=FILE   gnutls-cli saves the server's key (--save-cert), which
#                   must be the one in FILE (a PUBLIC KEY PEM)
#   crash_ok=1      gnutls-cli 3.7.9 crashes after every ECDHE-PSK
#                   handshake (PEERS.md): if it does, the case checks the
#                   handshake only (both sides finished; give it -d 4) and
#                   says so in its result
gnutls_server_case() {
    local client=$SKEL_ANY_CLIENT peer_res=() same_key='' crash_ok='' dgrams='' re
    while :; do
        case $1 in
        client=*) client=${1#client=} ;;
        peer_log=*) peer_res+=("${1#peer_log=}") ;;
        same_key=*) same_key=${1#same_key=} ;;
        crash_ok=*) crash_ok=${1#crash_ok=} ;;
        dgrams=*) dgrams=${1#dgrams=} ;;
        *) break ;;
        esac
        shift
    done
    local suite=$1 label=$2
    shift 2
    split_args "$@"
    local desc="gnutls-cli -> petrel server, $suite$label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_out=$CASE_DIR/gnutls-cli.out
    local cli_err=$CASE_DIR/gnutls-cli.err line="echo-$suite" saved=$CASE_DIR/server-key.pem
    if ! need "petrel server did not start" start_petrel "$srv_log" --echo --once \
        "${ARGS_A[@]}" || ! via_dump_proxy "$dgrams"; then
        case_end "$desc" "" "$srv_log" "$CASE_DIR/proxy.log"
        return
    fi
    local srv=$LAST_PID extra=()
    [ -z "$same_key" ] || extra=(--save-cert "$saved")
    gnutls_start_client "$cli_out" "$cli_err" "${ARGS_B[@]}" "${extra[@]}"
    local cli=$LAST_PID
    fifo_send gnutls-cli "$line"
    if ! wait_for_line "$cli_out" "^$line\$" "$INTEROP_WAIT" "$cli"; then
        if [ -n "$crash_ok" ] && ! pid_alive "$cli" && wait_for_exit "$cli" 1 &&
            [ "$EXIT_RC" -eq 139 ] && grep -q "FINISHED (20) was received" "$cli_err" &&
            grep -Eq ": handshake complete: $suite, client: ($client)\$" "$srv_log"; then
            case_end "$desc" "handshake only: gnutls-cli crashed after it, a known gnutls-cli bug"
            return
        fi
        CASE_WHY="gnutls-cli did not print the echo \"$line\""
        if ! pid_alive "$cli" && wait_for_exit "$cli" 1 && [ "$EXIT_RC" -gt 128 ]; then
            CASE_WHY+=" (gnutls-cli died of signal $((EXIT_RC - 128)))"
        fi
    fi
    [ -z "$CASE_WHY" ] && fifo_close gnutls-cli # EOF: close_notify
    await_line "$srv_log" 'closed: close_notify$' \
        "petrel server did not log \"closed: close_notify\" after gnutls-cli's EOF" "$srv"
    need_exit "$srv" "petrel server --once" 0
    need_line "$srv_log" ": handshake complete: $suite, client: ($client)\$" \
        "petrel server did not report \"$suite, client: $client\""
    need_line "$srv_log" ": received [0-9]* bytes: $line" \
        "petrel server did not log the received \"$line\""
    need_exit "$cli" "gnutls-cli" 0
    [ -z "$same_key" ] || need "the key gnutls-cli received is not the one in $same_key" \
        same_pem_body "$saved" "$same_key"
    for re in "${peer_res[@]}"; do
        need_line "$cli_out" "$re" "gnutls-cli's output does not match \"$re\""
    done
    need_datagrams "$dgrams"
    case_end "$desc" "" "$srv_log" "$cli_out" "$cli_err"
}

# gnutls_refused_client_case LABEL PETREL_REGEX SERV_REGEX
#                            PETREL_ARG... -- GNUTLS_SERV_ARG...
# petrel client -> gnutls-serv, where the handshake must fail.
#   PETREL_REGEX   must match petrel's "handshake failed" line
#   SERV_REGEX     must match a line of gnutls-serv's log
gnutls_refused_client_case() {
    local label=$1 petrel_re=$2 peer_re=$3
    shift 3
    split_args "$@"
    local desc="petrel client -> gnutls-serv, $label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/gnutls-serv.log cli_log=$CASE_DIR/petrel-client.log
    if ! need "gnutls-serv did not start" gnutls_start_server "$srv_log" "${ARGS_B[@]}"; then
        case_end "$desc" "" "$srv_log"
        return
    fi
    local srv=$LAST_PID
    petrel_client "$cli_log" --send ping --no-echo --timeout 10000 "${ARGS_A[@]}"
    local cli=$LAST_PID
    need_exit "$cli" "petrel client" fail 15
    need_no_line "$cli_log" '^handshake complete' "petrel client reported a complete handshake"
    need_line "$cli_log" "^petrel client: handshake failed[,:] .*$petrel_re" \
        "petrel's error does not match \"$petrel_re\""
    await_line "$srv_log" "$peer_re" "gnutls-serv's log does not match \"$peer_re\"" "$srv"
    local note crash=''
    note=$(grep -m1 '^petrel client: handshake failed' "$cli_log" |
        sed 's/^petrel client: handshake failed: //')
    if ! pid_alive "$srv" && wait_for_exit "$srv" 1 && [ "$EXIT_RC" -gt 128 ]; then
        crash="; gnutls-serv then died of signal $((EXIT_RC - 128))"
    fi
    # The crash is worth knowing whether the case passes or fails.
    [ -z "$CASE_WHY" ] || CASE_WHY+=$crash
    case_end "$desc" "$note$crash" "$cli_log" "$srv_log"
}

# gnutls_refused_server_case LABEL PETREL_REGEX CLI_REGEX
#                            PETREL_ARG... -- GNUTLS_CLI_ARG...
# gnutls-cli -> petrel server --once, where the handshake must fail.
#   PETREL_REGEX   must match petrel server's "closed: " reason
#   CLI_REGEX      must match a line of gnutls-cli's output (the alert)
gnutls_refused_server_case() {
    local label=$1 petrel_re=$2 peer_re=$3
    shift 3
    split_args "$@"
    local desc="gnutls-cli -> petrel server, $label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_out=$CASE_DIR/gnutls-cli.out
    local cli_err=$CASE_DIR/gnutls-cli.err
    if ! need "petrel server did not start" start_petrel "$srv_log" --echo --once \
        "${ARGS_A[@]}"; then
        case_end "$desc" "" "$srv_log"
        return
    fi
    local srv=$LAST_PID
    gnutls_start_client "$cli_out" "$cli_err" "${ARGS_B[@]}"
    local cli=$LAST_PID
    need_exit "$srv" "petrel server --once" any 15
    need_no_line "$srv_log" ': handshake complete' "petrel server reported a complete handshake"
    need_line "$srv_log" ": closed: .*$petrel_re" \
        "petrel server's \"closed:\" reason does not match \"$petrel_re\""
    need_exit "$cli" "gnutls-cli" fail
    need "gnutls-cli's output does not match \"$peer_re\"" grep_any "$peer_re" "$cli_out" "$cli_err"
    case_end "$desc" "$(grep -m1 ': closed: ' "$srv_log" | sed 's/^.*: closed: //')" \
        "$srv_log" "$cli_out" "$cli_err"
}
