#!/usr/bin/env python3
"""DTLS 1.2 handshake completion time under loss: the runner and the report.

Used by bench/handshake_loss.sh (the one command to run); standard library only.

  hsbench.py one    --impl I --loss L --seed S [--cap S] [--auth psk|cert]   one run, one CSV line
  hsbench.py run    --out CSV [--runs N] [--losses "0 10 30 50"] [--jobs J] [--cap S]
                    [--auth psk|cert]
  hsbench.py report --csv CSV --out DIR [--command TEXT] [--auth psk|cert]

--auth picks the handshake (default psk): psk = TLS_PSK_WITH_AES_128_CCM_8
with a 16-byte key; cert = TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, the server
presenting tests/pki/ec-server-chain.pem (leaf + intermediate, P-256) and
the client verifying it against tests/pki/ca-all.pem and the name 127.0.0.1.
The report takes the mode from the run's .meta.json.

One run: a fresh server of implementation I on a free port, a fresh
`petrel proxy --loss L%% --delay 25ms --seed S` in front of it, then the
client of the same implementation is spawned with its standard input at
EOF. The completion time is from the client's spawn to the moment its
output says the handshake completed (read through a pipe with stdbuf -oL,
so the line arrives when it is printed). The client then closes and exits
by itself; its exit time is recorded too but not used for the table
(s_client lingers 0.5 s and gnutls-cli 2 s after sending close_notify).
0.2 s after the client exits (or is killed at the cap) the proxy gets SIGTERM
and its counters give the datagrams: c2s offered + s2c offered.

CSV columns: impl,loss,seed,ok,ms,datagrams,exit_ms,rc,c2s,s2c,reason
  ok       1 if the client reported a completed handshake with the suite
  ms       spawn -> handshake completed (empty when not ok)
  exit_ms  spawn -> process exit (or the cap when killed)
  rc       the client's exit status (-9 when killed at the cap)
"""

import argparse
import concurrent.futures
import datetime
import json
import math
import os
import platform
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PSK = "000102030405060708090a0b0c0d0e0f"
IDENTITY = "id"
DELAY = "25ms"
PKI = os.path.join(ROOT, "tests", "pki")
GNUTLS_PRIORITY = ("NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+%s:-CIPHER-ALL:+AES-128-CCM-8:"
                   "-MAC-ALL:+AEAD")
# What differs between the two kinds of handshake; everything else is shared.
AUTHS = {
    "psk": {
        "what": "PSK",
        "long": "PSK (16-byte key, identity `id`)",
        "suite": "TLS_PSK_WITH_AES_128_CCM_8",
        "openssl_cipher": "PSK-AES128-CCM8",
        "gnutls_kx": "PSK",
        # how each client says that it completed (on top of the suite)
        "petrel_peer": "PSK",
        "openssl_verified": None,
        "gnutls_desc": r"\(PSK\)-\(AES-128-CCM-8\)",
        "gnutls_verified": None,
    },
    "cert": {
        "what": "certificate",
        "long": "certificate (ECDHE-ECDSA, P-256 chain of 2)",
        "suite": "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
        "openssl_cipher": "ECDHE-ECDSA-AES128-CCM8",
        "gnutls_kx": "ECDHE-ECDSA",
        "petrel_peer": "certificate verified",
        "openssl_verified": r"^Verification: OK",
        "gnutls_desc": r"\(DTLS1\.2-X\.509\)-\(ECDHE-[^)]*\)-\(ECDSA-[^)]*\)-\(AES-128-CCM-8\)",
        "gnutls_verified": r"^- Status: The certificate is trusted",
        "chain": os.path.join(PKI, "ec-server-chain.pem"),   # leaf + intermediate
        "leaf": os.path.join(PKI, "ec-server.crt"),          # the same two, apart:
        "intermediate": os.path.join(PKI, "ec-int.crt"),     # openssl -cert reads one
        "key": os.path.join(PKI, "ec-server.key"),
        "ca": os.path.join(PKI, "ca-all.pem"),
        "name": "127.0.0.1",
        # s_server cannot query the MTU of its unconnected socket and falls back
        # to 228-byte datagrams (PEERS.md): a link MTU of 1260 gives petrel's
        # default 1232-byte datagrams instead.
        "openssl_mtu": "1260",
    },
}
IMPLS = ["petrel", "petrel-lossy", "openssl", "gnutls"]
PEERS = ["openssl", "gnutls"]
PROXY_GRACE_S = 0.2  # the proxy runs this long after the client's exit
CSV_HEADER = "impl,loss,seed,ok,ms,datagrams,exit_ms,rc,c2s,s2c,reason"


def petrel_bin():
    return os.environ.get("PETREL", os.path.join(ROOT, "build-bench", "tools", "petrel"))


# ---- child processes (bench/benchproc.py), all tracked by PID ----

from benchproc import csv_field, forget, kill_all_children, read_port_file, reap, spawn  # noqa: E402

def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Output:
    """Collects a child's stdout+stderr with the arrival time of each chunk."""

    def __init__(self, proc, t0):
        self.proc = proc
        self.t0 = t0
        self.text = ""
        self.sel = selectors.DefaultSelector()
        self.open = 0
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                self.sel.register(f, selectors.EVENT_READ)
                self.open += 1

    def pump(self, deadline, until=None):
        """Reads until EOF on every pipe, until(text) is true, or the deadline.
        Returns the time (ms since t0) at which until() became true, else None."""
        while self.open:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for key, _ in self.sel.select(min(left, 0.5)):
                data = os.read(key.fileobj.fileno(), 65536)
                now = time.monotonic()
                if not data:
                    self.sel.unregister(key.fileobj)
                    self.open -= 1
                    continue
                self.text += data.decode("utf-8", "replace")
                if until is not None and until(self.text):
                    return (now - self.t0) * 1000.0
        return None

    def close(self):
        self.sel.close()


def wait_ready(proc, out, ready, timeout):
    """Waits until ready() is true (checked on output and otherwise) or the process ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready(out.text):
            return True
        if proc.poll() is not None:
            out.pump(time.monotonic() + 0.2)
            return ready(out.text)
        out.pump(min(deadline, time.monotonic() + 0.05), until=ready)
    return ready(out.text)


# ---- the implementations ----

def all_found(t, *patterns):
    """Every pattern (None: none needed) matches a line of t."""
    return all(p is None or re.search(p, t, re.M) is not None for p in patterns)


def server_argv(impl, tmp, auth="psk"):
    """(argv, port or None, ready(text) -> bool)."""
    A = AUTHS[auth]
    cert = auth == "cert"
    if impl.startswith("petrel"):
        pf = os.path.join(tmp, "server.port")
        argv = [petrel_bin(), "server", "--dtls", "--listen", "127.0.0.1:0", "--port-file", pf]
        argv += (["--cert", A["chain"], "--key", A["key"]] if cert
                 else ["--psk-identity", IDENTITY, "--psk", PSK])
        argv += ["--suites", A["suite"]]
        if impl == "petrel-lossy":
            argv += ["--lossy-link", "50"]
        return argv, None, lambda text: "listening on" in text and read_port_file(pf) is not None
    port = free_udp_port()
    if impl == "openssl":
        argv = ["openssl", "s_server", "-dtls1_2", "-accept", "127.0.0.1:%d" % port]
        argv += (["-cert", A["leaf"], "-cert_chain", A["intermediate"], "-key", A["key"],
                  "-mtu", A["openssl_mtu"]] if cert
                 else ["-nocert", "-psk", PSK, "-psk_identity", IDENTITY])
        argv += ["-cipher", A["openssl_cipher"]]
        return argv, port, lambda text: "ACCEPT" in text
    if impl == "gnutls":
        argv = ["gnutls-serv", "--udp", "-p", str(port)]
        if cert:
            argv += ["--x509certfile", A["chain"], "--x509keyfile", A["key"]]
        else:
            pskfile = os.path.join(tmp, "psk.txt")
            with open(pskfile, "w") as f:
                f.write("%s:%s\n" % (IDENTITY, PSK))
            argv += ["--pskpasswd", pskfile]
        argv += ["--priority", GNUTLS_PRIORITY % A["gnutls_kx"], "--disable-client-cert"]
        return argv, port, lambda text: re.search(r"listening on IPv4 .*done", text) is not None
    raise ValueError("unknown implementation " + impl)


def client_argv(impl, port, cap_s, auth="psk"):
    """(argv, completed(text) -> bool). In cert mode every client verifies the
    server's chain against the CA and the name 127.0.0.1, and completion
    needs the client's word that it did."""
    A = AUTHS[auth]
    cert = auth == "cert"
    if impl.startswith("petrel"):
        # --servername defaults to the --connect host, 127.0.0.1
        argv = [petrel_bin(), "client", "--dtls", "--connect", "127.0.0.1:%d" % port]
        argv += ["--ca", A["ca"]] if cert else ["--psk-identity", IDENTITY, "--psk", PSK]
        argv += ["--suites", A["suite"], "--timeout", str(int(cap_s * 1000))]
        if impl == "petrel-lossy":
            argv += ["--lossy-link", "50"]
        done = r"^handshake complete: %s, .*server: %s$" % (A["suite"], A["petrel_peer"])
        return argv, lambda t: all_found(t, done)
    if impl == "openssl":
        argv = ["openssl", "s_client", "-dtls1_2", "-connect", "127.0.0.1:%d" % port]
        argv += (["-CAfile", A["ca"], "-verify_return_error", "-verify_ip", A["name"],
                  "-mtu", A["openssl_mtu"]] if cert
                 else ["-psk", PSK, "-psk_identity", IDENTITY])
        argv += ["-cipher", A["openssl_cipher"]]
        done = r"^New, \S+, Cipher is " + A["openssl_cipher"]
        return argv, lambda t: all_found(t, done, A["openssl_verified"])
    if impl == "gnutls":
        argv = ["gnutls-cli", "--udp", "-p", str(port), "127.0.0.1"]
        argv += (["--x509cafile", A["ca"]] if cert
                 else ["--pskusername", IDENTITY, "--pskkey", PSK])
        argv += ["--priority", GNUTLS_PRIORITY % A["gnutls_kx"]]
        return argv, lambda t: all_found(t, r"^- Handshake was completed", A["gnutls_desc"],
                                         A["gnutls_verified"])
    raise ValueError("unknown implementation " + impl)


def last_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[-1] if lines else ""


def failure_line(text):
    """The last line that says what went wrong (s_client ends with "---"), else the last."""
    lines = [l.strip() for l in text.splitlines()
             if re.search(r"error|fail|alert|timed out", l, re.I)]
    return lines[-1] if lines else last_line(text)


def run_one(impl, loss, seed, cap_s, auth="psk"):
    """One handshake; returns the CSV line."""
    tmp = tempfile.mkdtemp(prefix="hsbench.")
    server = proxy = client = None
    souts = []
    try:
        # 1. the server, on a free port (a port picked by binding can be taken
        #    by another run before the server binds it: try again then)
        sport = None
        for attempt in range(6):
            argv, port, ready = server_argv(impl, tmp, auth)
            server = spawn(["stdbuf", "-oL", "-eL"] + argv, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            sout = Output(server, time.monotonic())
            souts.append(sout)
            if wait_ready(server, sout, ready, 15.0) and server.poll() is None:
                if port is None:
                    port = read_port_file(os.path.join(tmp, "server.port"))
                sport = port
                break
            reap(server)
            server = None
            time.sleep(0.05 * (attempt + 1))
        if sport is None:
            return "%s,%s,%d,0,,,,,,,%s" % (impl, loss, seed, csv_field(
                "setup: server did not start: " + last_line(souts[-1].text if souts else "")))

        # 2. the proxy in front of it
        ppf = os.path.join(tmp, "proxy.port")
        proxy = spawn([petrel_bin(), "proxy", "--listen", "127.0.0.1:0",
                       "--forward", "127.0.0.1:%d" % sport, "--loss", "%s%%" % loss,
                       "--delay", DELAY, "--seed", str(seed), "--port-file", ppf],
                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        pport = None
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline and proxy.poll() is None:
            pport = read_port_file(ppf)
            if pport is not None:
                break
            time.sleep(0.01)
        if pport is None:
            return "%s,%s,%d,0,,,,,,,%s" % (impl, loss, seed, "setup: proxy did not start")

        # 3. the client, stdin at EOF, timed from spawn
        argv, completed = client_argv(impl, pport, cap_s, auth)
        t0 = time.monotonic()
        client = spawn(["stdbuf", "-oL", "-eL"] + argv, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cout = Output(client, t0)
        deadline = t0 + cap_s
        hs_ms = cout.pump(deadline, until=completed)
        cout.pump(deadline)  # the rest of the output, up to EOF
        rc = None
        try:
            rc = client.wait(max(0.0, deadline - time.monotonic()))
            exit_ms = (time.monotonic() - t0) * 1000.0
        except subprocess.TimeoutExpired:
            pass
        if rc is None:
            exit_ms = cap_s * 1000.0
            reap(client, term_wait=0.0)
            rc = -9
        else:
            reap(client)
        cout.close()
        if hs_ms is None and completed(cout.text):
            hs_ms = exit_ms  # the line came with the final flush (not expected)
        ok = hs_ms is not None and hs_ms <= cap_s * 1000.0

        # 4. the proxy's counters, once it has read what the client sent
        #    last (its close_notify may still sit in the proxy's socket)
        time.sleep(PROXY_GRACE_S)
        proxy.send_signal(signal.SIGTERM)
        try:
            ptext, _ = proxy.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            reap(proxy, 0)
            ptext = b""
        forget(proxy)
        ptext = ptext.decode("utf-8", "replace")
        m1 = re.search(r"^c2s: offered (\d+)", ptext, re.M)
        m2 = re.search(r"^s2c: offered (\d+)", ptext, re.M)
        c2s = int(m1.group(1)) if m1 else None
        s2c = int(m2.group(1)) if m2 else None
        dgrams = c2s + s2c if m1 and m2 else None

        if ok:
            reason = "" if rc == 0 else "exit status %d after the handshake" % rc
        elif rc == -9:
            reason = "no handshake within the %g s cap" % cap_s
        else:
            reason = "exit %d: %s" % (rc, failure_line(cout.text))
        return "%s,%s,%d,%d,%s,%s,%.1f,%d,%s,%s,%s" % (
            impl, loss, seed, 1 if ok else 0, "%.1f" % hs_ms if ok else "",
            "" if dgrams is None else dgrams, exit_ms, rc,
            "" if c2s is None else c2s, "" if s2c is None else s2c, csv_field(reason))
    finally:
        for p in (client, proxy, server):
            if p is not None:
                reap(p)
        for o in souts:
            o.close()
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


# ---- the whole run ----

def cmd_one(a):
    print(CSV_HEADER)
    print(run_one(a.impl, a.loss, a.seed, a.cap, a.auth), flush=True)


def cmd_run(a):
    losses = [l for l in a.losses.replace(",", " ").split()]
    impls = a.impls.replace(",", " ").split()
    # Highest loss first (the longest runs start first), and the
    # implementations of one seed side by side so that they share the
    # machine's load.
    jobs = [(impl, loss, seed) for loss in sorted(losses, key=float, reverse=True)
            for seed in range(1, a.runs + 1) for impl in impls]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    start = time.time()
    lock = threading.Lock()
    done = [0]
    results = []

    def work(job):
        line = run_one(job[0], job[1], job[2], a.cap, a.auth)
        with lock:
            results.append(line)
            done[0] += 1
            if done[0] % max(1, len(jobs) // 20) == 0 or done[0] == len(jobs):
                el = time.time() - start
                sys.stderr.write("  %d/%d runs, %.0f s\n" % (done[0], len(jobs), el))
                sys.stderr.flush()
        return line

    sys.stderr.write("%d %s runs (%s x loss %s x seeds 1..%d), %d at a time, cap %g s\n" % (
        len(jobs), AUTHS[a.auth]["what"], "/".join(impls), "/".join(losses), a.runs, a.jobs,
        a.cap))
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        futs = [ex.submit(work, j) for j in jobs]
        pending = set(futs)
        while pending:
            _, pending = concurrent.futures.wait(pending, timeout=1.0)
    end = time.time()
    order = {impl: i for i, impl in enumerate(IMPLS)}

    def key(line):
        f = line.split(",")
        return (float(f[1]), order.get(f[0], 99), int(f[2]))

    with open(a.out, "w") as f:
        f.write(CSV_HEADER + "\n")
        for line in sorted(results, key=key):
            f.write(line + "\n")
    meta = {"start": start, "end": end, "runs": a.runs, "losses": losses, "jobs": a.jobs,
            "cap_s": a.cap, "delay": DELAY, "impls": impls, "petrel_rev": a.petrel_rev,
            "auth": a.auth, "suite": AUTHS[a.auth]["suite"]}
    with open(os.path.splitext(a.out)[0] + ".meta.json", "w") as f:
        json.dump(meta, f, indent=1)
    sys.stderr.write("wrote %s (%.0f s)\n" % (a.out, end - start))


# ---- the report ----

def percentile(sorted_vals, p):
    """Linear interpolation between order statistics (numpy's default).
    Values may be math.inf (a failure): the result is then inf."""
    n = len(sorted_vals)
    if n == 0:
        return None
    h = (n - 1) * p
    lo = math.floor(h)
    hi = math.ceil(h)
    a, b = sorted_vals[lo], sorted_vals[hi]
    if math.isinf(a) or math.isinf(b):
        return math.inf
    return a + (b - a) * (h - lo)


def fmt_ms(v, cap_s):
    if v is None:
        return "–"
    if math.isinf(v):
        return "> %g s" % cap_s
    if v >= 10000:
        return "%.1f s" % (v / 1000)
    if v >= 1000:
        return "%.2f s" % (v / 1000)
    return "%.0f ms" % v


def fmt_ratio(a, b, cap_ms):
    if a is None or b is None or b == 0:
        return "–"
    if math.isinf(a) and math.isinf(b):
        return "– (both > cap)"
    if math.isinf(a):
        return "> %.2f (petrel's p90 > cap)" % (cap_ms / b)
    if math.isinf(b):
        return "< %.3f (peer's p90 > cap)" % (a / cap_ms)
    return "%.2f" % (a / b)


def sh(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return "?"


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = sh(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"])
    dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "kernel": platform.release(),
        "os": sh(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""]),
        "openssl": sh(["openssl", "version"]),
        "gnutls": sh(["sh", "-c", "gnutls-cli --version | head -n 1"]),
        "petrel": commit + (" (with uncommitted changes in the work tree)" if dirty else ""),
    }


def load(csv_path):
    rows = []
    with open(csv_path) as f:
        header = f.readline().strip().split(",")
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            # the last field (reason) may be quoted and hold commas
            parts = line.split(",", len(header) - 1)
            r = dict(zip(header, parts))
            r["reason"] = r.get("reason", "").strip('"')
            rows.append(r)
    return rows


def cmd_report(a):
    rows = load(a.csv)
    meta = {}
    mp = os.path.splitext(a.csv)[0] + ".meta.json"
    if os.path.exists(mp):
        with open(mp) as f:
            meta = json.load(f)
    cap_s = float(meta.get("cap_s", a.cap))
    cap_ms = cap_s * 1000
    # the run says what it was; runs from before --auth existed were PSK
    auth = meta.get("auth", "psk") if meta else (a.auth or "psk")
    if a.auth and a.auth != auth:
        sys.exit("hsbench.py report: %s holds %s runs, not %s" % (a.csv, auth, a.auth))
    A = AUTHS[auth]
    losses = sorted({r["loss"] for r in rows}, key=float)
    impls = [i for i in IMPLS if any(r["impl"] == i for r in rows)]
    stats = {}
    for loss in losses:
        for impl in impls:
            rs = [r for r in rows if r["loss"] == loss and r["impl"] == impl
                  and not r["reason"].startswith("setup:")]
            okr = [r for r in rs if r["ok"] == "1"]
            done = sorted(float(r["ms"]) for r in okr)
            with_fail = done + [math.inf] * (len(rs) - len(okr))
            dg_ok = [int(r["datagrams"]) for r in okr if r["datagrams"]]
            dg_all = [int(r["datagrams"]) for r in rs if r["datagrams"]]
            stats[(loss, impl)] = {
                "n": len(rs), "ok": len(okr), "done": done,
                "median": percentile(done, 0.5), "p90": percentile(done, 0.9),
                "p99": percentile(done, 0.99),
                "median_all": percentile(with_fail, 0.5), "p90_all": percentile(with_fail, 0.9),
                "p99_all": percentile(with_fail, 0.99),
                "dg_ok": sum(dg_ok) / len(dg_ok) if dg_ok else None,
                "dg_all": sum(dg_all) / len(dg_all) if dg_all else None,
                "fails": [r for r in rs if r["ok"] != "1"],
            }

    m = machine_info()
    out = []
    w = out.append
    w("# DTLS 1.2 %s handshake completion time under loss\n" % A["what"])
    w("Generated by `bench/handshake_loss.sh` (see `bench/README.md` for what is measured "
      "and the caveats).\n")
    w("- command: `%s`" % (a.command or "bench/handshake_loss.sh"))
    if meta.get("start"):
        st = datetime.datetime.fromtimestamp(meta["start"]).astimezone()
        w("- date: %s; the runs took %.1f min (%d at a time)" % (
            st.strftime("%Y-%m-%d %H:%M %Z"), (meta["end"] - meta["start"]) / 60, meta["jobs"]))
    w("- machine: %s CPUs (nproc), %s; kernel %s; %s" % (m["nproc"], m["cpu"], m["kernel"], m["os"]))
    w("- peers: %s; %s" % (m["openssl"], m["gnutls"]))
    if meta.get("petrel_rev"):
        w("- petrel: built from commit %s" % meta["petrel_rev"])
    else:
        w("- petrel: commit %s (at report time)" % m["petrel"])
    n_runs = meta.get("runs", max(s["n"] for s in stats.values()))
    w("- link: `petrel proxy --loss L%% --delay 25ms --seed S` (loss and delay in both "
      "directions, 50 ms RTT), seeds 1..%d for every implementation; cap %g s per run" % (
          n_runs, cap_s))
    w("- authentication: **%s**%s" % (A["long"], "" if auth == "psk" else (
        ": the server presents `tests/pki/ec-server-chain.pem` (leaf + intermediate) with "
        "`ec-server.key` and asks for no client certificate; every client verifies the chain "
        "against `tests/pki/ca-all.pem` and the name 127.0.0.1 (an IP SAN of the leaf) and "
        "counts as completed only when it reports the verification")))
    w("- suite: %s everywhere; every client and server is a fresh "
      "process per run; time = client spawn → the client prints that the handshake "
      "completed\n" % A["suite"])
    w("Rows: `petrel` = petrel client and server with default settings; `petrel-lossy` = "
      "both with `--lossy-link 50`; `openssl` = `openssl s_client`/`s_server`%s; `gnutls` = "
      "`gnutls-cli`/`gnutls-serv`.\n" % ("" if auth == "psk" else (
          " with `-mtu %s` (1232-byte datagrams like petrel's default PMTU; without it "
          "s_server sends its certificate flight in 228-byte datagrams)" % A["openssl_mtu"])))
    w("**How to read the percentiles.** *completed only*: median/p90/p99 of the runs that "
      "completed. *all runs*: the same with each failure counted as a time above the cap, so "
      "a percentile that reaches into the failures reads `> %g s`. Percentiles interpolate "
      "linearly between order statistics; with %d runs p99 is close to the slowest run. "
      "Datagrams = everything the proxy was offered in both directions from the client's "
      "spawn to 0.2 s after its exit (closing alerts and retransmissions included, lost "
      "ones included).\n"
      % (cap_s, n_runs))

    for loss in losses:
        w("## %s %% loss\n" % loss)
        w("| implementation | completed | median | p90 | p99 | median (all runs) | p90 (all runs) "
          "| p99 (all runs) | datagrams / handshake (completed) | datagrams (all runs) |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for impl in impls:
            s = stats[(loss, impl)]
            w("| %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                impl, s["ok"], s["n"], fmt_ms(s["median"], cap_s), fmt_ms(s["p90"], cap_s),
                fmt_ms(s["p99"], cap_s), fmt_ms(s["median_all"], cap_s),
                fmt_ms(s["p90_all"], cap_s), fmt_ms(s["p99_all"], cap_s),
                "%.1f" % s["dg_ok"] if s["dg_ok"] is not None else "–",
                "%.1f" % s["dg_all"] if s["dg_all"] is not None else "–"))
        fails = [(impl, r) for impl in impls for r in stats[(loss, impl)]["fails"]]
        if fails:
            w("\nFailures at %s %% loss (reproduce one with `petrel proxy --loss %s%% --delay "
              "25ms --seed SEED`):\n" % (loss, loss))
            by = {}
            for impl, r in fails:
                by.setdefault((impl, r["reason"]), []).append(r["seed"])
            for (impl, reason), seeds in by.items():
                w("- %s: seed%s %s — %s" % (impl, "s" if len(seeds) > 1 else "",
                                            " ".join(seeds), reason or "?"))
        w("")

    setup = [r for r in rows if r["reason"].startswith("setup:")]
    if setup:
        w("## Runs left out\n")
        w("These runs could not start their server or proxy (not a handshake result); they "
          "are not counted above:\n")
        for r in setup:
            w("- %s, %s %% loss, seed %s: %s" % (r["impl"], r["loss"], r["seed"], r["reason"]))
        w("")

    w("## petrel against the best peer\n")
    w("Ratio of p90 completion times; below 1 means petrel is faster. *Best peer* is the "
      "peer (OpenSSL or GnuTLS) with the lower p90 at that loss rate, chosen separately for "
      "each way of counting.\n")
    w("| loss | best peer p90 (all runs) | petrel p90 ÷ best | petrel-lossy p90 ÷ best "
      "| best peer p90 (completed only) | petrel p90 ÷ best | petrel-lossy p90 ÷ best |")
    w("|---|---|---|---|---|---|---|")
    for loss in losses:
        cells = [loss + " %"]
        for k in ("p90_all", "p90"):
            peers = [(stats[(loss, p)][k], p) for p in PEERS if (loss, p) in stats
                     and stats[(loss, p)][k] is not None]
            if not peers:
                cells += ["–", "–", "–"]
                continue
            best, name = min(peers)
            if math.isinf(best):
                name = "every peer"
            cells.append("%s (%s)" % (fmt_ms(best, cap_s), name))
            for impl in ("petrel", "petrel-lossy"):
                v = stats.get((loss, impl), {}).get(k)
                cells.append(fmt_ratio(v, best, cap_ms))
        w("| " + " | ".join(cells) + " |")
    w("")

    w("## Datagrams per handshake\n")
    w("Mean datagrams offered to the link per completed handshake (both directions).\n")
    w("| loss | " + " | ".join(impls) + " | petrel ÷ fewest peer | petrel-lossy ÷ fewest peer |")
    w("|---|" + "---|" * (len(impls) + 2))
    for loss in losses:
        vals = {i: stats[(loss, i)]["dg_ok"] for i in impls}
        peer_vals = [vals[p] for p in PEERS if vals.get(p) is not None]
        best = min(peer_vals) if peer_vals else None
        cells = [loss + " %"] + ["%.1f" % vals[i] if vals[i] is not None else "–" for i in impls]
        for impl in ("petrel", "petrel-lossy"):
            v = vals.get(impl)
            cells.append("%.2f" % (v / best) if v is not None and best else "–")
        w("| " + " | ".join(cells) + " |")
    w("")
    w("![completion-time CDFs](handshake-loss.png)\n")
    w("Raw data: [handshake-loss.csv](handshake-loss.csv) (one line per run: "
      "`%s`).\n" % CSV_HEADER)

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "handshake-loss.md"), "w") as f:
        f.write("\n".join(out))

    # gnuplot data: one file per (loss, impl) with the empirical CDF over all runs
    # (failures never complete, so a line ends below 1).
    datadir = a.plot_data
    os.makedirs(datadir, exist_ok=True)
    for loss in losses:
        for impl in impls:
            s = stats[(loss, impl)]
            with open(os.path.join(datadir, "cdf_%s_%s.dat" % (loss, impl)), "w") as f:
                n = s["n"]
                if not s["done"]:
                    f.write("%g 0\n" % cap_s)
                    continue
                f.write("%g 0\n" % (s["done"][0] / 1000))
                for k, v in enumerate(s["done"], 1):
                    f.write("%g %g\n" % (v / 1000, k / n))
                f.write("%g %g\n" % (cap_s, len(s["done"]) / n))
    with open(os.path.join(datadir, "panels.txt"), "w") as f:
        f.write(" ".join(losses) + "\n" + " ".join(impls) + "\n")
    sys.stderr.write("wrote %s\n" % os.path.join(a.out, "handshake-loss.md"))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("one")
    p.add_argument("--impl", required=True, choices=IMPLS)
    p.add_argument("--loss", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--cap", type=float, default=120.0)
    p.add_argument("--auth", choices=sorted(AUTHS), default="psk")
    p = sub.add_parser("run")
    p.add_argument("--out", required=True)
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--losses", default="0 10 30 50")
    p.add_argument("--impls", default=" ".join(IMPLS))
    p.add_argument("--jobs", type=int, default=16)
    p.add_argument("--cap", type=float, default=120.0)
    p.add_argument("--petrel-rev", default="")
    p.add_argument("--auth", choices=sorted(AUTHS), default="psk")
    p = sub.add_parser("report")
    p.add_argument("--csv", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--plot-data", required=True)
    p.add_argument("--command", default="")
    p.add_argument("--cap", type=float, default=120.0)
    p.add_argument("--auth", choices=sorted(AUTHS), default=None,
                   help="checked against the run's .meta.json, which says it (default psk)")
    a = ap.parse_args()

    def on_signal(signum, _frame):
        kill_all_children()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    {"one": cmd_one, "run": cmd_run, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
