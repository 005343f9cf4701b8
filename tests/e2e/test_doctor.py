#!/usr/bin/python3
"""End-to-end tests of accel-top doctor: the real binary checking this machine, with real headless
Chromium and Firefox, the demo models built by make, and browsers hidden from PATH.

Run: tests/e2e/test_doctor.py [NAME...]; ACCEL_TOP names the binary. Ends with 'N passed, N failed'.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, process_table, run_tests  # noqa: E402

ACCEL_TOP = os.environ.get("ACCEL_TOP", os.path.abspath("accel-top"))
TMP = tempfile.mkdtemp(prefix="accel-top-doctor-")
LINE = re.compile(r"^(OK|WARN|FAIL)  +(\S+)(?: (\S+))?(?: (webgpu|webnn|wasm))? +(.*)$")


def run(*args, env=None, timeout=600):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([ACCEL_TOP, "doctor", *args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, env=e)
    # under SANITIZE=1 a report goes to stderr; an exit status of 1 alone would hide it
    check("Sanitizer" not in p.stderr and "runtime error:" not in p.stderr, f"{args}: {p.stderr[-3000:]}")
    return p.returncode, p.stdout, p.stderr


def parse_text(out):
    """[(status, check, browser, platform, detail, fix)] from the text output."""
    checks = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            st, name, browser, platform, detail = m.groups()
            if name in ("libraries", "vulkan", "bridge", "tls"):  # no browser: the second word is the detail
                detail = " ".join(x for x in (browser, platform, detail) if x)
                browser = platform = None
            checks.append([st, name, browser, platform, detail, None])
        elif line.strip().startswith("fix: ") and checks:
            checks[-1][5] = line.strip()[5:]
    return checks


def no_browser_left(out):
    """The browsers whose pids the launch lines name are gone (their sessions hold no live process)."""
    pids = {int(p) for p in re.findall(r"launched \(pid (\d+)\)", out)}
    left = [f"{pid} {cmd[:100]}" for pid, (state, sid, cmd) in process_table().items()
            if state != "Z" and sid in pids]
    check(not left, f"browsers left running: {left}")
    return pids


def test_chromium_firefox_webgpu_wasm_pass():
    rc, out, err = run("--browser", "chromium,firefox", "--platform", "webgpu,wasm")
    checks = parse_text(out)
    check(rc == 0, f"exit {rc}; stdout:\n{out}\nstderr: {err[-1500:]}")
    order = [(c[1], c[2], c[3]) for c in checks]
    want = [("libraries", None, None), ("browser", "chromium", None), ("browser", "firefox", None),
            ("vulkan", None, None), ("bridge", None, None), ("tls", None, None), ("launch", "chromium", None),
            ("launch", "firefox", None),
            ("roundtrip", "chromium", None), ("roundtrip", "firefox", None)]
    want += [("caps", b, p) for b in ("chromium", "firefox") for p in ("webgpu", "wasm")]
    want += [("model", b, p) for b in ("chromium", "firefox") for p in ("webgpu", "wasm")]
    check(order == want, f"checks out of order or missing:\n{order}\nwanted\n{want}\n{out}")
    check(not [c for c in checks if c[0] == "FAIL"], out)
    byname = {(c[1], c[2], c[3]): c for c in checks}
    check("evlib_uv.so" in byname[("libraries", None, None)][4], out)
    check(re.search(r"version \d+\.", byname[("browser", "chromium", None)][4]), out)
    check(re.search(r"version \d+\.", byname[("browser", "firefox", None)][4]), out)
    check("GET / gave 200" in byname[("bridge", None, None)][4], out)
    check(byname[("tls", None, None)][0] == "OK" and "a loopback address" in byname[("tls", None, None)][4], out)
    for b in ("chromium", "firefox"):
        check(re.search(r"median \d+\.\d+ ms .*1 MiB sent and echoed back", byname[("roundtrip", b, None)][4]), out)
        gpu = byname[("caps", b, "webgpu")]
        # this machine has no GPU: the adapter is software, and said so, never hardware
        check(gpu[0] == "WARN" and gpu[4].startswith("software:") and gpu[5], f"{gpu}")
        check(byname[("caps", b, "wasm")][0] == "OK", out)
        for p, prec in (("webgpu", "fp32"), ("wasm", "int8")):
            m = byname[("model", b, p)]
            check(m[0] == "OK" and f"bert-tiny {prec} ran on {p} (software)" in m[4] and "output verified" in m[4]
                  and "against fp32 on wasm in the same browser" in m[4], f"{m}")
    check(re.search(r"^doctor: 16 ok, 2 warn, 0 fail$", out, re.M), out)
    no_browser_left(out)


def test_webnn_unavailable_with_reason_is_a_warning_json():
    script = f"{TMP}/fix-all.sh"
    rc, out, err = run("--json", "--fix-script", script)
    lines = [json.loads(x) for x in out.splitlines()]
    check(rc == 0, f"exit {rc}; {out}\n{err[-1500:]}")
    check(lines and lines[-1].get("summary", {}).get("exit_status") == 0 and lines[-1]["summary"]["fail"] == 0,
          f"{lines[-1:]}")
    checks = lines[:-1]
    check(all(set(c) == {"check", "browser", "platform", "status", "detail", "fix", "packages"} for c in checks),
          f"{checks[:2]}")
    nn = {c["browser"]: c for c in checks if c["check"] == "caps" and c["platform"] == "webnn"}
    check(set(nn) >= {"chromium", "firefox"}, f"{nn}")
    check(nn["chromium"]["status"] == "warn" and nn["chromium"]["detail"].startswith("unavailable: ")
          and "createContext" in nn["chromium"]["detail"] and nn["chromium"]["fix"], f"{nn['chromium']}")
    check("--browsers chromium-shell" in nn["chromium"]["fix"] and "built without" in nn["chromium"]["fix"],
          f"{nn['chromium']}")
    check(nn["firefox"]["status"] == "warn" and "navigator.ml is undefined" in nn["firefox"]["detail"], f"{nn['firefox']}")
    if "chromium-shell" in nn:  # installed by make: its WebNN runs, on the CPU
        shell = nn.pop("chromium-shell")
        check(shell["status"] == "warn" and shell["detail"].startswith("software: ") and "TFLite" in shell["detail"],
              f"{shell}")
    runs = {c["browser"]: c for c in checks if c["check"] == "model" and c["platform"] == "webnn" and c["browser"] in nn}
    check(all(r["status"] == "warn" and r["detail"].startswith("not run: webnn is unavailable") for r in runs.values()),
          f"{runs}")
    # the fix script names every problem and is valid sh
    check(os.path.exists(script), "no fix script written")
    text = open(script).read()
    check(text.startswith("#!/bin/sh\n") and "# WARN caps chromium webnn" in text, text)
    p = subprocess.run(["sh", "-n", script], capture_output=True, text=True)
    check(p.returncode == 0, f"sh -n: {p.stderr}\n{text}")
    no_browser_left("\n".join(c["detail"] for c in checks))


def test_webnn_asked_for_by_name_fails():
    rc, out, err = run("--browser", "chromium", "--platform", "webnn")
    checks = {(c[1], c[3]): c for c in parse_text(out)}
    check(rc == 1, f"exit {rc}; {out}\n{err[-800:]}")
    caps = checks[("caps", "webnn")]
    check(caps[0] == "FAIL" and "not supported" in caps[4] and caps[5], f"{caps}")
    check(checks[("model", "webnn")][0] == "FAIL", out)
    check(re.search(r"^doctor: \d+ ok, 0 warn, 2 fail$", out, re.M), out)
    no_browser_left(out)


def test_missing_browser_fails_with_the_fix():
    # Edge is not installed here; a PATH of the system folders cannot find it
    script = f"{TMP}/fix-edge.sh"
    rc, out, err = run("--browser", "edge", "--fix-script", script, env={"PATH": "/usr/bin:/bin"})
    checks = parse_text(out)
    check(rc == 1, f"exit {rc}; {out}\n{err}")
    edge = [c for c in checks if c[1] == "browser" and c[2] == "edge"]
    check(edge and edge[0][0] == "FAIL" and "edge is not installed" in edge[0][4] and "microsoft-edge" in edge[0][4]
          and "microsoft-edge-stable" in (edge[0][5] or ""), f"{edge}\n{out}")
    check(not [c for c in checks if c[1] in ("launch", "model")], f"nothing to launch, yet: {out}")
    check([c for c in checks if c[1] == "bridge" and c[0] == "OK"], out)
    # chromium hidden by an empty PATH: the fix is the Debian package, and the script installs it
    empty = f"{TMP}/empty-path"
    os.makedirs(empty, exist_ok=True)
    rc, out, err = run("--browser", "chromium", "--fix-script", script, env={"PATH": empty})
    checks = parse_text(out)
    check(rc == 1, f"exit {rc}; {out}\n{err}")
    ch = [c for c in checks if c[1] == "browser" and c[2] == "chromium"]
    check(ch and ch[0][0] == "FAIL" and ch[0][5] == "apt-get install -y chromium", f"{ch}\n{out}")
    text = open(script).read()
    check("\napt-get install -y chromium\n" in text, text)
    p = subprocess.run(["sh", "-n", script], capture_output=True, text=True)
    check(p.returncode == 0, f"sh -n: {p.stderr}\n{text}")


def test_usage_errors_exit_2_with_one_line():
    for args in (["--platform", "metal"], ["--browser", "safari"], ["--bogus"], ["--timeout", "0"],
                 ["--fix-script"], ["stray"], ["--platform", ","]):
        rc, out, err = run(*args, timeout=30)
        lines = err.strip().splitlines()
        check(rc == 2 and out == "" and len(lines) == 1 and lines[0].startswith("accel-top doctor: "),
              f"{args}: exit {rc}, stdout {out!r}, stderr {err!r}")
    rc, out, _ = run("--help", timeout=30)
    check(rc == 0 and "--fix-script" in out, out)


def main(argv):
    return run_tests("doctor", globals(), argv, cleanup=lambda: subprocess.run(["rm", "-rf", TMP]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
