#!/usr/bin/env bash
# DTLS 1.2 handshake completion time under loss: petrel, OpenSSL and
# GnuTLS through the same lossy UDP proxy (petrel proxy) with the same seeds,
# at several loss rates (both directions) with 25 ms one-way delay.
# A benchmark, not a test: it never fails on timing.
#
# usage: bench/handshake_loss.sh [--auth psk|cert] [--runs N] [--losses "0 10 30 50"]
#                                [--jobs J] [--out DIR] [--cap SECONDS] [--quick]
#   --auth A      psk: TLS_PSK_WITH_AES_128_CCM_8 (default); cert:
#                 TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 with tests/pki/ec-server-chain.pem,
#                 verified by every client against tests/pki/ca-all.pem
#   --runs N      seeds 1..N for every implementation and loss rate (default 40)
#   --losses L    loss rates in percent (default "0 10 30 50")
#   --jobs J      runs at the same time (default 16; runs are mostly waiting)
#   --out DIR     where the .md, .png and .csv go (default docs/bench for psk,
#                 docs/bench/cert for cert)
#   --cap S       a run that has not completed after S seconds fails (default 120)
#   --quick       10 runs instead of 40, to try it out
#
# Writes DIR/handshake-loss.csv (one line per run), DIR/handshake-loss.md
# (tables) and DIR/handshake-loss.png (completion-time CDFs). Installs what
# is missing (gnuplot-nox, openssl, gnutls-bin, the build tools) with
# apt-get, using sudo when not root, and builds petrel into build-bench/.
# See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
command_line="bench/handshake_loss.sh${*:+ $*}"

auth=psk
runs=40
losses="0 10 30 50"
jobs=16
out=
cap=120
while [ $# -gt 0 ]; do
    case "$1" in
    --auth) auth=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --losses) losses=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --cap) cap=$2; shift 2 ;;
    --quick) runs=10; shift ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "handshake_loss.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$runs$jobs" in *[!0-9]*) echo "--runs and --jobs take numbers" >&2; exit 2 ;; esac
case "$auth" in
psk)
    out=${out:-docs/bench}
    plot_title='DTLS 1.2 PSK handshake (TLS\_PSK\_WITH\_AES\_128\_CCM\_8)' ;;
cert)
    out=${out:-docs/bench/cert}
    plot_title='DTLS 1.2 certificate handshake (TLS\_ECDHE\_ECDSA\_WITH\_AES\_128\_CCM\_8, P-256 chain of 2)'
    for f in ec-server-chain.pem ec-server.crt ec-int.crt ec-server.key ca-all.pem; do
        [ -r "tests/pki/$f" ] || { echo "handshake_loss.sh: tests/pki/$f is missing" >&2; exit 1; }
    done ;;
*) echo "--auth takes psk or cert" >&2; exit 2 ;;
esac

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
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v openssl >/dev/null || need+=(openssl)
command -v gnutls-cli >/dev/null && command -v gnutls-serv >/dev/null || need+=(gnutls-bin)
command -v python3 >/dev/null || need+=(python3)
command -v cmake >/dev/null || need+=(cmake)
command -v cc >/dev/null && command -v make >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
have_pkg libssl-dev || need+=(libssl-dev)
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

# ---- petrel, built for speed (the tool only; the tests are not needed) ----
echo "== building petrel (Release) in build-bench/"
# The commit the binary is built from, taken now: others may commit while
# the benchmark runs. "+ changes" when the sources differ from it.
petrel_rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no -- . ':!bench' ':!docs' 2>/dev/null)" ]; then
    petrel_rev="$petrel_rev + uncommitted changes in the work tree at build time ($(date -u +%H:%M) UTC)"
fi
built=0
for attempt in 1 2 3 4 5; do
    if cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DPETREL_BUILD_TESTS=OFF \
        >"$work/build.log" 2>&1 &&
        cmake --build build-bench --target petrel_tool -j"$(nproc)" >>"$work/build.log" 2>&1; then
        built=1
        break
    fi
    echo "   build failed (attempt $attempt), retrying in 15 s"
    sleep 15
done
if [ "$built" -ne 1 ]; then
    tail -n 30 "$work/build.log"
    echo "handshake_loss.sh: petrel does not build" >&2
    exit 1
fi
export PETREL="$root/build-bench/tools/petrel"

# ---- the runs ----
mkdir -p "$out"
csv="$out/handshake-loss.csv"
n_impl=4
n_loss=$(wc -w <<<"$losses")
echo "== $((runs * n_loss * n_impl)) $auth handshakes: petrel, petrel-lossy, openssl, gnutls x loss {$losses} % x seeds 1..$runs, $jobs at a time"
start=$(date +%s)
# TMPDIR: the runs' scratch directories live in $work, which the EXIT trap
# removes even when the runs are interrupted.
TMPDIR="$work" python3 bench/hsbench.py run --out "$work/handshake-loss.csv" --runs "$runs" --losses "$losses" \
    --jobs "$jobs" --cap "$cap" --petrel-rev "$petrel_rev" --auth "$auth" &
runner_pid=$!
wait "$runner_pid"
runner_pid=
cp "$work/handshake-loss.csv" "$csv"
cp "$work/handshake-loss.meta.json" "$out/handshake-loss.meta.json"

# ---- the report and the plot ----
python3 bench/hsbench.py report --csv "$csv" --out "$out" --plot-data "$work/plot" \
    --command "$command_line" --cap "$cap" --auth "$auth"
gnuplot -e "datadir='$work/plot'; out='$out/handshake-loss.png'; losses='$losses'; impls='petrel petrel-lossy openssl gnutls'; cap=$cap; hs='$plot_title'" \
    bench/plot_cdf.gp
end=$(date +%s)
echo "== done in $(((end - start) / 60)) min $(((end - start) % 60)) s:"
echo "   $out/handshake-loss.md  $out/handshake-loss.png  $out/handshake-loss.csv"
