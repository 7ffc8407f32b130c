#!/usr/bin/env bash
# DTLS 1.2 certificate interop with OpenSSL's s_server and s_client, using
# the chains in tests/pki: every ECDHE_ECDSA and ECDHE_RSA suite petrel
# implements, both directions, small-MTU runs in which a chain spans many
# datagrams, client authentication both ways, and refused certificates
# (expired, wrong name, unknown CA, missing or untrusted client certificate).
# usage: openssl_dtls_cert.sh PETREL_BINARY   (run from a scratch directory)
#
# Peer quirks this relies on (see PEERS.md):
# - s_server quits at EOF on stdin: its stdin is a fifo held open.
# - Neither openssl tool echoes over DTLS: petrel client -> s_server is
#   checked with s_server logging "ping" and the script then typing
#   "pong-SUITE" into s_server's stdin, which petrel must receive.
# - -cert reads only the first certificate of its file: given
#   ec-server-chain.pem, s_server sent the leaf alone (and petrel rightly
#   refused it: unknown CA). The chains are therefore split into
#   -cert LEAF -cert_chain REST (ossl_identity), for s_client's -cert too.
# - s_server -Verify N alone accepts any client certificate (it logs the
#   verify error and goes on): -verify_return_error makes it refuse one.
# - -mtu N (at least 256) is the link MTU: s_server's datagrams were at
#   most N - 28 bytes. petrel's --mtu is the datagram size (200 minimum).
# - s_client -quiet prints "Can't use SSL_get_servername": harmless.
#
# The cases are lib.sh's skeletons (ossl_client_case, ossl_server_case and
# their refused_ forms). The small-MTU runs go through `petrel proxy
# --dump` (dgrams=) so that the datagram count and sizes are checked, not
# assumed.
#
# petrel server reports a client that was not asked for a certificate as
# "anonymous" (petrel_peer_anonymous()).
set -u
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

PKI=$(cd "$(dirname "$0")/../pki" 2>/dev/null && pwd)
interop_init openssl_dtls_cert "${1:-}"
interop_transport dtls
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

CA=$PKI/ca-all.pem
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
# How s_client checks petrel's certificate (the DNS SAN localhost), and
# what it must then log.
CHECK_SERVER=(-CAfile "$CA" -verify_return_error -verify_hostname localhost)
VERIFIED='^depth=0 .*CN = localhost$'
# petrel server's identities.
PETREL_EC=(--cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key")
PETREL_RSA=(--cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key")

# 1. petrel client -> s_server, ECDSA chain (leaf + intermediate), every
# ECDSA suite; petrel checks the name 127.0.0.1 (its --connect host)
# against the certificate's IP SAN.
for entry in "${ECDSA_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    ossl_client_case server='certificate verified' "$suite" "$name" ", ECDSA chain" \
        --ca "$CA" -- "${EC_SERVER[@]}"
done

# 2. petrel client -> s_server, RSA chain (leaf + two intermediates).
for entry in "${RSA_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    ossl_client_case server='certificate verified' "$suite" "$name" ", RSA 3-certificate chain" \
        --ca "$CA" -- "${RSA_SERVER[@]}"
done
# Small MTU: the ~2.7 kB RSA chain (the ~1 kB ECDSA one) in datagrams of at
# most 228 bytes from s_server -mtu 256; petrel at its minimum, 200.
ossl_client_case server='certificate verified' dgrams=s2c:12:256 \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA-AES128-GCM-SHA256 \
    ", RSA 3-certificate chain, mtu 200/256" --ca "$CA" --mtu 200 -- "${RSA_SERVER[@]}" -mtu 256
ossl_client_case server='certificate verified' dgrams=s2c:5:256 \
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ECDHE-ECDSA-AES128-CCM8 \
    ", ECDSA chain, mtu 200/256" --ca "$CA" --mtu 200 -- "${EC_SERVER[@]}" -mtu 256
# PMTU 576 (issue 6): s_server's link MTU 604 gives datagrams of 576 bytes.
ossl_client_case server='certificate verified' dgrams=s2c:5:576 \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA-AES128-GCM-SHA256 \
    ", RSA 3-certificate chain, mtu 576" --ca "$CA" --mtu 576 -- "${RSA_SERVER[@]}" -mtu 604

# 3. s_client -> petrel server, both chains; s_client checks the name
# localhost (DNS SAN) for ECDSA and the address 127.0.0.1 (IP SAN) for RSA.
for entry in "${ECDSA_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    ossl_server_case client=anonymous peer_log="$VERIFIED" "$suite" "$name" ", ECDSA chain" \
        "${PETREL_EC[@]}" -- "${CHECK_SERVER[@]}"
done
for entry in "${RSA_SUITES[@]}"; do
    read -r suite name <<<"$entry"
    ossl_server_case client=anonymous peer_log="$VERIFIED" "$suite" "$name" \
        ", RSA 3-certificate chain" \
        "${PETREL_RSA[@]}" -- -CAfile "$CA" -verify_return_error -verify_ip 127.0.0.1
done
# Small MTU: petrel's RSA chain in datagrams of at most 200 bytes.
ossl_server_case client=anonymous peer_log="$VERIFIED" dgrams=s2c:12:200 \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA-AES128-GCM-SHA256 \
    ", RSA 3-certificate chain, mtu 200/256" \
    "${PETREL_RSA[@]}" --mtu 200 -- "${CHECK_SERVER[@]}" -mtu 256
ossl_server_case client=anonymous peer_log="$VERIFIED" dgrams=s2c:5:576 \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA-AES128-GCM-SHA256 \
    ", RSA 3-certificate chain, mtu 576" \
    "${PETREL_RSA[@]}" --mtu 576 -- "${CHECK_SERVER[@]}" -mtu 604

# 4. Client authentication.
# s_server asks for and checks petrel's certificate.
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
# petrel's own RSA chain in datagrams of at most 200 bytes.
ossl_client_case server='certificate verified' \
    subject="O = petrel-test, CN = petrel test RSA client" dgrams=c2s:12:200 \
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-ECDSA-CHACHA20-POLY1305 \
    ", RSA 3-certificate client chain, mtu 200/256" \
    --ca "$CA" --cert "$PKI/rsa-client-chain.pem" --key "$PKI/rsa-client.key" --mtu 200 -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}" -mtu 256
ossl_refused_client_case "client certificate from an unknown CA" 'PETREL_ERR_PEER_ALERT' \
    'certificate verify failed' \
    --ca "$CA" --cert "$PKI/unknown-chain.pem" --key "$PKI/unknown-server.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}"
# petrel server asks for and checks s_client's certificate.
ossl_server_case client='certificate verified' peer_log="$VERIFIED" \
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ECDHE-ECDSA-AES128-CCM8 ", ECDSA client certificate" \
    "${PETREL_EC[@]}" --verify require --ca "$CA" -- "${CHECK_SERVER[@]}" "${EC_CLIENT[@]}"
ossl_server_case client='certificate verified' peer_log="$VERIFIED" \
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 ECDHE-RSA-CHACHA20-POLY1305 \
    ", RSA 3-certificate client chain" \
    "${PETREL_RSA[@]}" --verify require --ca "$CA" -- "${CHECK_SERVER[@]}" "${RSA_CLIENT[@]}"
ossl_server_case client=anonymous peer_log="$VERIFIED" \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ECDHE-ECDSA-AES128-GCM-SHA256 \
    ", --verify optional, no client certificate" \
    "${PETREL_EC[@]}" --verify optional --ca "$CA" -- "${CHECK_SERVER[@]}"
ossl_refused_server_case "--verify require, no client certificate" \
    'peer sent no certificate but one is required' 'alert handshake failure' \
    "${PETREL_EC[@]}" --verify require --ca "$CA" -- "${CHECK_SERVER[@]}"
ossl_refused_server_case "--verify require, client certificate from an unknown CA" \
    'does not lead to a trusted CA' 'alert unknown ca' \
    "${PETREL_EC[@]}" --verify require --ca "$CA" -- "${CHECK_SERVER[@]}" "${UNKNOWN[@]}"

# 5. Server certificates petrel must refuse (s_server logs the alert it got).
ossl_refused_client_case "expired server certificate" \
    'expired.*\(PETREL_ERR_CERT_EXPIRED\)' 'alert certificate expired' \
    --ca "$CA" -- "${EXPIRED[@]}"
ossl_refused_client_case "--servername wrong.example" \
    'server name.*\(PETREL_ERR_CERT_NAME_MISMATCH\)' 'SSL alert number [0-9]+' \
    --ca "$CA" --servername wrong.example -- "${EC_SERVER[@]}"
ossl_refused_client_case "server certificate from an unknown CA" \
    'trusted CA.*\(PETREL_ERR_UNKNOWN_CA\)' 'alert unknown ca' \
    --ca "$CA" -- "${UNKNOWN[@]}"

interop_finish
