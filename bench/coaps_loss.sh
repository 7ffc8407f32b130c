#!/usr/bin/env bash
# CoAPs under loss: a block-wise GET of a 64 KiB body through the same lossy
# UDP proxy (petrel proxy) with the same seeds, for five client/server pairs
# side by side: libcoap's coap-client-openssl against petrel's coaps-server
# and against libcoap's own coap-server-openssl, petrel's coaps-client with
# the RFC 7252 transmission parameters and with tuned ones, and coaps-client
# against coap-server-openssl. A benchmark, not a test: it never fails on
# timing.
#
# usage: bench/coaps_loss.sh [--runs N] [--losses "0 10 20 30"] [--jobs J]
#                            [--out DIR] [--cap SECONDS] [--pairs "1 2 3 4 5"]
#                            [--tuned "MS N"] [--delay D] [--bin DIR] [--logs DIR]
#                            [--quick]
#   --runs N      seeds 1..N for every pair and loss rate (default 20)
#   --losses L    loss rates in percent, each direction (default "0 10 20 30")
#   --jobs J      runs at the same time (default 16; runs are mostly waiting)
#   --out DIR     where coaps-loss.md and coaps-loss.csv go (default docs/bench)
#   --cap S       a run that has not completed after S seconds fails (default 300)
#   --pairs P     which pairs (default all five; see bench/README.md)
#   --tuned "MS N"  pair 4's --ack-timeout and --max-retransmit (default "1000 10";
#                 libcoap 4.3.1 takes no ACK_TIMEOUT below 1000 ms)
#   --delay D     one-way delay for the proxy (default none), e.g. 25ms
#   --bin DIR     use the petrel build in DIR (tools/petrel, examples/coap/)
#                 instead of building it into build-bench/
#   --logs DIR    keep every client's debug log (-v 7) in DIR
#   --quick       5 runs, losses "0 20", cap 150 s, to try it out
#
# Writes DIR/coaps-loss.csv (one line per run) and DIR/coaps-loss.md
# (tables). Installs what is missing (libcoap3-bin, libcoap3-dev, the build
# tools) with apt-get, using sudo when not root, and builds petrel (Release)
# into build-bench/ unless --bin is given. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
command_line="bench/coaps_loss.sh${*:+ $*}"

runs=20
losses="0 10 20 30"
jobs=16
out=docs/bench
cap=300
pairs="1 2 3 4 5"
tuned="1000 10"
delay=
bindir=
logs=
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --losses) losses=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --cap) cap=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --tuned) tuned=$2; shift 2 ;;
    --delay) delay=$2; shift 2 ;;
    --bin) bindir=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    --quick) runs=5; losses="0 20"; cap=150; shift ;;
    -h | --help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "coaps_loss.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$runs$jobs" in *[!0-9]*) echo "--runs and --jobs take numbers" >&2; exit 2 ;; esac
read -r tuned_ack tuned_retx <<<"$tuned"
case "$tuned_ack$tuned_retx" in *[!0-9]* | "") echo "--tuned takes \"MS N\"" >&2; exit 2 ;; esac

work=$(mktemp -d)
runner_pid=
cleanup() {
    # The runner kills its own servers, proxies and clients (by PID) when it
    # gets SIGTERM; it is the only process this script leaves running.
    if [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2>/dev/null; then
        kill -TERM "$runner_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$runner_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$runner_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- what is needed ----
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
command -v coap-client-openssl >/dev/null && command -v coap-server-openssl >/dev/null ||
    need+=(libcoap3-bin)
command -v python3 >/dev/null || need+=(python3)
if [ -z "$bindir" ]; then
    have_pkg libcoap3-dev || need+=(libcoap3-dev)
    command -v cmake >/dev/null || need+=(cmake)
    command -v cc >/dev/null && command -v make >/dev/null || need+=(build-essential)
    command -v pkg-config >/dev/null || need+=(pkg-config)
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing: ${need[*]}"
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || {
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
    }
fi

# ---- petrel: the proxy and the CoAPs examples ----
# The commit the binaries are built from, taken now: others may commit while
# the benchmark runs. "+ changes" when the sources differ from it.
petrel_rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- . ':!bench' ':!docs' 2>/dev/null || true)
if [ -n "$bindir" ]; then
    bindir=$(cd "$bindir" && pwd)
    petrel_rev="$petrel_rev${dirty:+ + uncommitted changes in the work tree}, prebuilt in $bindir"
else
    echo "== building petrel (Release) in build-bench/"
    [ -z "$dirty" ] || petrel_rev="$petrel_rev + uncommitted changes in the work tree at build time ($(date -u +%H:%M) UTC)"
    built=0
    for attempt in 1 2 3 4 5; do
        if cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DPETREL_BUILD_TESTS=OFF \
            >"$work/build.log" 2>&1 &&
            cmake --build build-bench --target petrel_tool coaps-server coaps-client \
                -j"$(nproc)" >>"$work/build.log" 2>&1; then
            built=1
            break
        fi
        echo "   build failed (attempt $attempt), retrying in 15 s"
        sleep 15
    done
    if [ "$built" -ne 1 ]; then
        tail -n 30 "$work/build.log"
        echo "coaps_loss.sh: petrel does not build" >&2
        exit 1
    fi
    bindir="$root/build-bench"
fi

# ---- the runs ----
mkdir -p "$out"
csv="$out/coaps-loss.csv"
n_pairs=$(wc -w <<<"$pairs")
n_loss=$(wc -w <<<"$losses")
echo "== $((runs * n_loss * n_pairs)) GETs of 64 KiB: pairs {$pairs} x loss {$losses} % x seeds 1..$runs, $jobs at a time, cap $cap s"
start=$(date +%s)
extra=()
[ -n "$delay" ] && extra+=(--delay "$delay")
[ -n "$logs" ] && extra+=(--logs "$logs")
# TMPDIR: the runs' scratch directories live in $work, which the EXIT trap
# removes even when the runs are interrupted.
TMPDIR="$work" python3 bench/coaps_loss.py run --out "$work/coaps-loss.csv" --bin "$bindir" \
    --runs "$runs" --losses "$losses" --jobs "$jobs" --cap "$cap" --pairs "$pairs" \
    --tuned-ack-timeout "$tuned_ack" --tuned-max-retransmit "$tuned_retx" \
    --petrel-rev "$petrel_rev" ${extra[@]+"${extra[@]}"} &
runner_pid=$!
wait "$runner_pid"
runner_pid=
cp "$work/coaps-loss.csv" "$csv"

# ---- the report ----
python3 bench/coaps_loss.py report --csv "$csv" --meta "$work/coaps-loss.meta.json" \
    --out "$out/coaps-loss.md" --command "$command_line"
end=$(date +%s)
echo "== done in $(((end - start) / 60)) min $(((end - start) % 60)) s:"
echo "   $out/coaps-loss.md  $out/coaps-loss.csv"
