#!/usr/bin/env python3
"""The pool under faults, with real browsers: kill -9, SIGSTOP/SIGCONT, dropped sockets, scaling,
circuit breakers, request timeouts. Requests go through `accel-top serve --stdio`, so every one
has an answer the test can count: each must be answered exactly once."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Fail, Serve, check, process_table, run_tests  # noqa: E402

MODEL = "bert-tiny"
DATA = os.environ.get("ACCEL_TOP_DATA", os.getcwd())
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def answered_once(sv, ids):
    """Every id in ids has exactly one answer, and nothing else was answered."""
    res = sv.results()
    seen = {}
    for r in res:
        seen[json.dumps(r["id"])] = seen.get(json.dumps(r["id"]), 0) + 1
    twice = {k: n for k, n in seen.items() if n > 1}
    missing = [i for i in ids if json.dumps(i) not in seen]
    extra = [k for k in seen if k not in {json.dumps(i) for i in ids}]
    check(not twice, f"answered more than once: {twice}")
    check(not missing, f"never answered: {missing[:20]} ({len(missing)} of {len(ids)})")
    check(not extra, f"answers to requests never asked: {extra[:10]}")


class Steady:
    """Keeps `depth` requests outstanding, numbered from 1."""

    def __init__(self, sv, depth=4, model=MODEL, **extra):
        self.sv, self.depth, self.model, self.extra = sv, depth, model, extra
        self.next = 1
        self.ids = []
        self.t_sent = {}

    def outstanding(self):
        done = {r["id"] for r in self.sv.results() if isinstance(r["id"], int)}
        return [i for i in self.ids if i not in done]

    def top_up(self):
        while len(self.outstanding()) < self.depth:
            i = self.next
            self.next += 1
            self.ids.append(i)
            self.t_sent[i] = time.time()
            self.sv.send({"id": i, "model": self.model, "outputs": "none", **self.extra})

    def run_until(self, pred, timeout, what, feed=True):
        end = time.time() + timeout
        while time.time() < end:
            if feed:
                self.top_up()
            self.sv.pump(0.1)
            if pred():
                return
        raise Fail(f"timed out waiting for {what}; answers so far {len(self.sv.results())}; "
                   f"last: {json.dumps(self.sv.answers[-2:])[:800]}; stderr: {self.sv.err.decode()[-800:]!r}")

    def drain(self, timeout=90):
        self.run_until(lambda: not self.outstanding(), timeout, "the last answers", feed=False)


def ready(sv, n, timeout=60):
    sv.wait(lambda a: any(x.get("event") == "ready" for x in a), timeout, "ready")
    r = next(x for x in sv.answers if x.get("event") == "ready")
    check(len(r["browsers"]) == n and all(b["state"] == "connected" for b in r["browsers"]), f"ready: {r}")
    return r["browsers"]


def results_from(sv, browser, after=0.0, t_answer=None):
    return [r for r in sv.results() if r.get("ok") and r["ran"]["browser"] == browser
            and (t_answer is None or t_answer.get(json.dumps(r["id"]), 0) >= after)]


def stamp_answers(sv, seen, stamps):
    """Records the time each answer was first seen (the harness keeps no times)."""
    for r in sv.results()[seen[0]:]:
        stamps[json.dumps(r["id"])] = time.time()
    seen[0] = len(sv.results())


def finish(sv):
    sv.close_input()
    rc = sv.finish(90)
    check(rc == 0, f"serve exited {rc}; stderr: {sv.err.decode()[-1500:]!r}")
    summary = [a for a in sv.answers if a.get("event") == "summary"]
    check(summary, "no summary line")
    return summary[-1]


def test_kill9_requests_end_once_and_the_browser_comes_back():
    """A steady workload on two browsers; kill -9 one browser process: every request is answered
    once, the browser is restarted under the same id and serves again."""
    sv = Serve("--port", "0", "--browsers", "chromium,firefox", "--request-timeout", "120")
    try:
        browsers = ready(sv, 2)
        victim = next(b for b in browsers if b["kind"] == "chromium")
        wl = Steady(sv, depth=4)
        seen, stamps = [0], {}
        wl.run_until(lambda: len(results_from(sv, victim["id"])) >= 5 and len(sv.results()) >= 20, 120,
                     "results from both browsers")
        stamp_answers(sv, seen, stamps)
        t_kill = time.time()
        os.kill(victim["pid"], signal.SIGKILL)

        def back():
            stamp_answers(sv, seen, stamps)
            # from the new process: a loaded machine lets the killed browser's orphaned renderer
            # answer a little longer (seen under SANITIZE=1), which is not the browser coming back
            return any(stamps.get(json.dumps(r["id"]), 0) > t_kill + 0.5 and r["ran"].get("pid") != victim["pid"]
                       for r in results_from(sv, victim["id"]))
        wl.run_until(back, 120, "a result from the restarted browser")
        wl.drain()
        answered_once(sv, wl.ids)
        bad = [r for r in sv.results() if not r["ok"]]
        check(not bad, f"requests failed although a browser was always there: {bad[:3]}")
        snap = sv.snapshot()
        b = next(x for x in snap["browsers"] if x["id"] == victim["id"])
        check(b["restarts"] >= 1 and b["state"] == "connected" and b["pid"] != victim["pid"], f"victim: {b}")
        check(victim["pid"] not in process_table() or process_table()[victim["pid"]][0] == "Z",
              "the killed process is still there")
        rq = snap["requests"]
        check(rq["submitted"] == rq["done"] + rq["failed"] + rq["pending"], f"totals do not add up: {rq}")
        s = finish(sv)
        check(s["asked"] == s["answered"] == len(wl.ids), f"summary: {s}")
        check(s["pool"]["submitted"] == s["pool"]["done"] + s["pool"]["failed"], f"pool totals: {s}")
    finally:
        sv.kill()


def attach_chromium(url, prof):
    return subprocess.Popen(["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={prof}", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_sigstop_lost_work_moves_late_results_discarded():
    """Freeze an attached browser: declared lost after the heartbeat timeout, its work moves, and
    after SIGCONT its late results are discarded and counted; it comes back with the same id."""
    sv = Serve("--port", "0", "--no-launch", "--heartbeat", "0.5", "--heartbeat-timeout", "2")
    profs = [tempfile.mkdtemp(prefix="accel-top-faults-") for _ in range(2)]
    procs = []
    try:
        sv.wait(lambda a: sv.url, 15, "the URL")
        for p in profs:
            procs.append(attach_chromium(sv.url, p))
        end = time.time() + 60
        while time.time() < end:
            snap = sv.snapshot()
            if len(snap["browsers"]) == 2 and all(b["state"] == "connected" and b["wasm"]["status"] for b in snap["browsers"]):
                break
            time.sleep(0.5)
        else:
            raise Fail(f"two attached browsers did not connect: {json.dumps(snap)[:800]}")
        ids = sorted(b["id"] for b in snap["browsers"])
        wl = Steady(sv, depth=6)
        wl.run_until(lambda: all(len(results_from(sv, i)) >= 5 for i in ids), 120, "results from both")
        # the victim is the browser whose process group we started first
        victim_proc = procs[0]
        seen, stamps = [0], {}
        stamp_answers(sv, seen, stamps)
        before = {i: len(results_from(sv, i)) for i in ids}
        os.killpg(victim_proc.pid, signal.SIGSTOP)
        t_stop = time.time()
        victim = None
        end = time.time() + 15
        while time.time() < end and victim is None:
            wl.top_up()
            sv.pump(0.2)
            lost = [b for b in sv.snapshot()["browsers"] if b["state"] == "lost"]
            if lost:
                victim = lost[0]
        check(victim is not None, "no browser was declared lost within 15 s of SIGSTOP (timeout 2 s)")
        t_lost = time.time() - t_stop
        check(1.5 <= t_lost <= 8, f"declared lost after {t_lost:.1f} s with a 2 s heartbeat timeout")
        check("heartbeat timeout" in victim["reason"], f"reason: {victim['reason']}")
        other = next(i for i in ids if i != victim["id"])
        wl.run_until(lambda: len(results_from(sv, other)) >= before[other] + 10, 60, "the other browser serving")
        os.killpg(victim_proc.pid, signal.SIGCONT)

        last = {}

        def resumed():
            snap = sv.snapshot()
            b = next(x for x in snap["browsers"] if x["id"] == victim["id"])
            last.update(state=b["state"], reconnects=b["reconnects"], reason=b["reason"],
                        discarded=snap["requests"]["discarded"], requeued=snap["models"][0]["requeued"])
            return b["state"] == "connected" and b["reconnects"] >= 1 and snap["requests"]["discarded"] >= 1
        try:
            wl.run_until(resumed, 60, "the frozen browser back with the same id, its late results discarded")
        except Fail as e:  # seen once under load (this session's note): say which condition held
            raise Fail(f"victim after SIGCONT: {last}; {e}")
        n_before = len(results_from(sv, victim["id"]))
        wl.run_until(lambda: len(results_from(sv, victim["id"])) > n_before, 60, "the resumed browser serving again")
        wl.drain()
        answered_once(sv, wl.ids)
        snap = sv.snapshot()
        check(len(snap["browsers"]) == 2, f"counted twice: {[(b['id'], b['state']) for b in snap['browsers']]}")
        m = snap["models"][0]
        check(m["discarded"] >= 1 and m["requeued"] >= 1, f"model row: discarded {m['discarded']}, requeued {m['requeued']}")
        bad = [r for r in sv.results() if not r["ok"]]
        check(not bad, f"requests failed: {bad[:3]}")
        finish(sv)
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGCONT)
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        for d in profs:
            shutil.rmtree(d, ignore_errors=True)
        sv.kill()


def test_attached_socket_dropped_resumes_with_its_id_and_models():
    """The server drops an attached browser's socket (the r key's action); the page reconnects with
    its instance id, is the same browser, loads its models again and serves."""
    sv = Serve("--port", "0", "--no-launch")
    prof = tempfile.mkdtemp(prefix="accel-top-faults-")
    ch = None
    try:
        sv.wait(lambda a: sv.url, 15, "the URL")
        ch = attach_chromium(sv.url, prof)
        end = time.time() + 60
        while time.time() < end:
            snap = sv.snapshot()
            if snap["browsers"] and snap["browsers"][0]["state"] == "connected" and snap["browsers"][0]["wasm"]["status"]:
                break
            time.sleep(0.5)
        bid = snap["browsers"][0]["id"]
        wl = Steady(sv, depth=2)
        wl.run_until(lambda: len(results_from(sv, bid)) >= 5, 60, "results")
        r = sv.ask("reconnect", browser=bid)
        check(r["ok"], f"reconnect: {r}")
        n0 = len(sv.results())

        def again():
            snap = sv.snapshot()
            b = snap["browsers"][0]
            sessions = snap["models"][0]["sessions"]
            return (b["reconnects"] >= 1 and b["state"] == "connected" and len(sv.results()) >= n0 + 5
                    and any(s["state"] == "ready" for s in sessions))
        wl.run_until(again, 60, "the browser back with its model")
        wl.drain()
        answered_once(sv, wl.ids)
        snap = sv.snapshot()
        check(len(snap["browsers"]) == 1 and snap["browsers"][0]["id"] == bid, f"{snap['browsers']}")
        check(all(r["ok"] for r in sv.results()), "a request failed across the reconnect")
        finish(sv)
    finally:
        if ch and ch.poll() is None:
            os.killpg(ch.pid, signal.SIGKILL)
            ch.wait()
        shutil.rmtree(prof, ignore_errors=True)
        sv.kill()


def test_queue_pressure_scales_up_and_idleness_scales_down():
    sv = Serve("--port", "0", "--browsers", "chromium:1-2", "--scale-wait", "0.3", "--scale-depth", "4",
               "--idle-timeout", "6", "--inflight", "1")
    try:
        ready(sv, 1)
        wl = Steady(sv, depth=24)
        wl.run_until(lambda: sum(b["state"] == "connected" for b in sv.snapshot()["browsers"]) == 2, 90,
                     "a second chromium launched under pressure")
        snap = sv.snapshot()
        check(len(snap["browsers"]) == 2, f"more than the maximum: {[b['id'] for b in snap['browsers']]}")
        wl.run_until(lambda: len(sv.results()) >= 60, 90, "work done")
        wl.drain()
        # idle now: above the minimum of 1, one browser goes after --idle-timeout
        end = time.time() + 40
        while time.time() < end:
            snap = sv.snapshot()
            if sum(b["state"] == "connected" for b in snap["browsers"]) == 1:
                break
            time.sleep(1)
        else:
            raise Fail(f"no scale-down: {[(b['id'], b['state']) for b in snap['browsers']]}")
        time.sleep(8)  # and no further: the minimum holds, the stopped one is not restarted
        snap = sv.snapshot()
        check(sum(b["state"] == "connected" for b in snap["browsers"]) == 1, f"{[(b['id'], b['state']) for b in snap['browsers']]}")
        check(all(b["restarts"] == 0 for b in snap["browsers"]), "a scaled-down browser was restarted")
        answered_once(sv, wl.ids)
        finish(sv)
    finally:
        sv.kill()


def broken_model_dir():
    """bert-tiny with a manifest that gives its input the wrong length: every run fails in ORT."""
    root = tempfile.mkdtemp(prefix="accel-top-broken-")
    src = os.path.join(DATA, "build", "models", MODEL)
    dst = os.path.join(root, "broken-bert")
    shutil.copytree(src, dst)
    with open(os.path.join(dst, "accel.json")) as f:
        man = json.load(f)
    man["name"] = "broken-bert"
    text = json.dumps(man)
    # the demo manifest declares the sequence length once, in "dims"
    check("dims" in man, f"manifest has no dims: {text[:300]}")
    for k in man["dims"]:
        man["dims"][k] = int(man["dims"][k]) + 3
    with open(os.path.join(dst, "accel.json"), "w") as f:
        json.dump(man, f)
    return root


def test_circuit_breaker_opens_probes_and_requests_time_out():
    """A model whose every run fails: after 3 errors the breaker opens, the waiting requests end
    by --request-timeout saying so, and after the cool-down one probe goes (and fails again)."""
    root = broken_model_dir()
    sv = Serve("--port", "0", "--browsers", "chromium", "--models", root, "--request-timeout", "12")
    try:
        ready(sv, 1)
        sv.send({"id": 1, "model": "broken-bert", "outputs": "none"})  # loads the model
        sv.wait(lambda a: len(sv.results()) >= 1, 90, "the first answer")
        for i in range(2, 9):
            sv.send({"id": i, "model": "broken-bert", "outputs": "none"})
        sv.wait(lambda a: len(sv.results()) >= 8, 90, "every request answered")
        res = sv.results()
        check(all(not r["ok"] for r in res), "a broken model produced a result")
        ort_errors = [r for r in res if "request-timeout" not in r["error"]]
        timeouts = [r for r in res if "request-timeout" in r["error"]]
        check(len(ort_errors) >= 3 and all("invalid dimensions" in r["error"] for r in ort_errors),
              f"runs that failed in the browser: {[r['error'][:80] for r in res]}")
        check(timeouts and all("circuit breaker is open" in r["error"] for r in timeouts),
              f"timeouts: {[r['error'] for r in timeouts]}")
        answered_once(sv, list(range(1, 9)))
        m = sv.snapshot()["models"][0]
        b = m["breakers"][0]
        check(b["state"] in ("open", "half-open") and b["failures"] == len(ort_errors), f"breaker: {b}")
        # after the cool-down (5 s) one probe may go; it fails, and the breaker opens again
        end = time.time() + 30
        while time.time() < end and sv.snapshot()["models"][0]["breakers"][0]["state"] != "half-open":
            time.sleep(0.5)
        sv.send({"id": 9, "model": "broken-bert", "outputs": "none"})
        sv.send({"id": 10, "model": "broken-bert", "outputs": "none"})
        sv.wait(lambda a: len(sv.results()) >= 10, 30, "the probe and the request behind it")
        probe = next(r for r in sv.results() if r["id"] == 9)
        behind = next(r for r in sv.results() if r["id"] == 10)
        check("invalid dimensions" in probe["error"], f"probe: {probe}")
        check("circuit breaker is open" in behind["error"], f"the request behind the probe: {behind}")
        m = sv.snapshot()["models"][0]
        b = m["breakers"][0]
        check(b["failures"] == len(ort_errors) + 1 and m["sessions"][0]["breaker"] in ("open", "half-open"), f"{b}")
        snap = sv.snapshot()
        check(snap["requests"]["timed_out"] == len(timeouts) + 1, f"{snap['requests']}")
        finish(sv)
    finally:
        sv.kill()
        shutil.rmtree(root, ignore_errors=True)


def test_request_timeout_names_the_reason():
    """Pinned to a kind that is not there: each request fails after --request-timeout, saying why."""
    sv = Serve("--port", "0", "--browsers", "chromium", "--request-timeout", "2")
    try:
        ready(sv, 1)
        t0 = time.time()
        for i in range(3):
            sv.send({"id": i, "model": MODEL, "browser": "firefox"})
        sv.wait(lambda a: len(sv.results()) == 3, 30, "timeouts")
        took = time.time() - t0
        check(2 <= took <= 10, f"answered after {took:.1f} s with a 2 s timeout")
        for r in sv.results():
            check(not r["ok"] and "within 2 s (--request-timeout)" in r["error"] and "bert-tiny" in r["error"],
                  f"{r}")
        answered_once(sv, [0, 1, 2])
        s = finish(sv)
        check(s["pool"]["timed_out"] == 3, f"{s}")
    finally:
        sv.kill()


def test_crash_loop_is_held_down():
    """--max-restarts 1: the second crash within a minute holds the browser down, with the reason."""
    sv = Serve("--port", "0", "--browsers", "chromium", "--max-restarts", "1")
    try:
        b = ready(sv, 1)[0]
        os.kill(b["pid"], signal.SIGKILL)
        end = time.time() + 30
        while time.time() < end:
            s = next(x for x in sv.snapshot()["browsers"] if x["id"] == b["id"])
            if s["state"] == "connected" and s["restarts"] == 1:
                break
            time.sleep(0.5)
        else:
            raise Fail(f"not restarted: {s}")
        os.kill(s["pid"], signal.SIGKILL)
        end = time.time() + 20
        while time.time() < end:
            s = next(x for x in sv.snapshot()["browsers"] if x["id"] == b["id"])
            if s["held"]:
                break
            time.sleep(0.5)
        check(s["held"] and "held down" in (s["supervisor"] or ""), f"{s}")
        time.sleep(3)
        s = next(x for x in sv.snapshot()["browsers"] if x["id"] == b["id"])
        check(s["state"] == "exited" and s["restarts"] == 1, f"restarted although held: {s}")
        # the operator's restart (the r key) releases it
        r = sv.ask("reconnect", browser=b["id"])
        check(r["ok"], f"{r}")
        end = time.time() + 30
        while time.time() < end:
            s = next(x for x in sv.snapshot()["browsers"] if x["id"] == b["id"])
            if s["state"] == "connected" and not s["held"]:
                break
            time.sleep(0.5)
        else:
            raise Fail(f"not released: {s}")
        finish(sv)
    finally:
        sv.kill()


if __name__ == "__main__":
    sys.exit(run_tests("faults", globals(), sys.argv[1:]))
