"""Child-process and CSV helpers shared by the benchmark runners
(hsbench.py, coaps_loss.py): every child is tracked by its PID, so that it
can be stopped by PID, never by name."""
import signal
import subprocess
import threading

_children = set()
_children_lock = threading.Lock()


def spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    with _children_lock:
        _children.add(p)
    return p


def reap(p, term_wait=3.0):
    """SIGTERM, a bounded wait, then SIGKILL; by PID only. Returns the exit status."""
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(term_wait)
        except subprocess.TimeoutExpired:
            try:
                p.kill()
            except ProcessLookupError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
    with _children_lock:
        _children.discard(p)
    return p.returncode

def forget(p):
    """p has exited and been waited for: stop tracking it."""
    with _children_lock:
        _children.discard(p)


def kill_all_children(*_):
    with _children_lock:
        procs = list(_children)
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
            except ProcessLookupError:
                pass
    for p in procs:
        try:
            p.wait(2)
        except Exception:
            pass


def read_port_file(path):
    """The port in a --port-file once it is completely written, else None."""
    try:
        with open(path) as f:
            txt = f.read()
    except FileNotFoundError:
        return None
    return int(txt) if txt.endswith("\n") and txt.strip().isdigit() else None


def csv_field(s):
    s = (s or "").replace('"', "'").replace("\n", " ")
    return '"%s"' % s if ("," in s or " " in s) else s
