#!/usr/bin/env bash
# DTLS 1.2 PSK interop with OpenSSL's s_server and s_client, every suite
# petrel implements, both directions, plus small-MTU runs both ways.
# usage: openssl_dtls_psk.sh PETREL_BINARY   (run from a scratch directory)
#
# Peer quirks this relies on (see PEERS.md):
# - s_server quits at EOF on stdin: its stdin is a fifo held open here.
# - Neither openssl tool echoes over DTLS: petrel client -> s_server is
#   checked with s_server logging "ping" and the script then typing
#   "pong-SUITE" into s_server's stdin, which petrel must receive.
# - s_client -quiet implies -ign_eof; -no_ign_eof after it makes EOF on
#   stdin send close_notify and exit.
# - -mtu must be at least 256 for the openssl tools.
# - With its default cipher list and -mtu 256, s_client's ClientHello is
#   cut into two records; the last case checks that petrel's stateless
#   cookie gate answers it from the first fragment.
set -u
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

interop_init openssl_dtls_psk "${1:-}"
require_peer openssl
require_peer timeout
openssl version

SUITES=(
    "TLS_PSK_WITH_AES_128_CCM_8 PSK-AES128-CCM8"
    "TLS_PSK_WITH_AES_128_GCM_SHA256 PSK-AES128-GCM-SHA256"
    "TLS_PSK_WITH_AES_256_GCM_SHA384 PSK-AES256-GCM-SHA384"
    "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 PSK-CHACHA20-POLY1305"
    "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 ECDHE-PSK-CHACHA20-POLY1305"
)

# petrel client -> openssl s_server.
# usage: client_case SUITE OPENSSL_NAME LABEL "PETREL_EXTRA" "S_SERVER_EXTRA"
client_case() {
    local suite=$1 name=$2 label=$3 petrel_extra=$4 peer_extra=$5
    local desc="petrel client -> openssl s_server, $suite$label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/s_server.log cli_log=$CASE_DIR/petrel-client.log
    local reply="pong-$suite"
    make_fifo s_server
    # shellcheck disable=SC2086
    if ! start_udp_server "$FIFO_PATH" "$srv_log" '^ACCEPT' 'unable to bind|Address already in use' \
        openssl s_server -dtls1_2 -accept 127.0.0.1:@PORT@ -nocert -psk "$PSK_HEX" \
        -psk_identity "$PSK_IDENTITY" -cipher "$name" $peer_extra; then
        fail "$desc" "openssl s_server did not start" "$srv_log"
        stop_all
        return
    fi
    local srv=$LAST_PID
    # shellcheck disable=SC2086
    spawn /dev/null "$cli_log" "$PETREL" client --dtls --connect "127.0.0.1:$PEER_PORT" \
        --psk-identity "$PSK_IDENTITY" --psk "$PSK_HEX" --suites "$suite" \
        --send ping --expect "$reply" --timeout 10000 $petrel_extra
    local cli=$LAST_PID
    if ! wait_for_line "$srv_log" 'ping' "$INTEROP_WAIT" "$srv" "$cli"; then
        fail "$desc" "s_server never logged the client's \"ping\"" "$cli_log" "$srv_log"
        stop_all
        return
    fi
    fifo_send s_server "$reply"
    if ! wait_for_exit "$cli" "$INTEROP_WAIT"; then
        fail "$desc" "petrel client still running ${INTEROP_WAIT} s after the reply was sent" \
            "$cli_log" "$srv_log"
        stop_all
        return
    fi
    local rc=$EXIT_RC
    # petrel sends close_notify before exiting: s_server prints DONE.
    wait_for_line "$srv_log" '(^|ping)DONE$' "$INTEROP_WAIT" "$srv"
    local why=
    if [ "$rc" -ne 0 ]; then
        why="petrel client exited $rc"
    elif ! grep -q "^handshake complete: $suite," "$cli_log"; then
        why="petrel did not report suite $suite"
    elif ! grep -q "^received: $reply" "$cli_log"; then
        why="petrel did not print the reply \"$reply\""
    elif ! grep -q "^CIPHER is $name\$" "$srv_log"; then
        why="s_server did not report \"CIPHER is $name\""
    elif ! grep -Eq '(^|ping)DONE$' "$srv_log"; then
        why="s_server did not see petrel's close_notify (no DONE)"
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$cli_log" "$srv_log"
    else
        pass "$desc"
    fi
    stop_all
}

# openssl s_client -> petrel server --echo.
# usage: server_case SUITE OPENSSL_NAME LABEL "PETREL_EXTRA" "S_CLIENT_EXTRA"
server_case() {
    local suite=$1 name=$2 label=$3 petrel_extra=$4 peer_extra=$5
    local desc="openssl s_client -> petrel server, $suite$label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_log=$CASE_DIR/s_client.log
    local line="echo-$suite"
    # shellcheck disable=SC2086
    if ! start_petrel_server "$srv_log" --echo --once $petrel_extra; then
        fail "$desc" "petrel server did not start" "$srv_log"
        stop_all
        return
    fi
    local srv=$LAST_PID
    make_fifo s_client
    # shellcheck disable=SC2086
    # NAME "DEFAULT" leaves s_client's own cipher list (a larger hello).
    local cipher_args=(-cipher "$name")
    [ "$name" = DEFAULT ] && cipher_args=()
    spawn "$FIFO_PATH" "$cli_log" openssl s_client -dtls1_2 -connect "127.0.0.1:$PEER_PORT" \
        -psk "$PSK_HEX" -psk_identity "$PSK_IDENTITY" "${cipher_args[@]}" -quiet -no_ign_eof \
        $peer_extra
    local cli=$LAST_PID
    fifo_send s_client "$line"
    if ! wait_for_line "$cli_log" "^$line\$" "$INTEROP_WAIT" "$cli"; then
        fail "$desc" "s_client did not print the echo \"$line\"" "$cli_log" "$srv_log"
        stop_all
        return
    fi
    fifo_close s_client # EOF: s_client sends close_notify and exits
    local why=
    if ! wait_for_line "$srv_log" 'closed: close_notify$' "$INTEROP_WAIT" "$srv"; then
        why="petrel server did not log \"closed: close_notify\" after s_client's EOF"
    elif ! wait_for_exit "$srv" "$INTEROP_WAIT"; then
        why="petrel server --once still running after the session closed"
    elif [ "$EXIT_RC" -ne 0 ]; then
        why="petrel server exited $EXIT_RC"
    elif ! grep -q ": handshake complete: $suite, client: PSK\$" "$srv_log"; then
        why="petrel server did not report suite $suite"
    elif ! grep -q ": received [0-9]* bytes: $line" "$srv_log"; then
        why="petrel server did not log the received \"$line\""
    elif ! wait_for_exit "$cli" "$INTEROP_WAIT"; then
        why="s_client still running after EOF on its stdin"
    elif [ "$EXIT_RC" -ne 0 ]; then
        why="s_client exited $EXIT_RC"
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$srv_log" "$cli_log"
    else
        pass "$desc"
    fi
    stop_all
}

for entry in "${SUITES[@]}"; do
    read -r suite name <<<"$entry"
    client_case "$suite" "$name" "" "" ""
    server_case "$suite" "$name" "" "" ""
done

# Small MTU. petrel at its minimum PMTU (200), openssl at its minimum
# (-mtu 256). s_server gets a 250-byte identity hint so that its
# ServerKeyExchange is cut into fragments petrel must reassemble; petrel
# server gets the longest hint it accepts (128 bytes, HS_PSK_IDENTITY_STORE_MAX;
# 150 is refused as an invalid argument) so its flight spans datagrams.
server_hint=$(long_hint 128)
peer_hint=$(long_hint 250)
for entry in "${SUITES[@]}"; do
    read -r suite name <<<"$entry"
    client_case "$suite" "$name" ", mtu 200/256, 250-byte hint" "--mtu 200" \
        "-mtu 256 -psk_hint $peer_hint"
    server_case "$suite" "$name" ", mtu 256/200, 128-byte hint" \
        "--mtu 200 --psk-hint $server_hint" "-mtu 256"
done

# A fragmented ClientHello: s_client's default cipher list at -mtu 256 is
# too big for one datagram. petrel (with its default suites) picks
# TLS_PSK_WITH_AES_128_GCM_SHA256, the first of its own that s_client
# offers by default.
server_case TLS_PSK_WITH_AES_128_GCM_SHA256 DEFAULT ", fragmented ClientHello (mtu 256)" \
    "" "-mtu 256"

interop_finish
