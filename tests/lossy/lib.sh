# shellcheck shell=bash
# shellcheck disable=SC2034 # stopped_rc, exit_rc are read by the sourcing scripts
# Helpers shared by the scripts in tests/lossy (sourced, not run):
#
#   . "$(dirname "$0")/lib.sh"
#   wait_for_file FILE SECONDS [PID]   # a --port-file written, bounded
#   stop PID                           # SIGTERM, SIGKILL after 5 s
#   wait_exit PID SECONDS              # let it end by itself, bounded

# wait_for_file FILE SECONDS [PID]: returns 0 once FILE is non-empty; 1
# after SECONDS, or as soon as the process PID (when given) has died.
wait_for_file() {
    for _ in $(seq $(($2 * 20))); do
        [ -s "$1" ] && return 0
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    [ -s "$1" ]
}

# stop PID: SIGTERM, then SIGKILL after 5 s; reaps it and leaves its exit
# status in stopped_rc. An empty PID does nothing.
stop() {
    local pid=$1
    stopped_rc=0
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    stopped_rc=$?
}

# wait_exit PID SECONDS: waits up to SECONDS for PID to end by itself. If
# it did, reaps it, leaves its exit status in exit_rc and returns 0; else
# exit_rc is "running" and it returns 1 (the process is left alone).
wait_exit() {
    exit_rc=running
    for _ in $(seq $(($2 * 20))); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$1" 2>/dev/null && return 1
    wait "$1"
    exit_rc=$?
}
