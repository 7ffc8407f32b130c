# shellcheck shell=bash
# shellcheck disable=SC2034 # globals the sourcing scripts read
# Shared helpers for the CoAPs test scripts (sourced, not run):
#   run_coaps_test.sh         our coaps-client against our coaps-server
#   coaps_interop_clients.sh  libcoap's coap-client-* against our coaps-server
#   coaps_interop_servers.sh  our coaps-client against libcoap's coap-server-*
#
#   . "$(dirname "$0")/coaps_test_lib.sh"
#   coaps_init "MODE"            # scratch dir, EXIT trap; MODE names the test
#   ... start_coaps_server / start_libcoap_server, cases, check ...
#   coaps_finish                 # "coaps test MODE: all as expected", status
#
# Every process runs under `timeout` (a safety net should the script be
# killed before its EXIT trap), in the background through spawn or in the
# foreground through run; each writes $WORK/NAME.log. Processes are stopped
# by their PID, never by name. Every wait is a bounded poll of a condition.
# COAPS_KEEP=1 keeps the scratch directory and its logs for a look.

# The credentials every script uses.
PKI=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/pki" && pwd)
PSK_KEY=petrel-coaps-secret
PSK_IDENTITY=coaps-test-client
# Longest life of any one process (seconds), and the default for a wait.
COAPS_PROCESS_LIMIT=${COAPS_PROCESS_LIMIT:-150}
COAPS_WAIT=${COAPS_WAIT:-10}

WORK=
COAPS_MODE=
FAILURES=0
CHECKS=0
RC=        # run, join: the exit status
LAST_PID=  # spawn
PORT=      # start_coaps_server, start_libcoap_server
declare -A PIDS=() # NAME -> PID of what spawn started and nobody joined yet

coaps_init() { # MODE
    COAPS_MODE=$1
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/coaps-test.XXXXXX") || exit 1
    trap coaps_cleanup EXIT
    trap 'echo "interrupted"; exit 130' INT TERM HUP
    COAPS_T0=$SECONDS
}

coaps_cleanup() {
    local rc=$? name
    trap - EXIT
    for name in "${!PIDS[@]}"; do stop_pid "${PIDS[$name]}"; done
    if [ -n "${COAPS_KEEP:-}" ]; then
        echo "logs kept in $WORK (COAPS_KEEP)"
    else
        rm -rf "$WORK"
    fi
    exit $rc
}

require_exe() { # WHAT PATH-OR-NAME: a missing program fails the test
    if ! command -v "$2" >/dev/null 2>&1; then
        echo "FAIL: $1 '$2' is not installed (Debian: libcoap3-bin for libcoap's tools)"
        echo "coaps test $COAPS_MODE: a required program is missing"
        exit 1
    fi
}

# require_rpk PEER: libcoap's tools say in their usage text whether their
# TLS library gives them raw public keys ("... and RPK support"); the
# OpenSSL build has none. Without it an RPK test fails here, not case by case.
require_rpk() {
    local usage
    usage=$(timeout 5 "$1" -'?' 2>&1)
    if ! grep -q ' and RPK support' <<<"$usage"; then
        echo "FAIL: $1 has no raw public key support (its usage text says:" \
            "$(grep -o '([^)]*RPK support)' <<<"$usage"))"
        echo "coaps test $COAPS_MODE: the peer cannot do RPK"
        exit 1
    fi
}

# ---------------------------------------------------------------- results

# check DESC STATUS [LOG...]: STATUS 0 is a pass; else FAIL and the logs.
check() {
    local desc=$1 status=$2 log
    shift 2
    CHECKS=$((CHECKS + 1))
    if [ "$status" -eq 0 ]; then
        echo "ok:   $desc"
        return 0
    fi
    echo "FAIL: $desc"
    for log in "$@"; do
        [ -f "$log" ] || continue
        echo "      ---- $(basename "$log") (last 40 lines)"
        tail -n 40 "$log" | sed 's/^/      | /'
    done
    FAILURES=$((FAILURES + 1))
    return 1
}

# coaps_finish: fails on any sanitizer report in any log, prints the last
# line ctest matches, exits with the status.
coaps_finish() {
    local f
    for f in "$WORK"/*.log; do
        [ -f "$f" ] || continue
        if grep -Eq 'Sanitizer|runtime error:' "$f"; then
            check "no sanitizer report in $(basename "$f")" 1 "$f"
        fi
    done
    echo "($CHECKS checks, $((SECONDS - COAPS_T0)) s)"
    if [ "$FAILURES" -eq 0 ] && [ "$CHECKS" -gt 0 ]; then
        echo "coaps test $COAPS_MODE: all as expected"
        exit 0
    fi
    echo "coaps test $COAPS_MODE: $FAILURES of $CHECKS checks failed"
    exit 1
}

# ---------------------------------------------------------------- processes

pid_alive() { # PID -> 0 while it runs (a zombie counts as exited)
    local st
    kill -0 "$1" 2>/dev/null || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ "$st" != Z ]
}

# Every process runs under `timeout --foreground -k 20`:
# - --foreground: without it, timeout passes a signal it gets (our SIGTERM)
#   to its whole process group and follows it with SIGCONT. When that
#   SIGCONT lands while an ASan build's LeakSanitizer attaches to the
#   exiting process with ptrace, it discards the attach's SIGSTOP, and the
#   process and LeakSanitizer's tracer wait for each other forever (seen:
#   about 1 stop in 150 under load).
# - -k 20: the SIGKILL timer starts with any signal timeout passes on, ours
#   included; a sanitizer build on a loaded machine needs time to shut
#   down and check for leaks.
#
# spawn NAME CMD...: CMD in the background, output in $WORK/NAME.log; sets
# LAST_PID. join NAME collects it.
spawn() {
    local name=$1
    shift
    watch_servers
    timeout --foreground -k 20 "$COAPS_PROCESS_LIMIT" "$@" </dev/null >"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS[$name]=$LAST_PID
}

# join NAME [TIMEOUT_S]: waits (bounded) for what spawn NAME started; RC is
# its exit status, 124 if it had to be stopped.
join() {
    local name=$1 limit=$((${2:-60} * 20)) pid=${PIDS[$1]:-} i
    RC=127
    [ -n "$pid" ] || return 1
    for ((i = 0; i < limit; i++)); do
        pid_alive "$pid" || break
        sleep 0.05
    done
    if pid_alive "$pid"; then
        stop_pid "$pid"
        RC=124
    else
        wait "$pid" 2>/dev/null
        RC=$?
    fi
    unset "PIDS[$name]"
    return 0
}

# run NAME LIMIT_S CMD...: CMD in the foreground under timeout, output in
# $WORK/NAME.log; RC is its exit status.
run() {
    local name=$1 limit=$2
    shift 2
    watch_servers
    timeout --foreground -k 20 "$limit" "$@" </dev/null >"$WORK/$name.log" 2>&1
    RC=$?
}

# A server that dies during the cases (a crash, a sanitizer report) ends
# the test at once with its log, rather than every later case waiting for
# its -B. start_*_server watch the server, stop_*_server stop watching.
declare -A WATCHED=()
watch_servers() {
    local name
    for name in "${!WATCHED[@]}"; do
        pid_alive "${PIDS[$name]}" && continue
        unset "WATCHED[$name]"
        join "$name" 1
        check "$name: still running (it exited with status $RC)" 1 "$WORK/$name.log"
        coaps_finish
    done
}

# stop_pid PID: SIGTERM (timeout passes it on to its child); after 15 s
# SIGKILL to PID and to that child.
stop_pid() {
    local pid=$1 i kids
    if pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 300; i++)); do
            pid_alive "$pid" || break
            sleep 0.05
        done
        if pid_alive "$pid"; then
            kids=$(ps -o pid= --ppid "$pid" 2>/dev/null)
            # shellcheck disable=SC2086 # one PID a word
            kill -KILL "$pid" $kids 2>/dev/null
        fi
    fi
    wait "$pid" 2>/dev/null
}

# wait_for_line FILE REGEX [TIMEOUT_S [PID]]: 0 once a line of FILE matches
# the extended REGEX; 1 after TIMEOUT_S, or once PID has exited without it.
wait_for_line() {
    local file=$1 re=$2 limit=$((${3:-$COAPS_WAIT} * 20)) pid=${4:-} i
    for ((i = 0; i < limit; i++)); do
        grep -Eq -- "$re" "$file" 2>/dev/null && return 0
        [ -z "$pid" ] || pid_alive "$pid" || break
        sleep 0.05
    done
    grep -Eq -- "$re" "$file" 2>/dev/null
}

# log_mark FILE: remembers how long FILE is; log_since FILE REGEX [TIMEOUT_S]
# then waits (bounded) for a line matching REGEX after the mark, so that a
# refusal is tied to the case that caused it.
declare -A MARKS=()
log_mark() { MARKS[$1]=$(wc -l <"$1"); }
log_since() {
    local file=$1 re=$2 limit=$((${3:-5} * 20)) i
    for ((i = 0; i <= limit; i++)); do
        # Not a pipe into grep -q: under pipefail tail's SIGPIPE would
        # turn a match into a failure.
        grep -Eq -- "$re" < <(tail -n "+$((${MARKS[$file]:-0} + 1))" "$file") && return 0
        [ "$i" -lt "$limit" ] && sleep 0.05
    done
    return 1
}

# ---------------------------------------------------------------- servers

# start_coaps_server NAME SERVER ARGS...: our coaps-server on 127.0.0.1, a
# port the kernel picks (--port-file), -v 6 (sessions and refusals are
# logged); log $WORK/NAME.log. Sets PORT and LAST_PID; 1 if it did not
# come up.
start_coaps_server() {
    local name=$1 server=$2 i
    shift 2
    rm -f "$WORK/$name.port"
    spawn "$name" "$server" -A 127.0.0.1 -p 0 --port-file "$WORK/$name.port" -v 6 "$@"
    for ((i = 0; i < COAPS_WAIT * 20; i++)); do
        [ -s "$WORK/$name.port" ] && break
        pid_alive "$LAST_PID" || break
        sleep 0.05
    done
    if [ ! -s "$WORK/$name.port" ]; then
        check "$name: coaps-server came up" 1 "$WORK/$name.log"
        return 1
    fi
    PORT=$(cat "$WORK/$name.port")
    WATCHED[$name]=1
    echo "$name: coaps-server on 127.0.0.1:$PORT (pid $LAST_PID)"
}

# stop_coaps_server NAME: SIGTERM; it must send close_notify, free
# everything and exit 0 (an ASan build reports leaks now).
stop_coaps_server() {
    local name=$1
    local pid=${PIDS[$name]} t0 ms
    unset "WATCHED[$name]"
    t0=$(date +%s%N)
    kill -TERM "$pid" 2>/dev/null
    join "$name" 15
    ms=$((($(date +%s%N) - t0) / 1000000))
    check "$name: coaps-server stopped cleanly on SIGTERM (exit $RC, $ms ms)" "$RC" \
        "$WORK/$name.log"
}

# free_base_port: a port P on 127.0.0.1 with P and P+1 free for both UDP
# and TCP (coap-server binds UDP and TCP on P, DTLS and TLS on P+1), tried
# by binding all four at once, below the kernel's ephemeral range so that
# other tests' sockets are unlikely to take it meanwhile (a peer that cannot
# bind is retried anyway).
free_base_port() {
    python3 - <<'EOF'
import random, socket
def free(port):
    held = []
    try:
        for p in (port, port + 1):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind)
                held.append(s)
                s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        for s in held:
            s.close()
for _ in range(200):
    port = random.randrange(20000, 32000, 2)
    if free(port):
        print(port)
        break
EOF
}

# start_libcoap_server NAME PEER ARGS...: libcoap's coap-server-* on
# 127.0.0.1 with -v 7, which logs "created DTLS endpoint 127.0.0.1:P+1"
# once bound (it only warns and runs on when one endpoint cannot bind, so
# that line is the readiness test). Retried on another port up to 3 times.
# Sets PORT (the DTLS port, P+1) and LAST_PID.
start_libcoap_server() {
    local name=$1 peer=$2 attempt base log=$WORK/$1.log
    shift 2
    for attempt in 1 2 3; do
        base=$(free_base_port)
        if [ -z "$base" ]; then
            check "$name: a free port pair for $peer" 1
            return 1
        fi
        spawn "$name" "$peer" -A 127.0.0.1 -p "$base" -v 7 "$@"
        if wait_for_line "$log" "created DTLS +endpoint 127\.0\.0\.1:$((base + 1))\$|cannot create" \
            "$COAPS_WAIT" "$LAST_PID" && ! grep -q 'cannot create' "$log"; then
            PORT=$((base + 1))
            WATCHED[$name]=1
            echo "$name: $peer on 127.0.0.1:$PORT (pid $LAST_PID)"
            return 0
        fi
        echo "      ($peer did not come up on port $((base + 1)), attempt $attempt)"
        stop_pid "$LAST_PID"
        unset "PIDS[$name]"
        cp "$log" "$log.attempt$attempt"
    done
    check "$name: $peer came up" 1 "$log"
    return 1
}

stop_libcoap_server() { # NAME
    unset "WATCHED[$1]"
    stop_pid "${PIDS[$1]}"
    unset "PIDS[$1]"
}

# ---------------------------------------------------------------- content

# big_reference: $WORK/big.ref, the /big body rebuilt independently of the
# server (1024 lines of 64 bytes), and BIG_SHA its SHA-256.
big_reference() {
    local line=' petrel coaps /big, RFC 7959 block-wise transfer test line.' i
    for ((i = 0; i < 1024; i++)); do printf '%04d%s\n' "$i" "$line"; done >"$WORK/big.ref"
    BIG_SHA=$(sha256sum <"$WORK/big.ref" | cut -d' ' -f1)
}

sha256_is() { # FILE SHA
    [ -f "$1" ] && [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$2" ]
}

# long_payload N: N bytes of numbered text on one line (no newline, so it
# survives "$(...)"), different in every block; a block out of place or
# lost shows.
long_payload() {
    head -c "$1" "$WORK/big.ref" | tr '\n' '|'
}

# distinct_lines FILE REGEX: how many different lines of FILE match REGEX.
distinct_lines() {
    grep -E -- "$2" "$1" 2>/dev/null | sort -u | wc -l
}
