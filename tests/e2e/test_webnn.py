#!/usr/bin/python3
"""End-to-end tests of WebNN for real: the chromium-shell family (npm @sparticuz/chromium's headless
shell, unpacked by make into build/chromium-shell/), its WebNN contexts and their classification,
the demo models run on webnn and verified against fp32 on wasm, with ORT's node placement.

Skipped, with the reason on one line, only when the npm package is absent (make deps installs it).
Run: tests/e2e/test_webnn.py [NAME...]; ACCEL_TOP names the binary. Ends with 'N passed, N failed'.
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
DATA = os.environ.get("ACCEL_TOP_DATA", os.getcwd())
NPM = f"{DATA}/browser-js/node_modules/@sparticuz/chromium/bin/chromium.br"
SHELL = f"{DATA}/build/chromium-shell/chromium"
TMP = tempfile.mkdtemp(prefix="accel-top-webnn-")


def run(*args, env=None, timeout=120):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([ACCEL_TOP, *args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, env=e)
    return p.returncode, p.stdout, p.stderr


def no_shell_left():
    left = [f"{pid} {cmd[:100]}" for pid, (state, sid, cmd) in process_table().items()
            if state != "Z" and SHELL in cmd]
    check(not left, f"chromium-shell processes left running: {left}")


def test_hello_webnn_contexts_software_with_evidence():
    """Two shells (--browsers chromium-shell:2): real version, every deviceType's createContext
    answer, WebNN software (CPU) with the reason, never hardware."""
    rc, out, err = run("-b", "--json", "-n", "1", "--browsers", "chromium-shell:2", "--port", "0")
    check(rc == 0, f"exit {rc}; stderr {err[-1500:]}")
    snap = json.loads(out.splitlines()[-1])
    shells = [b for b in snap["browsers"] if b["kind"] == "chromium-shell"]
    check(len(shells) == 2, f"{[(b['kind'], b['state']) for b in snap['browsers']]}")
    for b in shells:
        check(b["state"] == "connected" and re.match(r"^153\.\d+\.\d+\.\d+$", b["version"] or ""), f"{b['version']}")
        nn = b["webnn"]
        check(nn["api"] is True, f"{nn}")
        for t in ("cpu", "gpu", "npu"):
            d = nn["devices"][t]
            check(d["ok"] is True or (d["ok"] is False and d["error"]), f"{t}: {d}")
        check(nn["devices"]["cpu"]["ok"] is True, f"{nn}")
        check(nn["status"] == "software", f"{nn['status']}: {nn['evidence']}")
        check("createContext ok for cpu" in nn["evidence"] and "TFLite/XNNPACK" in nn["evidence"], nn["evidence"])
        check(b["webgpu"]["status"] == "software", f"{b['webgpu']['evidence']}")
    no_shell_left()


def test_bench_webnn_verified_with_placement():
    """bert-tiny and Silero VAD on webnn in fp32, fp16, int8 and int4, each verified against fp32 on
    wasm in the same browser; ORT's node placement in every loaded result; a precision WebNN
    refuses is a failed row with the browser's message (int8 in Chromium 153: MLGraphBuilder's
    build fails), soon, not at the timeout."""
    js = f"{TMP}/bench.json"
    rc, out, err = run("bench", "--browser", "chromium-shell", "--platform", "webnn", "--model", "bert-tiny,silero-vad",
                       "--precision", "32,16,8,4", "--iterations", "3", "--warmup", "1", "--timeout", "40",
                       "--db", f"{TMP}/bench.db", "--json", js, timeout=240)
    check(os.path.exists(js), f"no results; exit {rc}; stderr {err[-1500:]}")
    results = {(r["model"], r["precision_requested"]): r for r in json.load(open(js))["results"]}
    check(set(results) == {(m, p) for m in ("bert-tiny", "silero-vad") for p in ("fp32", "fp16", "int8", "int4")},
          f"{list(results)}")
    for (m, p), r in results.items():
        check(r["browser"] == "chromium-shell" and r["platform_requested"] == "webnn", f"{r}")
        check(r["classification"] == "software" and "TFLite" in r["evidence"], f"{m} {p}: {r['evidence']}")
        if p == "fp32" or r["status"] == "ok":
            check(r["status"] == "ok" and r["platform_used"] == "webnn" and not r["fallback"],
                  f"{m} {p}: {r['status']} {r['reason']}")
            check(r["verify_ok"] is True and r["verify_note"] == "against fp32 on wasm in the same browser",
                  f"{m} {p}: verify {r['verify_ok']} {r['verify_norm_err']} {r['verify_note']}")
            pl = r["placement"] or ""
            check(re.match(r"^WebNN took \d+ of \d+ nodes \(\d+ partitions?\); ", pl)
                  or pl.startswith("onnxruntime-web logged no node placement"), f"{m} {p}: {pl!r}")
            check(f"{m} {r['precision_loaded']}: {pl}" in out, f"placement not printed:\n{out[-1500:]}")
        elif r["status"] == "skipped":  # the model has no such file (Silero VAD ships fp32 only)
            check(f"has no {p} variant" in r["reason"], f"{m} {p}: {r['reason']}")
        else:  # refused: the row says why, in the browser's words
            check(r["status"] == "failed" and r["reason"], f"{m} {p}: {r}")
    # every node of bert-tiny is one WebNN supports (Gather, MatMul, LayerNormalization, Erf...)
    check(results[("bert-tiny", "fp32")]["placement"].endswith("deviceType gpu; no op on ORT's CPU fallback"),
          results[("bert-tiny", "fp32")]["placement"])
    r8 = results[("bert-tiny", "int8")]
    check(r8["status"] == "ok" or "MLGraphBuilder" in (r8["reason"] or ""), f"int8: {r8['status']} {r8['reason']}")
    r4 = results[("bert-tiny", "int4")]  # MatMulNBits has no WebNN op: ORT runs it on the CPU, named
    check(r4["status"] != "ok" or "MatMulNBits" in r4["placement"], f"int4: {r4['placement']}")
    # Silero VAD's graph is an If over two subgraphs: WebNN takes no If, so ORT runs it (and the
    # nodes inside) on its CPU kernels, and the row must say so, by op name
    sv = results[("silero-vad", "fp32")]["placement"]
    check(re.search(r"on ORT's CPU \(wasm\) fallback, \d+ nodes: .*\bIf\b", sv), sv)
    no_shell_left()


def test_dropin_models_on_webnn_verified():
    """The real models dropped in without a hand-written manifest (Silero VAD v5 and v6,
    openWakeWord's melspectrogram and embedding; tests/e2e/test_dropin.py runs them on wasm and
    WebGPU) on webnn in fp32, each verified against fp32 on wasm, its node placement named."""
    js = f"{TMP}/dropin.json"
    models = ("silero-vad-v5", "silero-vad-v6", "oww-melspectrogram", "oww-embedding")
    rc, out, err = run("bench", "--browser", "chromium-shell", "--platform", "webnn", "--model", ",".join(models),
                       "--precision", "32", "--iterations", "3", "--warmup", "1", "--timeout", "40",
                       "--db", f"{TMP}/dropin.db", "--json", js, timeout=240)
    check(os.path.exists(js), f"no results; exit {rc}; stderr {err[-1500:]}")
    results = {r["model"]: r for r in json.load(open(js))["results"]}
    check(set(results) == set(models), f"{list(results)}")
    for m, r in results.items():
        check(r["status"] == "ok" and r["platform_used"] == "webnn" and not r["fallback"],
              f"{m}: {r['status']} {r['reason']}")
        check(r["classification"] == "software", f"{m}: {r['classification']}")
        check(r["verify_ok"] is True, f"{m}: verify {r['verify_ok']} {r['verify_norm_err']} {r['verify_note']}")
        pl = r["placement"] or ""
        check(re.match(r"^WebNN took \d+ of \d+ nodes", pl) or pl.startswith("onnxruntime-web logged no node placement"),
              f"{m}: {pl!r}")
    no_shell_left()


def test_missing_shell_is_one_line_naming_make():
    rc, out, err = run("-b", "-n", "1", "--browsers", "chromium-shell", "--port", "0",
                       env={"ACCEL_TOP_CHROMIUM_SHELL": f"{TMP}/no-such-shell"})
    lines = [x for x in err.splitlines() if x.strip() and "serving http" not in x]
    check(rc != 0 and len(lines) == 1, f"exit {rc}; stderr {err!r}")
    check("chromium-shell is not installed" in lines[0] and "run make" in lines[0], lines[0])


def main(argv):
    if not os.path.exists(NPM):
        print(f"webnn: skipped: {NPM} is absent (make deps installs npm @sparticuz/chromium)")
        print("webnn: 0 passed, 0 failed")
        return 0
    check(os.access(SHELL, os.X_OK), f"{SHELL} is missing: make should have unpacked it")
    return run_tests("webnn", globals(), argv, cleanup=lambda: subprocess.run(["rm", "-rf", TMP]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
