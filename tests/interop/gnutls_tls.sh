#!/usr/bin/env bash
# TLS 1.2 over TCP (petrel --tls) interop with GnuTLS's gnutls-serv --echo
# and gnutls-cli, both directions: every PSK suite petrel implements, every
# ECDSA and RSA certificate suite (tests/pki), client authentication both
# ways, raw public keys (RFC 7250) both ways, refused certificates and
# keys, the end of the stream (close_notify both ways, and a peer killed
# mid-session, which petrel must report as PETREL_ERR_TRUNCATION), and
# 1 MiB each way. Each case pins one suite with a GnuTLS priority string.
# usage: gnutls_tls.sh PETREL_BINARY   (run from a scratch directory)
#
# Peer quirks this relies on (see PEERS.md):
# - gnutls-serv binds 0.0.0.0 and :: (free_port checks both), and asks for
#   a client certificate unless --disable-client-cert.
# - gnutls-serv --require-client-cert does not check the client's chain:
#   --verify-client-cert makes it check.
# - gnutls-serv --echo over TCP echoes whole lines only: data without a
#   newline waits (for ever) for one. It turns CRLF into LF unless --crlf:
#   the 1 MiB run sends LF-only text lines.
# - gnutls-serv answers close_notify with close_notify; it never closes a
#   session by itself in --echo mode.
# - gnutls-cli sends its stdin lines and close_notify at EOF on stdin, and
#   prints "- Peer has closed the GnuTLS connection" at the server's
#   close_notify, "*** Fatal error: The TLS connection was non-properly
#   terminated." when TCP ends without it.
# - gnutls-cli 3.7.9 crashes (SIGSEGV in gnutls_psk_server_get_username,
#   from its print_info) right after every ECDHE-PSK handshake; that case
#   checks the handshake and says so (gnutls_server_case crash_ok=1).
# - Raw public keys: --rawpkfile / --rawpkkeyfile and CTYPE-*-RAWPK in the
#   priority string; gnutls-cli cannot pin the server's key (--insecure, and
#   the script compares the key it saved), gnutls-serv accepts any client key.
# - The alerts GnuTLS sends: gnutls-serv refuses a client certificate from
#   an unknown CA with access_denied (49), gnutls-cli a server certificate
#   from an unknown CA with bad_certificate (42). gnutls-serv's one-line
#   error after a fatal alert is not always about the alert ("No certificate
#   was found" after bad_certificate while it waited for the client's
#   Certificate), so those cases read its -d 5 record trace instead.
set -u
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

PKI=$(cd "$(dirname "$0")/../pki" 2>/dev/null && pwd)
interop_init gnutls_tls "${1:-}"
interop_transport tls
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

# petrel suite, GnuTLS key exchange, GnuTLS cipher.
PSK_SUITES=(
    "TLS_PSK_WITH_AES_128_CCM_8 PSK AES-128-CCM-8"
    "TLS_PSK_WITH_AES_128_GCM_SHA256 PSK AES-128-GCM"
    "TLS_PSK_WITH_AES_256_GCM_SHA384 PSK AES-256-GCM"
    "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 PSK CHACHA20-POLY1305"
    "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 ECDHE-PSK CHACHA20-POLY1305"
)
# petrel suite, GnuTLS key exchange, GnuTLS cipher, server identity (the
# tests/pki name before -chain.pem / .key).
CERT_SUITES=(
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ECDHE-ECDSA AES-128-CCM-8 ec-server"
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM ECDHE-ECDSA AES-128-CCM ec-server"
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ECDHE-ECDSA AES-128-GCM ec-server"
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 ECDHE-ECDSA AES-256-GCM ec-server"
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-ECDSA CHACHA20-POLY1305 ec-server"
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA AES-128-GCM rsa-server"
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ECDHE-RSA AES-256-GCM rsa-server"
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-RSA CHACHA20-POLY1305 rsa-server"
)

PETREL_PSK=(--psk-identity "$PSK_IDENTITY" --psk "$PSK_HEX")
PSK_FILE=$(gnutls_psk_file)
EC_SERVER=(--x509certfile "$PKI/ec-server-chain.pem" --x509keyfile "$PKI/ec-server.key")
RSA_SERVER=(--x509certfile "$PKI/rsa-server-chain.pem" --x509keyfile "$PKI/rsa-server.key")
ASK_CLIENT=(--require-client-cert --verify-client-cert "--x509cafile=$CA")
TRUSTED='^- Status: The certificate is trusted\.'
RPK_PRIORITY="$(gnutls_priority ECDHE-ECDSA AES-128-GCM):-CTYPE-ALL:+CTYPE-SRV-RAWPK:+CTYPE-CLI-RAWPK"
RPK_SUITE=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256

# 1. PSK, every suite, both directions.
for entry in "${PSK_SUITES[@]}"; do
    read -r suite kx cipher <<<"$entry"
    crash_ok=() debug=()
    [ "$kx" = ECDHE-PSK ] && crash_ok=(crash_ok=1) debug=(-d 4)
    gnutls_client_case server=PSK "$suite" ", PSK" "${PETREL_PSK[@]}" -- \
        --pskpasswd "$PSK_FILE" --disable-client-cert --priority "$(gnutls_priority "$kx" "$cipher")"
    gnutls_server_case client=PSK "${crash_ok[@]}" "$suite" ", PSK" "${PETREL_PSK[@]}" -- \
        "${debug[@]}" --pskusername "$PSK_IDENTITY" --pskkey "$PSK_HEX" \
        --priority "$(gnutls_priority "$kx" "$cipher")"
done

# 2. Certificates, every suite, both directions. petrel client checks the
# name 127.0.0.1 (its --connect host) against the IP SAN; gnutls-cli checks
# localhost (DNS SAN) for ECDSA and 127.0.0.1 (IP SAN) for RSA.
for entry in "${CERT_SUITES[@]}"; do
    read -r suite kx cipher id <<<"$entry"
    if [ "$id" = rsa-server ]; then
        server_id=("${RSA_SERVER[@]}") name_check=() label=", RSA 3-certificate chain"
    else
        server_id=("${EC_SERVER[@]}") name_check=(--verify-hostname localhost) label=", ECDSA chain"
    fi
    gnutls_client_case server='certificate verified' "$suite" "$label" --ca "$CA" -- \
        "${server_id[@]}" --disable-client-cert --priority "$(gnutls_priority "$kx" "$cipher")"
    gnutls_server_case client=anonymous peer_log="$TRUSTED" "$suite" "$label" \
        --cert "$PKI/$id-chain.pem" --key "$PKI/$id.key" -- \
        --x509cafile "$CA" "${name_check[@]}" --priority "$(gnutls_priority "$kx" "$cipher")"
done

# 3. Client authentication both ways, and the refusals.
gnutls_client_case server='certificate verified' \
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ", ECDSA client certificate" \
    --ca "$CA" --cert "$PKI/ec-client-chain.pem" --key "$PKI/ec-client.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}" --priority "$(gnutls_priority ECDHE-ECDSA AES-128-CCM-8)"
gnutls_client_case server='certificate verified' \
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 ", RSA 3-certificate client chain" \
    --ca "$CA" --cert "$PKI/rsa-client-chain.pem" --key "$PKI/rsa-client.key" -- \
    "${RSA_SERVER[@]}" "${ASK_CLIENT[@]}" \
    --priority "$(gnutls_priority ECDHE-RSA CHACHA20-POLY1305)"
gnutls_server_case client='certificate verified' peer_log="$TRUSTED" \
    peer_log='^- Successfully sent 2 certificate\(s\) to server\.' \
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ", ECDSA client certificate" \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --x509certfile "$PKI/ec-client-chain.pem" \
    --x509keyfile "$PKI/ec-client.key" --priority "$(gnutls_priority ECDHE-ECDSA CHACHA20-POLY1305)"
gnutls_server_case client='certificate verified' peer_log="$TRUSTED" \
    peer_log='^- Successfully sent 3 certificate\(s\) to server\.' \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ", RSA 3-certificate client chain" \
    --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --x509certfile "$PKI/rsa-client-chain.pem" \
    --x509keyfile "$PKI/rsa-client.key" --priority "$(gnutls_priority ECDHE-RSA AES-128-GCM)"
gnutls_refused_client_case "server certificate from an unknown CA" \
    'trusted CA.*\(PETREL_ERR_UNKNOWN_CA\)' 'Alert\[2\|48\] - CA is unknown - was received' \
    --ca "$CA" -- --x509certfile "$PKI/unknown-chain.pem" \
    --x509keyfile "$PKI/unknown-server.key" --disable-client-cert -d 5 \
    --priority "$(gnutls_priority ECDHE-ECDSA AES-128-GCM)"
gnutls_refused_client_case "client certificate from an unknown CA" \
    'the server sent alert 49 \(access_denied\).*PETREL_ERR_PEER_ALERT' \
    'Error in handshake: Error in the certificate' \
    --ca "$CA" --cert "$PKI/unknown-chain.pem" --key "$PKI/unknown-server.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}" --priority "$(gnutls_priority ECDHE-ECDSA AES-128-GCM)"
gnutls_refused_server_case "gnutls-cli does not trust petrel's CA" \
    'the client sent alert 42 \(bad_certificate\).*PETREL_ERR_PEER_ALERT' \
    'Status: The certificate is NOT trusted\. The certificate issuer is unknown' \
    --cert "$PKI/unknown-chain.pem" --key "$PKI/unknown-server.key" -- \
    --x509cafile "$CA" --priority "$(gnutls_priority ECDHE-ECDSA AES-128-GCM)"
gnutls_refused_server_case "--verify require, no client certificate" \
    'peer sent no certificate but one is required' 'Received alert \[40\]' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --priority "$(gnutls_priority ECDHE-ECDSA AES-128-GCM)"
gnutls_refused_server_case "--verify require, client certificate from an unknown CA" \
    'does not lead to a trusted CA' 'Received alert \[48\]' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --x509certfile "$PKI/unknown-chain.pem" \
    --x509keyfile "$PKI/unknown-server.key" --priority "$(gnutls_priority ECDHE-ECDSA AES-128-GCM)"

# 4. Raw public keys (RFC 7250), both sides presenting one. petrel pins the
# peer's key; gnutls-serv's debug log must show both certificate types
# negotiated as raw public keys and petrel's CertificateVerify received.
gnutls_client_case server='raw public key verified' \
    peer_log='Selected server certificate type Raw Public Key' \
    peer_log='Selected client certificate type Raw Public Key' \
    peer_log='CERTIFICATE VERIFY \(15\) was received' \
    "$RPK_SUITE" ", raw public keys" \
    --rpk --peer-key "$PKI/rpk-server.pub.pem" --key "$PKI/rpk-client.key" -- \
    --rawpkfile "$PKI/rpk-server.pub.pem" --rawpkkeyfile "$PKI/rpk-server.key" \
    --require-client-cert -d 4 --priority "$RPK_PRIORITY"
gnutls_server_case client='raw public key verified' same_key="$PKI/rpk-server.pub.pem" \
    peer_log='^- Certificate type: Raw Public Key' \
    peer_log='^- Successfully sent 1 certificate\(s\) to server\.' \
    "$RPK_SUITE" ", raw public keys" \
    --rpk --key "$PKI/rpk-server.key" --peer-key "$PKI/rpk-client.pub.pem" --verify require -- \
    --insecure --rawpkfile "$PKI/rpk-client.pub.pem" --rawpkkeyfile "$PKI/rpk-client.key" \
    --priority "$RPK_PRIORITY"
gnutls_refused_client_case "raw public keys, server key not pinned" \
    'not among the pinned keys.*\(PETREL_ERR_RPK_NOT_PINNED\)' \
    'Alert\[2\|42\] - Certificate is bad - was received' \
    --rpk --peer-key "$PKI/rpk-client.pub.pem" --key "$PKI/rpk-client.key" -- \
    --rawpkfile "$PKI/rpk-server.pub.pem" --rawpkkeyfile "$PKI/rpk-server.key" \
    --require-client-cert -d 5 --priority "$RPK_PRIORITY"
gnutls_refused_server_case "raw public keys, client key not pinned" \
    'peer raw public key is not among the pinned keys' 'Received alert \[42\]' \
    --rpk --key "$PKI/rpk-server.key" --peer-key "$PKI/rpk-client.pub.pem" --verify require -- \
    --insecure --rawpkfile "$PKI/ec-client.pub.pem" --rawpkkeyfile "$PKI/ec-client.key" \
    --priority "$RPK_PRIORITY"

# 5. The end of the stream.
PSK_PRIORITY=$(gnutls_priority PSK AES-128-GCM)
# The data lines of a file made by make_text_file, out of gnutls-cli's
# output (which mixes them with session information).
data_lines() { grep -E '^[A-Za-z0-9+/=]+$' "$1"; }

# gnutls-serv is killed while petrel client waits for more: truncation.
killed_server_case() {
    local desc="petrel client -> gnutls-serv, gnutls-serv killed: truncation"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/gnutls-serv.log cli_log=$CASE_DIR/petrel-client.log
    if need "gnutls-serv did not start" gnutls_start_server "$srv_log" --pskpasswd "$PSK_FILE" \
        --disable-client-cert --priority "$PSK_PRIORITY"; then
        local srv=$LAST_PID
        petrel_client "$cli_log" "${PETREL_PSK[@]}" --send $'ping-kill\n' --wait-close \
            --timeout 10000
        local cli=$LAST_PID
        await_line "$cli_log" '^received: ping-kill' "petrel did not print the echo" "$cli" &&
            need "gnutls-serv's process was not found" kill_peer "$srv"
        need_exit "$cli" "petrel client" fail
        need_line "$cli_log" '^petrel client: .*\(PETREL_ERR_TRUNCATION\)$' \
            "petrel client did not report PETREL_ERR_TRUNCATION"
    fi
    case_end "$desc" "$(grep -m1 TRUNCATION "$cli_log")" "$cli_log" "$srv_log"
}
killed_server_case

# gnutls-cli is killed after an echo: petrel server logs truncation, exits 1.
killed_client_case() {
    local desc="gnutls-cli -> petrel server, gnutls-cli killed: truncation"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_out=$CASE_DIR/gnutls-cli.out
    local cli_err=$CASE_DIR/gnutls-cli.err
    if need "petrel server did not start" start_petrel "$srv_log" --echo --once \
        "${PETREL_PSK[@]}"; then
        local srv=$LAST_PID
        gnutls_start_client "$cli_out" "$cli_err" --pskusername "$PSK_IDENTITY" \
            --pskkey "$PSK_HEX" --priority "$PSK_PRIORITY"
        local cli=$LAST_PID
        fifo_send gnutls-cli before-kill
        await_line "$cli_out" '^before-kill$' "gnutls-cli did not print the echo" "$cli" &&
            need "gnutls-cli's process was not found" kill_peer "$cli"
        need_exit "$srv" "petrel server --once" fail
        need_line "$srv_log" ': closed: .*\(PETREL_ERR_TRUNCATION\)$' \
            "petrel server did not report PETREL_ERR_TRUNCATION"
    fi
    case_end "$desc" "$(grep -m1 -o 'closed: .*' "$srv_log")" "$srv_log" "$cli_out" "$cli_err"
}
killed_client_case

# 6. Bulk data: 1 MiB each way between petrel client and gnutls-serv;
# 256 KiB with gnutls-cli, which takes about 2 s per MiB on its own to
# print what it receives (5 s on a loaded machine, enough to outlast the
# TCP server's 5 s wait for the answer to its close_notify).
BIG=$WORK/big.txt
make_text_file "$BIG" 1048576
BIG_SIZE=$(stat -c %s "$BIG")
MID=$WORK/mid.txt
make_text_file "$MID" 262144
MID_SIZE=$(stat -c %s "$MID")

# gnutls-cli sends a file through petrel server --echo, and must print it
# back intact; then it closes cleanly.
big_echo_case() {
    local desc="gnutls-cli -> petrel server --echo, $MID_SIZE bytes each way"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_out=$CASE_DIR/gnutls-cli.out
    local cli_err=$CASE_DIR/gnutls-cli.err t0=$SECONDS
    if need "petrel server did not start" start_petrel "$srv_log" --echo --once --quiet \
        "${PETREL_PSK[@]}"; then
        local srv=$LAST_PID
        gnutls_start_client "$cli_out" "$cli_err" --pskusername "$PSK_IDENTITY" \
            --pskkey "$PSK_HEX" --priority "$PSK_PRIORITY"
        local cli=$LAST_PID
        spawn "$MID" "$FIFO_PATH" cat # the fifo stays open: no EOF yet
        need "gnutls-cli did not print the last line back within 20 s" \
            wait_for_line "$cli_out" "^$(regex_quote "$(tail -n 1 "$MID")")\$" 20 "$cli" &&
            fifo_close gnutls-cli
        await_line "$srv_log" 'closed: close_notify$' \
            "petrel server did not log \"closed: close_notify\"" "$srv"
        need_exit "$srv" "petrel server --once" 0
        need_exit "$cli" "gnutls-cli" 0
        need_line "$srv_log" ": $MID_SIZE bytes received, $MID_SIZE bytes sent\$" \
            "petrel server did not count $MID_SIZE bytes each way"
        data_lines "$cli_out" >"$CASE_DIR/echo.txt"
        need_same_file "$CASE_DIR/echo.txt" "$MID" "the echo differs from what gnutls-cli sent"
    fi
    case_end "$desc" "$((SECONDS - t0)) s" "$srv_log" "$cli_err"
}
big_echo_case

# petrel client sends the file to gnutls-serv --echo and must get it back.
big_client_case() {
    local desc="petrel client -> gnutls-serv --echo, $BIG_SIZE bytes each way"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/gnutls-serv.log cli_log=$CASE_DIR/petrel-client.log
    local got=$CASE_DIR/received.txt t0=$SECONDS
    if need "gnutls-serv did not start" gnutls_start_server "$srv_log" --pskpasswd "$PSK_FILE" \
        --disable-client-cert --priority "$PSK_PRIORITY"; then
        petrel_client "$cli_log" "${PETREL_PSK[@]}" --send-file "$BIG" --recv-file "$got" \
            --recv-bytes "$BIG_SIZE" --timeout 20000
        need_exit "$LAST_PID" "petrel client" 0 25
        need_line "$cli_log" "^transfer: $BIG_SIZE bytes sent, $BIG_SIZE bytes received" \
            "petrel client did not report $BIG_SIZE bytes each way"
        need_line "$cli_log" '^closed: close_notify sent, the server answered with close_notify$' \
            "gnutls-serv did not answer petrel's close_notify"
        need_same_file "$got" "$BIG" "the echo differs from the file"
    fi
    case_end "$desc" "$((SECONDS - t0)) s" "$cli_log"
}
big_client_case

# petrel server sends a file and closes (--send-file --close):
# gnutls-cli must print it and report the server's clean close, exit 0.
big_send_close_case() {
    local desc="gnutls-cli -> petrel server --send-file --close, $MID_SIZE bytes"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_out=$CASE_DIR/gnutls-cli.out
    local cli_err=$CASE_DIR/gnutls-cli.err t0=$SECONDS
    if need "petrel server did not start" start_petrel "$srv_log" --send-file "$MID" --close \
        --once --quiet "${PETREL_PSK[@]}"; then
        local srv=$LAST_PID
        gnutls_start_client "$cli_out" "$cli_err" --pskusername "$PSK_IDENTITY" \
            --pskkey "$PSK_HEX" --priority "$PSK_PRIORITY"
        local cli=$LAST_PID
        need_exit "$cli" "gnutls-cli" 0 20
        need_exit "$srv" "petrel server --once" 0
        need_line "$cli_out" '^- Peer has closed the GnuTLS connection' \
            "gnutls-cli did not report a clean close"
        need_no_line "$cli_out" 'non-properly terminated' "gnutls-cli reported a truncation"
        data_lines "$cli_out" >"$CASE_DIR/received.txt"
        need_same_file "$CASE_DIR/received.txt" "$MID" "what gnutls-cli printed differs from the file"
    fi
    case_end "$desc" "$((SECONDS - t0)) s" "$srv_log" "$cli_out" "$cli_err"
}
big_send_close_case

interop_finish
