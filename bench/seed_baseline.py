#!/usr/bin/python3
"""bench/seed_baseline.py: accel-top's bridge beside a baseline of the seed's design, in one run.

The seed-style baseline is a Python server on Debian's python3-websockets that speaks the seed's
design: JSON text messages, every message parsed (json.loads) and made (json.dumps), tensors as
base64 inside the JSON. It is timed exactly as bench/roundtrip times accel-top's bridge, with a
real headless Chromium page (bench/seed_page.html, the same page-side test: ping -> pong, and a
1 MiB tensor echoed back): the server sends, the page answers, the server times each round trip.
Then build/bench-roundtrip runs (accel-top's bridge with its own page, and its loopback TCP echo
baseline), accel-top's CPU sampled from /proc at its phase lines, and accel-top's RSS with no
browser is read from an idle `accel-top -b --no-launch`. Prints one table of ratios on stdout.

The raw libwebsockets baseline (the notes' 0.110 ms row, shared/notes/lws-libuv.md) is
build/bench-lws_echo: a bare lws server on libuv with the bridge's buffer sizes and TCP_NODELAY and
nothing on top, timed the same way with the same Chromium (bench/lws_echo_page.html); accel-top /
raw-lws ratios are printed beside the seed-style ones.
Usage: bench/seed_baseline.py [SMALL_ROUNDS] [MIB_ROUNDS]  (default 2000 200)"""
import asyncio
import base64
import http
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCEL_TOP = os.environ.get("ACCEL_TOP", os.path.join(ROOT, "accel-top"))
ROUNDTRIP = os.environ.get("ROUNDTRIP", os.path.join(ROOT, "build", "bench-roundtrip"))
LWS_ECHO = os.environ.get("LWS_ECHO", os.path.join(ROOT, "build", "bench-lws_echo"))
MIB = 1 << 20
PAGE = open(os.path.join(ROOT, "bench", "seed_page.html"), "rb").read()


def pct(v, p):
    v = sorted(v)
    return v[int(p * (len(v) - 1) + 0.5)]


def rss_mb(pid="self"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def chromium(url, profile):
    exe = shutil.which("chromium") or "chromium"
    return subprocess.Popen([exe, "--headless", "--no-sandbox", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync", "--no-first-run",
                             f"--user-data-dir={profile}", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop_chromium(br):
    """Chromium and its children: the process group it leads (started above as its own)."""
    try:
        os.killpg(br.pid, 15)
        br.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(br.pid, 9)
        except ProcessLookupError:
            pass
        br.wait()


async def seed_style(small, mib):
    """The seed's design: every message through json.loads/json.dumps, tensors as base64."""
    res = {}
    done = asyncio.get_running_loop().create_future()
    payload = bytes((i * 131 >> 3) & 0xFF for i in range(MIB))   # the bridge's echo pattern

    async def handler(ws, path):
        json.loads(await ws.recv())                                 # hello
        rt = []
        warm = small // 20 + 1
        c0 = self_cpu()
        for i in range(small + warm):
            if i == warm:
                c0 = self_cpu()
            t0 = time.perf_counter_ns()
            await ws.send(json.dumps({"type": "ping", "id": i}))
            m = json.loads(await ws.recv())
            if m["type"] != "pong" or m["id"] != i:
                raise RuntimeError(f"seed-style: expected pong {i}, got {m}")
            if i >= warm:
                rt.append(time.perf_counter_ns() - t0)
        res["cpu_small_s"] = self_cpu() - c0
        res["p50_us"], res["p99_us"] = pct(rt, 0.5) / 1e3, pct(rt, 0.99) / 1e3
        warm = mib // 20 + 1
        for i in range(mib + warm):
            if i == warm:
                t_start = time.perf_counter()
            msg = {"type": "echo", "id": i, "tensor": {"dtype": "uint8", "dims": [MIB],
                                                       "data": base64.b64encode(payload).decode()}}
            await ws.send(json.dumps(msg))
            m = json.loads(await ws.recv())
            if base64.b64decode(m["tensor"]["data"]) != payload:
                raise RuntimeError("seed-style: the echoed tensor differs")
        res["mbps"] = 2.0 * MIB * mib / (time.perf_counter() - t_start) / 1e6
        res["rss_mb"] = rss_mb()
        done.set_result(True)

    def process_request(path, headers):
        if path.startswith("/ws"):
            return None
        return (http.HTTPStatus.OK, [("Content-Type", "text/html")], PAGE)

    async with websockets.serve(handler, "127.0.0.1", 0, process_request=process_request, max_size=None,
                                compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        res["idle_rss_mb"] = rss_mb()
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as prof:
            br = chromium(f"http://127.0.0.1:{port}/", prof)
            try:
                await asyncio.wait_for(done, 600)
            finally:
                stop_chromium(br)
    return res


def accel_top_roundtrip(small, mib):
    """build/bench-roundtrip, its CPU sampled at its phase lines (the small phase only)."""
    p = subprocess.Popen([ROUNDTRIP, str(small), str(mib)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=dict(os.environ, ACCEL_TOP_DATA=os.environ.get("ACCEL_TOP_DATA", ROOT)))
    c_start = c_end = None
    rss = 0.0
    for line in p.stderr:
        if "; timing" in line:
            c_start = cpu_s(p.pid)
        elif "pings done" in line:
            c_end = cpu_s(p.pid)
        elif "echoes done" in line:
            rss = rss_mb(p.pid)
    out = p.stdout.read()
    p.wait()
    fig = {}
    for key, label in (("small round trip, median", "p50"), ("small round trip, p99", "p99"),
                       ("1 MiB frames both ways", "mbps")):
        m = re.search(re.escape(key) + r"[^\n]*?\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\n", out)
        if not m:
            raise RuntimeError(f"bench-roundtrip printed no '{key}': {out[-600:]}")
        fig[label], fig["tcp_" + label] = float(m.group(1)), float(m.group(2))
    # its warm-up is rounds/20+1 round trips inside the timed CPU window: counted as requests too
    fig["cpu_small_s"] = (c_end - c_start) if c_start is not None and c_end is not None else None
    fig["rss_mb_with_browser"] = rss
    return fig


def raw_lws(small, mib):
    """build/bench-lws_echo with a headless Chromium; its CPU sampled at its phase lines."""
    p = subprocess.Popen([LWS_ECHO, str(small), str(mib)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=dict(os.environ, ACCEL_TOP_DATA=os.environ.get("ACCEL_TOP_DATA", ROOT)))
    res = {}
    br = None
    c_start = c_end = None
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as prof:
        try:
            for line in p.stderr:
                m = re.search(r"listening on (\d+)", line)
                if m:
                    br = chromium(f"http://127.0.0.1:{m.group(1)}/", prof)
                elif "timing" in line:
                    c_start = cpu_s(p.pid)
                elif "pings done" in line:
                    c_end = cpu_s(p.pid)
                elif "echoes done" in line:
                    res["rss_mb"] = rss_mb(p.pid)
            out = p.stdout.read()
            p.wait()
        finally:
            if br:
                stop_chromium(br)
    if p.returncode or not out.strip():
        raise RuntimeError(f"bench-lws_echo failed (exit {p.returncode})")
    res.update(json.loads(out.strip().splitlines()[-1]))
    # as for bench-roundtrip: the warm-up round trips are inside the CPU window
    res["cpu_small_s"] = (c_end - c_start) if c_start is not None and c_end is not None else None
    return res


def idle_accel_top_rss():
    p = subprocess.Popen([ACCEL_TOP, "-b", "--no-launch", "--port", "0", "-d", "5"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(3)
    r = rss_mb(p.pid)
    p.terminate()
    p.wait()
    return r


def main():
    small = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    print(f"seed_baseline: {small} small round trips, {mib} x 1 MiB echoes, headless Chromium; "
          f"load: {open('/proc/loadavg').read().strip()}", file=sys.stderr)
    s = asyncio.run(seed_style(small, mib))
    a = accel_top_roundtrip(small, mib)
    r = raw_lws(small, mib)
    idle = idle_accel_top_rss()
    cpu_a = a["cpu_small_s"] / (small + small // 20 + 1) * 1e6 if a["cpu_small_s"] is not None else float("nan")
    cpu_s_ = s["cpu_small_s"] / small * 1e6
    cpu_r = r["cpu_small_s"] / (small + small // 20 + 1) * 1e6 if r["cpu_small_s"] is not None else float("nan")
    rows = [
        ("small round trip, median (us)", a["p50"], s["p50_us"], r["p50_us"], a["tcp_p50"],
         "< seed-style; <= 1.35x raw lws"),
        ("small round trip, p99 (us)", a["p99"], s["p99_us"], r["p99_us"], a["tcp_p99"], ""),
        ("1 MiB both ways, payload MB/s", a["mbps"], s["mbps"], r["mbps"], a["tcp_mbps"], ">= 6.5x seed-style"),
        ("server CPU per small round trip (us)", cpu_a, cpu_s_, cpu_r, None, "<= 1/3 of seed-style"),
        ("server RSS, with the page connected (MB)", a["rss_mb_with_browser"], s["rss_mb"], r.get("rss_mb"), None, ""),
        ("accel-top RSS, no browser (MB)", idle, s["idle_rss_mb"], None, None, "<= 20 MB"),
    ]
    print("\nbench/seed_baseline: accel-top's bridge, a seed-style Python server (JSON + base64) and a raw "
          "libwebsockets echo, the same Chromium page-side test, one run")
    print(f"  {'':42} {'accel-top':>10} {'seed-style':>11} {'/seed':>6} {'raw-lws':>9} {'/lws':>6} "
          f"{'tcp-echo':>9}   goal")
    for name, x, y, z, t, goal in rows:
        zz = f"{z:9.1f} {x / z:6.2f}" if z else f"{'':9} {'':6}"
        tt = f"{t:9.1f}" if t is not None else f"{'':9}"
        print(f"  {name:42} {x:10.1f} {y:11.1f} {x / y:6.2f} {zz} {tt}   {goal}")
    print(json.dumps({"accel_top": a, "seed_style": s, "raw_lws": r, "accel_top_idle_rss_mb": idle,
                      "cpu_us_per_rt": {"accel_top": cpu_a, "seed_style": cpu_s_, "raw_lws": cpu_r}}))


if __name__ == "__main__":
    main()
