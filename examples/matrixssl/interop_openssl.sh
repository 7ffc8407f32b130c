#!/usr/bin/env bash
# The MatrixSSL examples (client.c, server.c) against openssl s_server and
# s_client, DTLS 1.2 and TLS 1.2, PSK and certificates:
#   1. mssl_dtls_client -> s_server -dtls1_2, PSK (PSK-AES128-CCM8)
#   2. mssl_dtls_client -> s_server -dtls1_2, certificate (and with a
#      client certificate, s_server -Verify)
#   3. s_client -dtls1_2 -> mssl_dtls_server, PSK, certificate, and a
#      client certificate (-V)
#   4. mssl_tls_client -> s_server -tls1_2, certificate and PSK
#   5. s_client -tls1_2 -> mssl_tls_server, certificate and PSK
#   6. mssl_{dtls,tls}_client -R -> s_server -client_renegotiation, PSK
#      and certificate: after the first echo the client rehandshakes
#      (matrixSslEncodeRehandshake, RFC 5746) and sends the message again
# Each case checks the lines our program prints (handshake complete, the
# echo, the clean close) and openssl's (the cipher it negotiated, DONE for
# the close_notify it saw, the verification result). The last line is
# "interop_openssl: all as expected" only when every case passed; a failed
# case prints why and the last lines of both logs. openssl must be
# installed: a missing peer is a failure, never a skip.
#
# Peer quirks this relies on (/work/shared/PEERS.md, tests/interop/lib.sh):
# - s_server quits at EOF on stdin: its stdin is a fifo the script holds.
# - Neither openssl tool echoes over DTLS (-rev does not work with DTLS),
#   so for our client -> s_server the script types the client's message
#   into s_server once s_server has printed it: s_server sends it back
#   with a newline, which our client prints as \n.
# - s_client, with -no_ign_eof, sends close_notify at EOF on its stdin.
#
# usage: interop_openssl.sh DTLS_CLIENT DTLS_SERVER TLS_CLIENT TLS_SERVER PKI_DIR
#        (run from a scratch directory: the logs go to ./interop_matrixssl_openssl)
set -u
INTEROP_BUDGET=${INTEROP_BUDGET:-150}
# shellcheck source-path=SCRIPTDIR source=../../tests/interop/lib.sh
. "$(dirname "$0")/../../tests/interop/lib.sh"
if [ $# -ne 5 ]; then
    echo "usage: $0 DTLS_CLIENT DTLS_SERVER TLS_CLIENT TLS_SERVER PKI_DIR"
    exit 2
fi
declare -A BIN=([dtls_client]=$1 [dtls_server]=$2 [tls_client]=$3 [tls_server]=$4)
PKI=$5
for b in "${BIN[@]}"; do
    [ -x "$b" ] || {
        echo "FAIL: $b is not an executable"
        exit 1
    }
done
# lib.sh's scratch directory and EXIT trap; its "petrel" is our DTLS client.
interop_init interop_matrixssl_openssl "$1"
require_peer openssl
require_peer timeout
openssl version

MSSL_PSK=(-k "$PSK_HEX" -u "$PSK_IDENTITY")
OSSL_SERVER_PSK=(-nocert -psk "$PSK_HEX" -psk_identity "$PSK_IDENTITY")
OSSL_CLIENT_PSK=(-psk "$PSK_HEX" -psk_identity "$PSK_IDENTITY")
MSSL_TRUST=(-A "$PKI/ec-root.crt" -n localhost)
MSSL_SERVER_CERT=(-c "$PKI/ec-server-chain.pem" -K "$PKI/ec-server.key")
MSSL_CLIENT_CERT=(-c "$PKI/ec-client-chain.pem" -K "$PKI/ec-client.key")
OSSL_TRUST=(-CAfile "$PKI/ec-root.crt" -verify_return_error -verify_hostname localhost)
OSSL_SERVER_CERT=() # -cert LEAF -key KEY -cert_chain REST (ossl_identity)
OSSL_CLIENT_CERT=()
ossl_identity OSSL_SERVER_CERT "$PKI/ec-server-chain.pem" "$PKI/ec-server.key" || exit 1
ossl_identity OSSL_CLIENT_CERT "$PKI/ec-client-chain.pem" "$PKI/ec-client.key" || exit 1
SERVER_CERT_LINE="client: server certificate: subject CN=localhost, issuer CN=petrel test EC intermediate, alert 0"
CLIENT_CERT_LINE="server: client certificate: subject CN=petrel test client, issuer CN=petrel test EC intermediate, alert 0"

need_text() { # FILE TEXT REASON: a line of FILE holds TEXT (fixed string)
    need "$3" grep -qF -- "$2" "$1"
}

# wait_for_count FILE TEXT N TIMEOUT_S PID: 0 once N lines of FILE hold the
# fixed TEXT; 1 after TIMEOUT_S or when PID has exited without them.
# shellcheck disable=SC2317 # called through need
wait_for_count() {
    local file=$1 text=$2 want=$3 limit=$(($4 * 20)) pid=$5 i n
    for ((i = 0; i < limit; i++)); do
        n=$(grep -cF -- "$text" "$file" 2>/dev/null)
        [ "${n:-0}" -ge "$want" ] && return 0
        pid_alive "$pid" || break
        sleep 0.05
    done
    n=$(grep -cF -- "$text" "$file" 2>/dev/null)
    [ "${n:-0}" -ge "$want" ]
}

# start_mssl_server LOG ARG...: our server for the current transport on a
# free port (-p 0, the port file), one connection. Sets LAST_PID and
# PEER_PORT; 1 if it did not come up.
# shellcheck disable=SC2317 # called through need
start_mssl_server() {
    local log=$1 portfile=$1.port
    shift
    rm -f "$portfile"
    spawn /dev/null "$log" "${BIN[${PROTO}_server]}" -p 0 -P "$portfile" -N 1 -i 15000 "$@"
    wait_for_file "$portfile" "$INTEROP_WAIT" &&
        wait_for_line "$log" '^server: listening on port ' "$INTEROP_WAIT" "$LAST_PID" || return 1
    PEER_PORT=$(cat "$portfile")
}

# ossl_start_full_client OUT S_CLIENT_ARG...: openssl s_client without
# -quiet (so that it prints the cipher and the verification result) to
# 127.0.0.1:PEER_PORT, stdout and stderr to OUT, its stdin the fifo
# "s_client". Sets LAST_PID.
ossl_start_full_client() {
    local out=$1
    shift
    make_fifo s_client
    spawn "$FIFO_PATH" "$out" openssl s_client "$OSSL_PROTO" -connect "127.0.0.1:$PEER_PORT" \
        -no_ign_eof -nocommands "$@"
}

# client_case [peer_log=REGEX]... [client_log=TEXT]... LABEL CIPHER_REGEX
#             CLIENT_ARG... -- S_SERVER_ARG...
# Our client -> openssl s_server -naccept 1. Once s_server has printed the
# client's message, the script types it back into s_server; the client
# must print the echo (with s_server's newline), send close_notify and
# exit 0, and s_server must print DONE, "CIPHER is CIPHER_REGEX" and no
# ERROR.
client_case() {
    local peer_res=() client_texts=() re t rehandshake=0
    while :; do
        case $1 in
        peer_log=*) peer_res+=("${1#peer_log=}") ;;
        client_log=*) client_texts+=("${1#client_log=}") ;;
        rehandshake) rehandshake=1 ;;
        *) break ;;
        esac
        shift
    done
    local label=$1 cipher=$2
    shift 2
    split_args "$@"
    local name
    name=$(basename "${BIN[${PROTO}_client]}")
    local desc="$name -> openssl s_server $OSSL_PROTO, $label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/s_server.log cli_log=$CASE_DIR/client.log
    local msg="hello from $name, $label"
    if ! need "openssl s_server did not start" ossl_start_server "$srv_log" -naccept 1 \
        "${ARGS_B[@]}"; then
        case_end "$desc" "" "$srv_log"
        return
    fi
    local srv=$LAST_PID
    spawn /dev/null "$cli_log" "${BIN[${PROTO}_client]}" -h 127.0.0.1 -p "$PEER_PORT" -m "$msg" \
        "${ARGS_A[@]}"
    local cli=$LAST_PID
    await_line "$srv_log" "$(regex_quote "$msg")" "s_server never printed the client's message" \
        "$srv" "$cli" && fifo_send s_server "$msg"
    if [ "$rehandshake" = 1 ]; then
        # After the rehandshake the client sends the message once more.
        need "s_server never printed the message after the rehandshake" \
            wait_for_count "$srv_log" "$msg" 2 "$INTEROP_WAIT" "$cli" && fifo_send s_server "$msg"
        need_line "$cli_log" '^client: rehandshake started$' "the client did not rehandshake"
        need "the client did not complete the rehandshake (one handshake complete line)" \
            wait_for_count "$cli_log" "client: handshake complete" 2 1 "$cli"
    fi
    need_exit "$cli" "$name" 0 20
    await_line "$srv_log" 'DONE$' "s_server did not see the client's close_notify (no DONE)" "$srv"
    need_line "$cli_log" '^client: handshake complete$' "the client did not complete the handshake"
    need_text "$cli_log" "client: received $((${#msg} + 1)) bytes: \"$msg\\n\"" \
        "the client did not print the echo of \"$msg\""
    need_line "$cli_log" '^client: sent close_notify$' "the client did not send close_notify"
    need_line "$cli_log" '^client: done$' "the client did not print \"client: done\""
    need_line "$srv_log" "^CIPHER is $cipher\$" "s_server did not report \"CIPHER is $cipher\""
    need_no_line "$srv_log" '^ERROR' "s_server printed an ERROR"
    for t in "${client_texts[@]}"; do
        need_text "$cli_log" "$t" "the client did not print \"$t\""
    done
    for re in "${peer_res[@]}"; do
        need_line "$srv_log" "$re" "s_server's log does not match \"$re\""
    done
    case_end "$desc" "$(grep -m1 -o '^CIPHER is .*' "$srv_log")" "$cli_log" "$srv_log"
}

# server_case [peer_log=REGEX]... [server_log=TEXT]... LABEL CIPHER_REGEX
#             SERVER_ARG... -- S_CLIENT_ARG...
# openssl s_client -> our server (one connection). s_client sends a line
# and must print the echo; at EOF on its stdin it sends close_notify,
# which our server must answer, reporting a clean close and exiting 0.
# s_client must report "Cipher is CIPHER_REGEX" and exit 0.
server_case() {
    local peer_res=() server_texts=() re t
    while :; do
        case $1 in
        peer_log=*) peer_res+=("${1#peer_log=}") ;;
        server_log=*) server_texts+=("${1#server_log=}") ;;
        *) break ;;
        esac
        shift
    done
    local label=$1 cipher=$2
    shift 2
    split_args "$@"
    local name
    name=$(basename "${BIN[${PROTO}_server]}")
    local desc="openssl s_client $OSSL_PROTO -> $name, $label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/server.log cli_out=$CASE_DIR/s_client.log
    local line="echo from openssl s_client, $label"
    if ! need "$name did not start" start_mssl_server "$srv_log" "${ARGS_A[@]}"; then
        case_end "$desc" "" "$srv_log"
        return
    fi
    local srv=$LAST_PID
    ossl_start_full_client "$cli_out" "${ARGS_B[@]}"
    local cli=$LAST_PID
    fifo_send s_client "$line"
    await_line "$cli_out" "^$(regex_quote "$line")\$" "s_client did not print the echo" "$cli" &&
        fifo_close s_client # EOF: s_client sends close_notify and exits
    await_line "$srv_log" 'closed cleanly' "the server did not report a clean close" "$srv"
    need_exit "$srv" "$name" 0
    need_text "$srv_log" "server: connection 1: handshake complete" \
        "the server did not complete the handshake"
    need_text "$srv_log" "server: connection 1: received $((${#line} + 1)) bytes: \"$line\\n\"" \
        "the server did not print the line it received"
    need_text "$srv_log" "server: connection 1 closed cleanly, echoed $((${#line} + 1)) bytes" \
        "the server did not report the clean close with the bytes echoed"
    need_line "$srv_log" '^server: done$' "the server did not print \"server: done\""
    need_exit "$cli" "s_client" 0
    need_line "$cli_out" "Cipher is $cipher\$" "s_client did not report \"Cipher is $cipher\""
    for t in "${server_texts[@]}"; do
        need_text "$srv_log" "$t" "the server did not print \"$t\""
    done
    for re in "${peer_res[@]}"; do
        need_line "$cli_out" "$re" "s_client's output does not match \"$re\""
    done
    case_end "$desc" "$(grep -m1 -o 'Cipher is .*' "$cli_out")" "$srv_log" "$cli_out"
}

for PROTO in dtls tls; do
    interop_transport "$PROTO"
    # Our client -> s_server: PSK, certificate, certificate both ways.
    client_case "PSK" PSK-AES128-CCM8 "${MSSL_PSK[@]}" -- \
        "${OSSL_SERVER_PSK[@]}" -cipher PSK-AES128-CCM8
    client_case client_log="$SERVER_CERT_LINE" "certificate" 'ECDHE-ECDSA-.*' \
        "${MSSL_TRUST[@]}" -- "${OSSL_SERVER_CERT[@]}"
    client_case client_log="$SERVER_CERT_LINE" \
        peer_log='^subject=O = petrel-test, CN = petrel test client$' \
        "certificates both ways" 'ECDHE-ECDSA-.*' "${MSSL_TRUST[@]}" "${MSSL_CLIENT_CERT[@]}" -- \
        "${OSSL_SERVER_CERT[@]}" -Verify 2 -CAfile "$PKI/ec-root.crt" -verify_return_error
    # s_client -> our server: PSK, certificate, certificate both ways.
    server_case "PSK" PSK-AES128-CCM8 "${MSSL_PSK[@]}" -- \
        "${OSSL_CLIENT_PSK[@]}" -cipher PSK-AES128-CCM8
    server_case peer_log='^Verification: OK$' peer_log='^Verified peername: localhost$' \
        "certificate" 'ECDHE-ECDSA-.*' "${MSSL_SERVER_CERT[@]}" -- "${OSSL_TRUST[@]}"
    server_case server_log="$CLIENT_CERT_LINE" peer_log='^Verification: OK$' \
        "certificates both ways" 'ECDHE-ECDSA-.*' "${MSSL_SERVER_CERT[@]}" \
        -A "$PKI/ec-root.crt" -V -- "${OSSL_TRUST[@]}" "${OSSL_CLIENT_CERT[@]}"
    # Our client rehandshakes (RFC 5746); OpenSSL 3 servers take a
    # client's only with -client_renegotiation.
    client_case rehandshake "PSK, rehandshake" PSK-AES128-CCM8 "${MSSL_PSK[@]}" -R -- \
        "${OSSL_SERVER_PSK[@]}" -cipher PSK-AES128-CCM8 -client_renegotiation
    client_case rehandshake client_log="$SERVER_CERT_LINE" "certificate, rehandshake" \
        'ECDHE-ECDSA-.*' "${MSSL_TRUST[@]}" -R -- "${OSSL_SERVER_CERT[@]}" -client_renegotiation
done

stop_all
for name in "${INTEROP_FAILED_NAMES[@]}"; do echo "failed: $name"; done
echo "$INTEROP_PASSED passed, $INTEROP_FAILED failed ($((SECONDS - INTEROP_T0)) s)"
if [ "$INTEROP_FAILED" -eq 0 ] && [ "$INTEROP_PASSED" -gt 0 ]; then
    echo "interop_openssl: all as expected"
    exit 0
fi
exit 1
