#!/usr/bin/python3
"""End-to-end tests of running models: accel-top bench and report with real headless Chromium and
Firefox, the demo models built by make, Silero VAD on espeak-ng speech, a real sqlite file.

Run: tests/e2e/test_models.py [NAME...]; ACCEL_TOP names the binary. Ends with 'N passed, N failed'.
"""
import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AccelTop, check, run_tests  # noqa: E402

ACCEL_TOP = os.environ.get("ACCEL_TOP", os.path.abspath("accel-top"))
TMP = tempfile.mkdtemp(prefix="accel-top-models-")
DEMO = ["bert-tiny", "vit-tiny", "whisper-tiny-encoder", "clip-tiny"]


def run(*args, timeout=900):
    p = subprocess.run([ACCEL_TOP, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def bench(name, *args, timeout=900):
    db, js = f"{TMP}/{name}.db", f"{TMP}/{name}.json"
    rc, out, err = run("bench", "--db", db, "--json", js, *args, timeout=timeout)
    results = json.load(open(js))["results"] if os.path.exists(js) else []
    return rc, out, err, results, db


def describe(r):
    return (f"{r['browser']} {r['platform_requested']} {r['model']} {r['precision_requested']}: {r['status']} "
            f"{r.get('reason')} verify={r.get('verify_norm_err')}/{r.get('verify_tolerance')}")


def test_every_demo_model_every_precision_wasm_and_webgpu_both_browsers():
    """The whole matrix, one load + one verified run each (SwiftShader WebGPU is slow: whisper's
    encoder takes ~30 s a run in Chromium). One bench per browser, side by side."""
    procs = {}
    for b in ("chromium", "firefox"):
        db, js = f"{TMP}/all-{b}.db", f"{TMP}/all-{b}.json"
        procs[b] = (subprocess.Popen([ACCEL_TOP, "bench", "--db", db, "--json", js, "--browser", b,
                                      "--platform", "wasm,webgpu", "--model", ",".join(DEMO), "--precision", "all",
                                      "--iterations", "1", "--warmup", "0", "--timeout", "300"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), js)
    results, errs = [], ""
    for b, (p, js) in procs.items():
        _, err = p.communicate(timeout=1500)
        errs += err[-1500:]
        check(os.path.exists(js), f"{b}: no results; rc {p.returncode}; stderr {err[-1500:]}")
        results += json.load(open(js))["results"]
    want = {(b, p, m, q) for b in ("chromium", "firefox") for p in ("wasm", "webgpu") for m in DEMO
            for q in ("fp32", "fp16", "int8", "int4", "q4f16")}
    got = {(r["browser"], r["platform_requested"], r["model"], r["precision_requested"]) for r in results}
    check(want <= got, f"missing combinations: {sorted(want - got)[:10]}")
    bad = []
    for r in results:
        if r["status"] == "skipped" and r["platform_requested"] == "webgpu" and \
                r["precision_requested"] in ("fp16", "q4f16") and "shader-f16" in r["reason"]:
            # the adapter cannot be trusted with float16 (SwiftShader: ORT returns zeros)
            check(r["browser"] == "chromium", f"{describe(r)}: Firefox's adapter has shader-f16")
            continue
        if r["status"] != "ok" or r["verify_ok"] is not True:
            bad.append(describe(r))
            continue
        # provenance: where it ran, on what, which file
        check(r["platform_used"] == r["platform_requested"] and not r["fallback"], describe(r))
        check(r["classification"] == "software" and r["evidence"], f"{describe(r)}: {r['classification']}")
        check(r["precision_loaded"] == r["precision_requested"] and r["file_loaded"].endswith(".onnx"), describe(r))
        check(r["p50_ms"] > 0 and r["compute_mean_ms"] > 0, describe(r))
    check(not bad, f"{len(bad)} of {len(results)} did not run and verify:\n  " + "\n  ".join(bad[:20]))
    for b, (p, _) in procs.items():
        check(p.returncode == 0, f"{b}: exit code {p.returncode}: {errs[-800:]}")


def vad_probability(audio):
    rc, out, err, results, _ = bench(f"vad-{audio}", "--browser", "firefox", "--platform", "wasm",
                                     "--model", "silero-vad", "--iterations", "2", "--warmup", "0",
                                     "--audio", audio, timeout=300)
    check(rc == 0 and len(results) == 1 and results[0]["status"] == "ok", f"rc {rc} {err[-800:]} {results}")
    head = results[0]["output_head"]  # "output[1]: 0.93"
    check(head.startswith("output"), head)
    return float(head.split(":")[1].split()[0])


def test_silero_vad_hears_speech_not_silence():
    speech, silence = vad_probability("speech"), vad_probability("silence")
    check(speech > silence + 0.2, f"speech probability {speech} vs silence {silence}")


def test_bench_rows_and_report_formats():
    rc, out, err, results, db = bench("report", "--browser", "chromium", "--platform", "wasm,webnn",
                                      "--model", "bert-tiny", "--precision", "8", "--iterations", "3")
    check(rc == 0, f"rc {rc}: {err[-800:]}")
    by_platform = {r["platform_requested"]: r for r in results}
    check(by_platform["wasm"]["status"] == "ok", describe(by_platform["wasm"]))
    check(by_platform["webnn"]["status"] == "skipped" and "NotSupportedError" in by_platform["webnn"]["reason"],
          describe(by_platform["webnn"]))
    con = sqlite3.connect(db)
    rows = con.execute("SELECT status, platform_used, classification, p50_ms FROM results").fetchall()
    check(len(rows) == 2, rows)
    check(con.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "not WAL")
    con.close()
    rc, md, e = run("report", "--db", db, "--format", "md")
    check(rc == 0 and "| bert-tiny |" in md and "skipped" in md and "| ok |" in md, md + e)
    rc, js, e = run("report", "--db", db, "--format", "json")
    rows = json.loads(js)
    check(rc == 0 and len(rows) == 2 and any(r["p50_ms"] for r in rows), js[:500])
    rc, cs, e = run("report", "--db", db, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(cs)))
    check(rc == 0 and len(table) == 2 and table[0]["model"] == "bert-tiny", cs[:500])


def test_batch_json_models_rows():
    """-b --json with --run: the models list with measured figures and provenance."""
    # snapshots until the row has figures and its verification (no fixed wait: a loaded machine,
    # or a sanitizer build, loads the model later)
    at = AccelTop("-b", "-d", "1", "--json", "--browsers", "firefox", "--port", "0", "--run", "bert-tiny:int8:wasm")
    try:
        snap = at.wait_for(lambda s: s["models"] and s["models"][0]["completed"] > 10 and s["models"][0]["verified"]
                           is not None, 120, "figures and verification")
        check(at.stop() == 143, "exit status after SIGTERM")
    finally:
        at.kill()
    (m,) = snap["models"]
    for k in ("name", "type", "precision", "platform", "browsers", "queue", "inflight", "p50_ms", "p95_ms", "p99_ms",
              "rps", "errors", "max_abs_err"):
        check(k in m, f"models[0] lacks {k}: {m}")
    check(m["name"] == "bert-tiny" and m["precision"] == "int8" and m["platform"] == "wasm", m)
    check(m["completed"] > 10 and m["p50_ms"] > 0 and m["rps"] > 0 and m["errors"] == 0, m)
    check(m["verified"] is True and m["max_abs_err"] is not None, m)
    (s,) = m["sessions"]
    check(s["kind"] == "firefox" and s["platform_used"] == "wasm" and s["file"] == "model_quantized.onnx"
          and s["classification"] == "software" and s["verification"]["ok"] is True, s)
    p = subprocess.run([ACCEL_TOP, "-b", "-n", "1", "--browsers", "firefox", "--port", "0", "--run", ":int8"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "name a model first" in p.stderr, f"{p.returncode} {p.stderr!r}")


def test_bad_input_is_a_clear_error():
    rc, _, err = run("bench", "--model", "gpt-17", "--db", f"{TMP}/x.db", "--browser", "chromium")
    check(rc == 2 and "no model named 'gpt-17'" in err and "bert-tiny" in err, f"{rc} {err!r}")
    rc, _, err = run("bench", "--precision", "12")
    check(rc == 2 and "'12' is not 4, 8, 16, 32" in err, f"{rc} {err!r}")
    rc, _, err = run("bench", "--platform", "webgl")
    check(rc == 2 and "unknown platform 'webgl'" in err, f"{rc} {err!r}")
    rc, _, err, results, _ = bench("webnn-only", "--browser", "chromium", "--platform", "webnn",
                                   "--model", "bert-tiny", "--iterations", "1")
    check(rc == 3 and "nothing could run" in err, f"{rc} {err[-500:]!r}")
    check(results and results[0]["status"] == "skipped" and "WebNN is not supported" in results[0]["reason"],
          f"{results}")
    rc, _, err = run("report", "--db", f"{TMP}/none.db")
    check(rc == 1 and "does not exist" in err, f"{rc} {err!r}")
    with open(f"{TMP}/bad.db", "w") as f:
        f.write("this is not a database" * 100)
    rc, _, err = run("report", "--db", f"{TMP}/bad.db")
    check(rc == 1 and "not an accel-top database" in err, f"{rc} {err!r}")


def test_require_hardware_fails_on_software_adapters():
    rc, _, err, results, _ = bench("reqhw", "--browser", "chromium", "--platform", "webgpu", "--model", "bert-tiny",
                                   "--iterations", "2", "--require-hardware")
    check(results and results[0]["status"] == "ok" and results[0]["classification"] == "software", f"{results}")
    check(rc == 2 and "--require-hardware" in err, f"{rc} {err[-500:]}")


FIREFOX_PREFS = 'user_pref("dom.webgpu.enabled", true);\nuser_pref("gfx.webgpu.ignore-blocklist", true);\n'


def test_lanes_in_an_attached_firefox():
    """A page opened with lanes=2 holds a webgpu session in two runtimes (its own and a worker's,
    browser-js/ort-lanes.js): the snapshot says so, the first run of each lane is compared with fp32
    on wasm (outputs_compared reaches 2, all within tolerance), and the runs spread over both come
    back without errors. (Lanes are on by default only where the WebGPU completion floor is measured and the
    machine has 4+ cores; bench/README.md has the figures from a GPU machine.)"""
    at = AccelTop("-b", "--json", "-d", "0.5", "--no-launch", "--port", "0", "--run", "bert-tiny:fp32:webgpu:auto:4")
    prof = tempfile.mkdtemp(prefix="accel-top-lanes-")
    ff = None
    try:
        at.wait_url()
        with open(f"{prof}/user.js", "w") as f:
            f.write(FIREFOX_PREFS)
        ff = subprocess.Popen(["firefox-esr", "--headless", "--no-remote", "--profile", prof, at.url + "&lanes=2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        def session(s):
            rows = [x for m in s.get("models", []) for x in m.get("sessions", [])
                    if x.get("platform") == "webgpu" or x.get("platform_used") == "webgpu"]
            return rows[0] if rows else None

        s = at.wait_for(lambda s: (x := session(s)) is not None and x.get("completed", 0) >= 12, 240,
                        "12 webgpu runs in the attached Firefox")
        x = session(s)
        check(x["lanes"] == 2, f"lanes {x.get('lanes')}: {x}")
        m = [m for m in s["models"] if m["name"] == "bert-tiny"][0]
        check(m.get("errors", 0) == 0 and x.get("error") is None, f"{m} {x}")
        check(x["verification"]["ok"] is True, f"{x['verification']}")
        # each lane's output is compared with fp32 on wasm, not only the first run's
        s = at.wait_for(lambda s: (x := session(s)) is not None and x["verification"]
                        and x["verification"]["outputs_compared"] >= 2, 120, "both lanes verified")
        x = session(s)
        check(x["verification"]["ok"] is True, f"a lane outside tolerance: {x['verification']}")
        at.stop()
    finally:
        if ff and ff.poll() is None:
            os.killpg(ff.pid, signal.SIGKILL)
        subprocess.run(["rm", "-rf", prof])
        at.kill()


def main(argv):
    return run_tests("models", globals(), argv, cleanup=lambda: subprocess.run(["rm", "-rf", TMP]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
