#!/usr/bin/env bash
# DTLS 1.2 PSK interop with GnuTLS's gnutls-serv --echo and gnutls-cli,
# every suite petrel implements, both directions, plus small-MTU runs both
# ways. Each case pins one suite with a GnuTLS priority string.
# usage: gnutls_dtls_psk.sh PETREL_BINARY   (run from a scratch directory)
#
# The cases are lib.sh's skeletons (gnutls_client_case, gnutls_server_case).
# Peer quirks this relies on (see PEERS.md):
# - gnutls-serv binds 0.0.0.0 and :: (free_port checks both), logs
#   "bind() failed" but keeps running when the port is taken, serves one
#   DTLS connection at a time (one server per case here), and asks for a
#   client certificate unless --disable-client-cert.
# - gnutls-cli sends its stdin lines and close_notify at EOF on stdin.
# - gnutls-cli 3.7.9 crashes (SIGSEGV in gnutls_psk_server_get_username,
#   called from its print_info) right after every ECDHE-PSK handshake,
#   against gnutls-serv just as against petrel, before it sends any data.
#   For that suite the case checks that both sides finished the handshake
#   (petrel logs it; gnutls-cli's -d 4 debug log shows the server's
#   Finished received) and says so (gnutls_server_case crash_ok=1); a
#   gnutls-cli that does not crash gets the full echo check.
# - At --mtu 200 gnutls-cli cuts its ClientHello into several records;
#   petrel's stateless cookie gate answers it from the first fragment.
set -u
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

interop_init gnutls_dtls_psk "${1:-}"
interop_transport dtls
require_peer gnutls-serv
require_peer gnutls-cli
require_peer timeout
gnutls-cli --version | head -n 1

# petrel suite, GnuTLS key exchange, GnuTLS cipher.
SUITES=(
    "TLS_PSK_WITH_AES_128_CCM_8 PSK AES-128-CCM-8"
    "TLS_PSK_WITH_AES_128_GCM_SHA256 PSK AES-128-GCM"
    "TLS_PSK_WITH_AES_256_GCM_SHA384 PSK AES-256-GCM"
    "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 PSK CHACHA20-POLY1305"
    "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 ECDHE-PSK CHACHA20-POLY1305"
)
PETREL_PSK=(--psk-identity "$PSK_IDENTITY" --psk "$PSK_HEX")
SERVER_PSK=(--pskpasswd "$(gnutls_psk_file)" --disable-client-cert)
CLIENT_PSK=(--pskusername "$PSK_IDENTITY" --pskkey "$PSK_HEX")

# 1. Every suite, both directions. gnutls-cli gets -d 4 (for crash_ok=1)
# with ECDHE-PSK.
for entry in "${SUITES[@]}"; do
    read -r suite kx cipher <<<"$entry"
    crash_ok=() debug=()
    [ "$kx" = ECDHE-PSK ] && crash_ok=(crash_ok=1) debug=(-d 4)
    gnutls_client_case server=PSK "$suite" "" "${PETREL_PSK[@]}" -- \
        "${SERVER_PSK[@]}" --priority "$(gnutls_priority "$kx" "$cipher")"
    gnutls_server_case client=PSK "${crash_ok[@]}" "$suite" "" "${PETREL_PSK[@]}" -- \
        "${debug[@]}" "${CLIENT_PSK[@]}" --priority "$(gnutls_priority "$kx" "$cipher")"
done

# 2. Small MTU: petrel at its minimum PMTU (200). gnutls-serv at --mtu 200
# with a 250-byte identity hint, so petrel reassembles its
# ServerKeyExchange from fragments; petrel server with the longest hint it
# accepts (128 bytes) so its flight spans datagrams, gnutls-cli at --mtu
# 200 too (see the top).
server_hint=$(long_hint 128)
peer_hint=$(long_hint 250)
for entry in "${SUITES[@]}"; do
    read -r suite kx cipher <<<"$entry"
    crash_ok=() debug=()
    [ "$kx" = ECDHE-PSK ] && crash_ok=(crash_ok=1) debug=(-d 4)
    gnutls_client_case server=PSK "$suite" ", mtu 200/200, 250-byte hint" \
        "${PETREL_PSK[@]}" --mtu 200 -- "${SERVER_PSK[@]}" --mtu 200 --pskhint "$peer_hint" \
        --priority "$(gnutls_priority "$kx" "$cipher")"
    gnutls_server_case client=PSK "${crash_ok[@]}" "$suite" ", mtu 200/200, 128-byte hint" \
        "${PETREL_PSK[@]}" --mtu 200 --psk-hint "$server_hint" -- \
        "${debug[@]}" "${CLIENT_PSK[@]}" --mtu 200 --priority "$(gnutls_priority "$kx" "$cipher")"
done

interop_finish
