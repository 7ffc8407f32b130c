#!/usr/bin/env bash
# DTLS 1.2 PSK interop with GnuTLS's gnutls-serv --echo and gnutls-cli,
# every suite petrel implements, both directions, plus small-MTU runs both
# ways. Each case pins one suite with a GnuTLS priority string.
# usage: gnutls_dtls_psk.sh PETREL_BINARY   (run from a scratch directory)
#
# Peer quirks this relies on (see PEERS.md):
# - gnutls-serv binds 0.0.0.0 and :: (free_udp_port checks both), logs
#   "bind() failed" but keeps running when the port is taken, serves one
#   DTLS connection at a time (one server per case here), and asks for a
#   client certificate unless --disable-client-cert.
# - gnutls-cli sends its stdin lines and close_notify at EOF on stdin.
# - gnutls-cli 3.7.9 crashes (SIGSEGV in gnutls_psk_server_get_username,
#   called from its print_info) right after every ECDHE-PSK handshake,
#   against gnutls-serv just as against petrel, before it sends any data.
#   For that suite the case checks that both sides finished the handshake
#   (petrel logs it; gnutls-cli's debug log shows the server's Finished
#   received) and says so; a gnutls-cli that does not crash gets the full
#   echo check.
# - At --mtu 200 gnutls-cli cuts its ClientHello into several records;
#   petrel's stateless cookie gate answers it from the first fragment.
set -u
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

interop_init gnutls_dtls_psk "${1:-}"
require_peer gnutls-serv
require_peer gnutls-cli
require_peer timeout
gnutls-cli --version | head -n 1

# petrel suite, GnuTLS key exchange, GnuTLS cipher.
SUITES=(
    "TLS_PSK_WITH_AES_128_CCM_8 PSK AES-128-CCM-8"
    "TLS_PSK_WITH_AES_128_GCM_SHA256 PSK AES-128-GCM"
    "TLS_PSK_WITH_AES_256_GCM_SHA384 PSK AES-256-GCM"
    "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 PSK CHACHA20-POLY1305"
    "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 ECDHE-PSK CHACHA20-POLY1305"
)

priority() { # KX CIPHER
    echo "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+$1:-CIPHER-ALL:+$2:-MAC-ALL:+AEAD"
}

PSK_FILE=$WORK/psk.txt
echo "$PSK_IDENTITY:$PSK_HEX" >"$PSK_FILE"

# petrel client -> gnutls-serv --echo.
# usage: client_case SUITE KX CIPHER LABEL "PETREL_EXTRA" "GNUTLS_SERV_EXTRA"
client_case() {
    local suite=$1 kx=$2 cipher=$3 label=$4 petrel_extra=$5 peer_extra=$6
    local desc="petrel client -> gnutls-serv, $suite$label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/gnutls-serv.log cli_log=$CASE_DIR/petrel-client.log
    local line="ping-$suite"
    # shellcheck disable=SC2086
    if ! start_udp_server /dev/null "$srv_log" 'listening on IPv4 .* port @PORT@\.\.\.done' \
        'bind\(\) failed' \
        gnutls-serv --udp --echo -p @PORT@ --pskpasswd "$PSK_FILE" --disable-client-cert \
        --priority "$(priority "$kx" "$cipher")" $peer_extra; then
        fail "$desc" "gnutls-serv did not start" "$srv_log"
        stop_all
        return
    fi
    # shellcheck disable=SC2086
    spawn /dev/null "$cli_log" "$PETREL" client --dtls --connect "127.0.0.1:$PEER_PORT" \
        --psk-identity "$PSK_IDENTITY" --psk "$PSK_HEX" --suites "$suite" \
        --send "$line" --timeout 10000 $petrel_extra
    local cli=$LAST_PID why=
    if ! wait_for_exit "$cli" 15; then
        why="petrel client still running after 15 s"
    elif [ "$EXIT_RC" -ne 0 ]; then
        why="petrel client exited $EXIT_RC"
    elif ! grep -q "^handshake complete: $suite," "$cli_log"; then
        why="petrel did not report suite $suite"
    elif ! grep -q "^received: $line" "$cli_log"; then
        why="petrel did not print the echo \"$line\""
    elif ! grep -q "Processing [0-9]* bytes command: $line" "$srv_log"; then
        why="gnutls-serv did not log the received \"$line\""
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$cli_log" "$srv_log"
    else
        pass "$desc"
    fi
    stop_all
}

# gnutls-cli -> petrel server --echo.
# usage: server_case SUITE KX CIPHER LABEL "PETREL_EXTRA" "GNUTLS_CLI_EXTRA"
server_case() {
    local suite=$1 kx=$2 cipher=$3 label=$4 petrel_extra=$5 peer_extra=$6
    local desc="gnutls-cli -> petrel server, $suite$label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_log=$CASE_DIR/gnutls-cli.log
    local dbg_log=$CASE_DIR/gnutls-cli.debug.log line="echo-$suite"
    # shellcheck disable=SC2086
    if ! start_petrel_server "$srv_log" --echo --once $petrel_extra; then
        fail "$desc" "petrel server did not start" "$srv_log"
        stop_all
        return
    fi
    local srv=$LAST_PID
    make_fifo gnutls-cli
    # stdout (data and session info) to one log, the -d 4 debug trace
    # (stderr) to another; the wrapper shell's own report of a crash goes to
    # the first.
    # shellcheck disable=SC2016,SC2086
    spawn "$FIFO_PATH" "$cli_log" bash -c '"$@" 2>"$0"' "$dbg_log" \
        gnutls-cli --udp -p "$PEER_PORT" 127.0.0.1 -d 4 --pskusername "$PSK_IDENTITY" \
        --pskkey "$PSK_HEX" --priority "$(priority "$kx" "$cipher")" $peer_extra
    local cli=$LAST_PID
    fifo_send gnutls-cli "$line"
    if ! wait_for_line "$cli_log" "^$line\$" "$INTEROP_WAIT" "$cli"; then
        # The gnutls-cli ECDHE-PSK crash (see the top): the handshake is
        # what can be checked.
        if ! pid_alive "$cli" && wait_for_exit "$cli" 1 && [ "$EXIT_RC" -eq 139 ] &&
            [ "$kx" = ECDHE-PSK ] &&
            grep -q "FINISHED (20) was received" "$dbg_log" &&
            grep -q ": handshake complete: $suite, client: PSK\$" "$srv_log"; then
            pass "$desc (handshake only: gnutls-cli $(gnutls-cli --version | head -n 1 |
                awk '{print $NF}') crashed after it, a known gnutls-cli bug with ECDHE-PSK)"
        else
            fail "$desc" "gnutls-cli did not print the echo \"$line\"" "$cli_log" "$dbg_log" \
                "$srv_log"
        fi
        stop_all
        return
    fi
    fifo_close gnutls-cli # EOF: gnutls-cli sends close_notify and exits
    local why=
    if ! wait_for_line "$srv_log" 'closed: close_notify$' "$INTEROP_WAIT" "$srv"; then
        why="petrel server did not log \"closed: close_notify\" after gnutls-cli's EOF"
    elif ! wait_for_exit "$srv" "$INTEROP_WAIT"; then
        why="petrel server --once still running after the session closed"
    elif [ "$EXIT_RC" -ne 0 ]; then
        why="petrel server exited $EXIT_RC"
    elif ! grep -q ": handshake complete: $suite, client: PSK\$" "$srv_log"; then
        why="petrel server did not report suite $suite"
    elif ! grep -q ": received [0-9]* bytes: $line" "$srv_log"; then
        why="petrel server did not log the received \"$line\""
    elif ! wait_for_exit "$cli" "$INTEROP_WAIT"; then
        why="gnutls-cli still running after EOF on its stdin"
    elif [ "$EXIT_RC" -ne 0 ]; then
        why="gnutls-cli exited $EXIT_RC"
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$srv_log" "$cli_log" "$dbg_log"
    else
        pass "$desc"
    fi
    stop_all
}

for entry in "${SUITES[@]}"; do
    read -r suite kx cipher <<<"$entry"
    client_case "$suite" "$kx" "$cipher" "" "" ""
    server_case "$suite" "$kx" "$cipher" "" "" ""
done

# Small MTU: petrel at its minimum PMTU (200). gnutls-serv at --mtu 200 with
# a 250-byte identity hint, so petrel reassembles its ServerKeyExchange from
# fragments; petrel server with the longest hint it accepts (128 bytes) so
# its flight spans datagrams, gnutls-cli at --mtu 200 too (see the top).
server_hint=$(long_hint 128)
peer_hint=$(long_hint 250)
for entry in "${SUITES[@]}"; do
    read -r suite kx cipher <<<"$entry"
    client_case "$suite" "$kx" "$cipher" ", mtu 200/200, 250-byte hint" "--mtu 200" \
        "--mtu 200 --pskhint $peer_hint"
    server_case "$suite" "$kx" "$cipher" ", mtu 200/200, 128-byte hint" \
        "--mtu 200 --psk-hint $server_hint" "--mtu 200"
done

interop_finish
