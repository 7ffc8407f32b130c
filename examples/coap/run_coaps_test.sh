#!/usr/bin/env bash
# Our coaps-client against our coaps-server on 127.0.0.1 (a port the server
# picks and writes to --port-file), in one of four modes:
#   psk         -k/-u. GET /hello; PUT /echo; POST /echo with 3000 bytes
#               (Block1 up, Block2 down); GET /big (65536 bytes block-wise,
#               FNV-1a against the server's, SHA-256 against a copy rebuilt
#               here); observe /time (>= 3 notifications, then the cancel);
#               GET /missing (4.04); an unknown identity (unknown_psk_identity)
#               and a wrong key (no handshake) are refused; a keys file (-i)
#               serves two identities with their own keys.
#   cert        the server demands a client certificate and verifies it
#               (-c/-j/-C); the client verifies the server's chain and name
#               (--cert/--key/--ca). The same four resources; refused: no
#               client certificate, one from an unknown CA, a server chain
#               the client does not trust, a server name that does not
#               match; a server without -C serves a client without one.
#   rpk         raw public keys (RFC 7250), pinned both ways (-M/--pin), and
#               a client with -n. Refused: an unpinned client key, a client
#               pinning another server key.
#   concurrent  50 clients GET /big at once (PSK), each with the right
#               checksum; every session then ends on the server, which
#               still answers GET /hello.
# Each mode stops the server by its PID and checks it exits 0 on SIGTERM
# (an ASan build reports leaks then). The last line is "coaps test MODE:
# all as expected" only when every check held.
# usage: run_coaps_test.sh SERVER CLIENT psk|cert|rpk|concurrent
set -uo pipefail
# shellcheck source=coaps_test_lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/coaps_test_lib.sh"

if [ $# -ne 3 ]; then
    echo "usage: $0 SERVER CLIENT psk|cert|rpk|concurrent"
    exit 2
fi
server=$1 client=$2 mode=$3
coaps_init "$mode"
require_exe "coaps-server" "$server"
require_exe "coaps-client" "$client"
big_reference
long=$(long_payload 3000)

# The common cases, with the credentials in the array OURS: GET /hello,
# PUT /echo, POST /echo (3000 bytes), GET /big; observe /time runs in the
# background meanwhile (start_observe ... join_observe).
start_observe() {
    spawn observe "$client" "${OURS[@]}" -s 4 "$base/time"
}

join_observe() {
    join observe 30
    local out=$WORK/observe.log
    [ "$RC" -eq 0 ] &&
        [ "$(distinct_lines "$out" '^notification [0-9]+: 2\.05 Content, 20 bytes: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$')" -ge 3 ] &&
        grep -Eq '^observe: [0-9]+ notifications, cancelled: 2\.05' "$out"
    check "observe /time for 4 s (>= 3 distinct notifications, then cancelled)" $? "$out"
}

common_cases() {
    run hello 30 "$client" "${OURS[@]}" "$base/hello"
    [ "$RC" -eq 0 ] && grep -q '^response: 2\.05 Content' "$WORK/hello.log" &&
        grep -q 'Hello, CoAPs!' "$WORK/hello.log"
    check "GET /hello" $? "$WORK/hello.log"

    run echo 30 "$client" "${OURS[@]}" -m put -e "echo over petrel" "$base/echo"
    [ "$RC" -eq 0 ] && grep -q '^response: 2\.04 Changed, 16 bytes' "$WORK/echo.log" &&
        grep -qx 'echo over petrel' "$WORK/echo.log"
    check "PUT /echo" $? "$WORK/echo.log"

    run long 30 "$client" "${OURS[@]}" -m post -e "$long" -o "$WORK/long.out" "$base/echo"
    [ "$RC" -eq 0 ] && grep -q '^response: 2\.04 Changed, 3000 bytes' "$WORK/long.log" &&
        [ "$(cat "$WORK/long.out")" = "$long" ]
    check "POST /echo, 3000 bytes (Block1 up, Block2 down)" $? "$WORK/long.log"

    run big 30 "$client" "${OURS[@]}" -o "$WORK/big.out" "$base/big"
    [ "$RC" -eq 0 ] &&
        grep -q "^response: 2\.05 Content, 65536 bytes, fnv1a64 $big_fnv\$" "$WORK/big.log" &&
        sha256_is "$WORK/big.out" "$BIG_SHA"
    check "GET /big (65536 bytes block-wise, fnv1a64 and sha256 match)" $? "$WORK/big.log"
}

# refused NAME DESC CLIENT_REGEX SERVER_REGEX ARGS...: our client with ARGS
# must exit 1 with no response, its reason matching CLIENT_REGEX, and the
# server must have logged SERVER_REGEX ("" for none) since the case began.
refused() {
    local name=$1 desc=$2 client_re=$3 server_re=$4
    shift 4
    log_mark "$WORK/server.log"
    run "$name" 30 "$client" "$@"
    [ "$RC" -eq 1 ] && ! grep -q '^response:' "$WORK/$name.log" &&
        grep -Eq -- "$client_re" "$WORK/$name.log" &&
        { [ -z "$server_re" ] || log_since "$WORK/server.log" "$server_re"; }
    check "$desc" $? "$WORK/$name.log" "$WORK/server.log"
}

case $mode in
psk)
    start_coaps_server server "$server" -k "$PSK_KEY" -u "$PSK_IDENTITY" || coaps_finish
    base="coaps://127.0.0.1:$PORT"
    big_fnv=$(sed -n 's/.*fnv1a64 \([0-9a-f]*\).*/\1/p' "$WORK/server.log" | head -1)
    OURS=(-B 20 -k "$PSK_KEY" -u "$PSK_IDENTITY")
    start_observe
    # A wrong key is not refused with an alert: the server drops the
    # Finished it cannot authenticate (RFC 6347 4.1.2.7), so the client
    # gives up at -B. It runs meanwhile.
    spawn wrongkey "$client" -B 2 -k wrong-key -u "$PSK_IDENTITY" "$base/hello"
    common_cases

    run missing 30 "$client" "${OURS[@]}" "$base/missing"
    [ "$RC" -eq 1 ] && grep -q '4\.04 Not Found' "$WORK/missing.log"
    check "GET /missing: 4.04, exit 1" $? "$WORK/missing.log"

    refused intruder "unknown identity refused (unknown_psk_identity, exit 1)" \
        'fatal unknown_psk_identity alert' 'unknown PSK identity' \
        -B 10 -k "$PSK_KEY" -u intruder "$base/hello"

    join wrongkey 20
    [ "$RC" -eq 1 ] && ! grep -q '^response:' "$WORK/wrongkey.log" &&
        grep -q 'no DTLS handshake after 2 s' "$WORK/wrongkey.log" &&
        grep -q 'failed authentication' "$WORK/server.log"
    check "wrong key: no handshake, the server logs the failed authentication" $? \
        "$WORK/wrongkey.log"
    join_observe
    stop_coaps_server server

    # A keys file (-i, coap-server's format): two devices with their own
    # keys, one line for another hint (skipped), and -k for any other
    # identity.
    printf '%s\n' '# hint,identity,key or identity,key' '' 'sensor-1,key-one' \
        'CoAP,sensor-2,key-two' 'other-hint,sensor-3,key-three' >"$WORK/keys"
    if start_coaps_server keysfile "$server" -i "$WORK/keys" -h CoAP; then
        base="coaps://127.0.0.1:$PORT"
        all=0
        for pair in sensor-1:key-one sensor-2:key-two; do
            run "keys-${pair%%:*}" 30 "$client" -B 20 -u "${pair%%:*}" -k "${pair#*:}" \
                "$base/hello"
            [ "$RC" -eq 0 ] && grep -q 'Hello, CoAPs!' "$WORK/keys-${pair%%:*}.log" &&
                grep -q "PSK identity \"${pair%%:*}\"" "$WORK/keysfile.log" || all=1
        done
        grep -q 'keys:5: for hint "other-hint", not the one sent: skipped' "$WORK/keysfile.log" &&
            grep -q 'keys: 2 PSK identities' "$WORK/keysfile.log" || all=1
        check "-i keys file: sensor-1 and sensor-2 served with their own keys" $all \
            "$WORK/keys-sensor-1.log" "$WORK/keys-sensor-2.log" "$WORK/keysfile.log"
        refused keys-other "-i: the line for another hint is not loaded" \
            'fatal unknown_psk_identity alert' '' \
            -B 10 -u sensor-3 -k key-three "$base/hello"
        stop_coaps_server keysfile
    fi
    ;;
cert)
    # ec-server-chain.pem is leaf + intermediate; ec-root.crt is the only
    # trust anchor either side has.
    start_coaps_server server "$server" -c "$PKI/ec-server-chain.pem" -j "$PKI/ec-server.key" \
        -C "$PKI/ec-root.crt" || coaps_finish
    base="coaps://127.0.0.1:$PORT"
    big_fnv=$(sed -n 's/.*fnv1a64 \([0-9a-f]*\).*/\1/p' "$WORK/server.log" | head -1)
    OURS=(-B 20 --cert "$PKI/ec-client-chain.pem" --key "$PKI/ec-client.key"
        --ca "$PKI/ec-root.crt")
    start_observe
    common_cases

    run localhost 30 "$client" "${OURS[@]}" "coaps://localhost:$PORT/hello"
    [ "$RC" -eq 0 ] && grep -q 'Hello, CoAPs!' "$WORK/localhost.log"
    check "GET coaps://localhost/hello (the name matches the DNS subjectAltName)" $? \
        "$WORK/localhost.log"

    refused nocert "client without a certificate refused by the server" \
        'the server sent a fatal [a-z_]+ alert' 'sent no certificate but one is required' \
        -B 10 --ca "$PKI/ec-root.crt" "$base/hello"
    refused untrusted "client certificate from an unknown CA refused (unknown_ca)" \
        'the server sent a fatal unknown_ca alert' 'does not lead to a trusted CA' \
        -B 10 --cert "$PKI/unknown-chain.pem" --key "$PKI/unknown-server.key" \
        --ca "$PKI/ec-root.crt" "$base/hello"
    refused wrongca "server chain not under --ca refused by the client" \
        'PETREL_ERR_UNKNOWN_CA' '' \
        -B 10 --cert "$PKI/ec-client-chain.pem" --key "$PKI/ec-client.key" \
        --ca "$PKI/rsa-root.crt" "$base/hello"
    join_observe
    stop_coaps_server server

    # A server whose certificate does not name 127.0.0.1, and one that asks
    # for no client certificate.
    if start_coaps_server wronghost "$server" -c "$PKI/wronghost-chain.pem" \
        -j "$PKI/wronghost.key" -C "$PKI/ec-root.crt"; then
        run wrongname 30 "$client" "${OURS[@]}" "coaps://127.0.0.1:$PORT/hello"
        [ "$RC" -eq 1 ] && ! grep -q '^response:' "$WORK/wrongname.log" &&
            grep -q 'PETREL_ERR_CERT_NAME_MISMATCH' "$WORK/wrongname.log"
        check "server certificate for another name refused by the client" $? \
            "$WORK/wrongname.log"
        stop_coaps_server wronghost
    fi
    if start_coaps_server anyclient "$server" -c "$PKI/ec-server-chain.pem" \
        -j "$PKI/ec-server.key"; then
        run anon 30 "$client" -B 20 --ca "$PKI/ec-root.crt" "coaps://127.0.0.1:$PORT/hello"
        [ "$RC" -eq 0 ] && grep -q 'Hello, CoAPs!' "$WORK/anon.log"
        check "server without -C: a client without a certificate is served" $? "$WORK/anon.log"
        stop_coaps_server anyclient
    fi
    ;;
rpk)
    start_coaps_server server "$server" -M "$PKI/rpk-server.key" \
        --pin "$PKI/rpk-client.pub.pem" || coaps_finish
    base="coaps://127.0.0.1:$PORT"
    big_fnv=$(sed -n 's/.*fnv1a64 \([0-9a-f]*\).*/\1/p' "$WORK/server.log" | head -1)
    OURS=(-B 20 -M "$PKI/rpk-client.key" --pin "$PKI/rpk-server.pub.pem")
    start_observe
    common_cases

    run nocheck 30 "$client" -B 20 -M "$PKI/rpk-client.key" -n "$base/hello"
    [ "$RC" -eq 0 ] && grep -q 'Hello, CoAPs!' "$WORK/nocheck.log"
    check "client -M with -n (server key not checked)" $? "$WORK/nocheck.log"

    refused unpinned "client key not pinned by the server refused" \
        'the server sent a fatal [a-z_]+ alert' 'not among the pinned keys' \
        -B 10 -M "$PKI/ec-client.key" --pin "$PKI/rpk-server.pub.pem" "$base/hello"
    refused wrongpin "server key other than the pinned one refused by the client" \
        'PETREL_ERR_RPK_NOT_PINNED' '' \
        -B 10 -M "$PKI/rpk-client.key" --pin "$PKI/ec-server.pub.pem" "$base/hello"
    join_observe
    stop_coaps_server server
    ;;
concurrent)
    clients=50
    start_coaps_server server "$server" -k "$PSK_KEY" -u "$PSK_IDENTITY" || coaps_finish
    base="coaps://127.0.0.1:$PORT"
    big_fnv=$(sed -n 's/.*fnv1a64 \([0-9a-f]*\).*/\1/p' "$WORK/server.log" | head -1)
    # 14 s for all of them under ASan next to another test on 2 cores.
    OURS=(-B 60 -k "$PSK_KEY" -u "$PSK_IDENTITY")
    # The clients wait at a gate (a file) so that all of them start
    # together rather than one process start-up apart.
    # shellcheck disable=SC2016 # expanded by the inner bash, not here
    gated='while [ ! -e "$1" ]; do sleep 0.02; done; shift; exec "$@"'
    for ((n = 1; n <= clients; n++)); do
        spawn "many$n" bash -c "$gated" gate "$WORK/gate" \
            "$client" "${OURS[@]}" -o "$WORK/many$n.out" "$base/big"
    done
    t0=$SECONDS
    touch "$WORK/gate"
    bad=0
    for ((n = 1; n <= clients; n++)); do
        join "many$n" 70
        if [ "$RC" -ne 0 ] ||
            ! grep -q "^response: 2\.05 Content, 65536 bytes, fnv1a64 $big_fnv\$" \
                "$WORK/many$n.log" || ! sha256_is "$WORK/many$n.out" "$BIG_SHA"; then
            bad=$((bad + 1))
            cat "$WORK/many$n.log" >>"$WORK/many-failed.log"
        fi
    done
    check "$clients concurrent GET /big, all with the right checksum ($((SECONDS - t0)) s, $bad failed)" \
        "$bad" "$WORK/many-failed.log"
    # The most sessions the server held at once, from its log.
    peak=$(awk '/: DTLS established/ { n++; if (n > max) max = n }
                /: DTLS session ended/ { n-- } END { print max + 0 }' "$WORK/server.log")
    [ "$peak" -ge 10 ]
    check "the sessions overlapped (at most $peak at once)" $? "$WORK/server.log"

    # Each client sends close_notify: every session the server established
    # must end (bounded wait).
    sessions_down() {
        local up down
        up=$(grep -c ': DTLS established' "$WORK/server.log")
        down=$(grep -c ': DTLS session ended' "$WORK/server.log")
        [ "$up" -ge "$clients" ] && [ "$down" -eq "$up" ]
    }
    for ((i = 0; i < COAPS_WAIT * 20; i++)); do
        sessions_down && break
        sleep 0.05
    done
    sessions_down
    check "every session ended on the server ($(grep -c ': DTLS established' \
        "$WORK/server.log") established, $(grep -c ': DTLS session ended' \
        "$WORK/server.log") ended)" $? "$WORK/server.log"

    run after 30 "$client" "${OURS[@]}" "$base/hello"
    [ "$RC" -eq 0 ] && grep -q 'Hello, CoAPs!' "$WORK/after.log"
    check "the server still answers GET /hello afterwards" $? "$WORK/after.log"
    stop_coaps_server server
    ;;
*)
    echo "usage: $0 SERVER CLIENT psk|cert|rpk|concurrent"
    exit 2
    ;;
esac
coaps_finish
