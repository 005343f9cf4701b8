#!/usr/bin/python3
"""bench/faults: a steady closed-loop workload on two managed browsers through `accel-top serve
--stdio`, and a kill -9 of one browser in the middle. Prints throughput and latency before the kill
(the baseline, same run), from the kill until the killed browser's replacement returns its first
result, and after that; the time from the kill to that first result; and the request accounting
(each request must be answered once).

usage: bench/faults.py [--browsers chromium:2] [--model bert-tiny] [--depth 8] [--phase 15]"""
import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from harness import Serve, pct  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--browsers", default="chromium:2")
    ap.add_argument("--model", default="bert-tiny")
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--platform", default="wasm")
    ap.add_argument("--depth", type=int, default=8, help="requests kept outstanding")
    ap.add_argument("--phase", type=float, default=15, help="seconds measured before and after")
    ap.add_argument("--warmup", type=float, default=5)
    a = ap.parse_args()

    sv = Serve("--port", "0", "--browsers", a.browsers, "--request-timeout", "120")
    sent = {}      # id -> send time
    got = {}       # id -> (receive time, answer)
    nxt = [1]

    def top_up():
        while len(sent) - len(got) < a.depth:
            i = nxt[0]
            nxt[0] += 1
            sent[i] = time.time()
            sv.send({"id": i, "model": a.model, "precision": a.precision, "platform": a.platform, "outputs": "none"})

    scanned = [0]

    def collect():
        for x in sv.answers[scanned[0]:]:
            if "ok" in x and "event" not in x and x["id"] not in got:
                got[x["id"]] = (time.time(), x)
        scanned[0] = len(sv.answers)

    def pump(seconds, stop=None):
        end = time.time() + seconds
        while time.time() < end:
            top_up()
            sv.pump(0.05)
            collect()
            if stop and stop():
                return True
        return False

    try:
        sv.wait(lambda ans: any(x.get("event") == "ready" for x in ans), 90, "ready")
        ready = next(x for x in sv.answers if x.get("event") == "ready")
        browsers = ready["browsers"]
        if len(browsers) < 2:
            print(f"faults: need two browsers, got {browsers}", file=sys.stderr)
            return 1
        # warm: both browsers have the model loaded and have answered a few, and a few more seconds
        ids = [b["id"] for b in browsers]
        if not pump(300, lambda: all(sum(1 for _, x in got.values() if x.get("ok") and x["ran"]["browser"] == i) >= 10
                                     for i in ids)):
            print("faults: the browsers did not both serve within 300 s", file=sys.stderr)
            return 1
        pump(a.warmup)
        t_before = time.time()
        pump(a.phase)
        victim = browsers[0]
        t_kill = time.time()
        os.kill(victim["pid"], signal.SIGKILL)

        def from_replacement(ans):  # same id, another process
            return ans.get("ok") and ans["ran"]["browser"] == victim["id"] and ans["ran"]["pid"] != victim["pid"]

        if not pump(180, lambda: any(from_replacement(x) for _, x in got.values())):
            print("faults: the killed browser's replacement returned nothing within 180 s", file=sys.stderr)
            return 1
        t_back = min(t for t, x in got.values() if from_replacement(x))
        pump(a.phase)
        t_end = time.time()
        # drain: every request answered
        sv.close_input()
        end = time.time() + 120
        while len(got) < len(sent) and time.time() < end:
            sv.pump(0.1)
            collect()
        sv.finish(60)
        summary = next((x for x in sv.answers if x.get("event") == "summary"), {})
    finally:
        sv.kill()

    def window(t0, t1):
        ans = [(t, x) for t, x in got.values() if t0 <= t < t1]
        ok = [x for _, x in ans if x["ok"]]
        lat = [x["latency_ms"] for x in ok]
        return {"answers": len(ans), "ok": len(ok), "errors": len(ans) - len(ok),
                "rps": len(ok) / (t1 - t0) if t1 > t0 else float("nan"),
                "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "seconds": t1 - t0}
    w = {"before": window(t_before, t_kill), "during": window(t_kill, t_back), "after": window(t_back, t_end)}
    answers = [x for x in sv.answers if "ok" in x and "event" not in x]
    ids = [json.dumps(x["id"]) for x in answers]
    dup = len(ids) - len(set(ids))
    print(f"bench/faults: {a.model} {a.precision} on {a.platform}, {a.browsers}, {a.depth} outstanding; "
          f"kill -9 of browser {victim['id']} ({victim['kind']}, pid {victim['pid']}); load {os.getloadavg()[0]:.1f}")
    print(f"{'phase':8} {'seconds':>8} {'ok':>6} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'rps/base':>8} {'p99/base':>8}")
    base = w["before"]
    for k, v in w.items():
        print(f"{k:8} {v['seconds']:8.1f} {v['ok']:6d} {v['errors']:6d} {v['rps']:8.1f} {v['p50_ms']:8.1f} "
              f"{v['p99_ms']:8.1f} {v['rps'] / base['rps']:8.2f} {v['p99_ms'] / base['p99_ms']:8.2f}")
    print(f"kill -> first result from the replacement: {t_back - t_kill:.2f} s")
    print(f"requests: asked {len(sent)}, answered {len(answers)}, answered twice {dup}, "
          f"never answered {len(sent) - len(set(ids))}; pool {json.dumps(summary.get('pool', {}))}")
    return 0 if dup == 0 and len(set(ids)) == len(sent) else 1


if __name__ == "__main__":
    sys.exit(main())
