#!/usr/bin/python3
"""End-to-end tests: the real accel-top with real headless Chromium and Firefox.

Protocol-violation tests use wsclient(): a scripted WebSocket client (not a browser, and never
counted as one) that plays a misbehaving peer, which no real page would do.

Run: tests/e2e/test_e2e.py [NAME...]; ACCEL_TOP names the binary. Ends with 'N passed, N failed'.
"""
import asyncio
import json
import struct
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AccelTop, Fail, by_kind, check, leftovers, process_table, run_tests  # noqa: E402

import websockets  # Debian python3-websockets  # noqa: E402


def both_connected(s):
    kinds = {b["kind"]: b for b in s["browsers"] if b["state"] == "connected" and b["webgpu"]["status"]}
    return "chromium" in kinds and "firefox" in kinds


def test_both_browsers_report_accelerators():
    """The issue's 'done when': two JSON lines, both browsers connected and classified, < 30 s."""
    t0 = time.time()
    at = AccelTop("-b", "-n", "2", "--json", "--browsers", "chromium,firefox", "--port", "0")
    try:
        snaps = [at.next_json(30), at.next_json(30)]
        rc = at.finish()
    finally:
        at.kill()
    elapsed = time.time() - t0
    check(rc == 0, f"exit code {rc}; stderr {at.err.decode()[-500:]}")
    check(elapsed < 30, f"took {elapsed:.1f}s")
    for s in snaps:
        check(s["bridge"]["port"] > 0 and "token" not in s["bridge"]["url"], f"bridge {s['bridge']}")
        check(both_connected(s), f"not both connected: {json.dumps(s)[:800]}")
        (c,) = by_kind(s, "chromium")
        (f,) = by_kind(s, "firefox")
        for b in (c, f):
            check(b["managed"] is True and b["id"] >= 1 and b["version"], f"fields of {b['kind']}")
            check(b["webgpu"]["status"] == "software", f"{b['kind']} webgpu {b['webgpu']['status']}")
            check(b["webnn"]["status"] == "unavailable", f"{b['kind']} webnn {b['webnn']['status']}")
            check(b["wasm"]["status"] == "software", f"{b['kind']} wasm {b['wasm']['status']}")
        check("swiftshader" in c["webgpu"]["evidence"], c["webgpu"]["evidence"])
        check(c["webgpu"]["architecture"] == "swiftshader" and c["webgpu"]["fallback"] is True, "chromium adapter fields")
        check("isFallbackAdapter=true" in f["webgpu"]["evidence"], f["webgpu"]["evidence"])
        check(f["webgpu"]["fallback"] is True, "firefox fallback flag")
        check("NotSupportedError" in c["webnn"]["evidence"], c["webnn"]["evidence"])
        check(c["webnn"]["devices"]["gpu"]["ok"] is False and "not supported" in c["webnn"]["devices"]["gpu"]["error"],
              "chromium webnn gpu device result")
        check("navigator.ml is undefined" in f["webnn"]["evidence"], f["webnn"]["evidence"])
    left = leftovers(at)
    check(not left, f"left behind: {left}")


def test_text_batch_output():
    at = AccelTop("-b", "-n", "1", "--browsers", "chromium", "--port", "0")
    try:
        rc = at.finish(40)
    finally:
        at.kill()
    out = "\n".join(at.lines)
    check(rc == 0, f"exit {rc}")
    check("KIND" in out and "chromium" in out and "software" in out and "swiftshader" in out, out[:1500])
    check(not leftovers(at), leftovers(at))


async def ws_open(at, token=None, subprotocols=("accel.v1",), origin=None, path="/ws"):
    tok = at.token if token is None else token
    url = f"ws://127.0.0.1:{at.port}{path}?token={tok}"
    return await websockets.connect(url, subprotocols=list(subprotocols) if subprotocols else None,
                                    origin=origin, max_size=None, open_timeout=5)


async def refused(coro):
    try:
        ws = await coro
    except (websockets.exceptions.InvalidHandshake, websockets.exceptions.ConnectionClosed, OSError, EOFError):
        return True
    # lws may finish the handshake and drop at once; a refused socket never answers
    try:
        await ws.send(json.dumps({"type": "hello", "id": 1, "protocol": 1}))
        await asyncio.wait_for(ws.recv(), 3)
    except (websockets.exceptions.ConnectionClosed, asyncio.TimeoutError):
        return True
    return False


HELLO = {"type": "hello", "id": 1, "protocol": 1, "instance": None,
         "browser": {"name": "wsclient", "version": "0", "user_agent": "scripted test client (not a browser)"},
         "webgpu": {"api": False}, "webnn": {"api": False}, "wasm": {"api": False}}


async def expect(ws, type_, code=None, timeout=5):
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if m["type"] == "ping":  # heartbeats may interleave
            await ws.send(json.dumps({"type": "pong", "id": m["id"]}))
            continue
        check(m["type"] == type_, f"expected {type_}, got {m}")
        if code:
            check(m.get("code") == code, f"expected code {code}, got {m}")
        return m


def test_refusals_and_malformed_messages():
    at = AccelTop("-b", "--json", "--no-launch", "--port", "0", "-d", "0.5", "--max-message", "8K")
    try:
        at.wait_url()

        async def run():
            check(await refused(ws_open(at, token="wrong-token-value")), "wrong token accepted")
            check(await refused(ws_open(at, token="")), "empty token accepted")
            check(await refused(ws_open(at, subprotocols=None)), "missing subprotocol accepted")
            check(await refused(ws_open(at, subprotocols=("other.v9",))), "wrong subprotocol accepted")
            check(await refused(ws_open(at, origin="http://evil.example")), "foreign Origin accepted")
            ws = await ws_open(at, origin=f"http://127.0.0.1:{at.port}")
            check(ws.subprotocol == "accel.v1", f"subprotocol {ws.subprotocol}")
            await ws.send(json.dumps({"type": "ping", "id": 7}))
            m = await expect(ws, "error", "out_of_order")
            check(m["id"] == 7, f"error does not echo the id: {m}")
            await ws.send(json.dumps(HELLO))
            w = await expect(ws, "welcome")
            check(w["id"] == 1 and w["instance"] >= 1 and w["heartbeat_ms"] > 0, f"welcome {w}")
            check("protocol_features" not in w, f"a hello without protocol_features got them back: {w}")
            for bad, code in [("not json", "bad_json"), ("[1,2]", "bad_json"), ('{"id":3}', "bad_message"),
                              ('{"type":"frobnicate","id":4}', "unknown_type"),
                              ('{"type":"ping","id":-1}', "bad_message"),
                              ('{"type":"welcome","id":5,"instance":1}', "out_of_order"),
                              (json.dumps(HELLO), "out_of_order"),
                              ('{"type":"pong","id":999999}', "out_of_order")]:
                await ws.send(bad)
                await expect(ws, "error", code)
                await ws.send(json.dumps({"type": "ping", "id": 42}))  # still usable
                p = await expect(ws, "pong")
                check(p["id"] == 42, f"pong {p}")
            await ws.send(b"ATNS\x01\x01\x00\x00" + b"\0" * 8 + b"\0" * 4)  # a valid float32 scalar nobody announced
            await expect(ws, "error", "out_of_order")
            await ws.send(b"XXXX" + b"\0" * 20)
            await expect(ws, "error", "bad_frame")
            await ws.send(json.dumps({"type": "ping", "id": 43}))
            await expect(ws, "pong")
            # over --max-message: closed with 1009
            await ws.send("x" * 9000)
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            except websockets.exceptions.ConnectionClosed as e:
                check(e.code == 1009, f"close code {e.code}, expected 1009")
            # the server is still fine
            ws2 = await ws_open(at)
            await ws2.send(json.dumps(dict(HELLO, protocol_features=["onemsg", "later"])))
            w = await expect(ws2, "welcome")
            check(w.get("protocol_features") == ["onemsg"] and isinstance(w.get("max_message"), int)
                  and w["max_message"] > 0, f"the one-message form not accepted: {w}")
            # one-messages (man/accel-top-protocol.7, ONE-MESSAGE FORM): decoded, checked, answered
            def onemsg(text, frames, k=None):
                j = text.encode()
                out = b"ATNM\x01\0\0\0" + struct.pack("<II", len(j), len(frames) if k is None else k)
                out += j + b"\0" * (-len(j) % 8)
                for f in frames:
                    out += struct.pack("<Q", len(f)) + f + b"\0" * (-len(f) % 8)
                return out
            scalar = lambda rid: b"ATNS\x01\x01\x00\x00" + struct.pack("<II", rid, 0) + b"\0" * 4
            await ws2.send(onemsg('{"type":"echo","id":77,"tensors":1}', [scalar(77)], k=2))
            await expect(ws2, "error", "bad_message")
            await ws2.send(onemsg('{"type":"echo","id":78,"tensors":1}', [scalar(5)]))
            await expect(ws2, "error", "out_of_order")
            await ws2.send(onemsg('{"type":"echo","id":79,"tensors":1}', [scalar(79)]))  # answers nothing of ours
            m = await expect(ws2, "error", "out_of_order")
            check(m["id"] == 79, f"error for the one-message echo: {m}")
            await ws2.send(onemsg('{"type":"ping","id":80}', []))
            p = await expect(ws2, "pong")
            check(p["id"] == 80, f"pong to a one-message ping: {p}")
            await ws2.close()

        asyncio.run(run())
        at.wait_for(lambda s: any(b["kind"] == "wsclient" and not b["managed"] for b in s["browsers"]), 10,
                    "the scripted client listed as an attached browser")
        check(at.p.poll() is None, "accel-top died")
    finally:
        at.stop()
        at.kill()


def test_pong_carries_page_memory():
    """A pong's ua_memory becomes the browser's page_memory_bytes; a bad value is refused."""
    at = AccelTop("-b", "--json", "--no-launch", "--port", "0", "-d", "0.3", "--heartbeat", "0.2")
    try:
        at.wait_url()

        async def next_ping(ws):
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if m["type"] == "ping":
                    return m["id"]

        async def run():
            ws = await ws_open(at)
            await ws.send(json.dumps(HELLO))
            await expect(ws, "welcome")
            await ws.send(json.dumps({"type": "pong", "id": await next_ping(ws), "ua_memory": 12345678}))
            s = await asyncio.to_thread(at.wait_for, lambda s: s["browsers"] and
                                        s["browsers"][0]["page_memory_bytes"] == 12345678, 10, "page memory")
            b = s["browsers"][0]
            check(b["rss_bytes"] is None and b["cpu_pct"] is None, f"attached: RSS/CPU must be null: {b}")
            for bad in ("lots", -5, 1.5, 2 ** 60):
                await ws.send(json.dumps({"type": "pong", "id": await next_ping(ws), "ua_memory": bad}))
                m = await expect(ws, "error", "bad_message")
                check("ua_memory" in m["message"], f"{bad!r}: {m}")
            # pongs without a (usable) figure: n/a, never the old figure passed off as current
            await asyncio.to_thread(at.wait_for, lambda s: s["browsers"][0]["page_memory_bytes"] is None, 10,
                                    "page memory n/a after pongs without it")
            await ws.close()

        asyncio.run(run())
    finally:
        at.stop()
        at.kill()


def test_http_serves_page_and_onnxruntime():
    at = AccelTop("-b", "--no-launch", "--port", "0", "-d", "5")
    try:
        at.wait_url()
        base = f"http://127.0.0.1:{at.port}"
        # every module of the page (accel.js imports the others), so a new one is checked too
        www = os.path.join(os.environ.get("ACCEL_TOP_DATA", "."), "browser-js")
        page = [(f"/{f}", "javascript") for f in sorted(os.listdir(www)) if f.endswith(".js")]
        check(("/accel.js", "javascript") in page, f"{www}: no accel.js")
        for path, ctype in page + [("/", "text/html"), ("/ort/ort.all.min.mjs", "text/javascript"),
                            ("/ort/ort-wasm-simd-threaded.jsep.wasm", "application/wasm"),
                            ("/ort/ort-wasm-simd-threaded.jsep.mjs", "text/javascript")]:
            with urllib.request.urlopen(base + path, timeout=10) as r:
                check(r.status == 200, f"{path}: {r.status}")
                check(ctype in r.headers.get("content-type", ""), f"{path}: content-type {r.headers.get('content-type')}")
                check(r.headers.get("cross-origin-opener-policy") == "same-origin", f"{path}: COOP missing")
                check(r.headers.get("cross-origin-embedder-policy") == "require-corp", f"{path}: COEP missing")
                r.read()
        try:
            urllib.request.urlopen(base + "/no-such-file.js", timeout=5)
            raise Fail("missing file served")
        except urllib.error.HTTPError as e:
            check(e.code == 404, f"missing file: {e.code}")
    finally:
        at.stop()
        at.kill()


def test_killed_browser_is_seen_exited_and_nothing_left():
    at = AccelTop("-b", "--json", "-d", "0.5", "--browsers", "chromium,firefox", "--port", "0")
    try:
        s = at.wait_for(both_connected, 40, "both browsers connected")
        (c,) = by_kind(s, "chromium")
        os.kill(c["pid"], signal.SIGKILL)
        s = at.wait_for(lambda s: by_kind(s, "chromium")[0]["state"] == "exited", 15, "chromium exited")
        (c2,) = by_kind(s, "chromium")
        check("signal 9" in c2["reason"], f"reason {c2['reason']}")
        check(by_kind(s, "firefox")[0]["state"] == "connected", "firefox affected")
        rc = at.stop(signal.SIGTERM)
        check(rc == 128 + signal.SIGTERM, f"exit code {rc}")
    finally:
        at.kill()
    check(not leftovers(at), f"left behind: {leftovers(at)}")


def test_sigint_stops_browsers():
    at = AccelTop("-b", "--json", "-d", "0.5", "--browsers", "chromium:2,firefox:1", "--port", "0")
    try:
        s = at.wait_for(lambda s: sum(b["state"] == "connected" and b["webgpu"]["status"] is not None
                                      for b in s["browsers"]) == 3, 60, "three browsers connected")
        check(len({b["id"] for b in s["browsers"]}) == 3, "ids not distinct")
        at.stop(signal.SIGINT)
    finally:
        at.kill()
    check(not leftovers(at), f"left behind: {leftovers(at)}")


def test_sigkill_of_accel_top_takes_its_browsers_along():
    """kill -9 runs no cleanup of ours: the parent-death signal ends the browsers, and the next
    start removes the runtime folder left behind."""
    at = AccelTop("-b", "--json", "-d", "0.5", "--browsers", "chromium,firefox", "--port", "0")
    try:
        at.wait_for(both_connected, 40, "both browsers connected")
        at.p.kill()
        at.p.wait()
        end = time.time() + 10
        while time.time() < end and [x for x in leftovers(at) if "runtime folder" not in x]:
            time.sleep(0.2)
        procs = [x for x in leftovers(at) if "runtime folder" not in x]
        check(not procs, f"browsers outlived accel-top: {procs}")
    finally:
        at.kill()
    nxt = AccelTop("-b", "-n", "1", "--no-launch", "--port", "0", "--settle", "0")
    nxt.finish(20)
    check(not leftovers(at), f"not swept at the next start: {leftovers(at)}")


def test_frozen_browser_is_lost_then_reconnects_with_same_id():
    at = AccelTop("-b", "--json", "-d", "0.5", "--browsers", "firefox", "--port", "0",
                  "--heartbeat", "0.5", "--heartbeat-timeout", "3")
    try:
        s = at.wait_for(lambda s: by_kind(s, "firefox") and by_kind(s, "firefox")[0]["state"] == "connected"
                        and by_kind(s, "firefox")[0]["rtt_ms"] is not None, 40, "firefox connected with an RTT")
        (f,) = by_kind(s, "firefox")
        os.killpg(f["pid"], signal.SIGSTOP)
        try:
            s = at.wait_for(lambda s: by_kind(s, "firefox")[0]["state"] == "lost", 15, "firefox lost")
            check("heartbeat timeout" in by_kind(s, "firefox")[0]["reason"], by_kind(s, "firefox")[0]["reason"])
        finally:
            os.killpg(f["pid"], signal.SIGCONT)
        s = at.wait_for(lambda s: by_kind(s, "firefox")[0]["state"] == "connected", 30, "firefox back")
        (f2,) = by_kind(s, "firefox")
        check(f2["id"] == f["id"] and f2["reconnects"] >= 1, f"id {f2['id']} vs {f['id']}, reconnects {f2['reconnects']}")
        check(len(s["browsers"]) == 1, "counted twice")
        at.stop()
    finally:
        at.kill()
    check(not leftovers(at), f"left behind: {leftovers(at)}")


def test_attached_browser_gets_an_id():
    at = AccelTop("-b", "--json", "-d", "0.5", "--no-launch", "--port", "0")
    prof = tempfile.mkdtemp(prefix="accel-top-e2e-")
    ch = None
    try:
        at.wait_url()
        ch = subprocess.Popen(["chromium", "--headless=new", "--no-sandbox", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               f"--user-data-dir={prof}", "--enable-unsafe-webgpu", at.url],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        s = at.wait_for(lambda s: s["browsers"] and s["browsers"][0]["state"] == "connected"
                        and s["browsers"][0]["webgpu"]["status"] is not None, 30, "attached browser")
        b = s["browsers"][0]
        check(b["managed"] is False and b["kind"] == "chromium" and b["id"] >= 1 and b["pid"] is None, f"{b}")
        check(b["rss_bytes"] is None and b["nproc"] is None and b["cpu_pct"] is None,
              f"an attached browser is not our process: RSS/CPU must be null: {b}")
        check(b["webgpu"]["status"] == "software", b["webgpu"]["evidence"])
        os.killpg(ch.pid, signal.SIGKILL)
        ch.wait()
        s = at.wait_for(lambda s: s["browsers"][0]["state"] == "lost", 15, "attached browser lost")
        at.stop()
    finally:
        if ch and ch.poll() is None:
            os.killpg(ch.pid, signal.SIGKILL)
        subprocess.run(["rm", "-rf", prof])
        at.kill()


def tree_rss(leader):
    """RSS of a managed browser's processes counted here, independently of accel-top: every live
    process in the browser's session (the launcher makes the browser a session leader), VmRSS
    from /proc/PID/status."""
    total = n = 0
    for pid, (state, sid, _) in process_table().items():
        if sid != leader or state == "Z":
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                kb = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError):
            continue
        total += kb * 1024
        n += 1
    return total, n


def test_browser_usage():
    """RSS, processes and CPU of each managed browser's process tree, compared with /proc read
    here; CPU n/a on the first sample only; page memory from Chromium's
    measureUserAgentSpecificMemory(), none from Firefox (it lacks the API); all recorded."""
    work = tempfile.mkdtemp(prefix="accel-top-e2e-usage-")
    rec = os.path.join(work, "usage.acc")
    # -d 3 > the 2 s sampling interval: a sample falls between any two snapshots
    at = AccelTop("-b", "--json", "-n", "40", "-d", "3", "--browsers", "chromium,firefox", "--port", "0",
                  "--record", rec)
    ratios = {"chromium": [], "firefox": []}
    seen_valid = set()
    chromium_page = None
    try:
        end = time.time() + 90
        while time.time() < end:
            s = at.next_json(30)
            ours = {b["pid"]: tree_rss(b["pid"]) for b in s["browsers"] if b["pid"]}  # right away
            for b in s["browsers"]:
                k, what = b["kind"], f"{b['kind']} {b['id']}"
                check(b["managed"] and b["pid"], f"{what}: not managed: {b}")
                if b["rss_bytes"] is None:
                    check(b["id"] not in seen_valid, f"{what}: RSS went back to n/a while running")
                    check(b["nproc"] is None and b["cpu_pct"] is None, f"{what}: n/a RSS with figures: {b}")
                    continue
                check(b["rss_bytes"] > 10e6, f"{what}: RSS {b['rss_bytes']} bytes")
                check(b["nproc"] >= 2, f"{what}: {b['nproc']} processes")
                if b["id"] in seen_valid:  # a sample came before this one: CPU is a figure now
                    check(b["cpu_pct"] is not None, f"{what}: CPU n/a after the second sample")
                seen_valid.add(b["id"])
                if b["cpu_pct"] is not None:
                    check(0 <= b["cpu_pct"] <= 120 * os.cpu_count(), f"{what}: CPU {b['cpu_pct']}%")
                mine, n = ours.get(b["pid"], (0, 0))
                check(n >= 1, f"{what}: no process of session {b['pid']} found here")
                ratios[k].append(b["rss_bytes"] / mine)
                if k == "firefox":
                    check(b["page_memory_bytes"] is None, f"firefox reported page memory {b['page_memory_bytes']}")
                elif b["page_memory_bytes"] is not None:
                    chromium_page = b["page_memory_bytes"]
            if all(len(r) >= 4 for r in ratios.values()) and chromium_page is not None:
                break
        rc = at.stop()
    finally:
        at.kill()
    check(rc in (0, 128 + signal.SIGTERM), f"exit {rc}; stderr {at.err.decode()[-800:]}")
    for k, r in ratios.items():
        check(len(r) >= 4, f"{k}: only {len(r)} snapshots with RSS")
        # the sample is up to 2 s older than the reading here, and browsers grow while starting
        med = sorted(r)[len(r) // 2]
        check(0.8 <= med <= 1.25, f"{k}: RSS accel-top / here = {med:.2f} (all {[round(x, 2) for x in r]})")
    check(chromium_page is not None and 1e5 < chromium_page < 4e9,
          f"chromium page memory {chromium_page} (measureUserAgentSpecificMemory)")
    print(f"     RSS ratios accel-top/here: " + ", ".join(f"{k} {sorted(r)[len(r) // 2]:.3f}" for k, r in ratios.items())
          + f"; chromium page memory {chromium_page} bytes", flush=True)

    # replayed finely: the first sample of each browser has RSS and no CPU figure (n/a, never 0)
    p = subprocess.run([os.environ.get("ACCEL_TOP", "accel-top"), "--replay", rec, "-b", "--json", "-d", "0.1"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    check(p.returncode == 0, f"replay exit {p.returncode}: {p.stderr[-800:]!r}")
    first = {}
    later = set()
    for line in p.stdout.splitlines():
        for b in json.loads(line)["browsers"]:
            if b["rss_bytes"] is None:
                continue
            if b["id"] not in first:
                first[b["id"]] = b
            elif b["cpu_pct"] is not None:
                later.add(b["id"])
    check(len(first) == 2, f"replay: browsers with usage {sorted(first)}")
    for i, b in first.items():
        check(b["cpu_pct"] is None and b["nproc"] >= 1, f"replay: first sample of browser {i}: {b}")
        check(i in later, f"replay: browser {i} never got a CPU figure")
    subprocess.run(["rm", "-rf", work])
    check(not leftovers(at), f"left behind: {leftovers(at)}")


def test_browser_arg_reaches_the_browser():
    """--browser-arg KIND=FLAG: the flag is on the launched browser's command line, only for that
    kind (Debian's chromium wrapper reorders the arguments, so the order is not checked); a
    malformed one is a usage error."""
    at = AccelTop("-b", "--json", "-d", "0.5", "--port", "0", "--browsers", "chromium,firefox",
                  "--browser-arg", "chromium=--force-device-scale-factor=2")
    try:
        s = at.wait_for(lambda s: len(s["browsers"]) == 2 and all(b["state"] == "connected" for b in s["browsers"]),
                        60, "both browsers")
        for b in s["browsers"]:
            with open(f"/proc/{b['pid']}/cmdline", "rb") as f:
                args = f.read().decode().split("\0")
            has = "--force-device-scale-factor=2" in args
            check(has == (b["kind"] == "chromium"), f"{b['kind']}: {args}")
        at.stop()
    finally:
        at.kill()
    rc, _, err = run_cli("-b", "--browser-arg", "safari=--x")
    check(rc == 2 and "give KIND=FLAG" in err, f"{rc} {err!r}")


def run_cli(*args, timeout=30):
    p = subprocess.run([os.environ.get("ACCEL_TOP", "accel-top"), *args], capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def test_cli_errors_are_one_line_with_the_fix():
    rc, _, err = run_cli("--frobnicate")
    check(rc == 2 and "unknown option '--frobnicate'" in err and err.count("\n") == 1, f"{rc} {err!r}")
    rc, _, err = run_cli("-b", "--browsers", "netscape")
    check(rc == 2 and "unknown browser 'netscape'" in err, f"{rc} {err!r}")
    rc, _, err = run_cli("-b", "-n", "1", "--port", "0", "--browsers", "edge")
    check(rc == 1 and "edge is not installed" in err and "microsoft-edge" in err, f"{rc} {err!r}")
    rc, _, err = run_cli("--port", "0")  # interactive, but stdout is a pipe
    check(rc == 2 and "use -b" in err, f"{rc} {err!r}")
    rc, out, _ = run_cli("--version")
    check(rc == 0 and out.startswith("accel-top "), out)
    rc, out, _ = run_cli("--help")
    check(rc == 0 and "--browsers" in out, out)


def test_port_in_use_is_a_clear_error():
    at = AccelTop("-b", "--no-launch", "--port", "0", "-d", "5")
    try:
        at.wait_url()
        rc, _, err = run_cli("-b", "--no-launch", "--port", str(at.port))
        check(rc == 1 and f"port {at.port}" in err and "--port" in err, f"{rc} {err!r}")
    finally:
        at.stop()
        at.kill()


def main(argv):
    return run_tests("e2e", globals(), argv, cleanup=None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
