#!/usr/bin/env python3
"""CoAPs block-wise GET of a 64 KiB body under loss: the runner and the report.

Used by bench/coaps_loss.sh (the one command to run); standard library only.

  coaps_loss.py run    --out CSV --bin DIR [--runs N] [--losses "0 10 20 30"] [--jobs J]
                       [--cap S] [--pairs "1 2 3 4 5"] [--tuned-ack-timeout MS]
                       [--tuned-max-retransmit N] [--delay D] [--logs DIR]
  coaps_loss.py one    --pair P --loss L --seed S --bin DIR [--cap S] [--logs DIR]
  coaps_loss.py report --csv CSV --out MD [--meta JSON] [--command TEXT] [--notes MD]

The pairs (client -> server), every one through its own `petrel proxy
--loss L% --seed S` per run:

  1 coap-client/coaps-server         coap-client-openssl -> petrel's coaps-server, /big
  2 coap-client/coap-server          coap-client-openssl -> coap-server-openssl, /example_data
  3 coaps-client/coaps-server        petrel's coaps-client (RFC 7252 defaults) -> coaps-server
  4 coaps-client-tuned/coaps-server  coaps-client --ack-timeout A --max-retransmit R -> coaps-server
  5 coaps-client/coap-server         coaps-client (defaults) -> coap-server-openssl

One server per pair and loss rate serves that cell's runs (they run
concurrently); coap-server-openssl first gets the body by a direct PUT
(not through the proxy), checked by a direct GET. A run is completed when
the client has exited before the cap and its -o file is the 65536-byte body
(sha256). The time is from the client's spawn to its exit.

CSV columns: pair,loss,seed,ok,seconds,kind,hs_s,blocks,coap_retx,giveup_s,lg_release_s,
             last_rx_s,rc,c2s,s2c,detail
  seconds      spawn -> exit (empty unless ok)
  kind         empty when ok; else handshake | coap | cap-handshake | cap-stalled |
               cap-transfer | other (see bench/README.md)
  hs_s         spawn -> the first CoAP request on the wire (the DTLS handshake is done)
  blocks       distinct Block2 numbers received (2.05 responses)
  coap_retx    CoAP retransmissions the client logged
  giveup_s     when libcoap gave up on a message (MAX_RETRANSMIT exhausted)
  lg_release_s when libcoap released the block-wise receive state (lg_crcv)
  last_rx_s    the last datagram the client's libcoap logged as received
  rc           the client's exit status (-9 / -15: killed at the cap)
  c2s, s2c     datagrams offered to the proxy in each direction
"""

import argparse
import concurrent.futures
import datetime
import hashlib
import json
import math
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KEY = "petrel-bench-psk"  # the string's bytes, as coap-client -k takes it
IDENTITY = "bench"
BODY_SIZE = 65536
BODY_LINE = " petrel coaps /big, RFC 7959 block-wise transfer test line."
COAP_CLIENT = "coap-client-openssl"
COAP_SERVER = "coap-server-openssl"
CSV_HEADER = ("pair,loss,seed,ok,seconds,kind,hs_s,blocks,coap_retx,giveup_s,lg_release_s,"
              "last_rx_s,rc,c2s,s2c,detail")
PROXY_GRACE_S = 0.2

# id, client, server
PAIRS = {
    "1": ("coap-client/coaps-server", "coap-client", "ours"),
    "2": ("coap-client/coap-server", "coap-client", "libcoap"),
    "3": ("coaps-client/coaps-server", "ours", "ours"),
    "4": ("coaps-client-tuned/coaps-server", "ours-tuned", "ours"),
    "5": ("coaps-client/coap-server", "ours", "libcoap"),
}
PAIR_ORDER = [PAIRS[k][0] for k in sorted(PAIRS)]
KINDS = [
    ("handshake", "DTLS handshake given up by the client"),
    ("coap", "CoAP gave up (MAX_RETRANSMIT exhausted)"),
    ("cap-handshake", "cap, still in the DTLS handshake"),
    ("cap-stalled", "cap, stalled after libcoap released lg_crcv"),
    ("cap-transfer", "cap, still transferring"),
    ("other", "other"),
]


def body():
    return b"".join(b"%04d%s\n" % (i, BODY_LINE.encode()) for i in range(1024))


BODY_SHA = hashlib.sha256(body()).hexdigest()


# ---- child processes (bench/benchproc.py), all tracked by PID ----

from benchproc import csv_field, forget, kill_all_children, read_port_file, reap, spawn  # noqa: E402

def wait_port_file(path, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        port = read_port_file(path)
        if port is not None:
            return port
        time.sleep(0.01)
    return None


def free_port_pair():
    """A port P with P and P+1 free for UDP and TCP on 127.0.0.1 (coap-server
    listens on P for coap and P+1 for coaps, both protocols)."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p >= 65535:
            continue
        ok = True
        held = []
        try:
            for port in (p, p + 1):
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    t = socket.socket(socket.AF_INET, kind)
                    held.append(t)
                    t.bind(("127.0.0.1", port))
        except OSError:
            ok = False
        finally:
            for t in held:
                t.close()
        if ok:
            return p
    raise RuntimeError("no free port pair")


# ---- binaries ----

class Bins:
    def __init__(self, bindir):
        self.petrel = os.path.join(bindir, "tools", "petrel")
        self.server = os.path.join(bindir, "examples", "coap", "coaps-server")
        self.client = os.path.join(bindir, "examples", "coap", "coaps-client")

    def check(self):
        for p in (self.petrel, self.server, self.client):
            if not os.access(p, os.X_OK):
                sys.exit("coaps_loss.py: %s is missing" % p)


# ---- the servers ----

def run_quick(argv, timeout):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        return r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"") + (e.stderr or b"")
        return None, out.decode("utf-8", "replace") if isinstance(out, bytes) else out


def direct_get(bins, kind, port, path, outfile):
    """A GET on the clean loopback (no proxy) with the client that pair 1/2
    use; returns (sha256 or None, block numbers seen, block size)."""
    if os.path.exists(outfile):
        os.unlink(outfile)
    _, text = run_quick([COAP_CLIENT, "-v", "6", "-k", KEY, "-u", IDENTITY, "-B", "20", "-o",
                         outfile, "coaps://127.0.0.1:%d/%s" % (port, path)], 30)
    blocks = set()
    size = None
    for m in re.finditer(r"c:2\.05 .*?Block2:(\d+)/[M_]/(\d+)", text):
        blocks.add(int(m.group(1)))
        size = int(m.group(2))
    sha = None
    if os.path.exists(outfile):
        with open(outfile, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
    return sha, sorted(blocks), size


class Server:
    """One server for one (pair, loss) cell."""

    def __init__(self, bins, kind, workdir, name):
        self.bins = bins
        self.kind = kind
        self.dir = os.path.join(workdir, "server-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.port = None  # the DTLS port
        self.path = "big" if kind == "ours" else "example_data"
        self.setup = {}

    def start(self):
        log = open(os.path.join(self.dir, "server.log"), "w")
        if self.kind == "ours":
            pf = os.path.join(self.dir, "server.port")
            self.proc = spawn([self.bins.server, "-A", "127.0.0.1", "-p", "0", "-k", KEY,
                               "--port-file", pf], stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT)
            self.port = wait_port_file(pf, self.proc)
            log.close()
            if self.port is None:
                raise RuntimeError("coaps-server did not start")
        else:
            bodyfile = os.path.join(self.dir, "body.txt")
            with open(bodyfile, "wb") as f:
                f.write(body())
            for attempt in range(8):
                base = free_port_pair()
                self.proc = spawn([COAP_SERVER, "-A", "127.0.0.1", "-p", str(base), "-k", KEY,
                                   "-v", "4"], stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
                self.port = base + 1
                code = None
                for _ in range(20):  # until it answers (or has died)
                    time.sleep(0.1)
                    if self.proc.poll() is not None:
                        break
                    _, text = run_quick([COAP_CLIENT, "-v", "6", "-m", "put", "-f", bodyfile,
                                         "-k", KEY, "-u", IDENTITY, "-B", "10",
                                         "coaps://127.0.0.1:%d/example_data" % self.port], 20)
                    codes = re.findall(r"t:ACK c:(2\.0[14])", text or "")
                    if codes:
                        code = codes[-1]
                        break
                if code is not None:
                    self.setup["put"] = "%d bytes PUT to /example_data -> %s" % (BODY_SIZE, code)
                    break
                reap(self.proc)
                self.proc = None
            log.close()
            if self.proc is None:
                raise RuntimeError("coap-server-openssl did not start or took no PUT")
        sha, blocks, size = direct_get(self.bins, self.kind, self.port, self.path,
                                       os.path.join(self.dir, "check.out"))
        self.setup.update({"get_sha_ok": sha == BODY_SHA, "get_blocks": len(blocks),
                           "block_size": size, "path": "/" + self.path})
        if sha != BODY_SHA:
            raise RuntimeError("%s: a direct GET of /%s did not return the body (sha %s)"
                               % (self.kind, self.path, sha))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            reap(self.proc)


# ---- one run ----

TS = re.compile(r"^\w{3} +\d+ (\d\d):(\d\d):(\d\d)\.(\d{3}) ")


def sod(t_wall):
    lt = time.localtime(t_wall)
    return lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec + (t_wall % 1)


def parse_log(text, t0_wall):
    """What the client's log says, times in seconds since the spawn."""
    base = sod(t0_wall)
    r = {"hs_done": False, "hs_s": None, "blocks": set(), "coap_retx": 0, "giveup_s": None,
         "lg_release_s": None, "last_rx_s": None, "disconnected_before_hs": False,
         "disconnected_s": None, "dtls_timeouts": 0, "giveup_line": None,
         "fail_line": None, "last_err": None}
    last_t = None
    for line in text.splitlines():
        m = TS.match(line)
        if m:
            t = (int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
                 + int(m.group(4)) / 1000.0) - base
            if t < -43200:
                t += 86400
            last_t = t
        if "session connected" in line or "DTLS handshake complete" in line:
            r["hs_done"] = True
        elif "added to retransmit queue" in line:
            if r["hs_s"] is None:
                r["hs_s"] = last_t
            r["hs_done"] = True
        elif "retransmission #" in line:
            r["coap_retx"] += 1
        elif "give up after" in line:
            if r["giveup_s"] is None:
                r["giveup_s"] = last_t
                m3 = re.search(r"(give up after \d+ attempts)", line)
                r["giveup_line"] = m3.group(1) if m3 else None
        elif "DTLS retransmit timeout" in line and not r["hs_done"]:
            r["dtls_timeouts"] += 1
        elif re.search(r"lg_crcv \S+ released", line):
            if r["lg_release_s"] is None:
                r["lg_release_s"] = last_t
        elif re.search(r": received \d+ bytes", line):
            r["last_rx_s"] = last_t
        elif "session disconnected" in line and not r["hs_done"]:
            r["disconnected_before_hs"] = True
            r["disconnected_s"] = last_t
        elif line.startswith("coaps-client: failed: "):
            r["fail_line"] = line[len("coaps-client: failed: "):].strip()
        elif re.search(r"^\w{3} +\d+ \S+ (ERR|CRIT|EMRG|ALRT) ", line):
            r["last_err"] = re.sub(r"^\w{3} +\d+ \S+ ", "", line).strip()
        m2 = re.search(r"t:ACK c:2\.05 .*?Block2:(\d+)/", line)
        if m2:
            r["blocks"].add(int(m2.group(1)))
    return r


def fmt_opt(v):
    return "" if v is None else "%.2f" % v


def client_argv(bins, cfg, who, port, path, out):
    uri = "coaps://127.0.0.1:%d/%s" % (port, path)
    wait_s = str(int(cfg["cap"] + 30))  # the runner's cap decides, not -B
    if who == "coap-client":
        return [COAP_CLIENT, "-v", "7", "-k", KEY, "-u", IDENTITY, "-B", wait_s, "-o", out, uri]
    argv = [bins.client, "-v", "7", "-k", KEY, "-u", IDENTITY, "-B", wait_s, "-o", out]
    if who == "ours-tuned":
        argv += ["--ack-timeout", str(cfg["tuned_ack"]), "--max-retransmit",
                 str(cfg["tuned_retx"])]
    return argv + [uri]


def run_one(bins, cfg, pair_id, loss, seed, server):
    name, who, _ = PAIRS[pair_id]
    tmp = tempfile.mkdtemp(prefix="coapsloss.")
    proxy = client = None
    try:
        ppf = os.path.join(tmp, "proxy.port")
        argv = [bins.petrel, "proxy", "--listen", "127.0.0.1:0", "--forward",
                "127.0.0.1:%d" % server.port, "--loss", "%s%%" % loss, "--seed", str(seed),
                "--port-file", ppf]
        if cfg.get("delay"):
            argv += ["--delay", cfg["delay"]]
        proxy = spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                      stderr=subprocess.STDOUT)
        pport = wait_port_file(ppf, proxy)
        if pport is None:
            return "%s,%s,%d,0,,setup,,,,,,,,,,setup: proxy did not start" % (name, loss, seed)

        out = os.path.join(tmp, "body.out")
        logname = "%s_loss%s_seed%d.log" % (name.replace("/", "_"), loss, seed)
        logpath = os.path.join(cfg["logs"] or tmp, logname)
        cap = cfg["cap"]
        with open(logpath, "w") as log:
            t0_wall = time.time()
            t0 = time.monotonic()
            client = spawn(client_argv(bins, cfg, who, pport, server.path, out),
                           stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            at_cap = False
            try:
                rc = client.wait(cap)
                exit_s = time.monotonic() - t0
            except subprocess.TimeoutExpired:
                at_cap = True
                exit_s = cap
                rc = reap(client)
            forget(client)
        with open(logpath, "r", errors="replace") as f:
            text = f.read()
        got = b""
        if os.path.exists(out):
            with open(out, "rb") as f:
                got = f.read()
        ok = (not at_cap) and hashlib.sha256(got).hexdigest() == BODY_SHA

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

        p = parse_log(text, t0_wall)
        kind = ""
        detail = ""
        if ok:
            pass
        elif at_cap:
            if not p["hs_done"]:
                kind = "cap-handshake"
            elif p["lg_release_s"] is not None and p["lg_release_s"] < exit_s - 1.0:
                # (a release at the cap is the client's own shutdown)
                kind = "cap-stalled"
                detail = ("lg_crcv released at %.1f s (%.1f s after the first request), "
                          "last datagram received at %s s" % (
                              p["lg_release_s"], p["lg_release_s"] - (p["hs_s"] or 0),
                              fmt_opt(p["last_rx_s"])))
            else:
                kind = "cap-transfer"
            detail = detail or "%d of 64 blocks received" % len(p["blocks"])
        else:
            if not p["hs_done"]:
                kind = "handshake"
            elif p["giveup_s"] is not None or "no answer to a confirmable" in (p["fail_line"] or ""):
                kind = "coap"
            else:
                kind = "other"
            if p["fail_line"]:
                detail = p["fail_line"]
            elif kind == "handshake" and p["disconnected_s"] is not None:
                detail = ("libcoap ended the DTLS session at %.1f s, after %d handshake "
                          "retransmission timeouts" % (p["disconnected_s"], p["dtls_timeouts"]))
            elif kind == "coap" and p["giveup_line"]:
                detail = "libcoap: %s at %.1f s" % (p["giveup_line"], p["giveup_s"])
            else:
                detail = p["last_err"] or ""
            if kind == "other" and not detail:
                detail = "exit %s, %d bytes in -o (sha256 %s)" % (
                    rc, len(got), "matches" if hashlib.sha256(got).hexdigest() == BODY_SHA
                    else "differs")
        if not server.alive():
            detail = (detail + "; " if detail else "") + "the server had exited"
        return "%s,%s,%d,%d,%s,%s,%s,%d,%d,%s,%s,%s,%s,%s,%s,%s" % (
            name, loss, seed, 1 if ok else 0, "%.2f" % exit_s if ok else "", kind,
            fmt_opt(p["hs_s"]), len(p["blocks"]), p["coap_retx"], fmt_opt(p["giveup_s"]),
            fmt_opt(p["lg_release_s"]), fmt_opt(p["last_rx_s"]),
            "" if rc is None else rc, m1.group(1) if m1 else "", m2.group(1) if m2 else "",
            csv_field(detail))
    finally:
        for pr in (client, proxy):
            if pr is not None:
                reap(pr)
        for name_ in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name_))
        os.rmdir(tmp)


# ---- the whole run ----

def parse_pairs(s):
    ids = s.replace(",", " ").split()
    for i in ids:
        if i not in PAIRS:
            sys.exit("coaps_loss.py: unknown pair %s (1..5)" % i)
    return ids


def make_cfg(a):
    return {"cap": a.cap, "tuned_ack": a.tuned_ack_timeout, "tuned_retx": a.tuned_max_retransmit,
            "delay": a.delay, "logs": os.path.abspath(a.logs) if a.logs else None}


def cmd_one(a):
    bins = Bins(a.bin)
    bins.check()
    cfg = make_cfg(a)
    if cfg["logs"]:
        os.makedirs(cfg["logs"], exist_ok=True)
    work = tempfile.mkdtemp(prefix="coapsloss-one.")
    server = Server(bins, PAIRS[a.pair][2], work, "one")
    try:
        server.start()
        print(CSV_HEADER)
        print(run_one(bins, cfg, a.pair, a.loss, a.seed, server), flush=True)
    finally:
        server.stop()


def versions():
    def sh(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:
            return "?"
    return {
        "libcoap": sh(["dpkg-query", "-W", "-f=${Version}", "libcoap3-bin"]),
        "openssl": sh(["openssl", "version"]),
    }


def cmd_run(a):
    bins = Bins(a.bin)
    bins.check()
    cfg = make_cfg(a)
    if cfg["logs"]:
        os.makedirs(cfg["logs"], exist_ok=True)
    losses = a.losses.replace(",", " ").split()
    pairs = parse_pairs(a.pairs)
    work = tempfile.mkdtemp(prefix="coapsloss-servers.")
    servers = {}
    setup = {}
    start = time.time()
    try:
        for loss in losses:
            for pid in pairs:
                s = Server(bins, PAIRS[pid][2], work, "%s-%s" % (pid, loss))
                s.start()
                servers[(pid, loss)] = s
                setup["%s @ %s %%" % (PAIRS[pid][0], loss)] = dict(s.setup, kind=s.kind)
        sys.stderr.write("%d servers up (one per pair and loss rate); body sha256 %s\n" % (
            len(servers), BODY_SHA))
        # Highest loss first (the longest runs start first); the pairs of one
        # seed side by side, so that they share the machine's load.
        jobs = [(pid, loss, seed) for loss in sorted(losses, key=float, reverse=True)
                for seed in range(1, a.runs + 1) for pid in pairs]
        lock = threading.Lock()
        done = [0]
        results = []

        def work_one(job):
            line = run_one(bins, cfg, job[0], job[1], job[2], servers[(job[0], job[1])])
            with lock:
                results.append(line)
                done[0] += 1
                if done[0] % max(1, len(jobs) // 20) == 0 or done[0] == len(jobs):
                    sys.stderr.write("  %d/%d runs, %.0f s\n" % (done[0], len(jobs),
                                                                time.time() - start))
                    sys.stderr.flush()
            return line

        sys.stderr.write("%d runs (pairs %s x loss %s x seeds 1..%d), %d at a time, cap %g s\n"
                         % (len(jobs), " ".join(pairs), "/".join(losses), a.runs, a.jobs, a.cap))
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
            futs = [ex.submit(work_one, j) for j in jobs]
            pending = set(futs)
            while pending:
                _, pending = concurrent.futures.wait(pending, timeout=1.0)
            for f in futs:
                f.result()
        end = time.time()
        alive = {"%s @ %s %%" % (PAIRS[k[0]][0], k[1]): s.alive() for k, s in servers.items()}
    finally:
        for s in servers.values():
            s.stop()
    order = {n: i for i, n in enumerate(PAIR_ORDER)}

    def key(line):
        f = line.split(",")
        return (float(f[1]), order.get(f[0], 99), int(f[2]))

    with open(a.out, "w") as f:
        f.write(CSV_HEADER + "\n")
        for line in sorted(results, key=key):
            f.write(line + "\n")
    meta = {"start": start, "end": end, "runs": a.runs, "losses": losses, "jobs": a.jobs,
            "cap_s": a.cap, "pairs": [PAIRS[p][0] for p in pairs], "delay": a.delay,
            "tuned_ack_timeout_ms": a.tuned_ack_timeout,
            "tuned_max_retransmit": a.tuned_max_retransmit, "petrel_rev": a.petrel_rev,
            "body_sha256": BODY_SHA, "setup": setup, "servers_alive_at_end": alive,
            "versions": versions()}
    with open(os.path.splitext(a.out)[0] + ".meta.json", "w") as f:
        json.dump(meta, f, indent=1)
    sys.stderr.write("wrote %s (%.0f s)\n" % (a.out, end - start))


# ---- the report ----

def percentile(vals, p):
    """Linear interpolation between order statistics (numpy's default)."""
    vals = sorted(vals)
    n = len(vals)
    if n == 0:
        return None
    h = (n - 1) * p
    lo, hi = math.floor(h), math.ceil(h)
    return vals[lo] + (vals[hi] - vals[lo]) * (h - lo)


def fisher_two_sided(a, b, c, d):
    """Fisher's exact test on [[a, b], [c, d]]: the two-sided p-value (the sum
    of the probabilities of the tables no more likely than the observed one)."""
    r1, r2, c1 = a + b, c + d, a + c
    n = r1 + r2

    def prob(x):
        return math.comb(r1, x) * math.comb(r2, c1 - x) / math.comb(n, c1)

    lo, hi = max(0, c1 - r2), min(c1, r1)
    p_obs = prob(a)
    return min(1.0, sum(prob(x) for x in range(lo, hi + 1) if prob(x) <= p_obs * (1 + 1e-9)))


def fmt_s(v):
    if v is None:
        return "–"
    return "%.1f s" % v if v >= 10 else "%.2f s" % v


def load(csv_path):
    rows = []
    with open(csv_path) as f:
        header = f.readline().strip().split(",")
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split(",", len(header) - 1)
            r = dict(zip(header, parts))
            r["detail"] = r.get("detail", "").strip('"')
            rows.append(r)
    return rows


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        osname = subprocess.run(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""],
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except Exception:
        osname = "?"
    return "%s CPUs (nproc), %s; kernel %s; %s" % (os.cpu_count(), cpu, platform.release(), osname)


def cmd_report(a):
    rows = load(a.csv)
    meta = {}
    mp = a.meta or os.path.splitext(a.csv)[0] + ".meta.json"
    if os.path.exists(mp):
        with open(mp) as f:
            meta = json.load(f)
    cap = float(meta.get("cap_s", 300))
    losses = sorted({r["loss"] for r in rows}, key=float)
    pairs = [p for p in PAIR_ORDER if any(r["pair"] == p for r in rows)]
    st = {}
    for loss in losses:
        for p in pairs:
            rs = [r for r in rows if r["loss"] == loss and r["pair"] == p and r["kind"] != "setup"]
            okr = [r for r in rs if r["ok"] == "1"]
            secs = [float(r["seconds"]) for r in okr]
            kinds = {k: [r for r in rs if r["kind"] == k] for k, _ in KINDS}
            dg = [int(r["c2s"]) + int(r["s2c"]) for r in okr if r["c2s"] and r["s2c"]]
            st[(loss, p)] = {"n": len(rs), "ok": len(okr), "med": percentile(secs, 0.5),
                             "p90": percentile(secs, 0.9), "kinds": kinds, "rows": rs,
                             "okseeds": {r["seed"] for r in okr},
                             "dg": sum(dg) / len(dg) if dg else None,
                             "hs": percentile([float(r["hs_s"]) for r in okr if r["hs_s"]], 0.5)}
    ack = meta.get("tuned_ack_timeout_ms", 1000)
    retx = meta.get("tuned_max_retransmit", 10)
    label = {
        "coap-client/coaps-server": "1. coap-client → coaps-server (petrel)",
        "coap-client/coap-server": "2. coap-client → coap-server (libcoap/OpenSSL)",
        "coaps-client/coaps-server": "3. coaps-client → coaps-server",
        "coaps-client-tuned/coaps-server": "4. coaps-client (%g s, %d) → coaps-server"
                                           % (ack / 1000.0, retx),
        "coaps-client/coap-server": "5. coaps-client → coap-server (libcoap/OpenSSL)",
    }
    out = []
    w = out.append
    w("# CoAPs block-wise GET of 64 KiB under loss\n")
    w("Generated by `bench/coaps_loss.sh` (see `bench/README.md`, section *CoAPs block-wise "
      "GET under loss*, for the method and the caveats).\n")
    w("- command: `%s`" % (a.command or "bench/coaps_loss.sh"))
    if meta.get("start"):
        t = datetime.datetime.fromtimestamp(meta["start"]).astimezone()
        w("- date: %s; the runs took %.1f min (%d at a time)" % (
            t.strftime("%Y-%m-%d %H:%M %Z"), (meta["end"] - meta["start"]) / 60, meta["jobs"]))
    w("- machine: %s" % machine())
    v = meta.get("versions", {})
    w("- peers: libcoap %s (Debian `libcoap3-bin`: `coap-client-openssl`, `coap-server-openssl`); "
      "%s; petrel's examples link libcoap %s `notls`" % (
          v.get("libcoap", "?"), v.get("openssl", "?"), v.get("libcoap", "?")))
    if meta.get("petrel_rev"):
        w("- petrel: built from commit %s" % meta["petrel_rev"])
    n_runs = meta.get("runs", max(s["n"] for s in st.values()))
    w("- link: `petrel proxy --loss L%%%s --seed S` (each direction loses each datagram "
      "independently with probability L), one proxy per run, seeds 1..%d for every pair; "
      "cap %g s per run" % (" --delay " + meta["delay"] if meta.get("delay") else "", n_runs,
                            cap))
    w("- request: GET of a 65536-byte body (1024 text lines, sha256 `%s`), PSK, block-wise "
      "(RFC 7959) in the servers' 1024-byte blocks; completed = the client exited before the "
      "cap and its `-o` file has that sha256; time = client spawn → client exit\n"
      % meta.get("body_sha256", BODY_SHA))
    w("| pair | client | server |")
    w("|---|---|---|")
    w("| 1 | `coap-client-openssl -v 7 -k KEY -u ID -B CAP+30 -o FILE coaps://…/big` | "
      "`coaps-server -A 127.0.0.1 -p 0 -k KEY` (petrel DTLS, libcoap notls CoAP) |")
    w("| 2 | the same client, `coaps://…/example_data` | `coap-server-openssl -A 127.0.0.1 "
      "-p P -k KEY` (libcoap with OpenSSL), body PUT to /example_data beforehand |")
    w("| 3 | `coaps-client -v 7 -k KEY -u ID -B CAP+30 -o FILE coaps://…/big` (ACK_TIMEOUT "
      "2 s, MAX_RETRANSMIT 4) | coaps-server |")
    w("| 4 | pair 3's client with `--ack-timeout %d --max-retransmit %d` | coaps-server |"
      % (ack, retx))
    w("| 5 | pair 3's client, `coaps://…/example_data` | coap-server-openssl |\n")
    if meta.get("setup"):
        chk = sorted({(s["kind"], s.get("path"), s.get("get_blocks"), s.get("block_size"),
                       s.get("get_sha_ok"), s.get("put", "")) for s in meta["setup"].values()},
                     key=str)
        alive = meta.get("servers_alive_at_end", {})
        dead = [k for k, ok in alive.items() if not ok]
        w("Server check before the lossy runs (each server, a direct GET without the proxy): " +
          "; ".join("%s %s: %d blocks of %s bytes, sha256 %s%s" % (
              "coaps-server" if k == "ours" else "coap-server", pth, nb or 0, bs,
              "matches" if shaok else "DIFFERS", (", after a " + put) if put else "")
              for k, pth, nb, bs, shaok, put in chk) + "." +
          (" Every server was still running after its runs." if alive and not dead else
           " Servers that had exited by the end: %s." % ", ".join(dead) if dead else "") + "\n")

    w("## Summary\n")
    w("Completed runs out of %d, and the median time of the completed ones.\n" % n_runs)
    w("| pair | " + " | ".join("%s %% loss" % l for l in losses) + " |")
    w("|---|" + "---|" * len(losses))
    for p in pairs:
        cells = []
        for l in losses:
            s = st[(l, p)]
            cells.append("%d/%d%s" % (s["ok"], s["n"], (", " + fmt_s(s["med"])) if s["ok"] else ""))
        w("| %s | %s |" % (label[p], " | ".join(cells)))
    w("")

    kind_names = dict(KINDS)
    for loss in losses:
        w("## %s %% loss\n" % loss)
        w("| pair | completed | median | p90 | " + " | ".join(n for _, n in KINDS) +
          " | datagrams (completed) |")
        w("|---|---|---|---|" + "---|" * len(KINDS) + "---|")
        for p in pairs:
            s = st[(loss, p)]
            w("| %s | %d/%d | %s | %s | %s | %s |" % (
                label[p], s["ok"], s["n"], fmt_s(s["med"]), fmt_s(s["p90"]),
                " | ".join(str(len(s["kinds"][k])) if s["kinds"][k] else "–" for k, _ in KINDS),
                "%.0f" % s["dg"] if s["dg"] is not None else "–"))
        fails = [(p, r) for p in pairs for r in st[(loss, p)]["rows"] if r["ok"] != "1"]
        if fails:
            w("\nFailures by seed:\n")
            for p in pairs:
                rs = [r for pp, r in fails if pp == p]
                if not rs:
                    continue
                by = {}
                for r in rs:
                    by.setdefault(r["kind"], []).append(r)
                parts = []
                for k, _ in KINDS:
                    if k not in by:
                        continue
                    seeds = " ".join(r["seed"] for r in by[k])
                    extra = ""
                    if k == "coap":
                        gs = [float(r["giveup_s"]) for r in by[k] if r["giveup_s"]]
                        early = sum(1 for r in by[k] if r["giveup_s"] and r["lg_release_s"]
                                    and float(r["lg_release_s"]) < float(r["giveup_s"]) - 1.0)
                        extra = " (gave up %.0f–%.0f s after the start%s)" % (
                            min(gs), max(gs), "; in %d of them lg_crcv had been released "
                            "before" % early if early else "") if gs else ""
                    elif k == "handshake":
                        lib = [r for r in by[k] if r["detail"].startswith("libcoap ended")]
                        ts = [float(m.group(1)) for m in (re.search(r"at ([\d.]+) s", r["detail"])
                                                         for r in lib) if m]
                        d = sorted({r["detail"] for r in by[k] if r["detail"] and r not in lib})
                        if ts:
                            n_to = sorted({re.search(r"after (\d+) handshake", r["detail"]).group(1)
                                           for r in lib})
                            d.insert(0, "libcoap ended the DTLS session after %s handshake "
                                     "retransmission timeouts, %.0f–%.0f s after the start"
                                     % ("/".join(n_to), min(ts), max(ts)))
                        extra = (" (" + "; ".join(d) + ")") if d else ""
                    elif k == "cap-transfer":
                        bl = [int(r["blocks"]) for r in by[k] if r["blocks"]]
                        extra = " (%d–%d of 64 blocks received)" % (min(bl), max(bl)) if bl else ""
                    elif k == "cap-stalled":
                        gaps = [float(r["lg_release_s"]) - float(r["hs_s"] or 0) for r in by[k]
                                if r["lg_release_s"]]
                        if gaps:
                            extra = (" (lg_crcv released %.1f–%.1f s after the first request)"
                                     % (min(gaps), max(gaps)))
                    elif k == "other":
                        d = sorted({r["detail"] for r in by[k] if r["detail"]})
                        extra = (" (" + "; ".join(d) + ")") if d else ""
                    parts.append("%s: seed%s %s%s" % (kind_names[k], "s" if len(by[k]) > 1
                                                      else "", seeds, extra))
                w("- %s — %s" % (label[p], "; ".join(parts)))
        w("")

    def compare(p1, p2, title):
        if p1 not in pairs or p2 not in pairs:
            return
        w("### %s\n" % title)
        w("Same seeds, so the runs are paired (but the two pairs send different datagram "
          "sequences, so a seed does not drop the same messages). Fisher's exact test on the "
          "completion counts (two-sided), a check of whether the two completion rates differ "
          "by more than chance.\n")
        n1, n2 = "pair " + label[p1].split(".")[0], "pair " + label[p2].split(".")[0]
        w("| loss | %s completed | %s completed | both | only %s | only %s | neither | Fisher p |"
          % (n1, n2, n1, n2))
        w("|---|---|---|---|---|---|---|---|")
        for l in losses:
            s1, s2 = st[(l, p1)], st[(l, p2)]
            seeds = {r["seed"] for r in s1["rows"]} & {r["seed"] for r in s2["rows"]}
            both = len(seeds & s1["okseeds"] & s2["okseeds"])
            o1 = len((seeds & s1["okseeds"]) - s2["okseeds"])
            o2 = len((seeds & s2["okseeds"]) - s1["okseeds"])
            nei = len(seeds) - both - o1 - o2
            pv = fisher_two_sided(s1["ok"], s1["n"] - s1["ok"], s2["ok"], s2["n"] - s2["ok"])
            w("| %s %% | %d/%d | %d/%d | %d | %d | %d | %d | %.2g |" % (
                l, s1["ok"], s1["n"], s2["ok"], s2["n"], both, o1, o2, nei, pv))
        w("")

    w("## Comparisons\n")
    compare("coap-client/coaps-server", "coap-client/coap-server",
            "coap-client against the two servers (pairs 1 and 2)")
    compare("coaps-client/coaps-server", "coaps-client/coap-server",
            "coaps-client against the two servers (pairs 3 and 5)")
    compare("coaps-client/coaps-server", "coaps-client-tuned/coaps-server",
            "Transmission parameters: RFC defaults against %g s / %d (pairs 3 and 4)"
            % (ack / 1000.0, retx))
    compare("coap-client/coaps-server", "coaps-client/coaps-server",
            "The two clients against coaps-server (pairs 1 and 3)")

    w("Kinds of failure: *DTLS handshake given up by the client* — the client ended the "
      "handshake itself before the cap; *CoAP gave up* — libcoap logged `give up after N "
      "attempts` for a confirmable request (MAX_RETRANSMIT exhausted) and the client ended; "
      "*cap, …* — the client had not finished after %g s and was stopped: still in the "
      "handshake, still transferring, or *stalled*: the client's libcoap had released its "
      "block-wise receive state (`lg_crcv … released` in its debug log) and sent nothing "
      "further. Medians and p90 are of the completed runs only (linear interpolation).\n" % cap)
    w("Raw data: [coaps-loss.csv](coaps-loss.csv) (one line per run: `%s`).\n" % CSV_HEADER)
    if a.notes and os.path.exists(a.notes):
        with open(a.notes) as f:
            w(f.read().rstrip() + "\n")
    with open(a.out, "w") as f:
        f.write("\n".join(out))
    sys.stderr.write("wrote %s\n" % a.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--bin", required=True, help="petrel build directory")
        p.add_argument("--cap", type=float, default=300.0)
        p.add_argument("--tuned-ack-timeout", type=int, default=1000)
        p.add_argument("--tuned-max-retransmit", type=int, default=10)
        p.add_argument("--delay", default="")
        p.add_argument("--logs", default="", help="keep every client's log here")

    p = sub.add_parser("one")
    common(p)
    p.add_argument("--pair", required=True, choices=sorted(PAIRS))
    p.add_argument("--loss", required=True)
    p.add_argument("--seed", type=int, required=True)
    p = sub.add_parser("run")
    common(p)
    p.add_argument("--out", required=True)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--losses", default="0 10 20 30")
    p.add_argument("--pairs", default="1 2 3 4 5")
    p.add_argument("--jobs", type=int, default=16)
    p.add_argument("--petrel-rev", default="")
    p = sub.add_parser("report")
    p.add_argument("--csv", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--command", default="")
    p.add_argument("--meta", default="", help="the run's .meta.json (default: next to the CSV)")
    p.add_argument("--notes", default="", help="a Markdown file appended to the report")
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
