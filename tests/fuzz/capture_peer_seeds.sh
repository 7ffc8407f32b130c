#!/usr/bin/env bash
# Seeds for fuzz_server, fuzz_client and fuzz_record from real DTLS 1.2
# handshakes between petrel and OpenSSL / GnuTLS, recorded by
# `petrel proxy --dump` sitting between the two (no impairment).
#
# usage: tests/fuzz/capture_peer_seeds.sh PETREL_BINARY [CORPUS_DIR]
#        (CORPUS_DIR defaults to tests/fuzz/corpus next to this script)
#
# Builds nothing: PETREL_BINARY is the `petrel` tool (build/tools/petrel).
# Needs openssl, gnutls-cli, gnutls-serv, timeout and python3 (standard
# library only). Captures, each on 127.0.0.1 with free ports:
#
#   openssl s_client -> petrel server   c2s datagrams -> corpus/server/
#   gnutls-cli       -> petrel server   c2s datagrams -> corpus/server/
#   petrel client    -> openssl s_server  s2c datagrams -> corpus/client/
#   petrel client    -> gnutls-serv       s2c datagrams -> corpus/client/
#
# each with TLS_PSK_WITH_AES_128_CCM_8, with
# TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256, and with CCM_8 at a small
# MTU (openssl -mtu 256, gnutls --mtu 200, petrel --mtu 200, plus a long
# PSK identity hint from the peer servers so that their ServerKeyExchange
# is fragmented); s_client also once with its default cipher list at
# -mtu 256 (a ClientHello cut into several records). The PSK is the fuzz
# targets' own ("client" / 01..10, fuzz_common.h).
#
# Conversion (python3, below): the peer's datagrams of each capture become
# one input in the engine targets' framing (fuzz_common.h): the options
# byte that gives the target the capture's config (the suite, PMTU 200,
# the PSK hint, and for fuzz_server FUZZ_OPT_NO_GATE), then every datagram
# with delay_ms 10. The peers use their own randoms and keys, so in the
# targets these inputs reach ClientHello / ServerHello / key exchange
# parsing, key derivation and the first encrypted record, where the
# Finished fails to open. For fuzz_server the cookie in each ClientHello,
# made by the live petrel server, is replaced by the cookie the target's
# server makes (HMAC-SHA256 under the cookie secret that petrel_config_new
# draws from the targets' fixed RNG, for the peer id 127.0.0.1:5000; see
# dtls/cookie.c), so that the target gets past its cookie gate to the
# ServerHello flight and the client's key exchange; if that derivation
# ever goes stale the seeds still run, only shallower. Every datagram of
# both directions, less those that repeat an already kept record layout
# (the sequence of content type / epoch / handshake type per record),
# goes to corpus/record/ as it is.
#
# The new files replace the corpus's peer-* files only when every capture
# succeeded. Regenerating changes their bytes (the peers' randoms and keys
# are fresh each run); the server/ and client/ names stay the same, the
# record/ names (capture, arrival number, direction) shift only when a
# peer retransmitted.
set -u

SELF_DIR=$(cd "$(dirname "$0")" && pwd)
LIB=$SELF_DIR/../interop/lib.sh
PETREL_ARG=${1:-}
CORPUS=${2:-$SELF_DIR/corpus}
case $PETREL_ARG in /* | "") ;; *) PETREL_ARG=$PWD/$PETREL_ARG ;; esac
case $CORPUS in /*) ;; *) CORPUS=$PWD/$CORPUS ;; esac
if [ -z "$PETREL_ARG" ] || [ ! -x "$PETREL_ARG" ]; then
    echo "FAIL: '$PETREL_ARG' is not an executable (usage: $0 PETREL_BINARY [CORPUS_DIR])"
    exit 1
fi
if [ ! -d "$CORPUS/server" ] || [ ! -d "$CORPUS/client" ] || [ ! -d "$CORPUS/record" ]; then
    echo "FAIL: $CORPUS has no server/, client/ and record/ corpus directories"
    exit 1
fi

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/petrel-peer-seeds.XXXXXX") || exit 1
cd "$SCRATCH" || exit 1
# shellcheck source=tests/interop/lib.sh
. "$LIB"
interop_init capture "$PETREL_ARG"
# Keep the scratch directory (logs, raw dumps) only when something failed.
capture_cleanup() {
    local rc=$?
    trap - EXIT
    stop_all
    if [ "$rc" -eq 0 ]; then
        rm -rf "$SCRATCH"
    else
        echo "logs and raw captures kept in $WORK"
    fi
    exit "$rc"
}
trap capture_cleanup EXIT
require_peer openssl
require_peer gnutls-cli
require_peer gnutls-serv
require_peer timeout
require_peer python3

# The fuzz targets' PSK (fuzz_common.h): identity "client", key 01..10.
PSK_IDENTITY=client
PSK_HEX=0102030405060708090a0b0c0d0e0f10
PSK_FILE=$WORK/psk.txt
echo "$PSK_IDENTITY:$PSK_HEX" >"$PSK_FILE"
CAPTURES=$WORK/captures
mkdir -p "$CAPTURES"
# Manifest for the conversion: NAME TARGET OPTIONS_BYTE, one per line.
MANIFEST=$WORK/manifest.txt
: >"$MANIFEST"

gnutls_priority() { # KX CIPHER
    echo "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+$1:-CIPHER-ALL:+$2:-MAC-ALL:+AEAD"
}

# start_proxy NAME FORWARD_PORT: `petrel proxy --dump` in front of the
# server; sets PROXY_PORT.
start_proxy() {
    local name=$1 fwd=$2 log=$CASE_DIR/proxy.log portfile=$CASE_DIR/proxy.port
    spawn /dev/null "$log" "$PETREL" proxy --listen 127.0.0.1:0 --forward "127.0.0.1:$fwd" \
        --port-file "$portfile" --dump "$CAPTURES/$name"
    if ! wait_for_file "$portfile" "$INTEROP_WAIT"; then
        fail "$name" "petrel proxy did not start" "$log"
        return 1
    fi
    PROXY_PORT=$(cat "$portfile")
}

# Ends a case: stops its processes and records the capture for the conversion when it succeeded.
# usage: end_case NAME TARGET OPTIONS WHY LOG...
end_case() {
    local name=$1 target=$2 options=$3 why=$4
    shift 4
    stop_all
    if [ -n "$why" ]; then
        fail "$name" "$why" "$@"
    elif ! ls "$CAPTURES/$name"/*.bin >/dev/null 2>&1; then
        fail "$name" "the proxy dumped nothing" "$CASE_DIR/proxy.log"
    else
        pass "$name ($(find "$CAPTURES/$name" -name '*.bin' | wc -l) datagrams)"
        echo "$name $target $options" >>"$MANIFEST"
    fi
}

# openssl s_client -> proxy -> petrel server --echo.
# usage: openssl_to_petrel NAME OPTIONS OPENSSL_CIPHER|DEFAULT "PETREL_EXTRA" "S_CLIENT_EXTRA"
openssl_to_petrel() {
    local name=$1 options=$2 cipher=$3 petrel_extra=$4 peer_extra=$5
    case_begin "$name" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_log=$CASE_DIR/s_client.log line="echo-$name"
    # shellcheck disable=SC2086
    start_petrel_server "$srv_log" --echo --once $petrel_extra ||
        { end_case "$name" server "$options" "petrel server did not start" "$srv_log"; return; }
    local srv=$LAST_PID
    start_proxy "$name" "$PEER_PORT" || { stop_all; return; }
    local cipher_args=(-cipher "$cipher")
    [ "$cipher" = DEFAULT ] && cipher_args=()
    make_fifo s_client
    # shellcheck disable=SC2086
    spawn "$FIFO_PATH" "$cli_log" openssl s_client -dtls1_2 -connect "127.0.0.1:$PROXY_PORT" \
        -psk "$PSK_HEX" -psk_identity "$PSK_IDENTITY" "${cipher_args[@]}" -quiet -no_ign_eof \
        $peer_extra
    local cli=$LAST_PID why=
    fifo_send s_client "$line"
    if ! wait_for_line "$cli_log" "^$line\$" "$INTEROP_WAIT" "$cli"; then
        why="s_client did not print the echo"
    else
        fifo_close s_client # EOF: close_notify
        wait_for_exit "$srv" "$INTEROP_WAIT" || why="petrel server did not see close_notify"
    fi
    end_case "$name" server "$options" "$why" "$srv_log" "$cli_log"
}

# gnutls-cli -> proxy -> petrel server --echo. gnutls-cli 3.7.9 crashes
# right after an ECDHE-PSK handshake (tests/interop/gnutls_dtls_psk.sh):
# then the handshake is what is captured.
# usage: gnutls_to_petrel NAME OPTIONS KX CIPHER "PETREL_EXTRA" "GNUTLS_CLI_EXTRA"
gnutls_to_petrel() {
    local name=$1 options=$2 kx=$3 cipher=$4 petrel_extra=$5 peer_extra=$6
    case_begin "$name" || return
    local srv_log=$CASE_DIR/petrel-server.log cli_log=$CASE_DIR/gnutls-cli.log line="echo-$name"
    # shellcheck disable=SC2086
    start_petrel_server "$srv_log" --echo --once $petrel_extra ||
        { end_case "$name" server "$options" "petrel server did not start" "$srv_log"; return; }
    local srv=$LAST_PID
    start_proxy "$name" "$PEER_PORT" || { stop_all; return; }
    make_fifo gnutls-cli
    # shellcheck disable=SC2086
    spawn "$FIFO_PATH" "$cli_log" gnutls-cli --udp -p "$PROXY_PORT" 127.0.0.1 \
        --pskusername "$PSK_IDENTITY" --pskkey "$PSK_HEX" \
        --priority "$(gnutls_priority "$kx" "$cipher")" $peer_extra
    local cli=$LAST_PID why=
    fifo_send gnutls-cli "$line"
    if wait_for_line "$cli_log" "^$line\$" "$INTEROP_WAIT" "$cli"; then
        fifo_close gnutls-cli # EOF: close_notify
        wait_for_exit "$srv" "$INTEROP_WAIT" || why="petrel server did not see close_notify"
    elif [ "$kx" != ECDHE-PSK ] ||
        ! wait_for_line "$srv_log" ': handshake complete: ' "$INTEROP_WAIT" "$srv"; then
        why="gnutls-cli did not print the echo"
    else
        echo "note: gnutls-cli ended after the handshake (its known ECDHE-PSK crash)"
    fi
    end_case "$name" server "$options" "$why" "$srv_log" "$cli_log"
}

# petrel client -> proxy -> openssl s_server (which does not echo: it logs
# the client's line and the script types the reply into its stdin).
# usage: petrel_to_openssl NAME OPTIONS SUITE OPENSSL_CIPHER "PETREL_EXTRA" "S_SERVER_EXTRA"
petrel_to_openssl() {
    local name=$1 options=$2 suite=$3 cipher=$4 petrel_extra=$5 peer_extra=$6
    case_begin "$name" || return
    local srv_log=$CASE_DIR/s_server.log cli_log=$CASE_DIR/petrel-client.log reply="pong-$name"
    make_fifo s_server
    # shellcheck disable=SC2086
    start_udp_server "$FIFO_PATH" "$srv_log" '^ACCEPT' 'unable to bind|Address already in use' \
        openssl s_server -dtls1_2 -accept 127.0.0.1:@PORT@ -nocert -psk "$PSK_HEX" \
        -cipher "$cipher" $peer_extra ||
        { end_case "$name" client "$options" "s_server did not start" "$srv_log"; return; }
    local srv=$LAST_PID
    start_proxy "$name" "$PEER_PORT" || { stop_all; return; }
    # shellcheck disable=SC2086
    spawn /dev/null "$cli_log" "$PETREL" client --dtls --connect "127.0.0.1:$PROXY_PORT" \
        --psk-identity "$PSK_IDENTITY" --psk "$PSK_HEX" --suites "$suite" \
        --send ping --expect "$reply" --timeout 10000 $petrel_extra
    local cli=$LAST_PID why=
    if ! wait_for_line "$srv_log" 'ping' "$INTEROP_WAIT" "$srv" "$cli"; then
        why="s_server never logged the client's ping"
    else
        fifo_send s_server "$reply"
        if ! wait_for_exit "$cli" "$INTEROP_WAIT" || [ "$EXIT_RC" -ne 0 ]; then
            why="petrel client did not get the reply"
        fi
    fi
    end_case "$name" client "$options" "$why" "$cli_log" "$srv_log"
}

# petrel client -> proxy -> gnutls-serv --echo.
# usage: petrel_to_gnutls NAME OPTIONS SUITE KX CIPHER "PETREL_EXTRA" "GNUTLS_SERV_EXTRA"
petrel_to_gnutls() {
    local name=$1 options=$2 suite=$3 kx=$4 cipher=$5 petrel_extra=$6 peer_extra=$7
    case_begin "$name" || return
    local srv_log=$CASE_DIR/gnutls-serv.log cli_log=$CASE_DIR/petrel-client.log line="ping-$name"
    # shellcheck disable=SC2086
    start_udp_server /dev/null "$srv_log" 'listening on IPv4 .* port @PORT@\.\.\.done' \
        'bind\(\) failed' \
        gnutls-serv --udp --echo -p @PORT@ --pskpasswd "$PSK_FILE" --disable-client-cert \
        --priority "$(gnutls_priority "$kx" "$cipher")" $peer_extra ||
        { end_case "$name" client "$options" "gnutls-serv did not start" "$srv_log"; return; }
    start_proxy "$name" "$PEER_PORT" || { stop_all; return; }
    # shellcheck disable=SC2086
    spawn /dev/null "$cli_log" "$PETREL" client --dtls --connect "127.0.0.1:$PROXY_PORT" \
        --psk-identity "$PSK_IDENTITY" --psk "$PSK_HEX" --suites "$suite" \
        --send "$line" --expect "$line" --timeout 10000 $petrel_extra
    local cli=$LAST_PID why=
    if ! wait_for_exit "$cli" 15 || [ "$EXIT_RC" -ne 0 ]; then
        why="petrel client did not get the echo"
    fi
    end_case "$name" client "$options" "$why" "$cli_log" "$srv_log"
}

# Options bytes (fuzz_common.h): bits 0-2 the suite (1 C0A8 CCM_8, 6 CCAC
# ECDHE-PSK-CHACHA20, 0 the default list), 0x08 PMTU 200, 0x10 the server's
# PSK hint, 0x20 fuzz_server without the cookie gate.
CCM8=TLS_PSK_WITH_AES_128_CCM_8
ECDHE=TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
server_hint=$(long_hint 128) # the longest petrel server takes
peer_hint=$(long_hint 250)

openssl_to_petrel s_client-psk-ccm8 0x21 PSK-AES128-CCM8 "--suites $CCM8" ""
openssl_to_petrel s_client-ecdhe-psk-chacha20 0x26 ECDHE-PSK-CHACHA20-POLY1305 "--suites $ECDHE" ""
openssl_to_petrel s_client-psk-ccm8-mtu256 0x39 PSK-AES128-CCM8 \
    "--suites $CCM8 --mtu 200 --psk-hint $server_hint" "-mtu 256"
openssl_to_petrel s_client-default-suites-mtu256 0x28 DEFAULT "--mtu 200" "-mtu 256"

gnutls_to_petrel gnutls-cli-psk-ccm8 0x21 PSK AES-128-CCM-8 "--suites $CCM8" ""
gnutls_to_petrel gnutls-cli-ecdhe-psk-chacha20 0x26 ECDHE-PSK CHACHA20-POLY1305 "--suites $ECDHE" ""
gnutls_to_petrel gnutls-cli-psk-ccm8-mtu200 0x39 PSK AES-128-CCM-8 \
    "--suites $CCM8 --mtu 200 --psk-hint $server_hint" "--mtu 200"

petrel_to_openssl s_server-psk-ccm8 0x01 "$CCM8" PSK-AES128-CCM8 "" ""
petrel_to_openssl s_server-ecdhe-psk-chacha20 0x06 "$ECDHE" ECDHE-PSK-CHACHA20-POLY1305 "" ""
petrel_to_openssl s_server-psk-ccm8-mtu256 0x09 "$CCM8" PSK-AES128-CCM8 "--mtu 200" \
    "-mtu 256 -psk_hint $peer_hint"

petrel_to_gnutls gnutls-serv-psk-ccm8 0x01 "$CCM8" PSK AES-128-CCM-8 "" ""
petrel_to_gnutls gnutls-serv-ecdhe-psk-chacha20 0x06 "$ECDHE" ECDHE-PSK CHACHA20-POLY1305 "" ""
petrel_to_gnutls gnutls-serv-psk-ccm8-mtu200 0x09 "$CCM8" PSK AES-128-CCM-8 "--mtu 200" \
    "--mtu 200 --pskhint $peer_hint"

stop_all
if [ "$INTEROP_FAILED" -ne 0 ]; then
    echo "$INTEROP_FAILED capture(s) failed: the corpus is left as it was"
    exit 1
fi

OUT=$WORK/out
mkdir -p "$OUT/server" "$OUT/client" "$OUT/record"
python3 - "$CAPTURES" "$MANIFEST" "$OUT" <<'EOF' || exit 1
import hashlib, hmac, os, struct, sys

captures, manifest, out = sys.argv[1:4]

# fuzz_common.h: FUZZ_RNG_SEED, fuzz_peer_id; fuzz_env_rng copies each
# splitmix64 output in host byte order (little-endian here).
RNG_SEED = 0x70657472656C2146
PEER_ID = bytes([127, 0, 0, 1, 0x13, 0x88])
DELAY_MS = 10
M64 = (1 << 64) - 1

def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)

def cookie_secret():
    # The first RNG draw of the targets: petrel_config_new's 32-byte
    # cookie secret.
    state, out_bytes = RNG_SEED, b""
    while len(out_bytes) < 32:
        state, v = splitmix64(state)
        out_bytes += struct.pack("<Q", v)
    return out_bytes[:32]

SECRET = cookie_secret()

def target_cookie(version, random, session_id):
    # dtls_cookie_make: HMAC-SHA256(secret, <peer> version random <session_id>)
    data = (bytes([len(PEER_ID)]) + PEER_ID + struct.pack(">H", version) + random +
            bytes([len(session_id)]) + session_id)
    return hmac.new(SECRET, data, hashlib.sha256).digest()

def records(dgram):
    """(offset, type, epoch, length) of each whole record."""
    pos, out_list = 0, []
    while len(dgram) - pos >= 13:
        ctype = dgram[pos]
        epoch = struct.unpack(">H", dgram[pos + 3:pos + 5])[0]
        length = struct.unpack(">H", dgram[pos + 11:pos + 13])[0]
        if pos + 13 + length > len(dgram):
            break
        out_list.append((pos, ctype, epoch, length))
        pos += 13 + length
    return out_list

def retarget_cookies(dgram):
    """The datagram with each 32-byte ClientHello cookie replaced by the
    one fuzz_server's own server makes for that ClientHello."""
    d = bytearray(dgram)
    for pos, ctype, epoch, length in records(dgram):
        if ctype != 22 or epoch != 0 or length < 12:
            continue
        hs = pos + 13
        msg_type, frag_off = d[hs], int.from_bytes(d[hs + 6:hs + 9], "big")
        frag_len = int.from_bytes(d[hs + 9:hs + 12], "big")
        if msg_type != 1 or frag_off != 0:
            continue
        body, end = hs + 12, hs + 12 + min(frag_len, length - 12)
        if end - body < 35:
            continue
        version = struct.unpack(">H", d[body:body + 2])[0]
        random = bytes(d[body + 2:body + 34])
        sid_len = d[body + 34]
        c = body + 35 + sid_len
        if c >= end or d[c] != 32 or c + 33 > end:
            continue
        d[c + 1:c + 33] = target_cookie(version, random, bytes(d[body + 35:body + 35 + sid_len]))
    return bytes(d)

def layout(dgram):
    """What fuzz_record sees of a datagram: per record its content type,
    epoch and (epoch-0 handshake) message type; a trailing partial record."""
    sig, end = [], 0
    for pos, ctype, epoch, length in records(dgram):
        hs = dgram[pos + 13] if ctype == 22 and epoch == 0 and length else None
        sig.append((ctype, epoch, hs))
        end = pos + 13 + length
    return tuple(sig), end < len(dgram)

seen_layouts = set()
counts = {"server": 0, "client": 0, "record": 0}
for line in open(manifest):
    name, target, options = line.split()
    files = sorted(os.listdir(os.path.join(captures, name)))
    # The peer's datagrams: the client's for fuzz_server, the server's for
    # fuzz_client.
    want = "c2s" if target == "server" else "s2c"
    seed = bytearray([int(options, 0)])
    for f in files:
        dgram = open(os.path.join(captures, name, f), "rb").read()
        direction = f.split("-")[1].split(".")[0]
        if direction == want:
            body = retarget_cookies(dgram) if target == "server" else dgram
            seed += struct.pack(">HH", DELAY_MS, len(body)) + body
        # Who sent it: openssl, gnutls or petrel (whose datagrams are
        # deduplicated across all captures).
        sender = "gnutls" if name.startswith("gnutls") else "openssl"
        if direction != want:
            sender = "petrel"
        key = (sender, layout(dgram))
        if key not in seen_layouts:
            seen_layouts.add(key)
            rname = "peer-%s-%s" % (name, f)
            open(os.path.join(out, "record", rname), "wb").write(dgram)
            counts["record"] += 1
    if len(seed) > 4096:
        sys.exit("seed %s/%s is %d bytes (over 4 KiB)" % (target, name, len(seed)))
    open(os.path.join(out, target, "peer-%s.bin" % name), "wb").write(bytes(seed))
    counts[target] += 1
for k in ("server", "client", "record"):
    print("%s: %d seeds" % (k, counts[k]))
EOF

for dir in server client record; do
    rm -f "$CORPUS/$dir"/peer-*.bin
    cp "$OUT/$dir"/peer-*.bin "$CORPUS/$dir/"
done
echo "peer seeds written to $CORPUS/{server,client,record}/peer-*.bin"
