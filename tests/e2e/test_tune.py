#!/usr/bin/python3
"""End-to-end tests of `accel-top tune`: the WGSL log-mel kernels (browser-js/logmel-wgsl.js) run in
real headless Chromium and Firefox (software adapters here), their output is checked against the C
log-mel (pool/audio.c) on espeak-ng speech, silence and a sine sweep, the choice and its figures
land in a real sqlite file, and a second start reuses them. Short clips keep SwiftShader's time
down; timing figures are printed by bench/tune.sh, never asserted here.

Run: tests/e2e/test_tune.py [NAME...]; ACCEL_TOP names the binary. Ends with 'N passed, N failed'.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import wave
import math
import re
import struct

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AccelTop, Fail, check, leftovers, run_tests  # noqa: E402

ACCEL_TOP = os.environ.get("ACCEL_TOP", os.path.abspath("accel-top"))
TMP = tempfile.mkdtemp(prefix="accel-top-tune-")
# three candidates including the two shapes the reference tool hard-coded, on 1 s clips over 300
# frames (3 s of log-mel, the rest padding), one timed round
QUICK = ["--shapes", "64x1x1/1,256x1x1/1,128x2x1/1", "--seconds", "1", "--frames", "300", "--rounds", "1",
         "--repeat", "1", "--timeout", "120"]


def run(*args, timeout=600):
    p = subprocess.run([ACCEL_TOP, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def tune(name, *args):
    db, js = f"{TMP}/{name}.db", f"{TMP}/{name}.json"
    rc, out, err = run("tune", "--db", db, "--json", js, *args)
    data = json.load(open(js)) if os.path.exists(js) else None
    return rc, out, err, data, db


def by_browser(data):
    return {b["browser"]: b for b in data["browsers"]}


def test_both_browsers_choose_and_verify_speech_silence_sweep():
    """Done when: tune reports measured workgroup choices for Chromium and Firefox, each candidate's
    output within tolerance of the C reference on speech, and the chosen one on silence and a sweep."""
    rc, out, err, data, db = tune("both", "--browser", "chromium,firefox", "--clip", "speech,silence,sweep", *QUICK)
    check(data, f"no JSON; rc {rc}; stderr {err[-1500:]}")
    check(rc == 0, f"rc {rc}; stdout {out[-2000:]}; stderr {err[-1500:]}")
    bs = by_browser(data)
    check(set(bs) == {"chromium", "firefox"}, f"browsers: {list(bs)}")
    tol = data["tolerance"]
    for name, b in bs.items():
        check(b["source"] == "measured", f"{name}: {b['source']} {b.get('reason')}")
        check(b["classification"] in ("software", "hardware"), f"{name}: {b['classification']}")
        cands = b["candidates"]
        check([(c["workgroup"], c["items"]) for c in cands] == [([64, 1, 1], 1), ([256, 1, 1], 1), ([128, 2, 1], 1)],
              f"{name}: candidates {cands}")
        check(cands[0]["default"] and sum(c["chosen"] for c in cands) == 1, f"{name}: {cands}")
        for c in cands:
            check(c["status"] == "ok" and c["samples"] == 1 and c["median_ms"] > 0, f"{name}: {c}")
            check(c["verify_ok"] and c["verify_max_abs"] <= tol, f"{name}: {c}")
            check(c["timing"] in ("timestamp-query", "wall") or c["timing"].startswith("wall ("), f"{name}: {c['timing']}")
        ch = [c for c in cands if c["chosen"]][0]
        check(ch["median_ms"] == min(c["median_ms"] for c in cands), f"{name}: not the fastest: {cands}")
        check(b["chosen"]["workgroup"] == ch["workgroup"], f"{name}: {b['chosen']}")
        check(abs(b["speedup_vs_default"] - cands[0]["median_ms"] / ch["median_ms"]) < 1e-9, f"{name}: {b}")
        clips = {c["clip"]: c for c in b["clips"]}
        check(set(clips) == {"speech", "silence", "sweep"}, f"{name}: {clips}")
        for clip, c in clips.items():
            check(c["ok"] and c["max_abs"] is not None and c["max_abs"] <= tol, f"{name} {clip}: {c}")
        check(f"{name} " in out and "chosen " in out and "vs default" in out, out)
    # the database holds every candidate of both browsers, with the choice marked
    con = sqlite3.connect(db)
    check(con.execute("PRAGMA user_version").fetchone()[0] == 2, "schema version")
    rows = con.execute("SELECT browser_kind, wx, wy, items, is_default, chosen, status, median_ms, timing,"
                       " verify_ok, adapter FROM tuning ORDER BY id").fetchall()
    check(len(rows) == 6, f"{rows}")
    for kind in ("chromium", "firefox"):
        mine = [r for r in rows if r[0] == kind]
        check(sum(r[5] for r in mine) == 1 and sum(r[4] for r in mine) == 1, f"{mine}")
        check(all(r[6] == "ok" and r[7] > 0 and r[9] == 1 and r[10] for r in mine), f"{mine}")
    con.close()


def test_second_start_reuses_the_stored_choice_and_force_measures_again():
    rc, out, err, first, db = tune("reuse", "--browser", "chromium", "--clip", "sweep", *QUICK)
    check(rc == 0 and first, f"rc {rc}; {err[-1500:]}")
    run1 = first["run"]
    chosen1 = by_browser(first)["chromium"]["chosen"]
    rc, out, err, second, _ = tune("reuse", "--browser", "chromium", "--clip", "sweep", *QUICK)
    check(rc == 0 and second, f"rc {rc}; {err[-1500:]}")
    b = by_browser(second)["chromium"]
    check(b["source"] == "stored" and b["stored_run"] == run1, f"{b}")
    check(b["chosen"] == chosen1, f"{b['chosen']} != {chosen1}")
    check(second["run"] is None, "a reuse must not add a run")
    check("stored by run" in out and "--force" in out, out)
    check("timing" not in err and "warming up" not in err, f"it measured again: {err[-800:]}")
    con = sqlite3.connect(db)
    check(con.execute("SELECT count(*) FROM tuning").fetchone()[0] == 3, "rows were added by the reuse")
    con.close()
    rc, out, err, third, _ = tune("reuse", "--browser", "chromium", "--clip", "sweep", "--force", *QUICK)
    check(rc == 0 and by_browser(third)["chromium"]["source"] == "measured" and third["run"] > run1, f"{third}")


def test_older_database_gains_the_tuning_table_newer_one_is_refused():
    old = f"{TMP}/v1.db"
    con = sqlite3.connect(old)
    con.executescript(
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, started_at REAL NOT NULL, finished_at REAL, command TEXT,"
        " version TEXT);"
        "CREATE TABLE browsers(run_id INTEGER NOT NULL REFERENCES runs(id), browser_id INTEGER NOT NULL, kind TEXT,"
        " version TEXT, managed INTEGER, user_agent TEXT, webgpu_status TEXT, webgpu_evidence TEXT, vendor TEXT,"
        " architecture TEXT, device TEXT, description TEXT, fallback_adapter INTEGER, webnn_status TEXT,"
        " webnn_evidence TEXT, wasm_status TEXT, wasm_evidence TEXT, PRIMARY KEY(run_id, browser_id));"
        "CREATE TABLE results(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), status TEXT NOT NULL);"
        "INSERT INTO runs(id, started_at, command) VALUES(1, 1.0, 'accel-top bench (old)');"
        "INSERT INTO results(run_id, status) VALUES(1, 'ok');"
        "PRAGMA user_version = 1;")
    con.close()
    rc, out, err, data, _ = tune("v1", "--browser", "chromium", "--clip", "silence", "--db", old, *QUICK)
    check(rc == 0, f"rc {rc}; {err[-1500:]}")
    con = sqlite3.connect(old)
    check(con.execute("PRAGMA user_version").fetchone()[0] == 2, "not migrated")
    check(con.execute("SELECT command FROM runs WHERE id = 1").fetchone()[0] == "accel-top bench (old)", "old run lost")
    check(con.execute("SELECT count(*) FROM tuning").fetchone()[0] == 3, "no tuning rows")
    con.close()
    new = f"{TMP}/v9.db"
    con = sqlite3.connect(new)
    con.executescript("CREATE TABLE runs(id INTEGER PRIMARY KEY); PRAGMA user_version = 9;")
    con.close()
    rc, _, err = run("tune", "--browser", "chromium", "--db", new)
    check(rc != 0 and "newer accel-top" in err and "schema 9" in err, f"{rc} {err!r}")


def test_optimize_audio_runs_whisper_on_the_gpu_log_mel_and_verifies_against_wasm():
    """--optimize-audio: the whisper encoder's log-mel comes from the page's WGSL kernels with the
    shape tune stored; the int8 model on that input is verified against the fp32 model on wasm fed
    the C log-mel (the scheduler's reference run), end to end."""
    rc, _, err, data, db = tune("opt", "--browser", "chromium", "--clip", "sweep", *QUICK)
    check(rc == 0 and data, f"tune: rc {rc}; {err[-1000:]}")
    ch = by_browser(data)["chromium"]["chosen"]
    js = f"{TMP}/opt-bench.json"
    rc, out, err = run("bench", "--db", db, "--json", js, "--browser", "chromium", "--platform", "wasm",
                       "--model", "whisper-tiny-encoder", "--precision", "8", "--iterations", "1", "--warmup", "0",
                       "--optimize-audio")
    check(rc == 0, f"bench: rc {rc}; {out[-800:]} {err[-1500:]}")
    shape = f"{ch['workgroup'][0]}x{ch['workgroup'][1]}x1, {ch['items']} per thread (tuned by run {data['run']}"
    check("--optimize-audio: chromium" in err and shape in err, f"no tuned GPU log-mel: {err[-1500:]}")
    r = json.load(open(js))["results"][0]
    check(r["status"] == "ok" and r["verify_ok"] and r["verify_norm_err"] <= r["verify_tolerance"], f"{r}")


def test_optimize_audio_tunes_a_browser_on_first_use_and_stores_it():
    """No choice stored for this browser + adapter: the live app tunes it on first use (requests
    meanwhile use the default shape), stores the result, and says which shape it now uses."""
    wav = f"{TMP}/sweep.wav"
    with wave.open(wav, "wb") as w:  # 1 s, 200 Hz to 6 kHz, 16 kHz mono
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        k = math.log(6000 / 200)
        w.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 200 / k * (math.exp(k * i / 16000) - 1))))
                               for i in range(16000)))
    db = f"{TMP}/first.db"
    at = AccelTop("-b", "--json", "--port", "0", "--browsers", "chromium", "--audio", wav, "--optimize-audio",
                  "--tune-db", db, "--run", "whisper-tiny-encoder:int8:wasm:chromium:1")
    try:
        end = time.time() + 400
        while b"tuned by run" not in at.err and time.time() < end and at.p.poll() is None:
            at._pump(0.5)
            at.lines.clear()
        err = at.err.decode()
        check("tuning it on first use" in err, f"no first-use tuning: {err[-1500:]}")
        check("tuned by run" in err, f"the tuning did not finish: {err[-1500:]}")
        # the choice is a pool event: the snapshot (and the screen's detail) show it with its gain
        snap = at.next_json(30)
        fe = snap["browsers"][0]["audio_frontend"] or ""
        check(re.match(r"GPU log-mel \d+x\d+x1/\d+, tuned: [0-9.]+x the default", fe), f"audio_frontend: {fe!r}")
    finally:
        at.stop()
    check(not leftovers(at), f"left behind: {leftovers(at)}")
    con = sqlite3.connect(db)
    cmd = con.execute("SELECT command FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    check("first use" in cmd, cmd)
    rows = con.execute("SELECT wx, wy, items, chosen, status, verify_ok, workload FROM tuning").fetchall()
    check(len(rows) == 8 and sum(r[3] for r in rows) == 1, f"{rows}")
    check(all(r[5] == 1 for r in rows if r[4] == "ok") and "sweep.wav" in rows[0][6], f"{rows}")
    con.close()


def test_a_shape_beyond_the_adapter_limits_fails_there_with_the_reason():
    args = [a if a != "64x1x1/1,256x1x1/1,128x2x1/1" else "64x1x1/1,1024x1x1/1,128x2x1/1" for a in QUICK]
    rc, out, err, data, _ = tune("limits", "--browser", "chromium", "--clip", "sweep", *args)
    check(rc == 0 and data, f"rc {rc}; {err[-1000:]}")
    cands = by_browser(data)["chromium"]["candidates"]
    big = cands[1]
    check(big["workgroup"] == [1024, 1, 1] and big["status"] == "failed" and not big["chosen"], f"{big}")
    check("exceeds this adapter's limits" in big["reason"], big["reason"])
    check(cands[0]["status"] == "ok" and cands[2]["status"] == "ok", f"{cands}")
    check("failed: the page: logmel: workgroup 1024x1x1" in out, out)


def test_bad_arguments_are_refused_before_any_browser_starts():
    for args, want in ((["--shapes", "100x1x1"], "power of two"), (["--shapes", "64x1x2"], "XxYx1"),
                       (["--shapes", "64x1x1/0"], "ITEMS"), (["--frames", "0"], "--frames"),
                       (["--clip", "/nonexistent.wav"], "nonexistent.wav"), (["--seconds", "31"], "--seconds"),
                       (["--browser", "netscape"], "unknown browser")):
        rc, _, err = run("tune", "--db", f"{TMP}/bad.db", *args, timeout=30)
        check(rc == 2 and want in err and len(err.strip().splitlines()) == 1, f"{args}: rc {rc} {err!r}")


def main(argv):
    return run_tests("tune", globals(), argv, cleanup=lambda: subprocess.run(["rm", "-rf", TMP]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
