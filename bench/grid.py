#!/usr/bin/python3
"""bench/grid: what a browser from a Selenium Grid costs next to a locally launched Chromium, in
the same run of accel-top. Starts a standalone Grid from the npm jar (as tests/e2e/test_grid.py
does), then one accel-top with --browsers chromium:1,chromium@grid:1 and one bert-tiny row pinned
to each kind, and reads its -b --json snapshots (every 0.1 s):
  - start to hello: accel-top's start to the first snapshot where the browser said hello; for
    the Grid one also the Grid's own POST /session time (create_s);
  - first result: start to the first completed request of its row;
  - steady round trip: the heartbeat RTT of small messages (--heartbeat 0.2), median and p99 of
    the samples over the measured window, and each row's p50/p99 request latency at its end.
Prints the figures and the Grid/local ratios. Needs java; says so and stops where it is missing.

usage: bench/grid.py [--phase 20] [--model bert-tiny]"""
import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from harness import AccelTop, pct  # noqa: E402
from test_grid import Grid  # noqa: E402


def row_kind(m):
    """The kind of browser a row runs on: its sessions' (the row is pinned to one kind)."""
    for se in m.get("sessions") or []:
        return se.get("kind")
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--phase", type=float, default=20, help="seconds of steady state measured")
    ap.add_argument("--model", default="bert-tiny")
    a = ap.parse_args()
    if not shutil.which("java"):
        print("bench/grid: skipped: java is not installed (apt-get install openjdk-17-jre-headless)")
        return 0
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    t_grid = time.time()
    g = Grid()
    grid_ready_s = time.time() - t_grid
    kinds = ("chromium", "chromium@grid")
    at = None
    try:
        t0 = time.time()
        at = AccelTop("-b", "--json", "-d", "0.1", "--port", "0", "--grid", g.url, "--heartbeat", "0.2",
                      "--browsers", "chromium:1,chromium@grid:1",
                      "--run", f"{a.model}:fp32:wasm:chromium:1", "--run", f"{a.model}:fp32:wasm:chromium@grid:1")
        at.wait_url()
        hello, first, create_s = {}, {}, None
        rtt = {k: [] for k in kinds}
        steady_from = None
        last = None
        while True:
            s = at.next_json(timeout=90)
            now = time.time() - t0
            last = s
            for b in s["browsers"]:
                if b["user_agent"] and b["kind"] not in hello:
                    hello[b["kind"]] = now
                if b["kind"] == "chromium@grid" and b["grid"] and b["grid"]["create_s"] is not None:
                    create_s = b["grid"]["create_s"]
                if steady_from is not None and b["rtt_ms"] is not None:
                    rtt[b["kind"]].append(b["rtt_ms"])
            for m in s["models"]:
                pin = row_kind(m)
                if pin and m["completed"] >= 1 and pin not in first:
                    first[pin] = now
            if steady_from is None and len(first) == 2:
                steady_from = now + 3  # past the first requests' warm-up
            if steady_from is not None and now >= steady_from + a.phase:
                break
            if steady_from is not None and now < steady_from:
                for k in kinds:
                    rtt[k].clear()
        rows = {row_kind(m): m for m in last["models"]}
    finally:
        if at:
            at.stop()
            at.kill()
        g.stop()
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]
    print(f"bench/grid: {a.model} fp32 wasm, one row per browser, concurrency 1, measured {a.phase:.0f} s; "
          f"Grid ready in {grid_ready_s:.1f} s; load {' '.join(load_before)} before, {' '.join(load_after)} after")
    print(f"{'':28}{'local chromium':>16}{'chromium@grid':>16}{'grid/local':>12}")

    def line(name, lv, gv, unit):
        ratio = gv / lv if lv and lv == lv and gv == gv else float("nan")
        print(f"{name:28}{lv:>13.1f} {unit:2}{gv:>13.1f} {unit:2}{ratio:>11.2f}x")
    line("start to hello", hello.get("chromium", float("nan")), hello.get("chromium@grid", float("nan")), "s")
    print(f"{'  of which POST /session':28}{'':>16}{create_s if create_s is not None else float('nan'):>13.1f} s")
    line("start to first result", first.get("chromium", float("nan")), first.get("chromium@grid", float("nan")), "s")
    line("heartbeat RTT median", pct(rtt["chromium"], 0.5), pct(rtt["chromium@grid"], 0.5), "ms")
    line("heartbeat RTT p99", pct(rtt["chromium"], 0.99), pct(rtt["chromium@grid"], 0.99), "ms")
    for q in ("p50_ms", "p99_ms"):
        lv = rows.get("chromium", {}).get(q) or float("nan")
        gv = rows.get("chromium@grid", {}).get(q) or float("nan")
        line(f"{a.model} request {q[:3]}", lv, gv, "ms")
    print(f"{'RTT samples':28}{len(rtt['chromium']):>16}{len(rtt['chromium@grid']):>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
