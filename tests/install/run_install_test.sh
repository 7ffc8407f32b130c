#!/usr/bin/env bash
# Installs petrel from a build tree into a scratch prefix, then builds and
# runs outside programs against it: with find_package(petrel) (the shared
# and the static library, and petrel::matrixssl for a program that
# includes "matrixsslApi.h") and with pkg-config (petrel and
# petrel-matrixssl).
# usage: run_install_test.sh BUILD_DIR CONSUMER_SOURCE_DIR C_COMPILER
set -euo pipefail
build=$1
consumer=$2
cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
test -f "$prefix/include/petrel/petrel.h"

echo "== find_package(petrel)"
cmake -S "$consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" >"$work/configure.log"
cmake --build "$work/cmake-build" >"$work/build.log"
"$work/cmake-build/consumer_shared"
"$work/cmake-build/consumer_static"
"$work/cmake-build/consumer_matrixssl"

echo "== pkg-config petrel"
pcdir=$(dirname "$(find "$prefix" -name petrel.pc -print -quit)")
flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs petrel)
echo "pkg-config --cflags --libs petrel: $flags"
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Werror "$consumer/consumer.c" -o "$work/consumer_pc" $flags
libdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir petrel)
LD_LIBRARY_PATH=$libdir "$work/consumer_pc"

echo "== pkg-config petrel-matrixssl"
flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs petrel-matrixssl)
echo "pkg-config --cflags --libs petrel-matrixssl: $flags"
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Werror "$consumer/consumer_matrixssl.c" -o "$work/consumer_mssl_pc" $flags
LD_LIBRARY_PATH=$libdir "$work/consumer_mssl_pc"
echo "install test: find_package (shared, static, matrixssl) and pkg-config (petrel," \
    "petrel-matrixssl) consumers ran"
