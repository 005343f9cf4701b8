#!/usr/bin/python3
"""bench/load.py: accel-top under load from the load generator (fake browser), bench/loadgen.c.

Not browsers: build/bench-loadgen opens the connections and answers with fixed replies. Parts:

  hold    N connections (default 1000) say hello; `accel-top serve --stdio` is driven at RATE small
          requests per second (default 10,000) for SECONDS (default 60): bert-tiny fp32 on wasm,
          "outputs": "none". Every request line's id is counted in the answers (exactly once), and
          every run id on the load generator's side (no duplicates); the bridge round trip
          (roundtrip_ms of each answer) p50/p99; accel-top's CPU and RSS from /proc.
          Also the CPU of this driver (os.times) and of the load generator, over the same span:
          on two cores they share the machine with accel-top.
  tui     the same connections with the interactive screen in tmux and a --run workload: the time
          from sending a key to the screen changing, and accel-top's CPU meanwhile.
  churn   1,000 connect/hello/close cycles: fds, RSS and browser rows before and after (no leak);
          as the same browsers, as new ones, and as new ones with --forget-lost 1.
  slow    one client that stops reading and keeps asking (pings): accel-top must drop it at its
          send-queue limit, with the reason, and not grow.
  half    TCP connections without an upgrade, upgrades without a hello: closed after a timeout.

Prints one JSON object per part on stdout (and a summary table on stderr).
Usage: bench/load.py [--connections N] [--rate R] [--seconds S] [--parts hold,tui,churn,slow,half]
Environment: ACCEL_TOP (binary), ACCEL_TOP_DATA (data folder), LOADGEN (build/bench-loadgen)."""
import argparse
import json
import os
import re
import resource
import selectors
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCEL_TOP = os.environ.get("ACCEL_TOP", os.path.join(ROOT, "accel-top"))
LOADGEN = os.environ.get("LOADGEN", os.path.join(ROOT, "build", "bench-loadgen"))
DATA = os.environ.setdefault("ACCEL_TOP_DATA", ROOT)


def log(*a):
    print("load:", *a, file=sys.stderr, flush=True)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def proc(pid):
    """accel-top's CPU seconds, RSS MB, peak RSS MB, open fds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = hwm = 0.0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return cpu, rss, hwm, len(os.listdir(f"/proc/{pid}/fd"))


def pct(v, p):
    v = sorted(v)
    return v[int(p * (len(v) - 1) + 0.5)] if v else None


def ws_url(http_url):
    m = re.match(r"http://([^/]+)/\?token=(\w+)", http_url)
    return f"ws://{m.group(1)}/ws?token={m.group(2)}"


class Serve:
    """accel-top serve --stdio, pumped without blocking."""

    def __init__(self, args):
        self.p = subprocess.Popen([ACCEL_TOP, "serve", "--stdio", *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.set_blocking(self.p.stdin.fileno(), False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.p.stdout, selectors.EVENT_READ, "out")
        self.sel.register(self.p.stderr, selectors.EVENT_READ, "err")
        self.buf = b""
        self.err = b""
        self.out = b""        # not yet written to its stdin
        self.lines = []
        self.url = None

    def send(self, data):
        self.out += data
        self.flush()

    def flush(self):
        while self.out:
            try:
                n = os.write(self.p.stdin.fileno(), self.out)
            except BlockingIOError:
                return
            self.out = self.out[n:]

    def pump(self, timeout):
        for key, _ in self.sel.select(timeout):
            data = os.read(key.fileobj.fileno(), 1 << 20)
            if not data:
                self.sel.unregister(key.fileobj)
                continue
            if key.data == "out":
                self.buf += data
                *done, self.buf = self.buf.split(b"\n")
                self.lines.extend(done)
            else:
                self.err += data
                m = re.search(rb"serving (http://\S+)", self.err)
                if m and not self.url:
                    self.url = m.group(1).decode()
        self.flush()

    def take(self):
        out, self.lines = self.lines, []
        return [json.loads(x) for x in out]

    def ask_snapshot(self, timeout=30):
        tag = f"snap-{time.time()}"
        self.send((json.dumps({"cmd": "snapshot", "id": tag}) + "\n").encode())
        end = time.time() + timeout
        while time.time() < end:
            self.pump(0.1)
            for i, x in enumerate(self.lines):
                if tag.encode() in x:
                    return json.loads(self.lines.pop(i))["pool"]
        raise RuntimeError("no snapshot answer")


def start_loadgen(url, n, mode="hold", seconds=600, pid=None, extra=()):
    args = [LOADGEN, "--url", url, "-n", str(n), "--mode", mode, "--seconds", str(seconds), *extra]
    if pid:
        args += ["--pid", str(pid)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def loadgen_result(lg, timeout=120):
    out, err = lg.communicate(timeout=timeout)
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise RuntimeError(f"the load generator said nothing usable: {err[-800:]}")


def wait_browsers(s, n, timeout):
    end = time.time() + timeout
    while time.time() < end:
        snap = s.ask_snapshot()
        up = sum(1 for b in snap["browsers"] if b["state"] == "connected")
        if up >= n:
            return up
        time.sleep(0.5)
    return up


def part_hold(a):
    """N connections, serve --stdio at RATE req/s for SECONDS; every id counted."""
    s = Serve(["--no-launch", "--port", "0"])
    lg = None
    try:
        while not s.url:
            s.pump(0.2)
            if s.p.poll() is not None:
                raise RuntimeError(f"accel-top serve exited: {s.err.decode()[-600:]}")
        pid = s.p.pid
        base = proc(pid)
        lg = start_loadgen(ws_url(s.url), a.connections, seconds=a.seconds + 300, pid=pid)
        t0 = time.time()
        up = wait_browsers(s, a.connections, 60)
        t_conn = time.time() - t0
        log(f"hold: {up} of {a.connections} connections said hello in {t_conn:.1f} s")
        idle = proc(pid)
        # warm-up: the model loads on every connection (a fake load), its first runs verify
        s.send(b"".join((json.dumps({"id": f"w{i}", "model": "bert-tiny", "outputs": "none"}) + "\n").encode()
                        for i in range(200)))
        answered = {}
        end = time.time() + 60
        while sum(1 for k in answered if k.startswith("w")) < 200 and time.time() < end:
            s.pump(0.1)
            for x in s.take():
                if "id" in x and "ok" in x:
                    answered[x["id"]] = answered.get(x["id"], 0) + 1
        log(f"hold: warm-up answered {len(answered)} of 200")
        c0 = proc(pid)
        d0, g0 = os.times(), proc(lg.pid)   # the driver's (this process) and the load generator's CPU
        sent = 0
        ok = failed = 0
        rtt = []
        lat = []
        errors = {}
        t_start = time.time()
        next_batch = t_start
        batch = max(1, a.rate // 100)        # every 10 ms
        while True:
            now = time.time()
            if now - t_start < a.seconds and now >= next_batch:
                want = min(int((now - t_start) * a.rate) + batch, int(a.seconds * a.rate))
                # at most --window unanswered: past what the machine can do, a queue that grows
                # for ever measures the queue, not accel-top
                want = min(want, len(answered) - 200 + a.window)
                lines = []
                while sent < want:
                    lines.append(f'{{"id":{sent},"model":"bert-tiny","outputs":"none"}}\n')
                    sent += 1
                s.send("".join(lines).encode())
                next_batch += 0.01
            elif now - t_start >= a.seconds and len(answered) - 200 >= sent:
                break
            elif now - t_start > a.seconds + 60:
                break
            s.pump(0.002)
            for x in s.take():
                if "ok" not in x or "id" not in x:
                    continue
                answered[x["id"]] = answered.get(x["id"], 0) + 1
                if x["ok"]:
                    ok += 1
                    if x.get("roundtrip_ms") is not None:
                        rtt.append(x["roundtrip_ms"])
                    lat.append(x["latency_ms"])
                else:
                    failed += 1
                    e = x.get("error", "")[:120]
                    errors[e] = errors.get(e, 0) + 1
        t_run = time.time() - t_start
        c1 = proc(pid)
        d1, g1 = os.times(), proc(lg.pid)
        snap = s.ask_snapshot()
        held = sum(1 for b in snap["browsers"] if b["state"] not in ("lost", "exited"))
        lgr = None
        lg.terminate()
        lgr = loadgen_result(lg)
        lg = None
        ids = [k for k in answered if not isinstance(k, str)]
        r = {
            "part": "hold", "connections": a.connections, "hello_s": round(t_conn, 2), "held_at_end": held,
            "rate_asked": a.rate, "window": a.window, "seconds": a.seconds, "sent": sent, "answered": len(ids),
            "answered_twice": sum(1 for k in ids if answered[k] > 1), "unanswered": sent - len(ids),
            "ok": ok, "failed": failed, "errors": errors, "achieved_rps": round(len(ids) / t_run, 1),
            "roundtrip_ms_p50": pct(rtt, 0.5), "roundtrip_ms_p99": pct(rtt, 0.99),
            "latency_ms_p50": pct(lat, 0.5), "latency_ms_p99": pct(lat, 0.99),
            "accel_top_cpu_pct": round(100 * (c1[0] - c0[0]) / t_run, 1),
            "accel_top_cpu_us_per_request": round(1e6 * (c1[0] - c0[0]) / max(1, len(ids)), 1),
            "driver_cpu_pct": round(100 * (d1.user + d1.system - d0.user - d0.system) / t_run, 1),
            "loadgen_cpu_pct": round(100 * (g1[0] - g0[0]) / t_run, 1),
            "rss_mb_start": round(base[1], 1), "rss_mb_connected_idle": round(idle[1], 1),
            "rss_mb_end": round(c1[1], 1), "rss_mb_peak": round(c1[2], 1), "fds_connected": idle[3],
            "loadgen": {k: lgr[k] for k in ("established", "welcomed", "runs", "results", "duplicate_run_ids",
                                             "loads", "pings", "errors_received")},
        }
        return r
    finally:
        if lg:
            lg.kill()
        s.p.stdin.close()
        try:
            s.p.wait(30)
        except subprocess.TimeoutExpired:
            s.p.kill()


class Tmux:
    def __init__(self):
        self.sock = f"accel-load-{os.getpid()}"

    def __call__(self, *a, check=True):
        return subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", *a], capture_output=True,
                              text=True, check=check).stdout

    def screen(self):
        return self("capture-pane", "-p", "-t", "at")


def part_tui(a):
    """The interactive screen with N connections and a workload: key-to-screen time, CPU."""
    if not shutil.which("tmux"):
        return {"part": "tui", "skipped": "tmux is not installed (apt-get install tmux)"}
    T = Tmux()
    lg = None
    try:
        tok = "%032x" % int.from_bytes(os.urandom(16), "big")
        cmd = (f"{ACCEL_TOP} --no-launch --port 0 -d 1 --token {tok} "
               f"--run bert-tiny:fp32:wasm:auto:{a.tui_concurrency} 2>/tmp/accel-load-tui-{os.getpid()}.err")
        T("new-session", "-d", "-s", "at", "-x", "160", "-y", "50", cmd)
        pid = int(T("display-message", "-p", "-t", "at", "#{pane_pid}").strip())
        # the pane runs a shell that runs accel-top: find the accel-top child
        end = time.time() + 10
        url = None
        at_pid = None
        while time.time() < end and not (url and at_pid):
            time.sleep(0.2)
            kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
            at_pid = int(kids[0]) if kids else (pid if "accel-top" in open(f"/proc/{pid}/cmdline").read() else None)
            m = re.search(r"listening on (http://[\d.]+:\d+/)", T.screen())
            url = f"{m.group(1)}?token={tok}" if m else None
        if not url:
            return {"part": "tui", "error": "no URL from accel-top: " + T.screen()[-400:]}
        lg = start_loadgen(ws_url(url), a.connections, seconds=600)
        time.sleep(a.tui_settle)
        c0 = proc(at_pid)
        t0 = time.time()
        keys = []
        # keys that change the screen and can be undone: sort order cycles (s), help (? then Esc)
        for i in range(a.tui_keys):
            before = T.screen()
            k = "?" if i % 2 == 0 else "Escape"
            ts = time.time()
            T("send-keys", "-t", "at", k)
            changed = None
            while time.time() - ts < 2:
                if T.screen() != before:
                    changed = (time.time() - ts) * 1000
                    break
                time.sleep(0.002)
            keys.append(changed)
            time.sleep(0.3)
        t_run = time.time() - t0
        c1 = proc(at_pid)
        scr = T.screen()
        got = [k for k in keys if k is not None]
        lg.terminate()
        lgr = loadgen_result(lg)
        lg = None
        return {"part": "tui", "connections": a.connections, "workload_concurrency": a.tui_concurrency,
                "keys": len(keys), "answered": len(got), "key_to_screen_ms_p50": pct(got, 0.5),
                "key_to_screen_ms_max": max(got) if got else None,
                "accel_top_cpu_pct": round(100 * (c1[0] - c0[0]) / t_run, 1), "rss_mb": round(c1[1], 1),
                "loadgen_runs": lgr["runs"], "loadgen_results": lgr["results"],
                "runs_per_s_during": round(lgr["runs"] / max(lgr["seconds"], 1), 1),
                "screen_sample": [l for l in scr.splitlines() if "bert-tiny" in l][:1]}
    finally:
        if lg:
            lg.kill()
        T("send-keys", "-t", "at", "q", check=False)
        time.sleep(1)
        T("kill-server", check=False)


def attached_at(extra=()):
    """accel-top -b --json --no-launch: for churn, slow and half-open."""
    p = subprocess.Popen([ACCEL_TOP, "-b", "--json", "--no-launch", "--port", "0", "-d", "1", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.time() + 10
    err = ""
    try:
        os.set_blocking(p.stderr.fileno(), False)
        while time.time() < end:
            try:
                err += os.read(p.stderr.fileno(), 65536).decode(errors="replace")
            except BlockingIOError:
                pass
            m = re.search(r"serving (http://\S+)", err)
            if m:
                return p, ws_url(m.group(1))
            time.sleep(0.05)
        raise RuntimeError("accel-top printed no URL: " + err[-400:])
    except BaseException:
        p.kill()                             # nothing of ours is left running
        p.wait()
        raise


def stop_at(p):
    os.set_blocking(p.stderr.fileno(), True)
    p.terminate()
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return out, err


class Snapshots:
    """accel-top -b --json's stdout read as it comes (so that it never waits on a full pipe): the
    number of browser rows in the latest snapshot."""

    def __init__(self, f):
        self.last = None
        self.t = threading.Thread(target=self._read, args=(f,), daemon=True)
        self.t.start()

    def _read(self, f):
        for line in f:
            self.last = line

    def rows(self):
        try:
            return len(json.loads(self.last)["browsers"]) if self.last else None
        except ValueError:
            return None


def churn_once(a, reconnect, forget_lost=None):
    """forget_lost: accel-top --forget-lost SECS, and the end waits (at most SECS + 30 s) for a
    snapshot without the rows of the browsers that went away."""
    p, url = attached_at(("--forget-lost", str(forget_lost)) if forget_lost is not None else ())
    snaps = Snapshots(p.stdout)
    try:
        time.sleep(1)
        extra = ("--parallel", "20") + (("--reconnect",) if reconnect else ())
        # one round first, so that what the first connections allocate once is in the baseline
        loadgen_result(start_loadgen(url, 20, "churn", 60, extra=extra))
        time.sleep(1.5)
        b = proc(p.pid)
        rows_before = snaps.rows()
        lgr = loadgen_result(start_loadgen(url, a.churns, "churn", 120, pid=p.pid, extra=extra))
        time.sleep(2.5)                      # the bridge has seen every close, a snapshot printed
        rows_end = snaps.rows()
        if forget_lost is not None:
            end = time.time() + forget_lost + 30
            while snaps.rows() != 0 and time.time() < end:
                time.sleep(0.2)
            time.sleep(1.5)                  # one more snapshot printed without them
        e = proc(p.pid)
        return {"welcomed": lgr["welcomed"], "closed_by_us": lgr["closed_by_us"],
                "closed_by_server": lgr["closed_by_server"], "connect_errors": lgr["connect_errors"],
                "seconds": round(lgr["seconds"], 2), "fds_before": b[3], "fds_after": e[3],
                "rss_mb_before": round(b[1], 2), "rss_mb_after": round(e[1], 2), "rss_mb_peak": round(e[2], 2),
                "accel_top_cpu_s": round(e[0] - b[0], 2), "forget_lost_s": forget_lost,
                "rows_before": rows_before, "rows_at_churn_end": rows_end, "rows_after": snaps.rows()}
    finally:
        os.set_blocking(p.stderr.fileno(), True)
        p.terminate()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        snaps.t.join(timeout=5)


def part_churn(a):
    """connect/hello/close cycles: as a page that reconnects (its instance: the same browser row),
    as new browsers each time (the pool keeps a row for every browser that said hello, for
    --forget-lost: 600 s by default), and as new browsers with --forget-lost 1 (their rows go)."""
    return {"part": "churn", "cycles": a.churns, "reconnecting": churn_once(a, True),
            "new_browsers": churn_once(a, False), "new_browsers_forget_lost_1": churn_once(a, False, 1)}


def part_slow(a):
    p, url = attached_at(("--send-queue", a.send_queue))
    try:
        time.sleep(0.5)
        b = proc(p.pid)
        lg = start_loadgen(url, 1, "slow", a.slow_seconds, pid=p.pid, extra=("--flood", str(a.flood)))
        peak = 0.0
        while lg.poll() is None:
            peak = max(peak, proc(p.pid)[1])
            time.sleep(0.05)
        lgr = loadgen_result(lg)
        time.sleep(2)                        # a snapshot (-d 1) after the drop
        e = proc(p.pid)
        out, err = stop_at(p)
        p = None
        lines = [l for l in err.splitlines() if "send queue" in l]
        snap = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        lost = [f'browser {b["id"]} ({b["kind"]}) {b["state"]}: {b.get("reason")}' for b in snap.get("browsers", [])]
        return {"part": "slow", "send_queue": a.send_queue, "pings_sent_unread": a.flood, "dropped": lgr["closed_by_server"] == 1,
                "dropped_after_ms": round(lgr.get("slow_dropped_after_ms", 0), 1),
                "close_reasons": lgr["close_reasons"], "stderr_lines": lines[:2], "browser_reasons": lost[:2],
                "rss_mb_before": round(b[1], 1), "rss_mb_peak_sampled": round(peak, 1),
                "rss_mb_after": round(e[1], 1), "rss_hwm_mb": round(e[2], 1)}
    finally:
        if p:
            stop_at(p)


def part_half(a):
    p, url = attached_at(("--heartbeat", str(a.half_timeout / 2), "--heartbeat-timeout", str(a.half_timeout)))
    try:
        time.sleep(0.5)
        b = proc(p.pid)
        r1 = loadgen_result(start_loadgen(url, a.half, "half-ws", a.half_timeout * 4 + 30,
                                          extra=("--parallel", str(a.half))), timeout=a.half_timeout * 4 + 60)
        r2 = loadgen_result(start_loadgen(url, a.half, "half-tcp", 120, extra=("--parallel", str(a.half))),
                            timeout=180)
        time.sleep(1)
        e = proc(p.pid)
        return {"part": "half", "half_ws": {k: r1.get(k) for k in ("established", "half_closed", "half_close_min_ms",
                                                                    "half_close_max_ms", "close_reasons")},
                "half_tcp": {k: r2.get(k) for k in ("established", "half_closed", "half_close_min_ms",
                                                     "half_close_max_ms", "close_reasons")},
                "heartbeat_timeout_s": a.half_timeout, "fds_before": b[3], "fds_after": e[3],
                "rss_mb_before": round(b[1], 1), "rss_mb_after": round(e[1], 1)}
    finally:
        stop_at(p)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--window", type=int, default=200, help="most requests unanswered at once")
    ap.add_argument("--churns", type=int, default=1000)
    ap.add_argument("--flood", type=int, default=2000000)
    ap.add_argument("--slow-seconds", type=float, default=60)
    ap.add_argument("--send-queue", default="8M", help="accel-top --send-queue for the slow part")
    ap.add_argument("--half", type=int, default=100)
    ap.add_argument("--half-timeout", type=int, default=3)
    ap.add_argument("--tui-concurrency", type=int, default=64)
    ap.add_argument("--tui-keys", type=int, default=10)
    ap.add_argument("--tui-settle", type=float, default=8)
    ap.add_argument("--parts", default="hold,tui,churn,slow,half")
    a = ap.parse_args(argv)
    hard = raise_nofile()
    log(f"file descriptors: {hard}; the load generator (fake browser) is {LOADGEN}")
    results = []
    for part in a.parts.split(","):
        log(f"--- {part}")
        t = time.time()
        r = globals()["part_" + part](a)
        r["wall_s"] = round(time.time() - t, 1)
        print(json.dumps(r), flush=True)
        results.append(r)
    return results


if __name__ == "__main__":
    main()
