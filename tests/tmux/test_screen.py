#!/usr/bin/python3
"""Screen tests: the real accel-top in a detached tmux pane with real headless Chromium and Firefox.

Each run uses its own tmux server (tmux -L), so nothing of the user's tmux is touched. What the
test reads is what tmux shows (capture-pane), so it checks the screen an operator sees: rows,
status words, the detail pane, the event log, prompts, resizing, colours, and that quitting
restores the terminal and leaves no browser process or runtime folder behind.

Run: /usr/bin/python3 tests/tmux/test_screen.py [NAME...]
ACCEL_TOP names the binary (default ./accel-top), ACCEL_TOP_DATA the repository root.
Ends with 'tmux: N passed, N failed'; exits 1 when anything failed.
Over 600 lines on purpose: one suite over one Pane driver and one real accel-top per test; split
by file it would only scatter the driver and its checks.
"""
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import process_table  # noqa: E402

ACCEL_TOP = os.path.abspath(os.environ.get("ACCEL_TOP", os.path.join(ROOT, "accel-top")))
DATA = os.environ.get("ACCEL_TOP_DATA", ROOT)
TMP = os.environ.get("TMPDIR", "/tmp")
SGR = re.compile(r"\x1b\[([0-9;:]*)m")


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Pane:
    """accel-top running in a detached tmux session of its own server."""

    def __init__(self, name, args, cols=120, rows=40, env=None):
        self.sock = f"accel-top-test-{os.getpid()}-{name}"
        self.tmux = ["tmux", "-L", self.sock, "-f", "/dev/null"]
        self.errfile = tempfile.NamedTemporaryFile(prefix="accel-top-stderr-", delete=False).name
        self.browser_pids = set()
        self.statusfile = self.errfile + ".status"
        self.pidfile = self.errfile + ".pid"
        e = {"ACCEL_TOP_DATA": DATA}
        e.update(env or {})
        # tmux sets TERM in the pane from default-terminal, whatever -e says
        term = e.pop("TERM", "tmux-256color")
        env_args = []
        for k, v in e.items():
            env_args += ["-e", f"{k}={v}"]
        # a small parent in the pane runs accel-top and records its pid and exit status (tmux's
        # own pane_dead_status is sometimes missing); accel-top's stderr goes to a file, because
        # anything written there would land on top of the screen
        cmd = [sys.executable, os.path.abspath(__file__), "--pane-wrapper", self.pidfile, self.statusfile,
               self.errfile, ACCEL_TOP, *args]
        self.run("start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
                 "set-option", "-g", "default-terminal", term, ";",
                 "new-session", "-d", "-s", "t", "-x", str(cols), "-y", str(rows), *env_args, "--", *cmd)
        end = time.time() + 10
        self.pid = None
        while time.time() < end and not self.pid:
            try:
                with open(self.pidfile) as f:
                    self.pid = int(f.read().strip() or 0) or None
            except (OSError, ValueError):
                time.sleep(0.05)
        check(self.pid, "accel-top did not start in the pane")

    def run(self, *args):
        r = subprocess.run(self.tmux + list(args), capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            raise Fail(f"tmux {' '.join(args[:3])}: {r.stderr.strip()}")
        return r.stdout

    def screen(self, escapes=False):
        out = self.run("capture-pane", "-p", "-t", "t", *(["-e"] if escapes else []))
        if not escapes:
            for m in re.finditer(r"launched \(pid (\d+)\)|managed \(pid (\d+)\)|pid (\d+)\)\?", out):
                self.browser_pids.add(int(next(g for g in m.groups() if g)))
        return out

    def lines(self):
        return self.screen().split("\n")

    def keys(self, *keys, pause=0.15):
        for k in keys:
            self.run("send-keys", "-t", "t", k)
            time.sleep(0.3 if k == "Escape" else pause)

    def wait(self, pred, timeout=30, what="condition"):
        end = time.time() + timeout
        last = ""
        while time.time() < end:
            last = self.screen()
            if pred(last):
                return last
            if self.exit_status() is not None:
                break
            time.sleep(0.2)
        st = self.exit_status()
        raise Fail(f"{'accel-top exited (' + str(st) + ')' if st is not None else 'timed out'} waiting for "
                   f"{what}; screen:\n{last}\nstderr: {self.stderr()[-1500:]!r}")

    def status_line(self):
        return self.lines()[self.size()[1] - 1]

    def wait_status(self, pattern, timeout=8):
        """The status line matching pattern (keys are handled at once, but the machine may be busy)."""
        end = time.time() + timeout
        st = ""
        while time.time() < end:
            st = self.status_line()
            m = re.search(pattern, st)
            if m:
                return m
            time.sleep(0.1)
        raise Fail(f"status line {st!r} does not match {pattern!r}")

    def wait_line(self, index, pattern, timeout=8, negate=False):
        end = time.time() + timeout
        line = ""
        while time.time() < end:
            line = self.lines()[index]
            if bool(re.search(pattern, line)) != negate:
                return line
            time.sleep(0.1)
        raise Fail(f"line {index} {line!r} {'still matches' if negate else 'does not match'} {pattern!r}")

    def size(self):
        w, h = self.run("display-message", "-p", "-t", "t", "#{pane_width} #{pane_height}").split()
        return int(w), int(h)

    def resize(self, cols, rows):
        self.run("resize-window", "-t", "t", "-x", str(cols), "-y", str(rows))
        time.sleep(0.6)

    def exit_status(self):
        """accel-top's exit status (negative: killed by that signal), or None while it runs."""
        try:
            with open(self.statusfile) as f:
                text = f.read().strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def wait_exit(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            status = self.exit_status()
            if status is not None:
                time.sleep(0.2)  # the wrapper exits right after
                return status
            time.sleep(0.2)
        raise Fail("accel-top did not exit in time")

    def stderr(self):
        try:
            with open(self.errfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        try:
            if self.pid and self.exit_status() is None:
                os.kill(self.pid, signal.SIGKILL)
                time.sleep(0.3)
        except OSError:
            pass
        subprocess.run(self.tmux + ["kill-server"], capture_output=True)
        for f in (self.errfile, self.statusfile, self.pidfile):
            try:
                os.unlink(f)
            except OSError:
                pass


# ---- what the screen shows ----

def browser_rows(screen):
    """{id: (kind, full line)} for rows of the browsers panel."""
    rows = {}
    for line in screen.split("\n"):
        m = re.match(r"^\s*(\d+) (chromium|firefox|chrome|edge)\s", line)
        if m and ("managed" in line or "connected" in line or "launching" in line or "exited" in line
                  or "lost" in line):
            rows[int(m.group(1))] = (m.group(2), line)
    return rows


def both_software(screen):
    """A connected chromium row and a connected firefox row, each with WebGPU SOFTWARE."""
    rows = browser_rows(screen).values()
    return all(any(k == kind and re.search(r"\bconnected\b", line) and re.search(r"\bSOFTWARE\b", line)
                   for k, line in rows)
               for kind in ("chromium", "firefox"))


def model_row(screen, name):
    m = re.search(rf"^\s*\d+ {re.escape(name)} .*$", screen, re.M)
    return m.group(0) if m else ""


def has_latency(row):
    """p50, p95 and p99 measured (the models panel shows n/a for each until a request completed)."""
    return bool(row) and not re.search(r"n/a\s+n/a\s+n/a", row) and re.search(r"\d\s+\d+(\.\d+)?\s+\d+(\.\d+)?\s", row)


def colour_params(screen_with_escapes):
    """SGR parameters that set a colour (foreground, background, 256 or RGB)."""
    found = set()
    for m in SGR.finditer(screen_with_escapes):
        params = [p for p in re.split(r"[;:]", m.group(1)) if p != ""]
        i = 0
        while i < len(params):
            n = int(params[i])
            if n in (38, 48):
                found.add(";".join(params[i:i + 3]))
                i += 3 if i + 1 < len(params) and params[i + 1] == "5" else 5
                continue
            if 30 <= n <= 37 or 40 <= n <= 47 or 90 <= n <= 97 or 100 <= n <= 107:
                found.add(str(n))
            i += 1
    return found


def leftovers(pane):
    """Live processes in the sessions of accel-top's browsers (each runs in its own session whose
    id is its pid), anything still mentioning the runtime folder, and the folder itself."""
    runtime = f"{TMP}/accel-top-{pane.pid}"
    left = []
    for pid, (state, sid, cmd) in process_table().items():
        if state == "Z":
            continue
        if sid in pane.browser_pids or runtime in cmd:
            left.append(f"{pid} {cmd[:100]}")
    if os.path.exists(runtime):
        left.append(f"runtime folder {runtime} still exists")
    return left


def check_layout(pane, cols, rows):
    scr = pane.screen()
    lines = scr.split("\n")
    check(len(lines) >= rows, f"{len(lines)} lines at {cols}x{rows}")
    for i, line in enumerate(lines[:rows]):
        check(len(line) <= cols, f"line {i} longer than {cols}: {line!r}")
    check(lines[0].startswith("accel-top") or "http://127.0.0.1:" in lines[0], f"header: {lines[0]!r}")
    check("http://127.0.0.1:" in lines[0], f"URL missing from the header at {cols}x{rows}: {lines[0]!r}")
    check(re.search(r"browsers \d+/\d+", lines[1]), f"counts missing: {lines[1]!r}")
    rows_ = browser_rows(scr)
    check(len(rows_) >= 2, f"browser rows missing at {cols}x{rows}:\n{scr}")
    for kind, line in rows_.values():
        if "connected" in line:
            check(re.search(r"\bSOFTWARE\b", line) and re.search(r"\bUNAVAILABLE\b", line),
                  f"status words cut at {cols}x{rows}: {line!r}")
    check("F1Help" in lines[rows - 2] and "F10Quit" in lines[rows - 2], f"F-key bar: {lines[rows - 2]!r}")
    check("terminal too small" not in scr, "too-small message at a size that fits")
    return scr


# ---- the tests ----

def test_interactive():
    """The main session: header, moving, detail, reconnect, new and stopped browser, model launch
    and precision change, help, sort, filter, pause, resizing, quit and cleanup."""
    p = Pane("main", ["--browsers", "chromium,firefox", "--port", "0"], 120, 40)
    results = []

    def step(name, fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok   {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on with the next step
            msg = str(e) if isinstance(e, Fail) else traceback.format_exc()
            results.append((name, msg))
            print(f"FAIL {name}\n     " + msg.replace("\n", "\n     "), flush=True)

    try:
        t0 = time.time()

        def startup():
            p.wait(both_software, 45, "a chromium and a firefox row with SOFTWARE WebGPU")
            print(f"     both rows after {time.time() - t0:.1f}s", flush=True)
        step("startup_rows_software", startup)

        def header():
            lines = p.lines()
            check(re.search(r"http://127\.0\.0\.1:\d+/", lines[0]), f"URL: {lines[0]!r}")
            check("token=" not in lines[0] and "token hidden" in lines[0], f"token shown: {lines[0]!r}")
            check(re.search(r"\bup \d\d:\d\d:\d\d\b", lines[0]), f"uptime: {lines[0]!r}")
            check(re.search(r"browsers 2/2 connected", lines[1]), f"counts: {lines[1]!r}")
            check(re.search(r"models \d+/\d+ running .*in flight \d+ .*done/s [\d.]+ .*errors \d+", lines[1]),
                  f"counts: {lines[1]!r}")
            p.keys("u")
            p.wait_line(0, r"\?token=[0-9a-f]{32}")
            p.keys("u")
            p.wait_line(0, r"token=", negate=True)
        step("header", header)

        def move_and_detail():
            p.keys("Home", "j", "Enter")
            scr = p.wait(lambda s: "Detail: browser" in s, 5, "the detail pane")
            check(re.search(r"Detail: browser \d+ firefox", scr), "j then Enter: detail is not firefox's")
            p.keys("k")
            scr = p.wait(lambda s: re.search(r"Detail: browser \d+ chromium", s), 5, "detail following k")
            check('vendor "google"  architecture "swiftshader"' in scr, f"adapter fields missing:\n{scr}")
            check("WebGPU SOFTWARE" in scr, "WebGPU status missing from the detail")
            # focus the detail pane and page through it
            p.keys("Tab", "Tab", "Tab")
            seen = p.screen()
            for _ in range(8):
                p.keys("PageDown")
                seen += p.screen()
            check(re.search(r"gpu: NotSupportedError", seen) and "WebNN is not supported on this platform" in seen,
                  f"WebNN per-device error text missing:\n{seen[-3000:]}")
            check("user agent: Mozilla/5.0" in seen, "user agent missing from the detail")
            p.keys("Enter")
            p.wait(lambda s: "Detail:" not in s, 5, "Enter closing the detail pane")
        step("move_and_detail", move_and_detail)

        state = {}

        def reconnect():
            p.keys("Home")
            rows = browser_rows(p.screen())
            cid = next(i for i, (k, _) in rows.items() if k == "chromium")
            state["chromium"] = cid
            p.keys("r")
            p.wait_status(rf"Reconnect browser {cid} \(chromium.*\? \[y/N\]")
            p.keys("y")
            p.wait_status(rf"browser {cid} reconnecting")
            p.wait(lambda s: re.search(rf"#{cid}\s+chromium reconnected", s), 20, "'reconnected' in the event log")
            scr = p.wait(both_software, 20, "both rows back")
            rows = browser_rows(scr)
            check(rows.get(cid, ("", ""))[0] == "chromium" and len(rows) == 2,
                  f"reconnect changed the rows: {rows}")
        step("reconnect_same_id", reconnect)

        def new_browser():
            p.keys("n")
            p.wait(lambda s: "Start a browser" in s, 5, "the choice of kinds")
            p.keys("c")
            p.wait_status(r"starting a new chromium browser")
            scr = p.wait(lambda s: len([1 for k, line in browser_rows(s).values()
                                        if k == "chromium" and "connected" in line and "SOFTWARE" in line]) >= 2,
                         40, "a second chromium row, connected")
            state["new"] = max(browser_rows(scr))
        step("n_starts_browser", new_browser)

        def stop_browser():
            nid = state.get("new")
            check(nid, "no new browser to stop")
            p.keys("End", "x")
            p.wait_status(rf"Stop browser {nid} \(chromium, pid (\d+)\)\? \[y/N\]")
            p.screen()  # note the pid
            p.keys("y")
            p.wait(lambda s: "exited" in browser_rows(s).get(nid, ("", ""))[1], 20, f"browser {nid} exited")
        step("x_stops_browser", stop_browser)

        def launch_model():
            p.keys("l")
            scr = p.wait(lambda s: "Launch a model" in s, 5, "the launch form")
            if "(none offered yet)" in scr:
                p.keys("Enter")
                check(p.status_line().strip(), "launch without models shows no message")
                raise Fail("no model offered by app_model_name(): models are not built (make)")
            check("< bert-tiny >" in scr, f"the form does not default to bert-tiny:\n{scr}")
            p.keys("Enter")
            p.wait_status(r"launched bert-tiny")
            scr = p.wait(lambda s: has_latency(model_row(s, "bert-tiny")), 90, "latency figures for bert-tiny")
            row = model_row(scr, "bert-tiny")
            check(re.search(r"\bfp32\b", row) and re.search(r"\bwebgpu\b", row) and "running" in row, f"row: {row!r}")
            check(re.search(r"[\u2581-\u2588_.\-:=+*#]+\s*$", row), f"no latency sparkline: {row!r}")
            print(f"     {row.strip()}", flush=True)
        step("l_launches_bert_tiny", launch_model)

        def precision():
            check(re.search(r"bert-tiny", p.screen()), "no model row")
            p.keys("p")
            st = p.wait_status(r"model").string
            if re.search(r"switching from fp32", st):
                p.wait(lambda s: re.search(r"^\s*\d+ bert-tiny .*\bfp16\b", s, re.M), 60, "the row at fp16")
                p.wait(lambda s: "precision changed to fp16" in s, 10, "the change in the event log")
            else:
                # an absent variant or one the adapter cannot run is said in the status line
                check(st.strip() and "model" in st, f"p gave no message: {st!r}")
        step("p_changes_precision", precision)

        def stop_model():
            p.keys("x")
            p.wait_status(r"Stop model \d+ \(bert-tiny")
            p.keys("y")
            p.wait(lambda s: re.search(r"^\s*\d+ bert-tiny .*\bstopped\b", s, re.M), 20, "the model stopped")
        step("x_stops_model", stop_model)

        def help_sort_filter_pause():
            p.keys("Tab")  # back to a list panel
            p.keys("?")
            p.wait(lambda s: "Keys" in s and "reconnect the selected browser" in s, 5, "the help")
            p.keys("space")
            p.wait(lambda s: "reconnect the selected browser" not in s, 5, "a key closing the help")
            p.keys("/")
            for ch in "fire":
                p.keys(ch)
            p.keys("Enter")
            scr = p.wait(lambda s: (lambda r: r and all(k == "firefox" for k, _ in r.values()))(browser_rows(s)), 5,
                         "only firefox rows with the filter 'fire'")
            check("FILTERED" in scr.split("\n")[1], "header does not say FILTERED")
            p.keys("/", "Escape")
            p.wait(lambda s: len(browser_rows(s)) >= 2, 5, "Esc clearing the filter")
            p.keys("z")
            p.wait_line(1, r"PAUSED")
            frozen = p.lines()[0]
            time.sleep(2.2)
            check(p.lines()[0] == frozen, "the header changes while paused")
            p.keys("z")
            p.wait_line(1, r"PAUSED", negate=True)
            p.keys("s")
            p.wait_status(r"sorted by")
        step("help_filter_pause_sort", help_sort_filter_pause)

        def resize_80x24():
            p.resize(80, 24)
            check(p.size() == (80, 24), f"size {p.size()}")
            check_layout(p, 80, 24)
        step("resize_80x24", resize_80x24)

        def resize_200x60():
            p.resize(200, 60)
            scr = check_layout(p, 200, 60)
            check("VERSION" in scr and "MODE" in scr and re.search(r"\b15\d\.\d", scr),
                  "wide screen lacks the VERSION and MODE columns")
        step("resize_200x60", resize_200x60)

        def too_small():
            p.resize(70, 20)
            p.wait(lambda s: "terminal too small (need 80x24)" in s, 5, "the too-small message")
            p.resize(79, 30)
            p.wait(lambda s: "terminal too small (need 80x24)" in s, 5, "the too-small message at 79 columns")
            p.resize(120, 40)
            p.wait(lambda s: "terminal too small" not in s and both_software(s), 5, "the screen back at 120x40")
        step("too_small", too_small)

        def colours_used():
            found = colour_params(p.screen(escapes=True))
            check(found, "the colour run shows no colour at all")
        step("colours_when_allowed", colours_used)

        def quit_():
            p.screen()  # collect pids shown
            p.keys("q")
            status = p.wait_exit(20)
            check(status == 0, f"exit status {status}")
            scr = p.screen()
            check("F10Quit" not in scr and "Browsers" not in scr, f"the screen was not restored:\n{scr}")
            err = p.stderr()
            check(not err.strip(), f"accel-top wrote to stderr: {err[-1500:]!r}")
            check(p.browser_pids, "no browser pid was ever seen on the screen")
            left = leftovers(p)
            check(not left, f"left behind: {left}")
        step("q_quits_cleanly", quit_)
    finally:
        p.close()
    return results


def test_no_color_readonly():
    """NO_COLOR=1 and --readonly: no colour codes at all, status still as words; keys that change
    something are refused in the status line; SIGTERM restores the terminal and cleans up."""
    p = Pane("mono", ["--browsers", "chromium,firefox", "--port", "0", "--readonly"], 120, 40,
             env={"NO_COLOR": "1", "TERM": "xterm-256color"})
    results = []

    def step(name, fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok   {name}", flush=True)
        except Exception as e:  # noqa: BLE001
            msg = str(e) if isinstance(e, Fail) else traceback.format_exc()
            results.append((name, msg))
            print(f"FAIL {name}\n     " + msg.replace("\n", "\n     "), flush=True)

    try:
        def mono():
            p.wait(both_software, 45, "both rows with SOFTWARE")
            p.keys("Enter")
            esc = p.screen(escapes=True)
            found = colour_params(esc)
            check(not found, f"colour codes with NO_COLOR=1: {sorted(found)}")
            check(re.search(r"\x1b\[[0-9;]*7[;m]", esc) or "\x1b[7m" in esc,
                  "no reverse video either: selection and headings are invisible")
            check("WebGPU SOFTWARE" in p.screen(), "status words missing in monochrome")
        step("no_color_monochrome", mono)

        def readonly():
            check("READ-ONLY" in p.lines()[1], f"header: {p.lines()[1]!r}")
            for key, word in (("r", "reconnect"), ("n", "new browser"), ("x", "stop"), ("l", "launch"),
                              ("p", "precision")):
                p.keys(key)
                st = p.wait_status(rf"read-only.*{word}").string
                check("[y/N]" not in st and "Launch a model" not in p.screen() and "Start a browser" not in p.screen(),
                      f"{key} still asks or opens a form")
            rows = browser_rows(p.screen())
            check(len(rows) == 2 and all("connected" in line for _, line in rows.values()), "rows changed")
        step("readonly_refuses", readonly)

        def sigterm():
            p.screen()
            os.kill(p.pid, signal.SIGTERM)
            status = p.wait_exit(20)
            check(status == 128 + signal.SIGTERM, f"exit status {status} after SIGTERM")
            scr = p.screen()
            check("F10Quit" not in scr, f"the screen was not restored after SIGTERM:\n{scr}")
            err = p.stderr()
            check(not err.strip(), f"accel-top wrote to stderr: {err[-1500:]!r}")
            left = leftovers(p)
            check(not left, f"left behind after SIGTERM: {left}")
        step("sigterm_restores_and_cleans", sigterm)
    finally:
        p.close()
    return results


def quick_steps(results, name, fn):
    try:
        fn()
        results.append((name, None))
        print(f"ok   {name}", flush=True)
    except Exception as e:  # noqa: BLE001
        msg = str(e) if isinstance(e, Fail) else traceback.format_exc()
        results.append((name, msg))
        print(f"FAIL {name}\n     " + msg.replace("\n", "\n     "), flush=True)


def test_terminals():
    """Without browsers (--no-launch, quick): 8-colour and 256-colour terminals, --no-color, the
    empty browsers panel, and a crash (SIGSEGV) that still restores the terminal."""
    results = []

    def session(name, term, extra=(), env=None):
        e = {"TERM": term}
        e.update(env or {})
        p = Pane(name, ["--no-launch", "--port", "0", *extra], 100, 30, env=e)
        p.wait(lambda s: "F10Quit" in s and "http://127.0.0.1:" in s, 20, "the screen")
        return p

    def eight():
        p = session("c8", "screen")
        try:
            found = colour_params(p.screen(escapes=True))
            check(found, "no colour on an 8-colour terminal")
            check(all(not f.startswith(("38", "48")) for f in found), f"256-colour codes on 'screen': {sorted(found)}")
            check("no browsers yet" in p.screen(), "the empty browsers panel says nothing")
        finally:
            p.close()
    quick_steps(results, "colours_8", eight)

    def c256():
        p = session("c256", "tmux-256color")
        try:
            found = colour_params(p.screen(escapes=True))
            check(any(f.startswith(("38;5", "48;5")) for f in found), f"no 256-colour codes: {sorted(found)}")
        finally:
            p.close()
    quick_steps(results, "colours_256", c256)

    def flag():
        p = session("nc", "tmux-256color", ["--no-color", "--show-token"])
        try:
            found = colour_params(p.screen(escapes=True))
            check(not found, f"colour codes with --no-color: {sorted(found)}")
            check(re.search(r"\?token=[0-9a-f]{32}", p.lines()[0]), f"--show-token: {p.lines()[0]!r}")
        finally:
            p.close()
    quick_steps(results, "no_color_flag_show_token", flag)

    def ctrl_c():
        p = session("cc", "screen")
        try:
            p.keys("C-c")
            status = p.wait_exit(20)
            check(status == 128 + signal.SIGINT, f"exit status {status} after Ctrl-C")
            check("F10Quit" not in p.screen(), "the screen was not restored after Ctrl-C")
            check(not os.path.exists(f"{TMP}/accel-top-{p.pid}"), "runtime folder left after Ctrl-C")
        finally:
            p.close()
    quick_steps(results, "ctrl_c_quits", ctrl_c)

    def crash():
        p = session("segv", "screen")
        try:
            os.kill(p.pid, signal.SIGSEGV)
            status = p.wait_exit(20)
            check(status != 0, f"exit status {status} after SIGSEGV")
            scr = p.screen()
            check("F10Quit" not in scr, f"the screen was not restored after SIGSEGV:\n{scr}")
        finally:
            p.close()
            shutil.rmtree(f"{TMP}/accel-top-{p.pid}", ignore_errors=True)
    quick_steps(results, "crash_restores_terminal", crash)
    return results


def test_not_a_tty():
    """Interactive mode with stdout not a terminal: exit 2, suggesting -b."""
    r = subprocess.run([ACCEL_TOP, "--port", "0"], capture_output=True, text=True, timeout=20,
                       stdin=subprocess.DEVNULL, env=dict(os.environ, ACCEL_TOP_DATA=DATA))
    check(r.returncode == 2, f"exit status {r.returncode}")
    check("-b" in r.stderr and "not a terminal" in r.stderr, f"stderr: {r.stderr!r}")
    return [("not_a_tty_exit_2", None)]


def replay_json(path, *args):
    r = subprocess.run([ACCEL_TOP, "--replay", path, "-b", "--json", *args], capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, ACCEL_TOP_DATA=DATA))
    check(r.returncode == 0, f"batch replay: exit {r.returncode}: {r.stderr!r}")
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_replay():
    """Record a session driven from the screen (--record: launch with l, precision with p, reconnect
    with r, quit), replay it in batch mode and find the precision change and the reconnect at the
    recorded times; then replay it on the screen: REPLAY and the recorded time in the header, space
    pauses, t / T step, b jumps to a typed time, + and - change the speed, l is refused, End, q."""
    results = []
    path = tempfile.NamedTemporaryFile(prefix="accel-top-rec-", suffix=".acc", delete=False).name
    marks = {}
    try:
        p = Pane("rec", ["--browsers", "chromium,firefox", "--port", "0", "--record", path], 120, 40)
        try:
            def record():
                p.wait(both_software, 45, "both rows with SOFTWARE")
                marks["start"] = time.time()
                p.keys("l")
                p.wait(lambda s: "Launch a model" in s, 5, "the launch form")
                p.keys("Enter")
                p.wait_status(r"launched bert-tiny")
                p.wait(lambda s: has_latency(model_row(s, "bert-tiny")), 90, "latency figures for bert-tiny")
                marks["prec_key"] = time.time()
                p.keys("p")
                st = p.wait_status(r"model").string
                if re.search(r"switching from fp32", st):
                    p.wait(lambda s: re.search(r"^\s*\d+ bert-tiny .*\bfp16\b", s, re.M), 60, "the row at fp16")
                    marks["prec_seen"] = time.time()
                else:
                    print(f"     no precision change here: {st.strip()}", flush=True)
                p.keys("Tab", "Home")  # the browsers panel, first row (chromium)
                rows = browser_rows(p.screen())
                cid = min(i for i, (k, _) in rows.items() if k == "chromium")
                marks["cid"] = cid
                p.keys("r")
                p.wait_status(rf"Reconnect browser {cid} \(chromium.*\? \[y/N\]")
                marks["rec_key"] = time.time()
                p.keys("y")
                p.wait(lambda s: re.search(rf"#{cid}\s+chromium reconnected", s), 30, "'reconnected' in the event log")
                marks["rec_seen"] = time.time()
                p.keys("q")
                status = p.wait_exit(20)
                marks["end"] = time.time()
                check(status == 0, f"exit status {status}")
                check(os.path.getsize(path) > 1000, "the recording is (nearly) empty")
            quick_steps(results, "replay_record_from_screen", record)
        finally:
            p.close()

        def batch():
            check("rec_seen" in marks, "the recording was not made")
            snaps = replay_json(path, "-d", "0.25")
            check(snaps, "batch replay printed nothing")
            if "prec_seen" in marks:
                first = next((s for s in snaps if any(m["name"] == "bert-tiny" and m["precision"] == "fp16"
                                                      for m in s["models"])), None)
                check(first, "the precision change is not in the replay")
                t = first["time"]
                check(marks["prec_key"] - 0.5 <= t <= marks["prec_seen"] + 0.5,
                      f"fp16 from {t:.2f} in the replay; p pressed at {marks['prec_key']:.2f}, seen at "
                      f"{marks['prec_seen']:.2f}")
                before = [s for s in snaps if s["time"] < marks["prec_key"] - 0.5 and s["models"]]
                check(before and all(m["precision"] == "fp32" for m in before[-1]["models"]), "fp32 before p")
            cid = marks["cid"]

            def restarted(s):
                return any(b["id"] == cid and (b["restarts"] >= 1 or b["reconnects"] >= 1) for b in s["browsers"])
            first = next((s for s in snaps if restarted(s)), None)
            check(first, f"the reconnect of browser {cid} is not in the replay")
            t = first["time"]
            check(marks["rec_key"] - 0.5 <= t <= marks["rec_seen"] + 0.5,
                  f"browser {cid} restarted at {t:.2f} in the replay; r pressed at {marks['rec_key']:.2f}, "
                  f"reconnected on screen at {marks['rec_seen']:.2f}")
            print(f"     precision change and reconnect at the recorded times ({len(snaps)} snapshots at 0.25 s)",
                  flush=True)
        quick_steps(results, "replay_batch_finds_p_and_r", batch)

        r = Pane("replay", ["--replay", path], 120, 40)
        try:
            def header():
                scr = r.wait(lambda s: "REPLAY" in s.split("\n")[0], 10, "REPLAY in the header")
                m = re.search(r"REPLAY (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+1x\s+playing", scr.split("\n")[0])
                check(m, f"header: {scr.split(chr(10))[0]!r}")
                t = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
                check(marks.get("start", 0) - 120 <= t <= marks.get("end", time.time()) + 1,
                      f"header time {m.group(1)} is not a recorded time")
            quick_steps(results, "replay_header", header)

            def pause():
                r.keys("space")
                time.sleep(0.3)
                if "playing" in r.lines()[0]:  # it had reached the end (paused there): space played again
                    r.keys("space")
                r.wait_line(0, r"REPLAY .*\bpaused\b")
                frozen = r.lines()[0]
                time.sleep(1.5)
                check(r.lines()[0] == frozen, "the replay clock moves while paused")
                check("PAUSED" not in r.lines()[1], "space paused the display instead of the replay")
            quick_steps(results, "replay_space_pauses", pause)

            def step():
                r.keys("t")
                n1 = int(r.wait_status(r"event (\d+) of (\d+)").group(1))
                r.keys("t")
                n2 = int(r.wait_status(rf"event ({n1 + 1}) of").group(1))
                r.keys("T")
                r.wait_status(rf"event {n1} of")
                check(n2 == n1 + 1, f"t: {n1} then {n2}")
            quick_steps(results, "replay_t_T_step", step)

            def jump():
                # the next whole second after fp16 showed on the screen: the pool had it then, and the
                # recording goes on (reconnect, quit) for seconds after it
                target = math.ceil(marks.get("prec_seen", marks.get("rec_key", time.time())))
                text = time.strftime("%H:%M:%S", time.localtime(target))
                r.keys("b")
                r.wait_status(r"jump to")
                for ch in text:
                    r.keys(ch, pause=0.05)
                r.keys("Enter")
                r.wait_status(rf"jumped to .*{text}")
                r.wait_line(0, rf"REPLAY \d{{4}}-\d\d-\d\d {text}")
                if "prec_seen" in marks:
                    r.wait(lambda s: re.search(r"^\s*\d+ bert-tiny .*\bfp16\b", s, re.M), 5, "fp16 after the jump")
            quick_steps(results, "replay_b_jumps", jump)

            def speed():
                r.keys("+")
                r.wait_line(0, r"REPLAY .* 2x ")
                r.keys("-", "-")
                r.wait_line(0, r"REPLAY .* 0\.5x ")
                r.keys("+")
                r.wait_line(0, r"REPLAY .* 1x ")
            quick_steps(results, "replay_speed", speed)

            def live_only():
                for key in ("l", "p", "x"):
                    r.keys(key)
                    st = r.wait_status(r"not available in replay").string
                    check("Launch a model" not in r.screen() and "[y/N]" not in st, f"{key} opened something")
            quick_steps(results, "replay_live_keys_refused", live_only)

            def end_and_quit():
                r.keys("End")
                scr = r.wait(lambda s: "paused (end)" in s.split("\n")[0], 5, "the end")
                check(browser_rows(scr) and all("exited" in line for _, line in browser_rows(scr).values()),
                      f"the browsers' exits are not at the end:\n{scr}")
                r.keys("r")
                r.wait_status(r"rewound to the start")
                r.keys("q")
                status = r.wait_exit(10)
                check(status == 0, f"exit status {status}")
                check(not r.stderr().strip(), f"stderr: {r.stderr()[-1000:]!r}")
            quick_steps(results, "replay_end_rewind_quit", end_and_quit)
        finally:
            r.close()
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    return results


def test_supervision():
    """What the supervisor does, on screen: a kill -9 shows the planned restart and the browser back
    under its id; a second crash within a minute (--max-restarts 1) shows it held down; r (with y)
    releases it."""
    p = Pane("supervision", ["--browsers", "chromium", "--port", "0", "--max-restarts", "1"], 120, 40)
    results = []
    try:
        def pid_of(scr, seen):
            pids = [int(x) for x in re.findall(r"launched \(pid (\d+)\)", scr)]
            new = [x for x in pids if x not in seen]
            check(new, f"no new 'launched (pid N)' in the event log:\n{scr}")
            return new[-1]

        state = {"seen": set()}

        def crash_restart():
            scr = p.wait(lambda s: any(re.search(r"\bconnected\b", line) for _, line in browser_rows(s).values()),
                         45, "chromium connected")
            pid = pid_of(scr, state["seen"])
            state["seen"].add(pid)
            state["id"] = next(iter(browser_rows(scr)))
            os.kill(pid, signal.SIGKILL)
            p.wait(lambda s: re.search(r"restart in \d+\.\d s", s), 20, "'restart in' in the event log")
            scr = p.wait(lambda s: re.search(rf"#{state['id']}\s+chromium reconnected", s), 40,
                         "the browser back under its id")
            state["pid2"] = pid_of(p.screen(), state["seen"])
            state["seen"].add(state["pid2"])
        quick_steps(results, "supervision_restart_after_kill", crash_restart)

        def held():
            os.kill(state["pid2"], signal.SIGKILL)
            scr = p.wait(lambda s: "held down" in s and re.search(rf"^\s*{state['id']} chromium .*\bheld\b", s, re.M),
                         20, "the row state 'held' and 'held down' in the event log")
        quick_steps(results, "supervision_held_down", held)

        def release():
            p.keys("Home", "r")
            p.wait_status(rf"Reconnect browser {state['id']} \(chromium.*\? \[y/N\]")
            p.keys("y")
            p.wait(lambda s: len(re.findall(rf"#{state['id']}\s+chromium reconnected", s)) >= 2 and
                   re.search(rf"^\s*{state['id']} chromium .*\bconnected\b", s, re.M), 40, "released and back")
        quick_steps(results, "supervision_r_releases", release)
        def quit_clean():
            p.keys("q")
            status = p.wait_exit(20)
            check(status == 0, f"exit status {status}")
            check(not leftovers(p), f"left: {leftovers(p)}")
        quick_steps(results, "supervision_quit_clean", quit_clean)
    finally:
        p.close()
    return results


USAGE_CELLS = re.compile(r"\s(\d+(?:\.\d)?[KMGT]|n/a)\s+(\d+(?:\.\d)?|n/a)\s*$")


def test_usage_columns():
    """The browsers panel's RSS and CPU% columns: n/a until sampled, then a size and a percentage
    for each managed browser; the detail pane's process count; hidden at 80 columns."""
    p = Pane("usage", ["--browsers", "chromium,firefox", "--port", "0"], 120, 40)
    results = []
    try:
        def columns():
            p.wait(both_software, 45, "both rows with SOFTWARE")
            head = next((line for line in p.lines() if "KIND" in line and "STATE" in line), "")
            check(re.search(r"RTT ms\s+RSS\s+CPU%\s*$", head), f"column heads: {head!r}")

            def sampled(scr):
                rows = browser_rows(scr)
                cells = [USAGE_CELLS.search(line) for _, line in rows.values()]
                return len(rows) == 2 and all(c and c.group(1) != "n/a" and c.group(2) != "n/a" for c in cells)
            scr = p.wait(sampled, 20, "RSS and CPU% figures in both rows")
            for kind, line in browser_rows(scr).values():
                rss = USAGE_CELLS.search(line).group(1)
                mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[rss[-1]]
                check(float(rss[:-1]) * mult > 10e6, f"{kind}: RSS {rss}: {line!r}")
        quick_steps(results, "usage_columns", columns)

        def detail():
            p.keys("Home", "Enter")
            scr = p.wait(lambda s: re.search(r"RSS \d+(\.\d)?[KMGT] in \d+ processes, CPU [\d.]+%", s), 8,
                         "the usage line in the detail pane")
            n = int(re.search(r"in (\d+) processes", scr).group(1))
            check(n >= 2, f"{n} processes")
            p.keys("Escape")
        quick_steps(results, "usage_detail", detail)

        def narrow():
            p.resize(80, 24)
            head = next((line for line in p.lines() if "KIND" in line and "STATE" in line), "")
            check("RSS" not in head and "CPU%" not in head and "RTT" in head, f"80 columns: {head!r}")
            p.resize(120, 40)
        quick_steps(results, "usage_hidden_at_80", narrow)

        def quit_():
            p.screen()
            p.keys("q")
            check(p.wait_exit(20) == 0, "exit status")
            err = p.stderr()
            check(not err.strip(), f"accel-top wrote to stderr: {err[-1500:]!r}")
            left = leftovers(p)
            check(not left, f"left behind: {left}")
        quick_steps(results, "usage_quit", quit_)
    finally:
        p.close()
    return results


TESTS = {"interactive": test_interactive, "no_color_readonly": test_no_color_readonly, "terminals": test_terminals,
         "not_a_tty": test_not_a_tty, "replay": test_replay, "supervision": test_supervision,
         "usage_columns": test_usage_columns}


def pane_wrapper(pidfile, statusfile, errfile, argv):
    """Runs in the tmux pane: starts accel-top with stderr to errfile, writes its pid, waits, writes
    its exit status (negative: the signal that killed it)."""
    pid = os.fork()
    if pid == 0:
        fd = os.open(errfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 2)
        os.close(fd)
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    # Ctrl-C and the like go to the whole foreground group: they are accel-top's to handle
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)
    with open(pidfile + ".tmp", "w") as f:
        f.write(str(pid))
    os.rename(pidfile + ".tmp", pidfile)
    _, st = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else -os.WTERMSIG(st)
    with open(statusfile + ".tmp", "w") as f:
        f.write(str(code))
    os.rename(statusfile + ".tmp", statusfile)
    return 0


def main():
    if len(sys.argv) > 5 and sys.argv[1] == "--pane-wrapper":
        return pane_wrapper(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    if not shutil.which("tmux"):
        print("tmux: tmux is not installed (apt-get install tmux)")
        print("tmux: 0 passed, 1 failed")
        return 1
    names = sys.argv[1:] or list(TESTS)
    for n in names:
        if n not in TESTS:
            print(f"no test named {n!r} (known: {', '.join(TESTS)})", file=sys.stderr)
            return 2
    passed = failed = 0
    for n in names:
        print(f"=== {n}", flush=True)
        try:
            res = TESTS[n]()
        except Exception as e:  # noqa: BLE001
            msg = str(e) if isinstance(e, Fail) else traceback.format_exc()
            print(f"FAIL {n}\n     {msg}", flush=True)
            res = [(n, msg)]
        for name, err in res:
            if err is None:
                passed += 1
                if n == "not_a_tty":
                    print(f"ok   {name}", flush=True)
            else:
                failed += 1
    print(f"tmux: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
