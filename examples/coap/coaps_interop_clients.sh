#!/usr/bin/env bash
# libcoap's own DTLS clients (Debian libcoap3-bin 4.3.1: coap-client-openssl,
# coap-client-gnutls) against our coaps-server on 127.0.0.1:
#   psk    -k/-u; the server accepts only that identity
#   cert   -c/-j/-C both ways; the server demands a client certificate and
#          verifies it
#   rpk    raw public keys (-M; coap-client-gnutls only: libcoap's OpenSSL
#          build has no RPK); the server pins the client's key
# Cases: GET /hello; PUT /echo; POST /echo with 3000 bytes from a file
# (Block1 up, Block2 down); GET /big (65536 bytes block-wise, SHA-256
# against a copy rebuilt here); observe /time for 4 s (>= 3 distinct
# notifications); then refusals for the credential type. coap-client exits
# 0 even when its handshake fails, so every case checks its output (and a
# refusal also the reason our server logged), never its status alone.
# A missing peer fails the test. The last line is "coaps test MODE: all as
# expected" only when every check held.
# usage: coaps_interop_clients.sh SERVER PEER psk|cert|rpk
set -uo pipefail
# shellcheck source=coaps_test_lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/coaps_test_lib.sh"

if [ $# -ne 3 ]; then
    echo "usage: $0 SERVER PEER psk|cert|rpk"
    exit 2
fi
server=$1 peer=$2 mode=$3
coaps_init "$peer $mode"
require_exe "coaps-server" "$server"
require_exe "libcoap's client" "$peer"
big_reference
long_payload 3000 >"$WORK/long.txt"
slog=$WORK/server.log

case $mode in
psk)
    srv_args=(-k "$PSK_KEY" -u "$PSK_IDENTITY")
    THEIRS=(-k "$PSK_KEY" -u "$PSK_IDENTITY")
    ;;
cert)
    # coap-client-openssl sends only the first certificate of its -c file
    # (the leaf), so our server needs the intermediate as well to build the
    # chain; coap-client-gnutls sends the whole chain, so the root is enough
    # there, which also tests chain building from what the peer sent.
    if [ "$(basename "$peer")" = coap-client-openssl ]; then
        cat "$PKI/ec-root.crt" "$PKI/ec-int.crt" >"$WORK/client-cas.pem"
        srv_ca=$WORK/client-cas.pem
    else
        srv_ca=$PKI/ec-root.crt
    fi
    srv_args=(-c "$PKI/ec-server-chain.pem" -j "$PKI/ec-server.key" -C "$srv_ca")
    THEIRS=(-c "$PKI/ec-client-chain.pem" -j "$PKI/ec-client.key" -C "$PKI/ec-root.crt")
    ;;
rpk)
    require_rpk "$peer"
    srv_args=(-M "$PKI/rpk-server.key" --pin "$PKI/rpk-client.pub.pem")
    THEIRS=(-M "$PKI/rpk-client.key")
    ;;
*)
    echo "usage: $0 SERVER PEER psk|cert|rpk"
    exit 2
    ;;
esac

start_coaps_server server "$server" "${srv_args[@]}" || coaps_finish
base="coaps://127.0.0.1:$PORT"
name=$(basename "$peer")
iso='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'

# The observation runs in the background while the other cases run.
spawn observe "$peer" -B 20 "${THEIRS[@]}" -s 4 -w "$base/time"

run hello 30 "$peer" -B 10 "${THEIRS[@]}" "$base/hello"
grep -q 'Hello, CoAPs! (libcoap over petrel DTLS)' "$WORK/hello.log"
check "$name: GET /hello" $? "$WORK/hello.log"

run echo 30 "$peer" -B 10 "${THEIRS[@]}" -m put -e "echo over petrel" "$base/echo"
grep -qx 'echo over petrel' "$WORK/echo.log"
check "$name: PUT /echo" $? "$WORK/echo.log"

run long 30 "$peer" -B 10 "${THEIRS[@]}" -m post -f "$WORK/long.txt" -o "$WORK/long.out" \
    "$base/echo"
cmp -s "$WORK/long.txt" "$WORK/long.out"
check "$name: POST /echo, 3000 bytes (Block1 up, Block2 down)" $? "$WORK/long.log"

run big 30 "$peer" -B 10 "${THEIRS[@]}" -o "$WORK/big.out" "$base/big"
sha256_is "$WORK/big.out" "$BIG_SHA"
check "$name: GET /big (65536 bytes block-wise, sha256 matches)" $? "$WORK/big.log"

# refused NAME DESC SERVER_REGEX ARGS...: the peer with ARGS gets no
# content from /hello, and our server logged SERVER_REGEX since the case
# began.
refused() {
    local case_name=$1 desc=$2 server_re=$3
    shift 3
    log_mark "$slog"
    run "$case_name" 30 "$peer" "$@" "$base/hello"
    ! grep -q 'Hello, CoAPs!' "$WORK/$case_name.log" && log_since "$slog" "$server_re"
    check "$name: $desc" $? "$WORK/$case_name.log" "$slog"
}

case $mode in
psk)
    refused intruder "unknown identity refused (unknown_psk_identity)" \
        'unknown PSK identity' -B 5 -k "$PSK_KEY" -u intruder
    # The server drops the Finished it cannot authenticate (no alert,
    # RFC 6347 4.1.2.7): the peer gives up at -B.
    refused wrongkey "wrong key refused (the Finished fails authentication)" \
        'failed authentication' -B 2 -k wrong-key -u "$PSK_IDENTITY"
    ;;
cert)
    refused nocert "client without a certificate refused" \
        'sent no certificate but one is required' -B 5 -C "$PKI/ec-root.crt"
    # coap-client-gnutls sends a certificate only when its issuer is among
    # the CAs our CertificateRequest names: for one from an unknown CA it
    # sends none, so our server refuses it for that reason.
    refused untrusted "client certificate from an unknown CA refused" \
        'does not lead to a trusted CA|sent no certificate but one is required' \
        -B 5 -c "$PKI/unknown-chain.pem" -j "$PKI/unknown-server.key" -C "$PKI/ec-root.crt"
    # One it does send: a known issuer, a broken signature.
    refused badsig "client certificate with a bad signature refused" \
        'PETREL_ERR_BAD_CERTIFICATE' \
        -B 5 -c "$PKI/badsig-chain.pem" -j "$PKI/ec-server.key" -C "$PKI/ec-root.crt"
    ;;
rpk)
    refused unpinned "client key not pinned by the server refused" \
        'not among the pinned keys' -B 5 -M "$PKI/ec-client.key"
    ;;
esac

join observe 30
[ "$(distinct_lines "$WORK/observe.log" "$iso")" -ge 3 ]
check "$name: observe /time for 4 s (>= 3 distinct notifications)" $? "$WORK/observe.log"

# The suite CoAP mandates (RFC 7252 9.1.3), as our server logged it.
case $mode in
psk) suite=TLS_PSK_WITH_AES_128_CCM_8 ;;
*) suite=TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ;;
esac
grep -q ": DTLS established, $suite" "$slog"
check "$name: negotiated $suite" $? "$slog"

stop_coaps_server server
coaps_finish
