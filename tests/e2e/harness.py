"""Helpers for the end-to-end tests: run the real accel-top binary with real browsers, read its
batch JSON, and check what it leaves behind. Standard library plus Debian's python3-websockets."""
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import time
import traceback

ACCEL_TOP = os.environ.get("ACCEL_TOP", os.path.abspath("accel-top"))
TMP = os.environ.get("TMPDIR", "/tmp")


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class AccelTop:
    """One accel-top process. Its stderr is collected; its stdout is read line by line."""

    def __init__(self, *args, env=None):
        e = dict(os.environ)
        e.update(env or {})
        self.args = [ACCEL_TOP, *args]
        self.p = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, env=e)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.p.stdout, selectors.EVENT_READ, "out")
        self.sel.register(self.p.stderr, selectors.EVENT_READ, "err")
        self.out_buf = b""
        self.err = b""
        self.lines = []
        self.url = None
        self.browser_pids = set()

    def _pump(self, timeout):
        for key, _ in self.sel.select(timeout):
            data = os.read(key.fileobj.fileno(), 65536)
            if not data:
                self.sel.unregister(key.fileobj)
                continue
            if key.data == "out":
                self.out_buf += data
                while b"\n" in self.out_buf:
                    line, self.out_buf = self.out_buf.split(b"\n", 1)
                    self.lines.append(line.decode())
            else:
                self.err += data
                m = re.search(rb"serving (https?://\S+)", self.err)
                if m and not self.url:
                    self.url = m.group(1).decode()

    def wait_url(self, timeout=10):
        end = time.time() + timeout
        while not self.url and time.time() < end and self.p.poll() is None:
            self._pump(0.1)
        check(self.url, f"accel-top printed no URL; stderr: {self.err.decode()!r}")
        return self.url

    @property
    def port(self):
        return int(re.search(r":(\d+)/", self.url).group(1))

    @property
    def token(self):
        return re.search(r"token=([^&]+)", self.url).group(1)

    def next_json(self, timeout=30):
        """The next snapshot printed on stdout, parsed."""
        end = time.time() + timeout
        while not self.lines:
            if time.time() > end:
                raise Fail(f"no snapshot within {timeout}s; stderr: {self.err.decode()[-2000:]!r}")
            if self.p.poll() is not None and not self.sel.get_map():
                raise Fail(f"accel-top exited ({self.p.returncode}) early; stderr: {self.err.decode()[-2000:]!r}")
            self._pump(0.2)
        snap = json.loads(self.lines.pop(0))
        for b in snap.get("browsers", []):
            if b.get("pid"):
                self.browser_pids.add(b["pid"])
        return snap

    def wait_for(self, pred, timeout=30, what="condition"):
        """Reads snapshots until pred(snapshot) is true; returns that snapshot."""
        end = time.time() + timeout
        last = None
        while time.time() < end:
            last = self.next_json(timeout=max(1, end - time.time()))
            if pred(last):
                return last
        raise Fail(f"timed out waiting for {what}; last snapshot: {json.dumps(last)[:1500]}")

    def finish(self, timeout=20):
        """Waits for exit, draining output; returns the exit code."""
        end = time.time() + timeout
        while self.p.poll() is None or self.sel.get_map():
            if time.time() > end:
                self.p.kill()
                raise Fail("accel-top did not exit in time")
            self._pump(0.1)
        return self.p.returncode

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.finish(timeout)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def pct(xs, q):
    """The q-quantile of xs (nearest rank), NaN when empty: the benches' percentiles."""
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * (len(xs) - 1) + 0.5))]


def stop_server(p, log, workdir):
    """SIGTERM a server started in its own process group (a Grid, a Prometheus), SIGKILL its
    group after 10 s, then close its log and remove its folder."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    log.close()
    shutil.rmtree(workdir, ignore_errors=True)


def process_table():
    """{pid: (state, session id, cmdline)} for every process."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        procs[int(d)] = (fields[0], int(fields[3]), cmd)
    return procs


def leftovers(at):
    """Live (non-zombie) processes left from accel-top's browsers, and its runtime folder if it
    still exists. Browsers run in their own session, whose id is the browser's pid."""
    runtime = f"{TMP}/accel-top-{at.p.pid}"
    left = []
    for pid, (state, sid, cmd) in process_table().items():
        if state == "Z":
            continue
        if sid in at.browser_pids or runtime in cmd:
            left.append(f"{pid} {cmd[:120]}")
    if os.path.exists(runtime):
        left.append(f"runtime folder {runtime} still exists")
    return left


def by_kind(snap, kind):
    return [b for b in snap["browsers"] if b["kind"] == kind]


def run_tests(suite, namespace, argv, cleanup=None):
    """Runs the test_* functions of namespace (or those named in argv), one line each, and ends
    with '<suite>: N passed, N failed'. Returns the exit code."""
    tests = {k: v for k, v in namespace.items() if k.startswith("test_") and callable(v)}
    passed = failed = 0
    try:
        for n in argv or list(tests):
            t0 = time.time()
            try:
                tests[n]()
                passed += 1
                print(f"ok   {n} ({time.time() - t0:.1f}s)", flush=True)
            except Exception as e:  # noqa: BLE001 - a failing test of any kind is reported, not fatal
                failed += 1
                detail = str(e) if isinstance(e, Fail) else traceback.format_exc()
                print(f"FAIL {n} ({time.time() - t0:.1f}s): {detail}", flush=True)
    finally:
        if cleanup:
            cleanup()
    print(f"{suite}: {passed} passed, {failed} failed")
    return 1 if failed else 0


class Serve:
    """`accel-top serve --stdio ARGS`: requests written as JSON lines, answers read as JSON lines."""

    def __init__(self, *args, env=None):
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen([ACCEL_TOP, "serve", "--stdio", *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.p.stdout, selectors.EVENT_READ, "out")
        self.sel.register(self.p.stderr, selectors.EVENT_READ, "err")
        self.buf = b""
        self.err = b""
        self.answers = []   # every line, parsed, in order
        self.url = None

    def send(self, obj):
        self.p.stdin.write((json.dumps(obj) + "\n").encode())
        self.p.stdin.flush()

    def close_input(self):
        self.p.stdin.close()

    def pump(self, timeout=0.1):
        for key, _ in self.sel.select(timeout):
            data = os.read(key.fileobj.fileno(), 65536)
            if not data:
                self.sel.unregister(key.fileobj)
                continue
            if key.data == "out":
                self.buf += data
                while b"\n" in self.buf:
                    line, self.buf = self.buf.split(b"\n", 1)
                    self.answers.append(json.loads(line))
            else:
                self.err += data
                m = re.search(rb"serving (https?://\S+)", self.err)
                if m and not self.url:
                    self.url = m.group(1).decode()

    def wait(self, pred, timeout=60, what="answer"):
        """Pumps until pred(answers) is true."""
        end = time.time() + timeout
        while time.time() < end:
            if pred(self.answers):
                return self.answers
            if self.p.poll() is not None and not self.sel.get_map():
                break
            self.pump(0.2)
        if pred(self.answers):
            return self.answers
        raise Fail(f"timed out waiting for {what}; last answers: {json.dumps(self.answers[-3:])[:1500]}; "
                   f"stderr: {self.err.decode()[-1500:]!r}")

    def ask(self, cmd, timeout=30, **kw):
        """A {"cmd": ...} line; returns its answer."""
        tag = f"{cmd}-{time.time()}"
        self.send({"cmd": cmd, "id": tag, **kw})
        self.wait(lambda a: any(x.get("id") == tag and x.get("event") == cmd for x in a), timeout, cmd)
        return next(x for x in self.answers if x.get("id") == tag and x.get("event") == cmd)

    def snapshot(self):
        return self.ask("snapshot")["pool"]

    def results(self):
        return [a for a in self.answers if "ok" in a and "event" not in a]

    def finish(self, timeout=60):
        end = time.time() + timeout
        while self.p.poll() is None or self.sel.get_map():
            if time.time() > end:
                self.p.kill()
                raise Fail("accel-top serve did not exit in time")
            self.pump(0.1)
        return self.p.returncode

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
