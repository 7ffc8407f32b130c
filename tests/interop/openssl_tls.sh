#!/usr/bin/env bash
# TLS 1.2 over TCP (petrel --tls) interop with OpenSSL's s_server and
# s_client, both directions: every PSK suite petrel implements, ECDSA and
# RSA certificates (tests/pki) with every certificate suite, client
# authentication both ways, refused certificates (unknown CA, wrong name,
# expired, missing client certificate) and a wrong PSK, the server name
# check, the end of the stream (close_notify both ways, and a peer killed
# mid-session, which petrel must report as PETREL_ERR_TRUNCATION), and
# 1 MiB each way.
# usage: openssl_tls.sh PETREL_BINARY   (run from a scratch directory)
#
# Peer quirks this relies on (see PEERS.md):
# - s_server quits at EOF on stdin: its stdin is a fifo held open here. At
#   that EOF (and at its "q"/"Q" commands) it closes TCP *without*
#   close_notify: to end a session cleanly from s_server's side the script
#   uses -rev, whose "CLOSE" line makes it send close_notify.
# - s_server answers petrel's close_notify with its own, then prints DONE.
# - s_client -quiet implies -ign_eof; -no_ign_eof after it makes EOF on
#   stdin send close_notify and exit. s_client takes a read of stdin that
#   starts with Q, R, k or K as a command (quit, renegotiate, key update)
#   unless -nocommands: the 1 MiB transfer needs it.
# - s_server -rev answers every line reversed, one record per line.
# - On a TCP end without close_notify, OpenSSL 3.0 s_client reports
#   "unexpected eof while reading" and exits 1.
# - -cert reads only the first certificate of its file: chains are split
#   into -cert LEAF -cert_chain REST (ossl_identity).
# - s_server -Verify N alone accepts any client certificate:
#   -verify_return_error makes it refuse one it cannot verify.
set -u
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

PKI=$(cd "$(dirname "$0")/../pki" 2>/dev/null && pwd)
interop_init openssl_tls "${1:-}"
interop_transport tls
require_peer openssl
require_peer timeout
if [ -z "$PKI" ] || [ ! -r "$PKI/ca-all.pem" ]; then
    echo "FAIL: the test PKI (tests/pki next to this script) was not found"
    exit 1
fi
echo "pki: $PKI"
openssl version

PSK_SUITES=(
    "TLS_PSK_WITH_AES_128_CCM_8 PSK-AES128-CCM8"
    "TLS_PSK_WITH_AES_128_GCM_SHA256 PSK-AES128-GCM-SHA256"
    "TLS_PSK_WITH_AES_256_GCM_SHA384 PSK-AES256-GCM-SHA384"
    "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 PSK-CHACHA20-POLY1305"
    "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 ECDHE-PSK-CHACHA20-POLY1305"
)
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

CA=$PKI/ca-all.pem
PETREL_PSK=(--psk-identity "$PSK_IDENTITY" --psk "$PSK_HEX")
SERVER_PSK=(-nocert -psk "$PSK_HEX" -psk_identity "$PSK_IDENTITY")
CLIENT_PSK=(-psk "$PSK_HEX" -psk_identity "$PSK_IDENTITY")
EC_SERVER=() RSA_SERVER=() EC_CLIENT=() RSA_CLIENT=() EXPIRED=() UNKNOWN=()
if ! ossl_identity EC_SERVER "$PKI/ec-server-chain.pem" "$PKI/ec-server.key" ||
    ! ossl_identity RSA_SERVER "$PKI/rsa-server-chain.pem" "$PKI/rsa-server.key" ||
    ! ossl_identity EC_CLIENT "$PKI/ec-client-chain.pem" "$PKI/ec-client.key" ||
    ! ossl_identity RSA_CLIENT "$PKI/rsa-client-chain.pem" "$PKI/rsa-client.key" ||
    ! ossl_identity EXPIRED "$PKI/expired-chain.pem" "$PKI/expired.key" ||
    ! ossl_identity UNKNOWN "$PKI/unknown-chain.pem" "$PKI/unknown-server.key"; then
    echo "FAIL: cannot split the chains of $PKI"
    exit 1
fi
# What s_server needs to ask for, and check, a client certificate.
ASK_CLIENT=(-Verify 1 -CAfile "$CA" -verify_return_error)
# How s_client checks petrel's certificates.
CHECK_SERVER=(-CAfile "$CA" -verify_return_error -verify_hostname localhost)

# 1. PSK, every suite, both directions.
for entry in "${PSK_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    ossl_client_case server=PSK "$suite" "$name" ", PSK" "${PETREL_PSK[@]}" -- "${SERVER_PSK[@]}"
    ossl_server_case client=PSK "$suite" "$name" ", PSK" "${PETREL_PSK[@]}" -- "${CLIENT_PSK[@]}"
done

# 2. Certificates, every suite, both directions. petrel client checks the
# name 127.0.0.1 (its --connect host) against the IP SAN; s_client checks
# localhost (DNS SAN).
for entry in "${ECDSA_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    ossl_client_case server='certificate verified' "$suite" "$name" ", ECDSA chain" \
        --ca "$CA" -- "${EC_SERVER[@]}"
    ossl_server_case client=anonymous peer_log='^depth=0 .*CN = localhost$' \
        "$suite" "$name" ", ECDSA chain" \
        --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" -- "${CHECK_SERVER[@]}"
done
for entry in "${RSA_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    ossl_client_case server='certificate verified' "$suite" "$name" ", RSA 3-certificate chain" \
        --ca "$CA" -- "${RSA_SERVER[@]}"
    ossl_server_case client=anonymous peer_log='^depth=0 .*CN = localhost$' \
        "$suite" "$name" ", RSA 3-certificate chain" \
        --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" -- "${CHECK_SERVER[@]}"
done

# 3. Client authentication. s_server asks for and checks petrel's
# certificate; petrel server asks for and checks s_client's.
ossl_client_case server='certificate verified' subject="O = petrel-test, CN = petrel test client" \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ECDHE-ECDSA-AES128-GCM-SHA256 \
    ", ECDSA client certificate" \
    --ca "$CA" --cert "$PKI/ec-client-chain.pem" --key "$PKI/ec-client.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}"
ossl_client_case server='certificate verified' \
    subject="O = petrel-test, CN = petrel test RSA client" \
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ECDHE-RSA-AES256-GCM-SHA384 \
    ", RSA 3-certificate client chain" \
    --ca "$CA" --cert "$PKI/rsa-client-chain.pem" --key "$PKI/rsa-client.key" -- \
    "${RSA_SERVER[@]}" "${ASK_CLIENT[@]}"
ossl_server_case client='certificate verified' \
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ECDHE-ECDSA-AES128-CCM8 ", ECDSA client certificate" \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    "${CHECK_SERVER[@]}" "${EC_CLIENT[@]}"
ossl_server_case client='certificate verified' \
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-RSA-CHACHA20-POLY1305 \
    ", RSA 3-certificate client chain" \
    --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" --verify require --ca "$CA" -- \
    "${CHECK_SERVER[@]}" "${RSA_CLIENT[@]}"
ossl_server_case client=anonymous \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ECDHE-ECDSA-AES128-GCM-SHA256 \
    ", --verify optional, no client certificate" \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify optional --ca "$CA" -- \
    "${CHECK_SERVER[@]}"

# 4. Certificates that must be refused, with the alert each side sees.
ossl_refused_client_case "server certificate from an unknown CA" \
    'trusted CA.*\(PETREL_ERR_UNKNOWN_CA\)' 'alert unknown ca' \
    --ca "$CA" -- "${UNKNOWN[@]}"
ossl_refused_server_case "s_client does not trust petrel's CA" \
    'the client sent alert 48 \(unknown_ca\).*PETREL_ERR_PEER_ALERT' 'certificate verify failed' \
    --cert "$PKI/unknown-chain.pem" --key "$PKI/unknown-server.key" -- "${CHECK_SERVER[@]}"
ossl_refused_client_case "client certificate from an unknown CA" \
    'alert 48 \(unknown_ca\).*PETREL_ERR_PEER_ALERT' 'certificate verify failed' \
    --ca "$CA" --cert "$PKI/unknown-chain.pem" --key "$PKI/unknown-server.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}"
ossl_refused_server_case "--verify require, client certificate from an unknown CA" \
    'does not lead to a trusted CA' 'alert unknown ca' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    "${CHECK_SERVER[@]}" "${UNKNOWN[@]}"
ossl_refused_server_case "--verify require, no client certificate" \
    'peer sent no certificate but one is required' 'alert handshake failure' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    "${CHECK_SERVER[@]}"
ossl_refused_client_case "expired server certificate" \
    'expired.*\(PETREL_ERR_CERT_EXPIRED\)' 'alert certificate expired' \
    --ca "$CA" -- "${EXPIRED[@]}"

# A wrong PSK: the Finished fails to authenticate, which TLS (unlike DTLS)
# answers with a fatal bad_record_mac alert.
ossl_refused_client_case "wrong PSK" \
    'the server sent alert 20 \(bad_record_mac\).*PETREL_ERR_PEER_ALERT' \
    'decryption failed or bad record mac' \
    --psk-identity "$PSK_IDENTITY" --psk 00112233 -- "${SERVER_PSK[@]}"
ossl_refused_server_case "wrong PSK" \
    'record authentication failed.*\(PETREL_ERR_AEAD_AUTH\)' 'alert bad record mac' \
    --psk-identity "$PSK_IDENTITY" --psk 00112233 -- "${CLIENT_PSK[@]}"

# 5. The server name: petrel checks --servername against the DNS SAN and
# refuses a name the certificate does not carry; s_client refuses petrel's
# certificate for a name it does not carry.
ossl_client_case server='certificate verified' \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ECDHE-ECDSA-AES128-GCM-SHA256 \
    ", --servername server.petrel.test" \
    --ca "$CA" --servername server.petrel.test -- "${EC_SERVER[@]}"
ossl_refused_client_case "--servername wrong.example" \
    'server name.*\(PETREL_ERR_CERT_NAME_MISMATCH\)' 'alert bad certificate|SSL alert number 42' \
    --ca "$CA" --servername wrong.example -- "${EC_SERVER[@]}"
ossl_refused_server_case "s_client -verify_hostname wrong.example" \
    'the client sent alert 42 \(bad_certificate\)' 'hostname mismatch' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" -- \
    -CAfile "$CA" -verify_return_error -verify_hostname wrong.example

# 6. The end of the stream.

# s_server ends the session with close_notify (-rev, "CLOSE"): petrel
# client must report a clean end and exit 0.
peer_closes_case() {
    local desc="petrel client -> openssl s_server -rev, s_server sends close_notify"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/s_server.log cli_log=$CASE_DIR/petrel-client.log
    if need "openssl s_server did not start" ossl_start_server "$srv_log" -rev \
        "${SERVER_PSK[@]}"; then
        petrel_client "$cli_log" "${PETREL_PSK[@]}" --send $'hello-rev\nCLOSE\n' \
            --expect ver-olleh --wait-close --timeout 10000
        need_exit "$LAST_PID" "petrel client" 0
        need_line "$cli_log" '^received: ver-olleh' "petrel did not print s_server's reply"
        need_line "$cli_log" '^closed by the server: close_notify$' \
            "petrel did not report the server's close_notify"
        need_line "$srv_log" '^CONNECTION CLOSED$' "s_server did not log CONNECTION CLOSED"
    fi
    case_end "$desc" "" "$cli_log" "$srv_log"
}
peer_closes_case

# s_server is killed while petrel client waits for a reply: TCP ends
# without close_notify, which petrel must report as truncation (exit 1).
killed_server_case() {
    local desc="petrel client -> openssl s_server, s_server killed: truncation"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/s_server.log cli_log=$CASE_DIR/petrel-client.log
    if need "openssl s_server did not start" ossl_start_server "$srv_log" "${SERVER_PSK[@]}"; then
        local srv=$LAST_PID
        petrel_client "$cli_log" "${PETREL_PSK[@]}" --send ping --expect never-sent \
            --timeout 10000
        local cli=$LAST_PID
        await_line "$srv_log" 'ping' "s_server never logged the client's \"ping\"" "$srv" "$cli" &&
            need "s_server's process was not found" kill_peer "$srv"
        need_exit "$cli" "petrel client" fail
        need_line "$cli_log" '^petrel client: .*\(PETREL_ERR_TRUNCATION\)$' \
            "petrel client did not report PETREL_ERR_TRUNCATION"
    fi
    case_end "$desc" "$(grep -m1 TRUNCATION "$cli_log")" "$cli_log" "$srv_log"
}
killed_server_case

# s_client is killed after an echo: petrel server must log truncation and,
# with --once, exit 1.
killed_client_case() {
    local desc="openssl s_client -> petrel server, s_client killed: truncation"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_out=$CASE_DIR/s_client.out
    local cli_err=$CASE_DIR/s_client.err
    if need "petrel server did not start" start_petrel "$srv_log" --echo --once \
        "${PETREL_PSK[@]}"; then
        local srv=$LAST_PID
        ossl_start_client "$cli_out" "$cli_err" "${CLIENT_PSK[@]}"
        local cli=$LAST_PID
        fifo_send s_client "before-kill"
        await_line "$cli_out" '^before-kill$' "s_client did not print the echo" "$cli" &&
            need "s_client's process was not found" kill_peer "$cli"
        need_exit "$srv" "petrel server --once" fail
        need_line "$srv_log" ': closed: .*\(PETREL_ERR_TRUNCATION\)$' \
            "petrel server did not report PETREL_ERR_TRUNCATION"
    fi
    case_end "$desc" "$(grep -m1 -o 'closed: .*' "$srv_log")" "$srv_log" "$cli_out" "$cli_err"
}
killed_client_case

# 7. 1 MiB each way (text lines, so that s_server -rev can answer them).
BIG=$WORK/big.txt
make_text_file "$BIG" 1048576
BIG_SIZE=$(stat -c %s "$BIG")
rev "$BIG" >"$WORK/big.rev.txt"

# s_client sends the file through petrel server --echo and must get it
# back intact; then it closes cleanly.
big_echo_case() {
    local desc="openssl s_client -> petrel server --echo, $BIG_SIZE bytes each way"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_out=$CASE_DIR/s_client.out
    local cli_err=$CASE_DIR/s_client.err t0=$SECONDS
    if need "petrel server did not start" start_petrel "$srv_log" --echo --once --quiet \
        "${PETREL_PSK[@]}"; then
        local srv=$LAST_PID
        ossl_start_client "$cli_out" "$cli_err" "${CLIENT_PSK[@]}"
        local cli=$LAST_PID
        spawn "$BIG" "$FIFO_PATH" cat # the fifo stays open: no EOF yet
        need "s_client did not receive $BIG_SIZE bytes back within 20 s" \
            wait_for_size "$cli_out" "$BIG_SIZE" 20 "$cli" &&
            fifo_close s_client
        await_line "$srv_log" 'closed: close_notify$' \
            "petrel server did not log \"closed: close_notify\"" "$srv"
        need_exit "$srv" "petrel server --once" 0
        need_exit "$cli" "s_client" 0
        need_line "$srv_log" ": $BIG_SIZE bytes received, $BIG_SIZE bytes sent\$" \
            "petrel server did not count $BIG_SIZE bytes each way"
        need_same_file "$cli_out" "$BIG" "the echo differs from what s_client sent"
    fi
    case_end "$desc" "$((SECONDS - t0)) s" "$srv_log" "$cli_err"
}
big_echo_case

# petrel client sends the file to s_server -rev, which answers every line
# reversed; what petrel writes with --recv-file must be `rev` of the file.
big_rev_case() {
    local desc="petrel client -> openssl s_server -rev, $BIG_SIZE bytes each way"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/s_server.log cli_log=$CASE_DIR/petrel-client.log
    local got=$CASE_DIR/received.txt t0=$SECONDS
    if need "openssl s_server did not start" ossl_start_server "$srv_log" -rev \
        "${SERVER_PSK[@]}"; then
        petrel_client "$cli_log" "${PETREL_PSK[@]}" --send-file "$BIG" --recv-file "$got" \
            --recv-bytes "$BIG_SIZE" --timeout 20000
        need_exit "$LAST_PID" "petrel client" 0 25
        need_line "$cli_log" "^transfer: $BIG_SIZE bytes sent, $BIG_SIZE bytes received" \
            "petrel client did not report $BIG_SIZE bytes each way"
        need_same_file "$got" "$WORK/big.rev.txt" "s_server -rev's answer differs from rev(1)'s"
        await_line "$srv_log" '^CONNECTION CLOSED$' "s_server did not log CONNECTION CLOSED"
    fi
    case_end "$desc" "$((SECONDS - t0)) s" "$cli_log" "$srv_log"
}
big_rev_case

# petrel server sends the file and closes (--send-file --close): s_client
# must receive it intact and see a clean end (exit 0, no "unexpected eof").
big_send_close_case() {
    local desc="openssl s_client -> petrel server --send-file --close, $BIG_SIZE bytes"
    case_begin "$desc" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_out=$CASE_DIR/s_client.out
    local cli_err=$CASE_DIR/s_client.err t0=$SECONDS
    if need "petrel server did not start" start_petrel "$srv_log" --send-file "$BIG" --close \
        --once --quiet "${PETREL_PSK[@]}"; then
        local srv=$LAST_PID
        ossl_start_client "$cli_out" "$cli_err" "${CLIENT_PSK[@]}"
        local cli=$LAST_PID
        need_exit "$cli" "s_client" 0 20
        need_exit "$srv" "petrel server --once" 0
        need_line "$srv_log" ': closed: close_notify$' \
            "petrel server did not get s_client's close_notify answer"
        need_no_line "$cli_err" 'unexpected eof|error' "s_client logged an error"
        need_same_file "$cli_out" "$BIG" "what s_client received differs from the file"
    fi
    case_end "$desc" "$((SECONDS - t0)) s" "$srv_log" "$cli_err"
}
big_send_close_case

interop_finish
