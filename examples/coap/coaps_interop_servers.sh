#!/usr/bin/env bash
# Our coaps-client against libcoap's own DTLS servers (Debian libcoap3-bin
# 4.3.1: coap-server-openssl, coap-server-gnutls) on 127.0.0.1:
#   psk    coap-server -k (any identity gets the key); ours -k/-u
#   cert   coap-server -c/-j/-C: it demands a client certificate and
#          verifies it; ours --cert/--key/--ca verifies the server's chain
#          and its name (127.0.0.1 is in its subjectAltName)
#   rpk    coap-server-gnutls -M; ours -M with --pin on the server's key
# coap-server -p P serves plain CoAP on P and DTLS on P+1 (UDP and TCP
# both): the script picks a free pair and waits for the server to log its
# DTLS endpoint. Its resources: /time (observable, a notification every
# second), /example_data (PUT/GET), /.well-known/core.
# Cases: GET /.well-known/core; GET /time; PUT /example_data with 3000
# bytes (Block1), then GET it back (Block2) and compare; observe /time for
# 4 s (>= 3 distinct notifications, then cancelled); refusals for the
# credential type. A missing peer fails the test. The last line is "coaps
# test MODE: all as expected" only when every check held.
# usage: coaps_interop_servers.sh CLIENT PEER psk|cert|rpk
set -uo pipefail
# shellcheck source=coaps_test_lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/coaps_test_lib.sh"

if [ $# -ne 3 ]; then
    echo "usage: $0 CLIENT PEER psk|cert|rpk"
    exit 2
fi
client=$1 peer=$2 mode=$3
name=$(basename "$peer")
coaps_init "$name $mode"
require_exe "coaps-client" "$client"
require_exe "libcoap's server" "$peer"
require_exe "python3 (picks free ports)" python3
big_reference
payload=$(long_payload 3000)

case $mode in
psk)
    peer_args=(-k "$PSK_KEY")
    OURS=(-k "$PSK_KEY" -u "$PSK_IDENTITY")
    ;;
cert)
    peer_args=(-c "$PKI/ec-server-chain.pem" -j "$PKI/ec-server.key" -C "$PKI/ec-root.crt")
    # coap-server-openssl sends only the first certificate of its -c file
    # (the leaf): our client then needs the intermediate as a trust anchor
    # too. coap-server-gnutls sends the chain; the root is enough.
    if [ "$name" = coap-server-openssl ]; then
        cat "$PKI/ec-root.crt" "$PKI/ec-int.crt" >"$WORK/server-cas.pem"
        ca=$WORK/server-cas.pem
    else
        ca=$PKI/ec-root.crt
    fi
    OURS=(--cert "$PKI/ec-client-chain.pem" --key "$PKI/ec-client.key" --ca "$ca")
    ;;
rpk)
    require_rpk "$peer"
    peer_args=(-M "$PKI/rpk-server.key")
    OURS=(-M "$PKI/rpk-client.key" --pin "$PKI/rpk-server.pub.pem")
    ;;
*)
    echo "usage: $0 CLIENT PEER psk|cert|rpk"
    exit 2
    ;;
esac

start_libcoap_server server "$peer" "${peer_args[@]}" || coaps_finish
base="coaps://127.0.0.1:$PORT"
slog=$WORK/server.log
stamp='[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'

# The observation runs in the background while the other cases run.
spawn observe "$client" -B 20 "${OURS[@]}" -s 4 "$base/time"

run core 30 "$client" -B 10 "${OURS[@]}" "$base/.well-known/core"
[ "$RC" -eq 0 ] && grep -q '^response: 2\.05 Content' "$WORK/core.log" &&
    grep -q '</time>' "$WORK/core.log" && grep -q '</example_data>' "$WORK/core.log"
check "$name: GET /.well-known/core (lists /time and /example_data)" $? "$WORK/core.log"

run time 30 "$client" -B 10 "${OURS[@]}" "$base/time"
[ "$RC" -eq 0 ] && grep -q '^response: 2\.05 Content' "$WORK/time.log" &&
    grep -Eqx "$stamp" "$WORK/time.log"
check "$name: GET /time" $? "$WORK/time.log"

run put 30 "$client" -B 10 "${OURS[@]}" -m put -e "$payload" "$base/example_data"
[ "$RC" -eq 0 ] && grep -Eq '^response: 2\.0[14] (Created|Changed)' "$WORK/put.log"
check "$name: PUT /example_data, 3000 bytes (Block1)" $? "$WORK/put.log"

run get 30 "$client" -B 10 "${OURS[@]}" -o "$WORK/get.out" "$base/example_data"
[ "$RC" -eq 0 ] && grep -q '^response: 2\.05 Content, 3000 bytes' "$WORK/get.log" &&
    [ "$(cat "$WORK/get.out")" = "$payload" ]
check "$name: GET /example_data: the 3000 bytes back (Block2)" $? "$WORK/get.log"

# refused NAME DESC CLIENT_REGEX ARGS...: our client with ARGS must exit 1
# with no response and a reason matching CLIENT_REGEX.
refused() {
    local case_name=$1 desc=$2 client_re=$3
    shift 3
    run "$case_name" 30 "$client" "$@" "$base/time"
    [ "$RC" -eq 1 ] && ! grep -q '^response:' "$WORK/$case_name.log" &&
        grep -Eq -- "$client_re" "$WORK/$case_name.log"
    check "$name: $desc" $? "$WORK/$case_name.log" "$slog"
}

case $mode in
psk)
    # Both peers drop the Finished they cannot authenticate without an
    # alert (RFC 6347 4.1.2.7): our client gives up at -B.
    refused wrongkey "wrong key: no handshake" 'no DTLS handshake after 2 s' \
        -B 2 -k wrong-key -u "$PSK_IDENTITY"
    ;;
cert)
    refused wrongca "server chain not under --ca refused by our client" \
        'PETREL_ERR_UNKNOWN_CA' -B 5 --cert "$PKI/ec-client-chain.pem" \
        --key "$PKI/ec-client.key" --ca "$PKI/rsa-root.crt"
    refused nocert "our client without a certificate refused by the server" \
        'the server sent a fatal [a-z_]+ alert' -B 5 --ca "$ca"
    refused untrusted "our client's certificate from an unknown CA refused by the server" \
        'the server sent a fatal unknown_ca alert' -B 5 --cert "$PKI/unknown-chain.pem" \
        --key "$PKI/unknown-server.key" --ca "$ca"
    ;;
rpk)
    refused wrongpin "server key other than the pinned one refused by our client" \
        'PETREL_ERR_RPK_NOT_PINNED' -B 5 -M "$PKI/rpk-client.key" \
        --pin "$PKI/ec-server.pub.pem"
    ;;
esac

join observe 30
[ "$RC" -eq 0 ] &&
    [ "$(distinct_lines "$WORK/observe.log" "^notification [0-9]+: 2\.05 Content, [0-9]+ bytes: $stamp\$")" -ge 3 ] &&
    grep -Eq '^observe: [0-9]+ notifications, cancelled: 2\.05' "$WORK/observe.log"
check "$name: observe /time for 4 s (>= 3 distinct notifications, then cancelled)" $? \
    "$WORK/observe.log"

stop_libcoap_server server
coaps_finish
