#!/usr/bin/python3
"""End-to-end tests of sharded models: each demo encoder as its two shards, shard 1 in headless
Chromium and shard 2 in headless Firefox, the intermediate tensors forwarded by accel-top as binary
frames; the final output is checked against the whole model's, and the bench prints and stores the
per-shard figures next to the whole model's on each browser.

Run: tests/e2e/test_shard.py [NAME...]; ACCEL_TOP names the binary. Ends with 'N passed, N failed'.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AccelTop, Serve, check, leftovers, run_tests  # noqa: E402

ACCEL_TOP = os.environ.get("ACCEL_TOP", os.path.abspath("accel-top"))
TMP = tempfile.mkdtemp(prefix="accel-top-shard-")
SHARDED = ["bert-tiny", "vit-tiny", "whisper-tiny-encoder"]
PRECISIONS = ["fp32", "fp16", "int8", "int4", "q4f16"]


def run(*args, timeout=600):
    p = subprocess.run([ACCEL_TOP, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def bench(name, *args, timeout=600):
    db, js = f"{TMP}/{name}.db", f"{TMP}/{name}.json"
    rc, out, err = run("bench", "--db", db, "--json", js, *args, timeout=timeout)
    results = json.load(open(js))["results"] if os.path.exists(js) else []
    return rc, out, err, results, db


def head_values(r):
    """The first values of the first output, as bench stored them ("name[n]: v v v")."""
    return [float(v) for v in r["output_head"].split(":", 1)[1].split()]


def describe(r):
    return (f"{r['browser']} {r['platform_requested']} {r['model']} {r['precision_requested']} x{r['concurrency']}: "
            f"{r['status']} {r.get('reason')} verify={r.get('verify_norm_err')}/{r.get('verify_tolerance')} "
            f"{r.get('verify_note')}")


def check_sharded(results, platform, models, precisions):
    """Every (model, precision) ran sharded, verified within the precision's tolerance against the
    whole model, and its first values match the whole model's in the last shard's browser."""
    for m in models:
        for q in precisions:
            rows = [r for r in results if r["model"] == m and r["precision_requested"] == q
                    and r["platform_requested"] == platform]
            sharded = [r for r in rows if r["shard"]]
            whole = {r["browser"]: r for r in rows if not r["shard"]}
            check(sharded and set(whole) == {"chromium", "firefox"}, f"{m} {q}: rows {[describe(r) for r in rows]}")
            for r in sharded:
                check(r["status"] == "ok", describe(r))
                check(r["verify_ok"] is True and r["verify_norm_err"] <= r["verify_tolerance"], describe(r))
                check("sharded" in r["verify_note"], describe(r))
                figs = r["shards"]
                check([f["shard"] for f in figs] == [1, 2] and figs[0]["browser"] == "chromium"
                      and figs[1]["browser"] == "firefox", f"{describe(r)}: shards {figs}")
                for f in figs:
                    check(f["runs"] >= 1 and f["compute_ms"] > 0 and f["total_ms"] >= f["compute_ms"]
                          and f["transfer_ms"] >= 0, f"{describe(r)}: {f}")
                check(figs[0]["bytes"] > 0, f"{describe(r)}: no intermediate bytes: {figs}")
                ref = whole["firefox"]
                if ref["status"] != "ok":
                    continue
                a, b = head_values(r), head_values(ref)
                scale = max(abs(v) for v in b) or 1
                diff = max(abs(x - y) for x, y in zip(a, b)) / scale
                check(len(a) == len(b) and diff <= r["verify_tolerance"],
                      f"{describe(r)}: first values {a} vs the whole model's {b} (error {diff:.3g})")


def test_sharded_equals_whole_every_encoder_every_precision_wasm():
    """bert, vit and whisper, all five precisions, shard 1 on Chromium and shard 2 on Firefox (wasm)."""
    rc, out, err, results, _ = bench("wasm", "--shard", "chromium,firefox", "--platform", "wasm",
                                     "--model", ",".join(SHARDED), "--precision", "all",
                                     "--iterations", "2", "--warmup", "0", "--concurrency", "1", "--timeout", "120")
    check(rc == 0, f"rc {rc}; {err[-2000:]}\n" + "\n".join(describe(r) for r in results if r["status"] != "ok"))
    check_sharded(results, "wasm", SHARDED, PRECISIONS)


def test_sharded_bert_webgpu():
    """One WebGPU case (SwiftShader and Firefox's fallback adapter are slow)."""
    rc, out, err, results, _ = bench("webgpu", "--shard", "chromium,firefox", "--platform", "webgpu",
                                     "--model", "bert-tiny", "--precision", "32",
                                     "--iterations", "1", "--warmup", "0", "--concurrency", "1", "--timeout", "240")
    check(rc == 0, f"rc {rc}; {err[-2000:]}\n" + "\n".join(describe(r) for r in results))
    check_sharded(results, "webgpu", ["bert-tiny"], ["fp32"])
    for r in results:
        check(r["platform_used"] == "webgpu", describe(r))


def test_bench_shard_output_and_store():
    """The command of the issue: per-shard timings, pipelining, baselines, verification; in sqlite."""
    rc, out, err, results, db = bench("cmd", "--model", "bert-tiny", "--shard", "chromium,firefox",
                                      "--platform", "wasm", "--iterations", "8", "--warmup", "2")
    check(rc == 0, f"rc {rc}; {err[-2000:]}")
    for want in ("sharded bert-tiny fp32 on wasm, shards on chromium,firefox: ok",
                 "shard 1 on chromium: compute", "shard 2 on firefox: compute", "sharded, 1 in flight: p50",
                 "sharded, 4 in flight:", "pipelining gain", "whole model on chromium, 1 in flight",
                 "whole model on firefox, 1 in flight", "verified: yes"):
        check(want in out, f"{want!r} not in the output:\n{out}")
    con = sqlite3.connect(db)
    check(con.execute("PRAGMA user_version").fetchone()[0] == 3, "schema version")
    rows = con.execute("SELECT shard, concurrency, status, verify_ok, shard_figures, throughput_rps FROM results "
                       "ORDER BY id").fetchall()
    check([(r[0], r[1]) for r in rows] == [(None, 1), (None, 1), ("chromium,firefox", 1), ("chromium,firefox", 4)],
          f"rows {rows}")
    for r in rows:
        check(r[2] == "ok" and r[3] == 1 and r[5] > 0, f"row {r}")
    for r in rows[2:]:
        figs = json.loads(r[4])
        check(len(figs) == 2 and all(f["runs"] >= 1 for f in figs), f"figures {figs}")


def test_batch_json_sharded_row():
    """-b --json with --run MODEL:PREC:PLATFORM:KIND,KIND: the row's per-shard figures and its
    sessions (shard 1 in Chromium, shard 2 in Firefox, verified against the whole model)."""
    a = AccelTop("-b", "-d", "1", "--json", "--browsers", "chromium,firefox", "--port", "0",
                 "--run", "bert-tiny:fp32:wasm:chromium,firefox:2")
    try:
        snap = a.wait_for(lambda s: s["models"] and s["models"][0]["verified"] is not None
                          and s["models"][0]["completed"] > 5, timeout=120, what="a verified sharded row")
        rc = a.stop(signal.SIGTERM)
    finally:
        a.kill()
    check(rc == 128 + signal.SIGTERM, f"rc {rc}: {a.err.decode()[-500:]}")
    check(not leftovers(a), f"left behind: {leftovers(a)}")
    (m,) = snap["models"]
    check(m["sharded_on"] == "chromium,firefox" and m["completed"] > 5 and m["errors"] == 0, m)
    check(m["verified"] is True and m["max_norm_err"] <= 1e-4, m)
    kinds = {b["id"]: b["kind"] for b in snap["browsers"]}
    sh = m["shards"]
    check([s["shard"] for s in sh] == [1, 2] and kinds[sh[0]["browser"]] == "chromium"
          and kinds[sh[1]["browser"]] == "firefox", sh)
    for s in sh:
        check(s["runs"] > 0 and s["compute_ms"] > 0 and s["total_ms"] >= s["compute_ms"] and s["transfer_ms"] >= 0, s)
    check(sh[0]["bytes"] == 32 * 128 * 4, sh)  # hidden [1,32,128] float32
    files = sorted((s["kind"], s["file"]) for s in m["sessions"] if not s.get("reference"))
    check(("chromium", "shard 1/2 model.onnx") in files and ("firefox", "shard 2/2 model.onnx") in files, files)
    whole = [s for s in snap["models"] if s["sharded_on"] is None]
    check(not whole, whole)


def test_serve_sharded_request_equals_the_whole_model():
    """serve --stdio with "browser": "chromium,firefox" runs the model's shards across both browsers;
    its outputs equal the whole model's on the same inputs, and the answer says how it ran."""
    sv = Serve("--port", "0", "--browsers", "chromium,firefox")
    try:
        sv.send({"id": "sharded", "model": "bert-tiny", "browser": "chromium,firefox", "outputs": "all"})
        sv.send({"id": "whole", "model": "bert-tiny", "browser": "firefox", "outputs": "all"})
        sv.close_input()
        check(sv.finish(180) == 0, f"serve: {sv.err.decode()[-800:]}")
        res = {r["id"]: r for r in sv.results()}
        check(res.keys() == {"sharded", "whole"} and all(r["ok"] for r in res.values()), f"{res}")
        a, b = res["sharded"], res["whole"]
        check(a["sharded_on"] == "chromium,firefox" and a["ran"]["kind"] == "firefox"
              and a["ran"]["file"].startswith("shard 2/2"), f"{a['ran']} {a.get('sharded_on')}")
        check("sharded_on" not in b, f"{b}")
        x, y = a["outputs"]["last_hidden_state"]["data"], b["outputs"]["last_hidden_state"]["data"]
        diff = max(abs(p - q) for p, q in zip(x, y))
        check(len(x) == len(y) == 4096 and diff <= 1e-4, f"{len(x)} {len(y)} max difference {diff}")
    finally:
        sv.kill()


def test_bad_shard_input_is_a_clear_error():
    rc, _, err = run("bench", "--shard", "chromium", "--model", "bert-tiny", "--db", f"{TMP}/x.db")
    check(rc == 2 and "--shard" in err and "one browser kind per shard" in err, f"rc {rc}: {err}")
    rc, _, err = run("bench", "--shard", "chromium,netscape", "--db", f"{TMP}/x.db")
    check(rc == 2 and "unknown browser 'netscape'" in err, f"rc {rc}: {err}")
    rc, _, err = run("bench", "--shard", "chromium,firefox", "--model", "clip-tiny", "--db", f"{TMP}/x.db")
    check(rc != 0 and "clip-tiny is not described as shards" in err, f"rc {rc}: {err}")


def main(argv):
    return run_tests("shard", globals(), argv, cleanup=lambda: subprocess.run(["rm", "-rf", TMP]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
