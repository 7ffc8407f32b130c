#!/usr/bin/env bash
# Installs the Debian packages petrel needs to build and test, if any are
# missing. Uses sudo when not run as root. Every peer the tests start is
# in this one list.
set -euo pipefail
packages=(
    build-essential cmake pkg-config   # toolchain
    libssl-dev                         # OpenSSL libcrypto >= 3.0, the crypto backend
    libcmocka-dev                      # unit tests
    clang clang-format libclang-rt-14-dev  # sanitizers, libFuzzer, formatting
    openssl gnutls-bin iproute2 python3    # interop peers; ss and python3 pick free ports
    nftables                               # kernel-level loss where sch_netem is missing
    valgrind                               # memcheck of the unit tests
    libcoap3-dev libcoap3-bin              # examples/coap (CoAPs) and its libcoap peers
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
