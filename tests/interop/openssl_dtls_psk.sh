#!/usr/bin/env bash
# DTLS 1.2 PSK interop with OpenSSL's s_server and s_client, every suite
# petrel implements, both directions, plus small-MTU runs both ways.
# usage: openssl_dtls_psk.sh PETREL_BINARY   (run from a scratch directory)
#
# The cases are lib.sh's skeletons (ossl_client_case, ossl_server_case).
# Peer quirks this relies on (see PEERS.md):
# - s_server quits at EOF on stdin: its stdin is a fifo held open.
# - Neither openssl tool echoes over DTLS: petrel client -> s_server is
#   checked with s_server logging "ping" and the script then typing
#   "pong-SUITE" into s_server's stdin, which petrel must receive.
# - -mtu must be at least 256 for the openssl tools.
# - With its default cipher list and -mtu 256, s_client's ClientHello is
#   cut into two records; the last case checks that petrel's stateless
#   cookie gate answers it from the first fragment.
set -u
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

interop_init openssl_dtls_psk "${1:-}"
interop_transport dtls
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
PETREL_PSK=(--psk-identity "$PSK_IDENTITY" --psk "$PSK_HEX")
SERVER_PSK=(-nocert -psk "$PSK_HEX" -psk_identity "$PSK_IDENTITY")
CLIENT_PSK=(-psk "$PSK_HEX" -psk_identity "$PSK_IDENTITY")

# 1. Every suite, both directions.
for entry in "${SUITES[@]}"; do
    read -r suite name <<<"$entry"
    ossl_client_case server=PSK "$suite" "$name" "" "${PETREL_PSK[@]}" -- "${SERVER_PSK[@]}"
    ossl_server_case client=PSK "$suite" "$name" "" "${PETREL_PSK[@]}" -- "${CLIENT_PSK[@]}"
done

# 2. Small MTU. petrel at its minimum PMTU (200), openssl at its minimum
# (-mtu 256). s_server gets a 250-byte identity hint so that its
# ServerKeyExchange is cut into fragments petrel must reassemble; petrel
# server gets the longest hint it accepts (128 bytes, HS_PSK_IDENTITY_STORE_MAX;
# 150 is refused as an invalid argument) so its flight spans datagrams.
server_hint=$(long_hint 128)
peer_hint=$(long_hint 250)
for entry in "${SUITES[@]}"; do
    read -r suite name <<<"$entry"
    ossl_client_case server=PSK "$suite" "$name" ", mtu 200/256, 250-byte hint" \
        "${PETREL_PSK[@]}" --mtu 200 -- "${SERVER_PSK[@]}" -mtu 256 -psk_hint "$peer_hint"
    ossl_server_case client=PSK "$suite" "$name" ", mtu 256/200, 128-byte hint" \
        "${PETREL_PSK[@]}" --mtu 200 --psk-hint "$server_hint" -- "${CLIENT_PSK[@]}" -mtu 256
done

# 3. A fragmented ClientHello: s_client's default cipher list (no -cipher:
# OSSL_NAME "") at -mtu 256 is too big for one datagram. petrel (with its
# default suites) picks TLS_PSK_WITH_AES_128_GCM_SHA256, the first of its
# own that s_client offers by default.
ossl_server_case client=PSK TLS_PSK_WITH_AES_128_GCM_SHA256 "" \
    ", fragmented ClientHello (mtu 256)" "${PETREL_PSK[@]}" -- "${CLIENT_PSK[@]}" -mtu 256

interop_finish
