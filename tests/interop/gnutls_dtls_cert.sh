#!/usr/bin/env bash
# DTLS 1.2 certificate and raw-public-key interop with GnuTLS's
# gnutls-serv --echo and gnutls-cli, using the chains and keys in tests/pki:
# every ECDHE_ECDSA and ECDHE_RSA suite petrel implements, both directions,
# small-MTU runs in which a chain spans many datagrams, client
# authentication both ways, raw public keys (RFC 7250) both ways, and
# refused certificates and keys. Each case pins one suite with a GnuTLS
# priority string.
# usage: gnutls_dtls_cert.sh PETREL_BINARY   (run from a scratch directory)
#
# Peer quirks this relies on (see PEERS.md):
# - gnutls-serv binds 0.0.0.0 and :: (free_udp_port checks both), logs
#   "bind() failed" but keeps running when the port is taken, serves one
#   DTLS connection at a time (one server per case here), and asks for a
#   client certificate unless --disable-client-cert.
# - gnutls-serv --require-client-cert does not check the client's chain:
#   it took one from an unknown CA. --verify-client-cert makes it check;
#   the case with an unknown-CA client certificate shows that it does.
# - gnutls-serv 3.7.9 crashed (SIGSEGV) right after refusing a client
#   certificate with --verify-client-cert, having sent its alert. That case
#   checks petrel's side and gnutls-serv's debug log, and says whether it
#   crashed.
# - gnutls-serv sleeps 50 ms per handshake record while it takes in a
#   multi-datagram flight: petrel's 3-certificate client flight waited
#   ~300 ms for an answer, so petrel (its timer at 3 x RTT, 100 ms at
#   least) retransmitted it once or twice. Harmless; not checked.
# - gnutls-cli sends its stdin lines and close_notify at EOF on stdin.
# - gnutls-cli 3.7.9's crash after ECDHE-PSK handshakes (see
#   gnutls_dtls_psk.sh) is in its PSK code: it did not happen with these
#   certificate suites, so a crash here is a FAIL.
# - Raw public keys: gnutls-serv and gnutls-cli take --rawpkfile (the
#   SubjectPublicKeyInfo PEM) and --rawpkkeyfile, with CTYPE-*-RAWPK in the
#   priority string. Neither tool can pin the peer's raw key:
#   gnutls-serv accepts any client key, and gnutls-cli's check fails ("Could
#   not verify certificate (err: The request is invalid.)"; its --tofu code
#   handles X.509 only), so gnutls-cli runs with --insecure and the script
#   compares the key it saved (--save-cert) with rpk-server.pub.pem.
#   petrel's side of RPK is checked for real: it pins the peer's key and
#   the negative cases show a wrong key refused.
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
interop_init gnutls_dtls_cert "${1:-}"
require_peer gnutls-serv
require_peer gnutls-cli
require_peer timeout
if [ -z "$PKI" ] || [ ! -r "$PKI/ca-all.pem" ]; then
    echo "FAIL: the test PKI (tests/pki next to this script) was not found"
    exit 1
fi
echo "pki: $PKI"
gnutls-cli --version | head -n 1
CA=$PKI/ca-all.pem

# petrel suite, GnuTLS key exchange, GnuTLS cipher, server identity (the
# tests/pki name before -chain.pem / .key).
SUITES=(
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ECDHE-ECDSA AES-128-CCM-8 ec-server"
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM ECDHE-ECDSA AES-128-CCM ec-server"
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ECDHE-ECDSA AES-128-GCM ec-server"
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 ECDHE-ECDSA AES-256-GCM ec-server"
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-ECDSA CHACHA20-POLY1305 ec-server"
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA AES-128-GCM rsa-server"
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ECDHE-RSA AES-256-GCM rsa-server"
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-RSA CHACHA20-POLY1305 rsa-server"
)

priority() { # KX CIPHER
    echo "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+$1:-CIPHER-ALL:+$2:-MAC-ALL:+AEAD"
}
# Raw public keys only, both directions.
RPK_PRIORITY="$(priority ECDHE-ECDSA AES-128-GCM):-CTYPE-ALL:+CTYPE-SRV-RAWPK:+CTYPE-CLI-RAWPK"
RPK_SUITE=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256

# gnutls-serv's options for the identity NAME (tests/pki NAME-chain.pem,
# NAME.key), by the name of the array that holds them.
EC_SERVER=(--x509certfile "$PKI/ec-server-chain.pem" --x509keyfile "$PKI/ec-server.key")
RSA_SERVER=(--x509certfile "$PKI/rsa-server-chain.pem" --x509keyfile "$PKI/rsa-server.key")

# The port a client should use: PORT itself, or a dump proxy in front of it
# when SPEC (see check_datagrams) is set. Sets TARGET_PORT; 1 on failure.
TARGET_PORT=
target_port() { # PORT SPEC
    TARGET_PORT=$1
    [ -n "$2" ] || return 0
    start_dump_proxy "$CASE_DIR/proxy.log" "$CASE_DIR/datagrams" "$1" || return 1
    TARGET_PORT=$PROXY_PORT
}

# start_gnutls_serv LOG GNUTLS_SERV_ARG...: gnutls-serv --udp --echo on a
# free port. Sets LAST_PID and PEER_PORT; 1 on failure.
start_gnutls_serv() {
    local log=$1
    shift
    start_udp_server /dev/null "$log" 'listening on IPv4 .* port @PORT@\.\.\.done' \
        'bind\(\) failed' gnutls-serv --udp --echo -p @PORT@ "$@"
}

# start_gnutls_cli LOG ERR_LOG GNUTLS_CLI_ARG...: gnutls-cli --udp to
# 127.0.0.1:PEER_PORT (or TARGET_PORT when set), its stdin the fifo
# "gnutls-cli", stdout (data, session info, and the wrapper shell's report
# of a crash) to LOG, stderr to ERR_LOG. Sets LAST_PID.
start_gnutls_cli() {
    local log=$1 err=$2
    shift 2
    make_fifo gnutls-cli
    # shellcheck disable=SC2016
    spawn "$FIFO_PATH" "$log" bash -c '"$@" 2>"$0"' "$err" \
        gnutls-cli --udp -p "${TARGET_PORT:-$PEER_PORT}" 127.0.0.1 "$@"
}

# petrel client -> gnutls-serv --echo, which must complete and echo.
# usage: client_case [dgrams=DIR:MIN:MAX] [serv_log=REGEX]... SUITE LABEL
#                    PETREL_ARG... -- GNUTLS_SERV_ARG...
#   dgrams=DIR:MIN:MAX   through a dump proxy; see check_datagrams
#   serv_log=REGEX       must match a line of gnutls-serv's log (repeatable)
client_case() {
    local dgrams='' serv_res=() re
    while :; do
        case $1 in
        dgrams=*) dgrams=${1#dgrams=} ;;
        serv_log=*) serv_res+=("${1#serv_log=}") ;;
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
    if ! start_gnutls_serv "$srv_log" "${ARGS_B[@]}"; then
        fail "$desc" "gnutls-serv did not start" "$srv_log"
        stop_all
        return
    fi
    if ! target_port "$PEER_PORT" "$dgrams"; then
        fail "$desc" "petrel proxy did not start" "$CASE_DIR/proxy.log"
        stop_all
        return
    fi
    spawn /dev/null "$cli_log" "$PETREL" client --dtls --connect "127.0.0.1:$TARGET_PORT" \
        --suites "$suite" --send "$line" --timeout 10000 "${ARGS_A[@]}"
    local cli=$LAST_PID why=
    if ! wait_for_exit "$cli" 15; then
        why="petrel client still running after 15 s"
    elif [ "$EXIT_RC" -ne 0 ]; then
        why="petrel client exited $EXIT_RC"
    elif ! grep -Eq "^handshake complete: $suite, .*, server: (certificate|raw public key) verified\$" "$cli_log"; then
        why="petrel did not report suite $suite with the server's certificate (or key) verified"
    elif ! grep -q "^received: $line" "$cli_log"; then
        why="petrel did not print the echo \"$line\""
    elif ! grep -q "Processing [0-9]* bytes command: $line" "$srv_log"; then
        why="gnutls-serv did not log the received \"$line\""
    elif [ -n "$dgrams" ] && ! why=$(check_datagrams "$CASE_DIR/datagrams" "$dgrams"); then
        :
    else
        for re in "${serv_res[@]}"; do
            grep -Eq -- "$re" "$srv_log" || {
                why="gnutls-serv's log does not match \"$re\""
                break
            }
        done
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$cli_log" "$srv_log"
    else
        pass "$desc"
    fi
    stop_all
}

# gnutls-cli -> petrel server --echo, which must complete and echo.
# usage: server_case [client=REGEX] [dgrams=DIR:MIN:MAX] [cli_log=REGEX]...
#                    [same_key=FILE] SUITE LABEL PETREL_ARG... -- GNUTLS_CLI_ARG...
#   client=REGEX    what petrel server must say about the client after
#                   "client: " (default: not authenticated, see the top)
#   cli_log=REGEX   must match a line of gnutls-cli's output (repeatable);
#                   default: "- Status: The certificate is trusted."
#   same_key=FILE   gnutls-cli saves the server's key (--save-cert), which
#                   must be the one in FILE (a PUBLIC KEY PEM)
server_case() {
    local client='anonymous' dgrams='' same_key='' cli_res=() re
    while :; do
        case $1 in
        client=*) client=${1#client=} ;;
        dgrams=*) dgrams=${1#dgrams=} ;;
        cli_log=*) cli_res+=("${1#cli_log=}") ;;
        same_key=*) same_key=${1#same_key=} ;;
        *) break ;;
        esac
        shift
    done
    [ ${#cli_res[@]} -gt 0 ] || cli_res=('^- Status: The certificate is trusted\.')
    local suite=$1 label=$2
    shift 2
    split_args "$@"
    local desc="gnutls-cli -> petrel server, $suite$label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_log=$CASE_DIR/gnutls-cli.log
    local err_log=$CASE_DIR/gnutls-cli.stderr.log line="echo-$suite"
    local saved=$CASE_DIR/server-key.pem
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
    local extra=()
    [ -z "$same_key" ] || extra=(--save-cert "$saved")
    start_gnutls_cli "$cli_log" "$err_log" "${ARGS_B[@]}" "${extra[@]}"
    local cli=$LAST_PID
    TARGET_PORT=
    fifo_send gnutls-cli "$line"
    if ! wait_for_line "$cli_log" "^$line\$" "$INTEROP_WAIT" "$cli"; then
        local crash=
        if ! pid_alive "$cli" && wait_for_exit "$cli" 1 && [ "$EXIT_RC" -ge 128 ]; then
            crash=" (gnutls-cli died of signal $((EXIT_RC - 128)))"
        fi
        fail "$desc" "gnutls-cli did not print the echo \"$line\"$crash" "$cli_log" "$err_log" \
            "$srv_log"
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
    elif ! grep -Eq ": handshake complete: $suite, client: $client\$" "$srv_log"; then
        why="petrel server did not report \"$suite, client: $client\""
    elif ! grep -q ": received [0-9]* bytes: $line" "$srv_log"; then
        why="petrel server did not log the received \"$line\""
    elif ! wait_for_exit "$cli" "$INTEROP_WAIT"; then
        why="gnutls-cli still running after EOF on its stdin"
    elif [ "$EXIT_RC" -ne 0 ]; then
        why="gnutls-cli exited $EXIT_RC"
    elif [ -n "$dgrams" ] && ! why=$(check_datagrams "$CASE_DIR/datagrams" "$dgrams"); then
        :
    elif [ -n "$same_key" ] && ! same_base64 "$saved" "$same_key"; then
        why="the key gnutls-cli received is not the one in $(basename "$same_key")"
    else
        for re in "${cli_res[@]}"; do
            grep -Eq -- "$re" "$cli_log" || {
                why="gnutls-cli's output does not match \"$re\""
                break
            }
        done
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$srv_log" "$cli_log" "$err_log"
    else
        pass "$desc"
    fi
    stop_all
}

# same_base64 PEM1 PEM2: 0 when the two PEM files hold the same bytes,
# whatever their BEGIN/END labels.
same_base64() {
    local a b
    a=$(grep -v -- '-----' "$1" 2>/dev/null | tr -d '\n')
    b=$(grep -v -- '-----' "$2" 2>/dev/null | tr -d '\n')
    [ -n "$a" ] && [ "$a" = "$b" ]
}

# petrel client -> gnutls-serv, where the handshake must fail.
# usage: refused_client_case LABEL PETREL_REGEX SERV_REGEX PETREL_ARG... -- GNUTLS_SERV_ARG...
#   PETREL_REGEX   must match petrel's "handshake failed" line
#   SERV_REGEX     must match a line of gnutls-serv's log
refused_client_case() {
    local label=$1 petrel_re=$2 peer_re=$3
    shift 3
    split_args "$@"
    local desc="petrel client -> gnutls-serv, $label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/gnutls-serv.log cli_log=$CASE_DIR/petrel-client.log
    if ! start_gnutls_serv "$srv_log" "${ARGS_B[@]}"; then
        fail "$desc" "gnutls-serv did not start" "$srv_log"
        stop_all
        return
    fi
    local srv=$LAST_PID
    spawn /dev/null "$cli_log" "$PETREL" client --dtls --connect "127.0.0.1:$PEER_PORT" \
        --send ping --no-echo --timeout 10000 "${ARGS_A[@]}"
    local cli=$LAST_PID why='' note=''
    if ! wait_for_exit "$cli" 15; then
        why="petrel client still running after 15 s"
    elif [ "$EXIT_RC" -eq 0 ]; then
        why="petrel client exited 0: the handshake was not refused"
    elif grep -q '^handshake complete' "$cli_log"; then
        why="petrel client reported a complete handshake"
    elif ! grep -Eq "^petrel client: handshake failed[,:] .*$petrel_re" "$cli_log"; then
        why="petrel's error does not match \"$petrel_re\""
    elif ! wait_for_line "$srv_log" "$peer_re" "$INTEROP_WAIT" "$srv"; then
        why="gnutls-serv's log does not match \"$peer_re\""
    fi
    if ! pid_alive "$srv" && wait_for_exit "$srv" 1 && [ "$EXIT_RC" -ge 128 ]; then
        note="; gnutls-serv then died of signal $((EXIT_RC - 128)), see the top"
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why$note" "$cli_log" "$srv_log"
    else
        pass "$desc ($(grep -m1 '^petrel client: handshake failed' "$cli_log" |
            sed 's/^petrel client: handshake failed: //')$note)"
    fi
    stop_all
}

# gnutls-cli -> petrel server, where the handshake must fail.
# usage: refused_server_case LABEL PETREL_REGEX CLI_REGEX PETREL_ARG... -- GNUTLS_CLI_ARG...
#   PETREL_REGEX   must match petrel server's "closed: " reason
#   CLI_REGEX      must match a line of gnutls-cli's output (the alert)
refused_server_case() {
    local label=$1 petrel_re=$2 peer_re=$3
    shift 3
    split_args "$@"
    local desc="gnutls-cli -> petrel server, $label"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_log=$CASE_DIR/gnutls-cli.log
    local err_log=$CASE_DIR/gnutls-cli.stderr.log
    if ! start_petrel_cert_server "$srv_log" --echo --once "${ARGS_A[@]}"; then
        fail "$desc" "petrel server did not start" "$srv_log"
        stop_all
        return
    fi
    local srv=$LAST_PID
    start_gnutls_cli "$cli_log" "$err_log" "${ARGS_B[@]}"
    local cli=$LAST_PID why=
    if ! wait_for_exit "$srv" 15; then
        why="petrel server --once still running 15 s after gnutls-cli started"
    elif grep -q ': handshake complete' "$srv_log"; then
        why="petrel server reported a complete handshake"
    elif ! grep -Eq ": closed: .*$petrel_re" "$srv_log"; then
        why="petrel server's \"closed:\" reason does not match \"$petrel_re\""
    elif ! wait_for_exit "$cli" "$INTEROP_WAIT"; then
        why="gnutls-cli still running after petrel refused it"
    elif [ "$EXIT_RC" -eq 0 ]; then
        why="gnutls-cli exited 0"
    elif [ "$EXIT_RC" -ge 128 ]; then
        why="gnutls-cli died of signal $((EXIT_RC - 128))"
    elif ! grep -Eq "$peer_re" "$cli_log"; then
        why="gnutls-cli's output does not match \"$peer_re\""
    fi
    if [ -n "$why" ]; then
        fail "$desc" "$why" "$srv_log" "$cli_log" "$err_log"
    else
        pass "$desc ($(grep -m1 ': closed: ' "$srv_log" | sed 's/^.*: closed: //'))"
    fi
    stop_all
}

# 6. petrel client -> gnutls-serv, every suite with its chain (ECDSA: leaf
# + intermediate; RSA: leaf + two intermediates); petrel checks the name
# 127.0.0.1 (its --connect host) against the IP SAN.
for entry in "${SUITES[@]}"; do
    read -r suite kx cipher id <<<"$entry"
    if [ "$id" = rsa-server ]; then server_id=("${RSA_SERVER[@]}"); else server_id=("${EC_SERVER[@]}"); fi
    client_case "$suite" ", ${id%-server} chain" --ca "$CA" -- \
        "${server_id[@]}" --disable-client-cert --priority "$(priority "$kx" "$cipher")"
done
# Small MTU: gnutls-serv's RSA chain in datagrams of at most 200 bytes.
client_case dgrams=s2c:12:200 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 \
    ", rsa chain, mtu 200/200" --ca "$CA" --mtu 200 -- \
    "${RSA_SERVER[@]}" --disable-client-cert --mtu 200 \
    --priority "$(priority ECDHE-RSA AES-128-GCM)"

# 7. gnutls-cli -> petrel server, every suite; gnutls-cli checks the name
# localhost (DNS SAN) for ECDSA and the address 127.0.0.1 (IP SAN) for RSA.
for entry in "${SUITES[@]}"; do
    read -r suite kx cipher id <<<"$entry"
    name_check=(--verify-hostname localhost)
    [ "$id" = rsa-server ] && name_check=()
    server_case "$suite" ", ${id%-server} chain" \
        --cert "$PKI/$id-chain.pem" --key "$PKI/$id.key" -- \
        --x509cafile "$CA" "${name_check[@]}" --priority "$(priority "$kx" "$cipher")"
done
# Small MTU: petrel's RSA chain in datagrams of at most 200 bytes.
server_case dgrams=s2c:12:200 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ", rsa chain, mtu 200/200" \
    --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" --mtu 200 -- \
    --x509cafile "$CA" --mtu 200 --priority "$(priority ECDHE-RSA AES-256-GCM)"

# 8. Client authentication.
# gnutls-serv asks for and checks petrel's certificate.
ASK_CLIENT=(--require-client-cert --verify-client-cert "--x509cafile=$CA")
client_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ", ECDSA client certificate" \
    --ca "$CA" --cert "$PKI/ec-client-chain.pem" --key "$PKI/ec-client.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}" --priority "$(priority ECDHE-ECDSA AES-128-CCM-8)"
client_case TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 ", RSA 3-certificate client chain" \
    --ca "$CA" --cert "$PKI/rsa-client-chain.pem" --key "$PKI/rsa-client.key" -- \
    "${RSA_SERVER[@]}" "${ASK_CLIENT[@]}" \
    --priority "$(priority ECDHE-RSA CHACHA20-POLY1305)"
# petrel's own RSA chain in datagrams of at most 200 bytes.
client_case dgrams=c2s:12:200 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 \
    ", RSA 3-certificate client chain, mtu 200/200" \
    --ca "$CA" --cert "$PKI/rsa-client-chain.pem" --key "$PKI/rsa-client.key" --mtu 200 -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}" --mtu 200 \
    --priority "$(priority ECDHE-ECDSA AES-256-GCM)"
refused_client_case "client certificate from an unknown CA" 'PETREL_ERR_PEER_ALERT' \
    'REC: Sending Alert\[2\|[0-9]+\]' \
    --ca "$CA" --cert "$PKI/unknown-chain.pem" --key "$PKI/unknown-server.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}" -d 5 \
    --priority "$(priority ECDHE-ECDSA AES-128-GCM)"
# petrel server asks for and checks gnutls-cli's certificate.
server_case client='certificate verified' cli_log='^- Status: The certificate is trusted\.' \
    cli_log='^- Successfully sent 2 certificate\(s\) to server\.' \
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ", ECDSA client certificate" \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --x509certfile "$PKI/ec-client-chain.pem" \
    --x509keyfile "$PKI/ec-client.key" --priority "$(priority ECDHE-ECDSA CHACHA20-POLY1305)"
server_case client='certificate verified' cli_log='^- Status: The certificate is trusted\.' \
    cli_log='^- Successfully sent 3 certificate\(s\) to server\.' \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ", RSA 3-certificate client chain" \
    --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --x509certfile "$PKI/rsa-client-chain.pem" \
    --x509keyfile "$PKI/rsa-client.key" --priority "$(priority ECDHE-RSA AES-128-GCM)"
refused_server_case "--verify require, no client certificate" \
    'peer sent no certificate but one is required' 'Received alert \[40\]' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --priority "$(priority ECDHE-ECDSA AES-128-GCM)"
refused_server_case "--verify require, client certificate from an unknown CA" \
    'does not lead to a trusted CA' 'Received alert \[48\]' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --x509certfile "$PKI/unknown-chain.pem" \
    --x509keyfile "$PKI/unknown-server.key" --priority "$(priority ECDHE-ECDSA AES-128-GCM)"

# 9. Raw public keys (RFC 7250), both sides presenting one.
# petrel pins gnutls-serv's key; gnutls-serv's debug log must show both
# certificate types negotiated as raw public keys and petrel's
# CertificateVerify received (it cannot pin petrel's key, see the top).
client_case serv_log='Selected server certificate type Raw Public Key' \
    serv_log='Selected client certificate type Raw Public Key' \
    serv_log='CERTIFICATE VERIFY \(15\) was received' \
    "$RPK_SUITE" ", raw public keys" \
    --rpk --peer-key "$PKI/rpk-server.pub.pem" --key "$PKI/rpk-client.key" -- \
    --rawpkfile "$PKI/rpk-server.pub.pem" --rawpkkeyfile "$PKI/rpk-server.key" \
    --require-client-cert -d 4 --priority "$RPK_PRIORITY"
refused_client_case "raw public keys, server key not pinned" \
    'not among the pinned keys.*\(PETREL_ERR_RPK_NOT_PINNED\)' \
    'Error in handshake\(\): A TLS fatal alert has been received' \
    --rpk --peer-key "$PKI/rpk-client.pub.pem" --key "$PKI/rpk-client.key" -- \
    --rawpkfile "$PKI/rpk-server.pub.pem" --rawpkkeyfile "$PKI/rpk-server.key" \
    --require-client-cert --priority "$RPK_PRIORITY"
# petrel pins gnutls-cli's key; gnutls-cli runs --insecure and the script
# compares the key it received with rpk-server.pub.pem.
server_case client='raw public key verified' same_key="$PKI/rpk-server.pub.pem" \
    cli_log='^- Certificate type: Raw Public Key' \
    cli_log='^- Description: \(DTLS1\.2-Raw Public Key\)' \
    cli_log='^- Successfully sent 1 certificate\(s\) to server\.' \
    "$RPK_SUITE" ", raw public keys" \
    --rpk --key "$PKI/rpk-server.key" --peer-key "$PKI/rpk-client.pub.pem" --verify require -- \
    --insecure --rawpkfile "$PKI/rpk-client.pub.pem" --rawpkkeyfile "$PKI/rpk-client.key" \
    --priority "$RPK_PRIORITY"
refused_server_case "raw public keys, client key not pinned" \
    'peer raw public key is not among the pinned keys' 'Received alert \[42\]' \
    --rpk --key "$PKI/rpk-server.key" --peer-key "$PKI/rpk-client.pub.pem" --verify require -- \
    --insecure --rawpkfile "$PKI/ec-client.pub.pem" --rawpkkeyfile "$PKI/ec-client.key" \
    --priority "$RPK_PRIORITY"

interop_finish
