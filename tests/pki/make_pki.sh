#!/usr/bin/env bash
# Regenerates petrel's test PKI: the certificates, keys and broken files
# under tests/pki/ that the certificate and raw-public-key tests load.
#
#   tests/pki/make_pki.sh          (from any directory; no arguments)
#
# Needs only the OpenSSL 3.0 command-line tool (override with OPENSSL=...).
# Everything is built in a temporary directory and checked with
# `openssl verify` there; only when every check passes are the files this
# script owns (the OUTPUTS list below) replaced in the script's directory.
# Other files next to the script (README.md, this script) are left alone.
#
# File names are fixed; contents are not (keys, serial numbers, salts and
# signatures change on every run), so regenerate only when a fixture has to
# change, and commit the whole directory in one go.
#
# Certificates are issued with `openssl ca` because it is the only 3.0 tool
# that takes explicit -startdate/-enddate: `openssl x509 -req` and
# `openssl req -x509` can only start validity "now".
set -euo pipefail
exec </dev/null
umask 022
export LC_ALL=C

OPENSSL=${OPENSSL:-openssl}
HERE=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

readonly PASSWORD=petrel-test
readonly GOOD_START=20240101000000Z
readonly GOOD_END=21240101000000Z

# Every file and directory this script creates, relative to $HERE.
OUTPUTS=(
  ec-root.crt ec-root.key
  ec-int.crt ec-int.key ec-int.der
  ec-server.crt ec-server.key ec-server-chain.pem
  ec-server.der ec-server-chain.der
  ec-server.sec1.der ec-server.pk8.pem ec-server.pk8.der
  ec-server.enc.pem ec-server.enc.der
  ec-server.pub.pem ec-server.pub.der
  ec-client.crt ec-client.key ec-client-chain.pem
  ec-client.pub.pem ec-client.pub.der
  ec-server-p384.crt ec-server-p384.key ec-server-p384-chain.pem
  rpk-server.key rpk-server.pub.pem rpk-server.pub.der
  rpk-client.key rpk-client.pub.pem rpk-client.pub.der
  rpk-server-selfsigned.crt
  rsa-root.crt rsa-root.key
  rsa-int1.crt rsa-int1.key
  rsa-int2.crt rsa-int2.key
  rsa-server.crt rsa-server.key rsa-server.pk1.der rsa-server.pk8.pem
  rsa-server-chain.pem
  rsa-client.crt rsa-client.key rsa-client-chain.pem
  ca-all.pem cadir
  expired.crt expired.key expired-chain.pem
  notyet.crt notyet.key notyet-chain.pem
  wronghost.crt wronghost.key wronghost-chain.pem
  cn-only.crt cn-only.key cn-only-chain.pem
  unknown-root.crt unknown-root.key
  unknown-server.crt unknown-server.key unknown-chain.pem
  selfsigned.crt selfsigned.key
  notca-int.crt notca-int.key notca-leaf.crt notca-leaf.key notca-chain.pem
  pathlen-int2.crt pathlen-int2.key pathlen-leaf.crt pathlen-leaf.key
  pathlen-chain.pem
  deep-int1.crt deep-int1.key deep-int2.crt deep-int2.key
  deep-int3.crt deep-int3.key deep-int4.crt deep-int4.key
  deep-int5.crt deep-int5.key deep-leaf.crt deep-leaf.key deep-chain.pem
  badsig.crt badsig-chain.pem
  rsa-1024.crt rsa-1024.key
  ed25519.crt ed25519.key
  garbage.pem notpem.txt truncated.der
)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/petrel-pki.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
OUT=$WORK/out    # staging area: becomes the contents of $HERE
CA=$WORK/ca      # openssl ca database, CSRs, config
mkdir -p "$OUT" "$CA/newcerts"
: >"$CA/index.txt"

die() { echo "make_pki.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- config

cat >"$CA/openssl.cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = unused

[ ca ]
default_ca = petrel_ca

[ petrel_ca ]
dir            = $CA
database       = \$dir/index.txt
new_certs_dir  = \$dir/newcerts
serial         = \$dir/serial
rand_serial    = yes
unique_subject = no
default_md     = sha256
policy         = policy_any
preserve       = yes
email_in_dn    = no
copy_extensions = none

[ policy_any ]
organizationName = optional
commonName       = optional
EOF

cat >"$CA/ext.cnf" <<'EOF'
# --- CAs
[ root_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ int_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ int_ca_pathlen0 ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ int_ca_pathlen1 ]
basicConstraints       = critical, CA:TRUE, pathlen:1
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# An "intermediate" whose only defect is the CA flag.
[ notca_int ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# --- leaves
[ ec_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = @san_server
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ rsa_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = @san_server
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ client ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectAltName         = DNS:client.petrel.test
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# localhost-only server: the negative fixtures and self-signed leaves.
[ local_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ local_server_rsa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ wrong_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:wrong.example, IP:10.9.9.9
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ nosan_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ san_server ]
DNS.1 = localhost
DNS.2 = server.petrel.test
IP.1  = 127.0.0.1
IP.2  = ::1
EOF

# ---------------------------------------------------------------- helpers

ossl() { "$OPENSSL" "$@"; }

# keygen_ec NAME CURVE: SEC1 PEM ("BEGIN EC PRIVATE KEY"), named curve.
keygen_ec() {
  ossl ecparam -name "$2" -param_enc named_curve -genkey -noout \
    -out "$OUT/$1.key"
}

# keygen_rsa NAME BITS: PKCS#1 PEM ("BEGIN RSA PRIVATE KEY").
keygen_rsa() {
  ossl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" \
    -out "$CA/$1.pk8.pem" 2>/dev/null
  ossl pkey -in "$CA/$1.pk8.pem" -traditional -out "$OUT/$1.key"
}

# keygen_ed25519 NAME: PKCS#8 PEM (Ed25519 has no other private key form).
keygen_ed25519() {
  ossl genpkey -algorithm ED25519 -out "$OUT/$1.key"
}

# issue NAME ISSUER SUBJECT EXTSECTION [START END]
#   Signs $OUT/NAME.key's public key with ISSUER (a NAME already in $OUT, or
#   "self" for a self-signed certificate) and writes $OUT/NAME.crt.
#   With KEY=OTHER in the environment, certifies $OUT/OTHER.key instead.
issue() {
  local name=$1 issuer=$2 subj=$3 ext=$4 key=$OUT/${KEY:-$1}.key
  local start=${5:-$GOOD_START} end=${6:-$GOOD_END}
  local md=sha256 signer
  local -a who

  ossl req -new -config "$CA/openssl.cnf" -key "$key" \
    -subj "$subj" -out "$CA/$name.csr"

  if [[ $issuer == self ]]; then
    who=(-selfsign -keyfile "$key")
    signer=$key
  else
    who=(-cert "$OUT/$issuer.crt" -keyfile "$OUT/$issuer.key")
    signer=$OUT/$issuer.key
  fi
  # Ed25519 signs without a separate digest.
  if ossl pkey -in "$signer" -noout -text 2>/dev/null | grep -q '^ED25519'; then
    md=null
  fi

  ossl ca -config "$CA/openssl.cnf" -batch -notext -md "$md" "${who[@]}" \
    -in "$CA/$name.csr" -out "$OUT/$name.crt" \
    -extfile "$CA/ext.cnf" -extensions "$ext" \
    -startdate "$start" -enddate "$end" 2>"$CA/$name.ca.log" ||
    { cat "$CA/$name.ca.log" >&2; die "openssl ca failed for $name"; }
}

# cat_files OUTFILE IN...: concatenation of files in $OUT.
cat_files() {
  local dst=$1; shift
  local f
  : >"$OUT/$dst"
  for f in "$@"; do cat "$OUT/$f" >>"$OUT/$dst"; done
}

to_der() { ossl x509 -in "$OUT/$1" -outform DER -out "$OUT/$2"; }

pubkeys() {  # pubkeys NAME: NAME.pub.pem and NAME.pub.der from NAME.key
  ossl pkey -in "$OUT/$1.key" -pubout -out "$OUT/$1.pub.pem"
  ossl pkey -in "$OUT/$1.key" -pubout -outform DER -out "$OUT/$1.pub.der"
}

# ---------------------------------------------------------------- ECDSA

O=/O=petrel-test

keygen_ec ec-root prime256v1
issue ec-root self "$O/CN=petrel test EC root" root_ca

keygen_ec ec-int prime256v1
issue ec-int ec-root "$O/CN=petrel test EC intermediate" int_ca_pathlen0

keygen_ec ec-server prime256v1
issue ec-server ec-int "$O/CN=localhost" ec_server
cat_files ec-server-chain.pem ec-server.crt ec-int.crt

keygen_ec ec-client prime256v1
issue ec-client ec-int "$O/CN=petrel test client" client
cat_files ec-client-chain.pem ec-client.crt ec-int.crt

keygen_ec ec-server-p384 secp384r1
issue ec-server-p384 ec-int "$O/CN=localhost" ec_server
cat_files ec-server-p384-chain.pem ec-server-p384.crt ec-int.crt

# Encodings of ec-server's key, certificate and chain.
ossl ec -in "$OUT/ec-server.key" -outform DER -out "$OUT/ec-server.sec1.der" \
  2>/dev/null
ossl pkcs8 -topk8 -nocrypt -in "$OUT/ec-server.key" -out "$OUT/ec-server.pk8.pem"
ossl pkcs8 -topk8 -nocrypt -in "$OUT/ec-server.key" -outform DER \
  -out "$OUT/ec-server.pk8.der"
ossl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 \
  -passout "pass:$PASSWORD" -in "$OUT/ec-server.key" -out "$OUT/ec-server.enc.pem"
ossl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 \
  -passout "pass:$PASSWORD" -in "$OUT/ec-server.key" -outform DER \
  -out "$OUT/ec-server.enc.der"
to_der ec-server.crt ec-server.der
to_der ec-int.crt ec-int.der
cat_files ec-server-chain.der ec-server.der ec-int.der
pubkeys ec-server
pubkeys ec-client

# Raw public keys (RFC 7250): key pairs with no certificate.
keygen_ec rpk-server prime256v1
pubkeys rpk-server
keygen_ec rpk-client prime256v1
pubkeys rpk-client
# Some peers' RPK modes only load a certificate file: a self-signed
# certificate over rpk-server.key.
KEY=rpk-server issue rpk-server-selfsigned self "$O/CN=localhost" local_server

# ---------------------------------------------------------------- RSA

keygen_rsa rsa-root 2048
issue rsa-root self "$O/CN=petrel test RSA root" root_ca

keygen_rsa rsa-int1 2048
issue rsa-int1 rsa-root "$O/CN=petrel test RSA intermediate 1" int_ca_pathlen1

keygen_rsa rsa-int2 2048
issue rsa-int2 rsa-int1 "$O/CN=petrel test RSA intermediate 2" int_ca_pathlen0

keygen_rsa rsa-server 2048
issue rsa-server rsa-int2 "$O/CN=localhost" rsa_server
cat_files rsa-server-chain.pem rsa-server.crt rsa-int2.crt rsa-int1.crt
ossl rsa -in "$OUT/rsa-server.key" -traditional -outform DER \
  -out "$OUT/rsa-server.pk1.der" 2>/dev/null
ossl pkcs8 -topk8 -nocrypt -in "$OUT/rsa-server.key" -out "$OUT/rsa-server.pk8.pem"

keygen_rsa rsa-client 2048
issue rsa-client rsa-int2 "$O/CN=petrel test RSA client" client
cat_files rsa-client-chain.pem rsa-client.crt rsa-int2.crt rsa-int1.crt

# ---------------------------------------------------------------- trust

cat_files ca-all.pem ec-root.crt rsa-root.crt
mkdir "$OUT/cadir"
cp "$OUT/ec-root.crt" "$OUT/cadir/ec-root.pem"
cp "$OUT/rsa-root.crt" "$OUT/cadir/rsa-root.pem"
ossl rehash "$OUT/cadir"

# ---------------------------------------------------------------- negative

keygen_ec expired prime256v1
issue expired ec-int "$O/CN=localhost" local_server \
  20200101000000Z 20210101000000Z
cat_files expired-chain.pem expired.crt ec-int.crt

keygen_ec notyet prime256v1
issue notyet ec-int "$O/CN=localhost" local_server \
  20900101000000Z 21000101000000Z
cat_files notyet-chain.pem notyet.crt ec-int.crt

keygen_ec wronghost prime256v1
issue wronghost ec-int "$O/CN=wrong.example" wrong_server
cat_files wronghost-chain.pem wronghost.crt ec-int.crt

keygen_ec cn-only prime256v1
issue cn-only ec-int "$O/CN=localhost" nosan_server
cat_files cn-only-chain.pem cn-only.crt ec-int.crt

keygen_ec unknown-root prime256v1
issue unknown-root self "$O/CN=petrel test unknown root" root_ca
keygen_ec unknown-server prime256v1
issue unknown-server unknown-root "$O/CN=localhost" local_server
cat_files unknown-chain.pem unknown-server.crt

keygen_ec selfsigned prime256v1
issue selfsigned self "$O/CN=localhost" local_server

keygen_ec notca-int prime256v1
issue notca-int ec-root "$O/CN=petrel test not-a-CA intermediate" notca_int
keygen_ec notca-leaf prime256v1
issue notca-leaf notca-int "$O/CN=localhost" local_server
cat_files notca-chain.pem notca-leaf.crt notca-int.crt

keygen_ec pathlen-int2 prime256v1
issue pathlen-int2 ec-int "$O/CN=petrel test pathlen-violating intermediate" \
  int_ca
keygen_ec pathlen-leaf prime256v1
issue pathlen-leaf pathlen-int2 "$O/CN=localhost" local_server
cat_files pathlen-chain.pem pathlen-leaf.crt pathlen-int2.crt ec-int.crt

prev=ec-root
for i in 1 2 3 4 5; do
  keygen_ec "deep-int$i" prime256v1
  issue "deep-int$i" "$prev" "$O/CN=petrel test deep intermediate $i" int_ca
  prev=deep-int$i
done
keygen_ec deep-leaf prime256v1
issue deep-leaf deep-int5 "$O/CN=localhost" local_server
cat_files deep-chain.pem deep-leaf.crt \
  deep-int5.crt deep-int4.crt deep-int3.crt deep-int2.crt deep-int1.crt

# badsig: ec-server.der with its last byte changed. The last byte is the
# low byte of the ECDSA "s" INTEGER inside the signature BIT STRING, so the
# certificate still parses and only the signature check fails.
der=$OUT/ec-server.der
len=$(wc -c <"$der")
last=$(tail -c 1 "$der" | od -An -tu1 | tr -d ' ')
head -c $((len - 1)) "$der" >"$CA/badsig.der"
printf '%b' "\\0$(printf '%03o' $((last ^ 0x01)))" >>"$CA/badsig.der"
[[ $(cmp -l "$der" "$CA/badsig.der" | wc -l) == 1 ]] ||
  die "badsig: expected exactly one changed byte"
ossl x509 -inform DER -in "$CA/badsig.der" -out "$OUT/badsig.crt"
cat_files badsig-chain.pem badsig.crt ec-int.crt

keygen_rsa rsa-1024 1024
issue rsa-1024 self "$O/CN=localhost" local_server_rsa

keygen_ed25519 ed25519
issue ed25519 self "$O/CN=localhost" local_server

# garbage.pem: a CERTIFICATE block around random bytes. The first byte is
# forced to 0xff so the payload can never start like a DER SEQUENCE (0x30).
{ printf '\377'; ossl rand 255; } >"$CA/garbage.bin"
{
  echo '-----BEGIN CERTIFICATE-----'
  ossl base64 -e -in "$CA/garbage.bin"
  echo '-----END CERTIFICATE-----'
} >"$OUT/garbage.pem"

echo 'this is not a certificate' >"$OUT/notpem.txt"

head -c $(($(wc -c <"$OUT/ec-server.der") - 20)) "$OUT/ec-server.der" \
  >"$OUT/truncated.der"

# ---------------------------------------------------------------- checks

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }
indent() {
  local line
  while IFS= read -r line; do printf '      %s\n' "$line"; done <<<"$1"
}

# expect_ok DESC VERIFY-ARGS...
expect_ok() {
  local desc=$1 out; shift
  if out=$(cd "$OUT" && ossl verify "$@" 2>&1); then
    pass "$desc"
  else
    fail "$desc should verify"; indent "$out"
  fi
}

# expect_err DESC CODE VERIFY-ARGS...: must fail with X509_V_ERR CODE.
expect_err() {
  local desc=$1 code=$2 out; shift 2
  if out=$(cd "$OUT" && ossl verify "$@" 2>&1); then
    fail "$desc verified but must not"; indent "$out"
  elif grep -q "^error $code at " <<<"$out"; then
    pass "$desc: $(grep -m1 "^error $code at " <<<"$out" | sed 's/.*lookup: //')"
  else
    fail "$desc failed, but not with error $code"
    indent "$out"
  fi
}

# expect_header FILE TEXT: the first line of FILE is exactly TEXT.
expect_header() {
  if [[ $(head -n 1 "$OUT/$1") == "$2" ]]; then
    pass "$1 is $2"
  else
    fail "$1 does not start with $2"
  fi
}

# expect_same_pub KEYFILE CERTFILE (either may be a .pub file).
pub_of() {
  case $1 in
    *.crt|*.pem) if grep -q 'BEGIN CERTIFICATE' "$OUT/$1"; then
                   ossl x509 -in "$OUT/$1" -noout -pubkey
                   return
                 fi ;;
  esac
  case $1 in
    *.pub.pem) ossl pkey -pubin -in "$OUT/$1" -pubout ;;
    *.pub.der) ossl pkey -pubin -inform DER -in "$OUT/$1" -pubout ;;
    *.der)     ossl pkey -inform DER -in "$OUT/$1" -pubout ;;
    *)         ossl pkey -in "$OUT/$1" -pubout -passin "pass:$PASSWORD" ;;
  esac
}
expect_same_pub() {
  if [[ $(pub_of "$1") == "$(pub_of "$2")" ]]; then
    pass "$1 matches $2"
  else
    fail "$1 and $2 hold different public keys"
  fi
}

echo "== openssl verify self-check"
EC=(-CAfile ec-root.crt)
RSA=(-CAfile rsa-root.crt)

expect_ok "ec-server (-untrusted ec-int)" \
  "${EC[@]}" -untrusted ec-int.crt -purpose sslserver ec-server.crt
expect_ok "ec-server-chain.pem" \
  "${EC[@]}" -untrusted ec-server-chain.pem ec-server-chain.pem
expect_ok "ec-server for localhost" "${EC[@]}" -untrusted ec-int.crt \
  -verify_hostname localhost ec-server.crt
expect_ok "ec-server for server.petrel.test" "${EC[@]}" -untrusted ec-int.crt \
  -verify_hostname server.petrel.test ec-server.crt
expect_ok "ec-server for 127.0.0.1" "${EC[@]}" -untrusted ec-int.crt \
  -verify_ip 127.0.0.1 ec-server.crt
expect_ok "ec-server for ::1" "${EC[@]}" -untrusted ec-int.crt \
  -verify_ip ::1 ec-server.crt
expect_ok "ec-client-chain.pem (sslclient)" "${EC[@]}" \
  -untrusted ec-client-chain.pem -purpose sslclient ec-client-chain.pem
expect_ok "ec-server-p384-chain.pem" "${EC[@]}" \
  -untrusted ec-server-p384-chain.pem -verify_hostname localhost \
  ec-server-p384-chain.pem
expect_ok "rsa-server-chain.pem (3 certs)" "${RSA[@]}" \
  -untrusted rsa-server-chain.pem -purpose sslserver \
  -verify_hostname localhost rsa-server-chain.pem
expect_ok "rsa-client-chain.pem (sslclient)" "${RSA[@]}" \
  -untrusted rsa-client-chain.pem -purpose sslclient rsa-client-chain.pem
expect_ok "ec-server-chain.pem against ca-all.pem" -CAfile ca-all.pem \
  -untrusted ec-server-chain.pem ec-server-chain.pem
expect_ok "rsa-server-chain.pem against ca-all.pem" -CAfile ca-all.pem \
  -untrusted rsa-server-chain.pem rsa-server-chain.pem
expect_ok "ec-server-chain.pem against cadir/" -CApath cadir \
  -untrusted ec-server-chain.pem ec-server-chain.pem
expect_ok "rsa-server-chain.pem against cadir/" -CApath cadir \
  -untrusted rsa-server-chain.pem rsa-server-chain.pem
expect_ok "deep-chain.pem, default depth" "${EC[@]}" \
  -untrusted deep-chain.pem deep-chain.pem
expect_ok "rpk-server-selfsigned.crt as its own anchor" \
  -CAfile rpk-server-selfsigned.crt -verify_hostname localhost \
  rpk-server-selfsigned.crt
expect_ok "cn-only chain (no hostname check)" "${EC[@]}" \
  -untrusted cn-only-chain.pem cn-only-chain.pem
expect_ok "wronghost chain (no hostname check)" "${EC[@]}" \
  -untrusted wronghost-chain.pem wronghost-chain.pem

# X509_V_ERR_* codes: 7 CERT_SIGNATURE_FAILURE, 9 CERT_NOT_YET_VALID,
# 10 CERT_HAS_EXPIRED, 18 DEPTH_ZERO_SELF_SIGNED_CERT,
# 20 UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 22 CERT_CHAIN_TOO_LONG,
# 25 PATH_LENGTH_EXCEEDED, 62 HOSTNAME_MISMATCH, 64 IP_ADDRESS_MISMATCH,
# 79 INVALID_CA (OpenSSL 3.0 numbering; 1.1.1 used 24).
expect_err "expired" 10 "${EC[@]}" -untrusted expired-chain.pem expired.crt
expect_err "notyet" 9 "${EC[@]}" -untrusted notyet-chain.pem notyet.crt
expect_err "unknown-chain vs ec-root" 20 "${EC[@]}" \
  -untrusted unknown-chain.pem unknown-chain.pem
expect_err "unknown-chain vs ca-all.pem" 20 -CAfile ca-all.pem \
  -untrusted unknown-chain.pem unknown-chain.pem
expect_err "selfsigned" 18 -CAfile ca-all.pem selfsigned.crt
expect_err "notca" 79 "${EC[@]}" -untrusted notca-chain.pem notca-chain.pem
expect_err "pathlen" 25 "${EC[@]}" -untrusted pathlen-chain.pem \
  pathlen-chain.pem
expect_err "badsig" 7 "${EC[@]}" -untrusted badsig-chain.pem badsig.crt
expect_err "deep-chain.pem, -verify_depth 3" 22 "${EC[@]}" -verify_depth 3 \
  -untrusted deep-chain.pem deep-chain.pem
expect_err "wronghost for localhost" 62 "${EC[@]}" \
  -untrusted wronghost-chain.pem -verify_hostname localhost wronghost.crt
expect_err "wronghost for 127.0.0.1" 64 "${EC[@]}" \
  -untrusted wronghost-chain.pem -verify_ip 127.0.0.1 wronghost.crt
expect_err "ec-server for wrong.example" 62 "${EC[@]}" -untrusted ec-int.crt \
  -verify_hostname wrong.example ec-server.crt
expect_err "ec-server-chain.pem against rsa-root" 20 "${RSA[@]}" \
  -untrusted ec-server-chain.pem ec-server-chain.pem

echo "== chain contents"
expect_count() {  # expect_count FILE N: FILE holds N PEM certificates
  local n
  n=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$OUT/$1" || true)
  if [[ $n == "$2" ]]; then pass "$1 holds $2 certificate(s)"
  else fail "$1 holds $n certificates, want $2"; fi
}
expect_count rsa-server-chain.pem 3
expect_count rsa-client-chain.pem 3
expect_count deep-chain.pem 6
expect_count pathlen-chain.pem 3
expect_count unknown-chain.pem 1
expect_count ca-all.pem 2
if cmp -s "$OUT/ec-server-chain.der" \
     <(cat "$OUT/ec-server.der" "$OUT/ec-int.der"); then
  pass "ec-server-chain.der is ec-server.der + ec-int.der"
else
  fail "ec-server-chain.der is not ec-server.der + ec-int.der"
fi
links=0
for f in "$OUT"/cadir/*.[0-9]; do
  [[ -L $f && ${f##*/} =~ ^[0-9a-f]{8}\.[0-9]$ ]] && links=$((links + 1))
done
if ((links == 2)); then
  pass "cadir/ has 2 hash links"
else
  fail "cadir/ does not have exactly 2 hash links"
fi

echo "== key encodings"
expect_header ec-server.key '-----BEGIN EC PRIVATE KEY-----'
expect_header ec-server.pk8.pem '-----BEGIN PRIVATE KEY-----'
expect_header ec-server.enc.pem '-----BEGIN ENCRYPTED PRIVATE KEY-----'
expect_header ec-server.pub.pem '-----BEGIN PUBLIC KEY-----'
expect_header rsa-server.key '-----BEGIN RSA PRIVATE KEY-----'
expect_header rsa-server.pk8.pem '-----BEGIN PRIVATE KEY-----'
expect_header ed25519.key '-----BEGIN PRIVATE KEY-----'
# Decrypt and re-encode as unencrypted PKCS#8 (plain `pkcs8` or `pkey`
# would write SEC1).
if ossl pkcs8 -topk8 -nocrypt -inform DER -in "$OUT/ec-server.enc.der" \
     -passin "pass:$PASSWORD" -outform DER 2>/dev/null |
   cmp -s - "$OUT/ec-server.pk8.der"; then
  pass "ec-server.enc.der decrypts to ec-server.pk8.der"
else
  fail "ec-server.enc.der does not decrypt to ec-server.pk8.der"
fi
if ossl pkcs8 -topk8 -nocrypt -in "$OUT/ec-server.enc.pem" \
     -passin "pass:$PASSWORD" \
     -outform DER 2>/dev/null | cmp -s - "$OUT/ec-server.pk8.der"; then
  pass "ec-server.enc.pem decrypts to ec-server.pk8.der"
else
  fail "ec-server.enc.pem does not decrypt to ec-server.pk8.der"
fi
if ossl asn1parse -inform DER -in "$OUT/ec-server.enc.der" 2>/dev/null |
   grep -q 'aes-256-cbc'; then
  pass "ec-server.enc.der uses aes-256-cbc"
else
  fail "ec-server.enc.der is not aes-256-cbc"
fi
if ossl rsa -in "$OUT/rsa-server.pk1.der" -inform DER -noout 2>/dev/null &&
   ! ossl asn1parse -inform DER -in "$OUT/rsa-server.pk1.der" 2>/dev/null |
     grep -q rsaEncryption; then
  pass "rsa-server.pk1.der is PKCS#1 (no AlgorithmIdentifier)"
else
  fail "rsa-server.pk1.der is not PKCS#1"
fi
for pair in \
  "ec-server.key ec-server.crt" "ec-server.sec1.der ec-server.crt" \
  "ec-server.pk8.pem ec-server.crt" "ec-server.pk8.der ec-server.crt" \
  "ec-server.enc.pem ec-server.crt" "ec-server.pub.pem ec-server.crt" \
  "ec-server.pub.der ec-server.crt" "ec-client.pub.pem ec-client.crt" \
  "ec-client.pub.der ec-client.key" "rpk-server.pub.pem rpk-server.key" \
  "rpk-server.pub.der rpk-server.key" "rpk-client.pub.pem rpk-client.key" \
  "rpk-client.pub.der rpk-client.key" \
  "rpk-server-selfsigned.crt rpk-server.key" \
  "rsa-server.pk1.der rsa-server.crt" "rsa-server.pk8.pem rsa-server.crt" \
  "badsig.crt ec-server.key"; do
  # shellcheck disable=SC2086
  expect_same_pub $pair
done
for leaf in ec-root ec-int ec-server ec-client ec-server-p384 rsa-root \
  rsa-int1 rsa-int2 rsa-server rsa-client expired notyet wronghost cn-only \
  unknown-root unknown-server selfsigned notca-int notca-leaf pathlen-int2 \
  pathlen-leaf deep-int1 deep-int2 deep-int3 deep-int4 deep-int5 deep-leaf \
  rsa-1024 ed25519; do
  [[ $(pub_of "$leaf.key") == "$(pub_of "$leaf.crt")" ]] ||
    fail "$leaf.key does not match $leaf.crt"
done
pass "every NAME.key matches NAME.crt"

echo "== broken files"
if ossl x509 -in "$OUT/garbage.pem" -noout 2>/dev/null; then
  fail "garbage.pem parses as a certificate"
else
  pass "garbage.pem does not parse"
fi
if ossl x509 -in "$OUT/notpem.txt" -noout 2>/dev/null; then
  fail "notpem.txt parses as a certificate"
else
  pass "notpem.txt does not parse"
fi
if ossl x509 -inform DER -in "$OUT/truncated.der" -noout 2>/dev/null; then
  fail "truncated.der parses as a certificate"
else
  pass "truncated.der does not parse"
fi
bits=$(ossl x509 -in "$OUT/rsa-1024.crt" -noout -text |
  sed -n 's/.*Public-Key: (\([0-9]*\) bit).*/\1/p')
if [[ $bits == 1024 ]]; then
  pass "rsa-1024.crt is RSA-1024"
else
  fail "rsa-1024.crt is $bits bits"
fi
if ossl x509 -in "$OUT/ed25519.crt" -noout -text |
   grep -q 'Signature Algorithm: ED25519'; then
  pass "ed25519.crt is Ed25519"
else
  fail "ed25519.crt is not Ed25519"
fi

for f in "${OUTPUTS[@]}"; do
  [[ -e $OUT/$f ]] || fail "missing output $f"
done
for f in "$OUT"/* ; do
  b=${f##*/}
  printf '%s\n' "${OUTPUTS[@]}" | grep -qxF -- "$b" ||
    fail "unlisted output $b"
done

if ((failures > 0)); then
  die "$failures check(s) failed; $HERE left unchanged"
fi

# ---------------------------------------------------------------- install

for f in "${OUTPUTS[@]}"; do
  rm -rf -- "${HERE:?}/$f"
done
for f in "${OUTPUTS[@]}"; do
  cp -R -P -- "$OUT/$f" "$HERE/$f"
done
echo "== wrote ${#OUTPUTS[@]} fixtures to $HERE"
