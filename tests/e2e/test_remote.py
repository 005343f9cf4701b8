#!/usr/bin/python3
"""A browser that reaches accel-top under another name (issue 16): the Origin check, what the
operator and the page are told when it refuses, and what an http page on a non-loopback name
lacks (not a secure context: no WebGPU, no wasm threads).

No traffic leaves the machine: Chromium maps the name labhost to 127.0.0.1 itself
(--host-resolver-rules), so its page's origin is http://labhost:PORT, a name that is not
potentially trustworthy. The page's own view is read over Chromium's DevTools protocol.

Run: tests/e2e/test_remote.py [NAME...]; ACCEL_TOP names the binary. Ends with 'N passed, N failed'.
"""
import asyncio
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ACCEL_TOP, AccelTop, Fail, check, leftovers, run_tests  # noqa: E402

import websockets  # Debian python3-websockets  # noqa: E402

TOKEN = "remote-test-token"


def free_port():
    """A port free now (the --public-url and --allow-origin must name it before accel-top starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Chromium:
    """A Chromium we start ourselves, with the project's flags (pool/family.c), that resolves labhost
    to 127.0.0.1 and exposes DevTools on a loopback port; killed with its whole session."""

    def __init__(self, url):
        self.prof = tempfile.mkdtemp(prefix="accel-top-remote-")
        self.devtools = free_port()
        self.p = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={self.prof}",
             "--enable-unsafe-webgpu", "--host-resolver-rules=MAP labhost 127.0.0.1",
             f"--remote-debugging-port={self.devtools}", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def evaluate(self, expr, timeout=10):
        """expr evaluated in the page (DevTools Runtime.evaluate); its value."""
        end = time.time() + timeout
        target = None
        while time.time() < end and not target:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.devtools}/json", timeout=2) as r:
                    target = next((t for t in json.load(r) if t.get("type") == "page"), None)
            except OSError:
                time.sleep(0.3)
        check(target, "Chromium's DevTools listed no page")

        async def ask():
            async with websockets.connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=5) as ws:
                await ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate",
                                          "params": {"expression": expr, "returnByValue": True}}))
                while True:
                    m = json.loads(await asyncio.wait_for(ws.recv(), max(1, end - time.time())))
                    if m.get("id") == 1:
                        return m["result"]["result"].get("value")
        return asyncio.run(ask())

    def kill(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.p.wait()
        shutil.rmtree(self.prof, ignore_errors=True)


def start(port, *extra):
    at = AccelTop("-b", "--json", "-d", "0.5", "--no-launch", "--listen", "127.0.0.1", "--port", str(port),
                  "--token", TOKEN, *extra)
    at.wait_url()
    return at


def admission(port, host, token=TOKEN):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", f"/admission?token={token}", headers={"Host": host})
        r = c.getresponse()
        return r.status, r.getheader("cache-control"), json.loads(r.read())
    finally:
        c.close()


def pump(at, seconds):
    """Reads accel-top's output for a while; returns the snapshots seen."""
    end = time.time() + seconds
    snaps = []
    while time.time() < end:
        try:
            snaps.append(at.next_json(timeout=max(1, end - time.time())))
        except Fail:
            break
    return snaps


def connected(s):
    return [b for b in s["browsers"] if b["state"] == "connected" and b["webgpu"]["status"]]


def test_host_name_is_refused_with_the_fix():
    port = free_port()
    origin = f"http://labhost:{port}"
    at = start(port)
    ch = None
    try:
        ch = Chromium(f"http://labhost:{port}/?token={TOKEN}")
        # the page retries with backoff (0.25, 0.5, 1, 2, 4 s): several refusals in 9 s, one line
        snaps = pump(at, 9)
        check(snaps and not any(s["browsers"] for s in snaps), f"a browser attached: {snaps[-1] if snaps else None}")
        err = at.err.decode()
        line = f"refused a WebSocket from origin {origin} (peer "
        check(err.count(line) == 1, f"want one refusal line for {origin}; stderr: {err[-2000:]!r}")
        check(f"--allow-origin {origin} or --public-url {origin}/" in err, err[-2000:])
        status, cache, j = admission(port, f"labhost:{port}")
        check(status == 200 and cache == "no-store", f"{status} {cache}")
        check(j["allowed"] is False and j["origin"] == origin and f"--allow-origin {origin}" in j["reason"], j)
        status, _, j = admission(port, f"127.0.0.1:{port}")
        check(status == 200 and j["allowed"] is True, j)
        status, _, j = admission(port, f"labhost:{port}", token="wrong-token-value")
        check(status == 403 and j["allowed"] is False and "token" in j["reason"], f"{status} {j}")
        # the page shows the same reason
        state = ch.evaluate("document.getElementById('state').textContent")
        check(state and "refused by accel-top" in state and f"--allow-origin {origin}" in state, state)
        at.stop()
    finally:
        if ch:
            ch.kill()
        at.kill()
    check(not leftovers(at), leftovers(at))


def attach_and_check_insecure(port, *extra):
    at = start(port, *extra)
    ch = None
    try:
        ch = Chromium(f"http://labhost:{port}/?token={TOKEN}")
        s = at.wait_for(lambda s: connected(s), 40, "the labhost browser attached")
        (b,) = connected(s)
        g, w = b["webgpu"], b["wasm"]
        check(g["status"] == "unavailable" and "navigator.gpu is undefined" in g["evidence"]
              and "not a secure context (http on a non-loopback address): use --tls-cert" in g["evidence"]
              and "https" in g["evidence"], g)
        check("not a secure context (http on a non-loopback address): use --tls-cert" in w["evidence"], w)
        check(b["secure_context"] is False, b)
        secure = ch.evaluate("isSecureContext")
        check(secure is False, f"isSecureContext {secure!r}")
        check("refused" not in at.err.decode(), at.err.decode()[-1500:])
        at.stop()
        return at, s
    finally:
        if ch:
            ch.kill()
        at.kill()


def test_allow_origin_attaches_and_names_the_insecure_context():
    port = free_port()
    at, _ = attach_and_check_insecure(port, "--allow-origin", f"http://labhost:{port}")
    check(not leftovers(at), leftovers(at))


def test_public_url_attaches_and_is_the_url_shown():
    port = free_port()
    at, s = attach_and_check_insecure(port, "--public-url", f"http://labhost:{port}/")
    check(s["bridge"]["url"] == f"http://labhost:{port}/", s["bridge"])
    check(f"serving http://labhost:{port}/?token={TOKEN}" in at.err.decode(), at.err.decode()[-800:])
    check("warning: http on labhost (not a loopback address): browsers on other machines will not be a secure "
          "context" in at.err.decode(), at.err.decode()[-800:])
    check(not leftovers(at), leftovers(at))


async def ws_try(port, token, origin):
    """True when the upgrade was accepted."""
    try:
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws?token={token}", subprotocols=["accel.v1"],
                                      origin=origin, open_timeout=5)
    except (websockets.exceptions.InvalidHandshake, websockets.exceptions.ConnectionClosed, OSError, EOFError):
        return False
    await ws.close()
    return True


def test_foreign_origin_and_wrong_token_still_refused():
    port = free_port()
    at = start(port, "--allow-origin", f"http://labhost:{port}")
    try:
        check(not asyncio.run(ws_try(port, TOKEN, "http://evil.example")), "foreign Origin accepted")
        check(not asyncio.run(ws_try(port, "wrong-token-value", f"http://labhost:{port}")),
              "wrong token accepted from an allowed origin")
        check(asyncio.run(ws_try(port, TOKEN, f"http://labhost:{port}")), "allowed origin refused")
        pump(at, 1.5)
        err = at.err.decode()
        check("refused a WebSocket from origin http://evil.example (peer " in err
              and "--allow-origin http://evil.example" in err, err[-1500:])
        check(re.search(rf"refused a WebSocket from origin http://labhost:{port} \(peer [^)]*\): missing or wrong token",
                        err), err[-1500:])
        at.stop()
    finally:
        at.kill()


def test_bad_origin_options_are_one_line():
    for args, want in ((["--allow-origin", "labhost:8765"], "--allow-origin 'labhost:8765': start with http://"),
                       (["--allow-origin", "http://labhost:8765/"], "nothing after"),
                       (["--public-url", "ftp://labhost/"], "--public-url 'ftp://labhost/'")):
        p = subprocess.run([ACCEL_TOP, "-b", *args], capture_output=True, text=True, timeout=20,
                           stdin=subprocess.DEVNULL)
        check(p.returncode == 2 and want in p.stderr and p.stderr.count("\n") == 1, f"{args}: {p.returncode} {p.stderr!r}")


def main(argv):
    return run_tests("remote", globals(), argv, cleanup=None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
