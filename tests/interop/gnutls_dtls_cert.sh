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
# - gnutls-serv binds 0.0.0.0 and :: (free_port checks both), logs
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
# The cases are lib.sh's skeletons (gnutls_client_case, gnutls_server_case
# and their refused_ forms). The small-MTU runs go through `petrel proxy
# --dump` (dgrams=) so that the datagram count and sizes are checked, not
# assumed.
#
# petrel server reports a client that was not asked for a certificate as
# "anonymous" (petrel_peer_anonymous()).
set -u
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

PKI=$(cd "$(dirname "$0")/../pki" 2>/dev/null && pwd)
interop_init gnutls_dtls_cert "${1:-}"
interop_transport dtls
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

# Raw public keys only, both directions.
RPK_PRIORITY="$(gnutls_priority ECDHE-ECDSA AES-128-GCM):-CTYPE-ALL:+CTYPE-SRV-RAWPK:+CTYPE-CLI-RAWPK"
RPK_SUITE=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256

# gnutls-serv's identities, and what it needs to ask for, and check, a
# client certificate.
EC_SERVER=(--x509certfile "$PKI/ec-server-chain.pem" --x509keyfile "$PKI/ec-server.key")
RSA_SERVER=(--x509certfile "$PKI/rsa-server-chain.pem" --x509keyfile "$PKI/rsa-server.key")
ASK_CLIENT=(--require-client-cert --verify-client-cert "--x509cafile=$CA")
# What gnutls-cli prints once it has verified petrel's chain.
TRUSTED='^- Status: The certificate is trusted\.'
VERIFIED='certificate verified'

# 6. petrel client -> gnutls-serv, every suite with its chain (ECDSA: leaf
# + intermediate; RSA: leaf + two intermediates); petrel checks the name
# 127.0.0.1 (its --connect host) against the IP SAN.
for entry in "${SUITES[@]}"; do
    read -r suite kx cipher id <<<"$entry"
    if [ "$id" = rsa-server ]; then server_id=("${RSA_SERVER[@]}"); else server_id=("${EC_SERVER[@]}"); fi
    gnutls_client_case server="$VERIFIED" "$suite" ", ${id%-server} chain" --ca "$CA" -- \
        "${server_id[@]}" --disable-client-cert --priority "$(gnutls_priority "$kx" "$cipher")"
done
# Small MTU: gnutls-serv's RSA chain in datagrams of at most 200 bytes.
gnutls_client_case server="$VERIFIED" dgrams=s2c:12:200 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 \
    ", rsa chain, mtu 200/200" --ca "$CA" --mtu 200 -- \
    "${RSA_SERVER[@]}" --disable-client-cert --mtu 200 \
    --priority "$(gnutls_priority ECDHE-RSA AES-128-GCM)"

# 7. gnutls-cli -> petrel server, every suite; gnutls-cli checks the name
# localhost (DNS SAN) for ECDSA and the address 127.0.0.1 (IP SAN) for RSA.
for entry in "${SUITES[@]}"; do
    read -r suite kx cipher id <<<"$entry"
    name_check=(--verify-hostname localhost)
    [ "$id" = rsa-server ] && name_check=()
    gnutls_server_case client=anonymous peer_log="$TRUSTED" "$suite" ", ${id%-server} chain" \
        --cert "$PKI/$id-chain.pem" --key "$PKI/$id.key" -- \
        --x509cafile "$CA" "${name_check[@]}" --priority "$(gnutls_priority "$kx" "$cipher")"
done
# Small MTU: petrel's RSA chain in datagrams of at most 200 bytes.
gnutls_server_case client=anonymous peer_log="$TRUSTED" dgrams=s2c:12:200 \
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ", rsa chain, mtu 200/200" \
    --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" --mtu 200 -- \
    --x509cafile "$CA" --mtu 200 --priority "$(gnutls_priority ECDHE-RSA AES-256-GCM)"

# 8. Client authentication.
# gnutls-serv asks for and checks petrel's certificate.
gnutls_client_case server="$VERIFIED" \
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ", ECDSA client certificate" \
    --ca "$CA" --cert "$PKI/ec-client-chain.pem" --key "$PKI/ec-client.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}" --priority "$(gnutls_priority ECDHE-ECDSA AES-128-CCM-8)"
gnutls_client_case server="$VERIFIED" \
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 ", RSA 3-certificate client chain" \
    --ca "$CA" --cert "$PKI/rsa-client-chain.pem" --key "$PKI/rsa-client.key" -- \
    "${RSA_SERVER[@]}" "${ASK_CLIENT[@]}" \
    --priority "$(gnutls_priority ECDHE-RSA CHACHA20-POLY1305)"
# petrel's own RSA chain in datagrams of at most 200 bytes.
gnutls_client_case server="$VERIFIED" dgrams=c2s:12:200 \
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 ", RSA 3-certificate client chain, mtu 200/200" \
    --ca "$CA" --cert "$PKI/rsa-client-chain.pem" --key "$PKI/rsa-client.key" --mtu 200 -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}" --mtu 200 \
    --priority "$(gnutls_priority ECDHE-ECDSA AES-256-GCM)"
gnutls_refused_client_case "client certificate from an unknown CA" 'PETREL_ERR_PEER_ALERT' \
    'REC: Sending Alert\[2\|[0-9]+\]' \
    --ca "$CA" --cert "$PKI/unknown-chain.pem" --key "$PKI/unknown-server.key" -- \
    "${EC_SERVER[@]}" "${ASK_CLIENT[@]}" -d 5 \
    --priority "$(gnutls_priority ECDHE-ECDSA AES-128-GCM)"
# petrel server asks for and checks gnutls-cli's certificate.
gnutls_server_case client="$VERIFIED" peer_log="$TRUSTED" \
    peer_log='^- Successfully sent 2 certificate\(s\) to server\.' \
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ", ECDSA client certificate" \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --x509certfile "$PKI/ec-client-chain.pem" \
    --x509keyfile "$PKI/ec-client.key" --priority "$(gnutls_priority ECDHE-ECDSA CHACHA20-POLY1305)"
gnutls_server_case client="$VERIFIED" peer_log="$TRUSTED" \
    peer_log='^- Successfully sent 3 certificate\(s\) to server\.' \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ", RSA 3-certificate client chain" \
    --cert "$PKI/rsa-server-chain.pem" --key "$PKI/rsa-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --x509certfile "$PKI/rsa-client-chain.pem" \
    --x509keyfile "$PKI/rsa-client.key" --priority "$(gnutls_priority ECDHE-RSA AES-128-GCM)"
gnutls_refused_server_case "--verify require, no client certificate" \
    'peer sent no certificate but one is required' 'Received alert \[40\]' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --priority "$(gnutls_priority ECDHE-ECDSA AES-128-GCM)"
gnutls_refused_server_case "--verify require, client certificate from an unknown CA" \
    'does not lead to a trusted CA' 'Received alert \[48\]' \
    --cert "$PKI/ec-server-chain.pem" --key "$PKI/ec-server.key" --verify require --ca "$CA" -- \
    --x509cafile "$CA" --x509certfile "$PKI/unknown-chain.pem" \
    --x509keyfile "$PKI/unknown-server.key" --priority "$(gnutls_priority ECDHE-ECDSA AES-128-GCM)"

# 9. Raw public keys (RFC 7250), both sides presenting one.
# petrel pins gnutls-serv's key; gnutls-serv's debug log must show both
# certificate types negotiated as raw public keys and petrel's
# CertificateVerify received (it cannot pin petrel's key, see the top).
gnutls_client_case server='raw public key verified' \
    peer_log='Selected server certificate type Raw Public Key' \
    peer_log='Selected client certificate type Raw Public Key' \
    peer_log='CERTIFICATE VERIFY \(15\) was received' \
    "$RPK_SUITE" ", raw public keys" \
    --rpk --peer-key "$PKI/rpk-server.pub.pem" --key "$PKI/rpk-client.key" -- \
    --rawpkfile "$PKI/rpk-server.pub.pem" --rawpkkeyfile "$PKI/rpk-server.key" \
    --require-client-cert -d 4 --priority "$RPK_PRIORITY"
gnutls_refused_client_case "raw public keys, server key not pinned" \
    'not among the pinned keys.*\(PETREL_ERR_RPK_NOT_PINNED\)' \
    'Error in handshake\(\): A TLS fatal alert has been received' \
    --rpk --peer-key "$PKI/rpk-client.pub.pem" --key "$PKI/rpk-client.key" -- \
    --rawpkfile "$PKI/rpk-server.pub.pem" --rawpkkeyfile "$PKI/rpk-server.key" \
    --require-client-cert --priority "$RPK_PRIORITY"
# petrel pins gnutls-cli's key; gnutls-cli runs --insecure and the script
# compares the key it received with rpk-server.pub.pem.
gnutls_server_case client='raw public key verified' same_key="$PKI/rpk-server.pub.pem" \
    peer_log='^- Certificate type: Raw Public Key' \
    peer_log='^- Description: \(DTLS1\.2-Raw Public Key\)' \
    peer_log='^- Successfully sent 1 certificate\(s\) to server\.' \
    "$RPK_SUITE" ", raw public keys" \
    --rpk --key "$PKI/rpk-server.key" --peer-key "$PKI/rpk-client.pub.pem" --verify require -- \
    --insecure --rawpkfile "$PKI/rpk-client.pub.pem" --rawpkkeyfile "$PKI/rpk-client.key" \
    --priority "$RPK_PRIORITY"
gnutls_refused_server_case "raw public keys, client key not pinned" \
    'peer raw public key is not among the pinned keys' 'Received alert \[42\]' \
    --rpk --key "$PKI/rpk-server.key" --peer-key "$PKI/rpk-client.pub.pem" --verify require -- \
    --insecure --rawpkfile "$PKI/ec-client.pub.pem" --rawpkkeyfile "$PKI/ec-client.key" \
    --priority "$RPK_PRIORITY"

interop_finish
