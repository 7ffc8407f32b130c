#!/usr/bin/env bash
# DTLS 1.2 certificate interop with OpenSSL's s_server and s_client, using
# the chains in tests/pki: every ECDHE_ECDSA and ECDHE_RSA suite petrel
# implements, both directions, small-MTU runs in which a chain spans many
# datagrams, client authentication both ways, and refused certificates
# (expired, wrong name, unknown CA, missing or untrusted client certificate).
# usage: openssl_dtls_cert.sh PETREL_BINARY   (run from a scratch directory)
#
# Peer quirks this relies on (see PEERS.md):
# - s_server quits at EOF on stdin: its stdin is a fifo held open here.
# - Neither openssl tool echoes over DTLS: petrel client -> s_server is
#   checked with s_server logging "ping" and the script then typing
#   "pong-SUITE" into s_server's stdin, which petrel must receive.
# - s_client -quiet implies -ign_eof; -no_ign_eof after it makes EOF on
#   stdin send close_notify and exit.
# - -cert reads only the first certificate of its file: given
#   ec-server-chain.pem, s_server sent the leaf alone (and petrel rightly
#   refused it: unknown CA). The chains are therefore split here into
#   -cert LEAF -cert_chain REST, for s_client's -cert too.
# - s_server -Verify N alone accepts any client certificate (it logs the
#   verify error and goes on): -verify_return_error makes it refuse one.
# - -mtu N (at least 256) is the link MTU: s_server's datagrams were at
#   most N - 28 bytes. petrel's --mtu is the datagram size (200 minimum).
# - s_client -quiet prints "Can't use SSL_get_servername": harmless.
#
# The small-MTU runs go through `petrel proxy --dump` so that the datagram
# count and sizes are checked, not assumed.
#
# petrel server reports a client that was not asked for a certificate as
# "anonymous" (petrel_peer_anonymous()).
set -u
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

PKI=$(cd "$(dirname "$0")/../pki" 2>/dev/null && pwd)
interop_init openssl_dtls_cert "${1:-}"
require_peer openssl
require_peer timeout
if [ -z "$PKI" ] || [ ! -r "$PKI/ca-all.pem" ]; then
    echo "FAIL: the test PKI (tests/pki next to this script) was not found"
    exit 1
fi
echo "pki: $PKI"
openssl version

ECDSA_SUITES=(
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ECDHE-ECDSA-AES128-CCM8"
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM ECDHE-ECDSA-AES128-CCM"
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ECDHE-ECDSA-AES128-GCM-SHA256"
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 ECDHE-ECDSA-AES256-GCM-SHA384"
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-ECDSA-CHACHA20-POLY1305"
)
RSA_SUITES=(
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA-AES128-GCM-SHA256"
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ECDHE-RSA-AES256-GCM-SHA384"
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-RSA-CHACHA20-POLY1305"
)

# ossl_identity VAR CHAIN KEY: VAR becomes the openssl arguments for the
# leaf-first chain file CHAIN and key KEY (both in tests/pki):
# -cert LEAF -key KEY [-cert_chain REST], the leaf and the rest written
# to $WORK.
ossl_identity() {
    local -n out=$1
    local base=${2%.pem}
    local leaf=$WORK/$base.leaf.pem rest=$WORK/$base.rest.pem
    rm -f "$leaf" "$rest"
    awk -v leaf="$leaf" -v rest="$rest" '
        /-----BEGIN CERTIFICATE-----/ { n++ }
        n == 1 { print > leaf }
        n > 1 { print > rest }' "$PKI/$2" || return 1
    [ -s "$leaf" ] || return 1
    out=(-cert "$leaf" -key "$PKI/$3")
    if [ -s "$rest" ]; then out+=(-cert_chain "$rest"); fi
}

EC_SERVER=() RSA_SERVER=() EC_CLIENT=() RSA_CLIENT=() EXPIRED=() UNKNOWN=()
if ! ossl_identity EC_SERVER ec-server-chain.pem ec-server.key ||
    ! ossl_identity RSA_SERVER rsa-server-chain.pem rsa-server.key ||
    ! ossl_identity EC_CLIENT ec-client-chain.pem ec-client.key ||
    ! ossl_identity RSA_CLIENT rsa-client-chain.pem rsa-client.key ||
    ! ossl_identity EXPIRED expired-chain.pem expired.key ||
    ! ossl_identity UNKNOWN unknown-chain.pem unknown-server.key; then
    echo "FAIL: cannot split the chains of $PKI"
    exit 1
fi
CA=$PKI/ca-all.pem
# What s_server needs to ask for, and check, a client certificate.
ASK_CLIENT=(-Verify 1 -CAfile "$CA" -verify_return_error)

# start_s_server LOG S_SERVER_ARG...: s_server on a free port, its stdin
# the fifo "s_server". Sets LAST_PID and PEER_PORT; 1 on failure.
start_s_server() {
    local log=$1
    shift
    make_fifo s_server
    start_udp_server "$FIFO_PATH" "$log" '^ACCEPT' 'unable to bind|Address already in use' \
        openssl s_server -dtls1_2 -accept 127.0.0.1:@PORT@ "$@"
}

# The port a client should use: PORT itself, or a dump proxy in front of it
# when SPEC (see check_datagrams) is set. Sets TARGET_PORT; 1 on failure.
TARGET_PORT=
target_port() { # PORT SPEC
    TARGET_PORT=$1
    [ -n "$2" ] || return 0
    start_dump_proxy "$CASE_DIR/proxy.log" "$CASE_DIR/datagrams" "$1" || return 1
    TARGET_PORT=$PROXY_PORT
}

# petrel client -> openssl s_server, which must complete with data both ways.
# usage: client_case [subject=TEXT] [dgrams=DIR:MIN:MAX] SUITE OPENSSL_NAME LABEL
#                    PETREL_ARG... -- S_SERVER_ARG...
#   subject=TEXT         s_server must log "subject=TEXT" (the client's certificate)
#   dgrams=DIR:MIN:MAX   through a dump proxy; see check_datagrams
client_case() {
    local subject='' dgrams=''
    while :; do
        case $1 in
        subject=*) subject=${1#subject=} ;;
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
    local reply="pong-$suite"
    if ! start_s_server "$srv_log" -cipher "$name" "${ARGS_B[@]}"; then
        fail "$desc" "openssl s_server did not start" "$srv_log"
        stop_all
        return
    fi
    local srv=$LAST_PID
    if ! target_port "$PEER_PORT" "$dgrams"; then
        fail "$desc" "petrel proxy did not start" "$CASE_DIR/proxy.log"
        stop_all
        return
    fi
    spawn /dev/null "$cli_log" "$PETREL" client --dtls --connect "127.0.0.1:$TARGET_PORT" \
        --suites "$suite" --send ping --expect "$reply" --timeout 10000 "${ARGS_A[@]}"
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
    elif ! grep -q "^handshake complete: $suite, .*, server: certificate verified\$" "$cli_log"; then
        why="petrel did not report suite $suite with the server's certificate verified"
    elif ! grep -q "^received: $reply" "$cli_log"; then
        why="petrel did not print the reply \"$reply\""
    elif ! grep -q "^CIPHER is $name\$" "$srv_log"; then
        why="s_server did not report \"CIPHER is $name\""
    elif ! grep -Eq '(^|ping)DONE$' "$srv_log"; then
        why="s_server did not see petrel's close_notify (no DONE)"
    elif [ -n "$subject" ] && ! grep -qxF "subject=$subject" "$srv_log"; then
        why="s_server did not log the client certificate \"subject=$subject\""
    elif [ -n "$subject" ] && grep -q '^verify error' "$srv_log"; then
        why="s_server logged a verify error for the client certificate"
    elif [ -n "$dgrams" ] && ! why=$(check_datagrams "$CASE_DIR/datagrams" "$dgrams"); then
        :
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$cli_log" "$srv_log"
    else
        pass "$desc"
    fi
    stop_all
}

# openssl s_client -> petrel server --echo, which must complete with data
# both ways and s_client verifying petrel's chain.
# usage: server_case [client=REGEX] [dgrams=DIR:MIN:MAX] SUITE OPENSSL_NAME LABEL
#                    PETREL_ARG... -- S_CLIENT_ARG...
#   client=REGEX   what petrel server must say about the client after
#                  "client: " (default: not authenticated, see the top)
server_case() {
    local client='anonymous' dgrams=
    while :; do
        case $1 in
        client=*) client=${1#client=} ;;
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
    local srv_log=$CASE_DIR/petrel-server.log cli_log=$CASE_DIR/s_client.log
    local line="echo-$suite"
    if ! start_petrel_cert_server "$srv_log" --echo --once "${ARGS_A[@]}"; then
        fail "$desc" "petrel server did not start" "$srv_log"
        stop_all
        return
    fi
    local srv=$LAST_PID
    if ! target_port "$PEER_PORT" "$dgrams"; then
        fail "$desc" "petrel proxy did not start" "$CASE_DIR/proxy.log"
        stop_all
        return
    fi
    make_fifo s_client
    spawn "$FIFO_PATH" "$cli_log" openssl s_client -dtls1_2 -connect "127.0.0.1:$TARGET_PORT" \
        -cipher "$name" -quiet -no_ign_eof "${ARGS_B[@]}"
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
    elif ! grep -Eq ": handshake complete: $suite, client: $client\$" "$srv_log"; then
        why="petrel server did not report \"$suite, client: $client\""
    elif ! grep -q ": received [0-9]* bytes: $line" "$srv_log"; then
        why="petrel server did not log the received \"$line\""
    elif ! wait_for_exit "$cli" "$INTEROP_WAIT"; then
        why="s_client still running after EOF on its stdin"
    elif [ "$EXIT_RC" -ne 0 ]; then
        why="s_client exited $EXIT_RC"
    elif ! grep -q '^depth=0 .*CN = localhost$' "$cli_log" || grep -q '^verify error' "$cli_log"; then
        why="s_client did not verify petrel's certificate cleanly"
    elif [ -n "$dgrams" ] && ! why=$(check_datagrams "$CASE_DIR/datagrams" "$dgrams"); then
        :
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$srv_log" "$cli_log"
    else
        pass "$desc"
    fi
    stop_all
}

# petrel client -> openssl s_server, where the handshake must fail.
# usage: refused_client_case LABEL PETREL_REGEX S_SERVER_REGEX PETREL_ARG... -- S_SERVER_ARG...
#   PETREL_REGEX     must match petrel's "handshake failed" line
#   S_SERVER_REGEX   must match a line of s_server's log (the alert it saw
#                    or sent)
refused_client_case() {
    local label=$1 petrel_re=$2 peer_re=$3
    shift 3
    split_args "$@"
    local desc="petrel client -> openssl s_server, $label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/s_server.log cli_log=$CASE_DIR/petrel-client.log
    if ! start_s_server "$srv_log" "${ARGS_B[@]}"; then
        fail "$desc" "openssl s_server did not start" "$srv_log"
        stop_all
        return
    fi
    local srv=$LAST_PID
    spawn /dev/null "$cli_log" "$PETREL" client --dtls --connect "127.0.0.1:$PEER_PORT" \
        --send ping --no-echo --timeout 10000 "${ARGS_A[@]}"
    local cli=$LAST_PID why=
    if ! wait_for_exit "$cli" 15; then
        why="petrel client still running after 15 s"
    elif [ "$EXIT_RC" -eq 0 ]; then
        why="petrel client exited 0: the handshake was not refused"
    elif grep -q '^handshake complete' "$cli_log"; then
        why="petrel client reported a complete handshake"
    elif ! grep -Eq "^petrel client: handshake failed[,:] .*$petrel_re" "$cli_log"; then
        why="petrel's error does not match \"$petrel_re\""
    elif ! wait_for_line "$srv_log" "$peer_re" "$INTEROP_WAIT" "$srv"; then
        why="s_server's log does not match \"$peer_re\""
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$cli_log" "$srv_log"
    else
        pass "$desc ($(grep -m1 '^petrel client: handshake failed' "$cli_log" |
            sed 's/^petrel client: handshake failed: //'))"
    fi
    stop_all
}

# openssl s_client -> petrel server, where the handshake must fail.
# usage: refused_server_case LABEL PETREL_REGEX S_CLIENT_REGEX PETREL_ARG... -- S_CLIENT_ARG...
#   PETREL_REGEX     must match petrel server's "closed: " reason
#   S_CLIENT_REGEX   must match a line of s_client's log (the alert)
refused_server_case() {
    local label=$1 petrel_re=$2 peer_re=$3
    shift 3
    split_args "$@"
    local desc="openssl s_client -> petrel server, $label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_log=$CASE_DIR/s_client.log
    if ! start_petrel_cert_server "$srv_log" --echo --once "${ARGS_A[@]}"; then
        fail "$desc" "petrel server did not start" "$srv_log"
        stop_all
        return
    fi
    local srv=$LAST_PID
    make_fifo s_client
    spawn "$FIFO_PATH" "$cli_log" openssl s_client -dtls1_2 -connect "127.0.0.1:$PEER_PORT" \
        -quiet -no_ign_eof "${ARGS_B[@]}"
    local cli=$LAST_PID why=
    if ! wait_for_exit "$srv" 15; then
        why="petrel server --once still running 15 s after s_client started"
    elif grep -q ': handshake complete' "$srv_log"; then
        why="petrel server reported a complete handshake"
    elif ! grep -Eq ": closed: .*$petrel_re" "$srv_log"; then
        why="petrel server's \"closed:\" reason does not match \"$petrel_re\""
    elif ! wait_for_exit "$cli" "$INTEROP_WAIT"; then
        why="s_client still running after petrel refused it"
    elif [ "$EXIT_RC" -eq 0 ]; then
        why="s_client exited 0"
    elif ! grep -Eq "$peer_re" "$cli_log"; then
        why="s_client's log does not match \"$peer_re\""
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$srv_log" "$cli_log"
    else
        pass "$desc ($(grep -m1 ': closed: ' "$srv_log" | sed 's/^.*: closed: //'))"
    fi
    stop_all
}

# 1. petrel client -> s_server, ECDSA chain (leaf + intermediate), every
# ECDSA suite; petrel checks the name 127.0.0.1 (its --connect host)
# against the certificate's IP SAN.
for entry in "${ECDSA_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    client_case "$suite" "$name" ", ECDSA chain" --ca "$CA" -- "${EC_SERVER[@]}"
done

# 2. petrel client -> s_server, RSA chain (leaf + two intermediates).
for entry in "${RSA_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    client_case "$suite" "$name" ", RSA 3-certificate chain" --ca "$CA" -- "${RSA_SERVER[@]}"
done
# Small MTU: the ~2.7 kB RSA chain (the ~1 kB ECDSA one) in datagrams of at
# most 228 bytes from s_server -mtu 256; petrel at its minimum, 200.
client_case dgrams=s2c:12:256 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA-AES128-GCM-SHA256 \
    ", RSA 3-certificate chain, mtu 200/256" --ca "$CA" --mtu 200 -- "${RSA_SERVER[@]}" -mtu 256
client_case dgrams=s2c:5:256 TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ECDHE-ECDSA-AES128-CCM8 \
    ", ECDSA chain, mtu 200/256" --ca "$CA" --mtu 200 -- "${EC_SERVER[@]}" -mtu 256
# PMTU 576 (issue 6): s_server's link MTU 604 gives datagrams of 576 bytes.
client_case dgrams=s2c:5:576 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA-AES128-GCM-SHA256 \
    ", RSA 3-certificate chain, mtu 576" --ca "$CA" --mtu 576 -- "${RSA_SERVER[@]}" -mtu 604

# 3. s_client -> petrel server, both chains; s_client checks the name
# localhost (DNS SAN) for ECDSA and the address 127.0.0.1 (IP SAN) for RSA.
for entry in "${ECDSA_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    server_case "$suite" "$name" ", ECDSA chain" \
        --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" -- \
        -CAfile "$CA" -verify_return_error -verify_hostname localhost
done
for entry in "${RSA_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    server_case "$suite" "$name" ", RSA 3-certificate chain" \
        --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" -- \
        -CAfile "$CA" -verify_return_error -verify_ip 127.0.0.1
done
# Small MTU: petrel's RSA chain in datagrams of at most 200 bytes.
server_case dgrams=s2c:12:200 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA-AES128-GCM-SHA256 \
    ", RSA 3-certificate chain, mtu 200/256" \
    --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" --mtu 200 -- \
    -CAfile "$CA" -verify_return_error -verify_hostname localhost -mtu 256

server_case dgrams=s2c:5:576 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA-AES128-GCM-SHA256 \
    ", RSA 3-certificate chain, mtu 576" \
    --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" --mtu 576 -- \
    -CAfile "$CA" -verify_return_error -verify_hostname localhost -mtu 604

# 4. Client authentication.
# s_server asks for and checks petrel's certificate.
client_case subject="O = petrel-test, CN = petrel test client" \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ECDHE-ECDSA-AES128-GCM-SHA256 \
    ", ECDSA client certificate" \
    --ca "$CA" --cert "$PKI/ec-client-chain.pem" --key "$PKI/ec-client.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}"
client_case subject="O = petrel-test, CN = petrel test RSA client" \
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ECDHE-RSA-AES256-GCM-SHA384 \
    ", RSA 3-certificate client chain" \
    --ca "$CA" --cert "$PKI/rsa-client-chain.pem" --key "$PKI/rsa-client.key" -- \
    "${RSA_SERVER[@]}" "${ASK_CLIENT[@]}"
# petrel's own RSA chain in datagrams of at most 200 bytes.
client_case subject="O = petrel-test, CN = petrel test RSA client" dgrams=c2s:12:200 \
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-ECDSA-CHACHA20-POLY1305 \
    ", RSA 3-certificate client chain, mtu 200/256" \
    --ca "$CA" --cert "$PKI/rsa-client-chain.pem" --key "$PKI/rsa-client.key" --mtu 200 -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}" -mtu 256
refused_client_case "client certificate from an unknown CA" 'PETREL_ERR_PEER_ALERT' \
    'certificate verify failed' \
    --ca "$CA" --cert "$PKI/unknown-chain.pem" --key "$PKI/unknown-server.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}"
# petrel server asks for and checks s_client's certificate.
server_case client='certificate verified' \
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ECDHE-ECDSA-AES128-CCM8 ", ECDSA client certificate" \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    -CAfile "$CA" -verify_return_error -verify_hostname localhost "${EC_CLIENT[@]}"
server_case client='certificate verified' \
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-RSA-CHACHA20-POLY1305 \
    ", RSA 3-certificate client chain" \
    --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" --verify require --ca "$CA" -- \
    -CAfile "$CA" -verify_return_error -verify_hostname localhost "${RSA_CLIENT[@]}"
server_case client='anonymous' \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ECDHE-ECDSA-AES128-GCM-SHA256 \
    ", --verify optional, no client certificate" \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify optional --ca "$CA" -- \
    -CAfile "$CA" -verify_return_error -verify_hostname localhost
refused_server_case "--verify require, no client certificate" \
    'peer sent no certificate but one is required' 'alert handshake failure' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    -CAfile "$CA" -verify_return_error -verify_hostname localhost
refused_server_case "--verify require, client certificate from an unknown CA" \
    'does not lead to a trusted CA' 'alert unknown ca' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    -CAfile "$CA" -verify_return_error -verify_hostname localhost "${UNKNOWN[@]}"

# 5. Server certificates petrel must refuse (s_server logs the alert it got).
refused_client_case "expired server certificate" \
    'expired.*\(PETREL_ERR_CERT_EXPIRED\)' 'alert certificate expired' \
    --ca "$CA" -- "${EXPIRED[@]}"
refused_client_case "--servername wrong.example" \
    'server name.*\(PETREL_ERR_CERT_NAME_MISMATCH\)' 'SSL alert number [0-9]+' \
    --ca "$CA" --servername wrong.example -- "${EC_SERVER[@]}"
refused_client_case "server certificate from an unknown CA" \
    'trusted CA.*\(PETREL_ERR_UNKNOWN_CA\)' 'alert unknown ca' \
    --ca "$CA" -- "${UNKNOWN[@]}"

interop_finish
