#!/usr/bin/python3
"""End-to-end tests of dropped-in models (models/README.md, "Dropping in a model"): folders without
a hand-written manifest, laid out by make (models/dropin.py) from the npm packages: Silero VAD v5
and v6, openWakeWord's melspectrogram and embedding model, and bert-tiny / vit-tiny in the
transformers.js layout with config.json. accel-top models --inspect, real runs verified on wasm and
WebGPU in headless Chromium and Firefox, and a bad folder's one-line error.

Run: tests/e2e/test_dropin.py [NAME...]; ACCEL_TOP names the binary. Ends with 'N passed, N failed'.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, run_tests  # noqa: E402

ACCEL_TOP = os.environ.get("ACCEL_TOP", os.path.abspath("accel-top"))
DATA = os.environ.get("ACCEL_TOP_DATA", os.getcwd())
MODELS = os.path.join(DATA, "build", "models")
TMP = tempfile.mkdtemp(prefix="accel-top-dropin-")
REAL = ["silero-vad-v5", "silero-vad-v6", "oww-melspectrogram", "oww-embedding"]
HF = ["bert-tiny-hf", "vit-tiny-hf"]


def run(*args, timeout=300):
    p = subprocess.run([ACCEL_TOP, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def inspect(name):
    rc, out, err = run("models", "--inspect", os.path.join(MODELS, name))
    check(rc == 0, f"{name}: rc {rc}: {err}")
    return json.loads(out)


def test_inspect_infers_each_folder():
    for name in REAL + HF:
        check(not os.path.exists(os.path.join(MODELS, name, "accel.json")) or name == "oww-embedding",
              f"{name} has a hand-written accel.json")
    m = inspect("silero-vad-v5")
    ins = {i["name"]: i for i in m["inputs"]}
    check(m["type"] == "audio" and list(ins) == ["input", "state", "sr"], m)
    check(ins["input"]["fill"]["kind"] == "audio_pcm" and ins["input"]["shape"] == ["batch", "samples"], ins)
    check(ins["state"]["fill"]["kind"] == "zeros" and ins["state"]["shape"] == [2, "batch", 128], ins)
    check(ins["sr"]["fill"] == {"kind": "scalar", "value": 16000} and ins["sr"]["dtype"] == "int64", ins)
    check(m["files"] == {"fp32": "silero_vad_v5.onnx"} and m["dims"] == {"batch": 1, "samples": 512}, m)
    check(inspect("silero-vad-v6")["files"] == {"fp32": "onnx/model.onnx"}, "v6 layout")
    mel = inspect("oww-melspectrogram")
    check(mel["inputs"][0]["shape"] == ["batch_size", "samples"] and mel["outputs"][0]["name"] == "output", mel)
    emb = inspect("oww-embedding")  # its accel.json overlays only type, description and source
    check(emb["type"] == "audio" and emb["inputs"][0]["name"] == "input_1" and emb["inputs"][0]["shape"][1:] == [76, 32, 1]
          and emb["inputs"][0]["fill"]["kind"] == "normal" and "speech embedding" in emb["description"], emb)
    bert = inspect("bert-tiny-hf")
    ids = bert["inputs"][0]
    check(bert["type"] == "text" and ids["fill"] == {"kind": "tokens", "vocab_size": 1024}, bert)
    check(bert["dims"] == {"batch_size": 1, "sequence_length": 32} and len(bert["files"]) == 5, bert)
    check(bert["inputs"][1]["fill"]["kind"] == "ones", bert)
    vit = inspect("vit-tiny-hf")
    pix = vit["inputs"][0]
    check(vit["type"] == "vision" and pix["fill"]["kind"] == "image" and pix["fill"]["mean"] == [0.5, 0.5, 0.5], vit)
    check(vit["dims"] == {"batch_size": 1, "num_channels": 3, "height": 224, "width": 224}, vit)


def test_inspect_output_is_a_manifest_that_loads():
    """What --inspect prints, saved as accel.json and edited, is what the catalog then uses."""
    d = os.path.join(TMP, "models", "bert-edit")
    shutil.copytree(os.path.join(MODELS, "bert-tiny-hf"), d)
    man = inspect("bert-tiny-hf")
    man["name"] = "bert-edit"
    man["description"] = "edited by hand"
    with open(os.path.join(d, "accel.json"), "w") as f:
        json.dump(man, f)
    rc, out, err = run("models", "--inspect", d)
    check(rc == 0 and json.loads(out)["description"] == "edited by hand", f"rc {rc} {err}")


def bad_folder(name, inputs):
    """A folder whose model.onnx has the given (name, elem, dims) inputs, made with Debian's onnx."""
    d = os.path.join(TMP, "bad", name)
    os.makedirs(os.path.join(d, "onnx"), exist_ok=True)
    code = ("import onnx,sys\nfrom onnx import helper as h\n"
            f"ins=[h.make_tensor_value_info(n,e,s) for n,e,s in {inputs!r}]\n"
            "out=h.make_tensor_value_info('y',1,None)\n"
            "g=h.make_graph([h.make_node('Identity',[ins[0].name],['y'])],'g',ins,[out])\n"
            "onnx.save(h.make_model(g),sys.argv[1])\n")
    subprocess.run(["/usr/bin/python3", "-c", code, os.path.join(d, "onnx", "model.onnx")], check=True)
    return d


def test_bad_folder_is_one_line_error():
    d = bad_folder("codes", [("codes", 7, ["batch_size", 8])])
    rc, out, err = run("models", "--inspect", d)
    check(rc == 1 and not out and err.count("\n") == 1, f"rc {rc} {out!r} {err!r}")
    check("input 'codes'" in err and '"fill"' in err and "accel.json" in err, err)
    # a truncated file: the reader's message, naming the file
    t = os.path.join(TMP, "bad", "cut")
    os.makedirs(t, exist_ok=True)
    with open(os.path.join(MODELS, "silero-vad-v5", "silero_vad_v5.onnx"), "rb") as f:
        data = f.read()
    with open(os.path.join(t, "cut.onnx"), "wb") as f:
        f.write(data[:len(data) // 2])
    rc, out, err = run("models", "--inspect", t)
    check(rc == 1 and err.count("\n") == 1 and "cut.onnx: not an ONNX model" in err, f"rc {rc} {err!r}")
    # in a --models directory, the same line stops the run before any browser starts
    rc, out, err = run("bench", "--models", os.path.join(TMP, "bad"), "--model", "codes", "--browser", "chromium",
                       "--iterations", "1", "--db", os.path.join(TMP, "bad.db"), timeout=60)
    check(rc != 0 and ("input 'codes'" in err or "not an ONNX model" in err), f"rc {rc} {err[-600:]!r}")


def describe(r):
    return (f"{r['browser']} {r['platform_requested']} {r['model']} {r['precision_requested']}: {r['status']} "
            f"{r.get('reason')} verify={r.get('verify_norm_err')}/{r.get('verify_tolerance')}")


def test_dropins_run_verified_wasm_webgpu_both_browsers():
    """The real models, fp32 on wasm and WebGPU in both browsers (one bench per browser, side by
    side), verified against fp32 on wasm. A failure would be reported with ORT's message. (The -hf
    folders run in the --text/--image tests.)"""
    procs = {}
    for b in ("chromium", "firefox"):
        js = f"{TMP}/run-{b}.json"
        procs[b] = (subprocess.Popen([ACCEL_TOP, "bench", "--db", f"{TMP}/run-{b}.db", "--json", js, "--browser", b,
                                      "--platform", "wasm,webgpu", "--model", ",".join(REAL), "--precision", "32",
                                      "--iterations", "1", "--warmup", "0", "--timeout", "120"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), js)
    results, errs = [], ""
    for b, (p, js) in procs.items():
        _, err = p.communicate(timeout=600)
        errs += err[-1000:]
        check(os.path.exists(js), f"{b}: no results; rc {p.returncode}; {err[-1000:]}")
        results += json.load(open(js))["results"]
    want = {(b, p, m) for b in ("chromium", "firefox") for p in ("wasm", "webgpu") for m in REAL}
    got = {(r["browser"], r["platform_requested"], r["model"]) for r in results}
    check(want <= got, f"missing: {sorted(want - got)}")
    bad = [describe(r) for r in results if r["status"] != "ok" or r["verify_ok"] is not True
           or r["platform_used"] != r["platform_requested"]]
    check(not bad, "did not run and verify:\n  " + "\n  ".join(bad))
    files = {r["model"]: r["file_loaded"] for r in results}
    check(files["silero-vad-v5"] == "silero_vad_v5.onnx" and files["oww-embedding"] == "embedding_model.onnx", files)
    for b, (p, _) in procs.items():
        check(p.returncode == 0, f"{b}: exit code {p.returncode}: {errs[-600:]}")


def png(path, w=64, h=48):
    """A small RGB gradient PNG, written with zlib alone."""
    import struct
    import zlib
    rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in ((x * 4) % 256, (y * 5) % 256, 128)) for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


TEXT1, TEXT2 = "The quick brown fox jumps over the lazy dog.", "Accel top measures where every model really ran."


def test_text_and_image_through_real_browsers():
    """--text through bert-tiny-hf's own tokenizer.json and --image decoded by the browser, in both
    browsers side by side: verified (the reference ran on the same text and image), and the same
    output in both (the same tokens, the same pixels); the demo bert-tiny, without tokenizer.json,
    says so in one line. (serve's test below checks that a text or image changes the output.)"""
    img = png(os.path.join(TMP, "grad.png"))
    procs = {}
    for b in ("chromium", "firefox"):
        js = f"{TMP}/text-{b}.json"
        procs[b] = (subprocess.Popen([ACCEL_TOP, "bench", "--db", f"{TMP}/text-{b}.db", "--json", js, "--browser", b,
                                      "--platform", "wasm", "--model", "bert-tiny-hf,vit-tiny-hf,bert-tiny",
                                      "--precision", "32", "--iterations", "1", "--warmup", "0", "--timeout", "120",
                                      "--text", TEXT1, "--image", img],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), js)
    got = {}
    for b, (p, js) in procs.items():
        _, err = p.communicate(timeout=300)
        check(os.path.exists(js), f"{b}: no results; rc {p.returncode}; {err[-800:]}")
        got[b] = json.load(open(js))["results"]
    for b in got:
        for r in got[b]:
            if r["model"] == "bert-tiny":
                check(r["status"] != "ok" and "no tokenizer.json" in r["reason"] and "--text" in r["reason"], describe(r))
                continue
            check(r["status"] == "ok" and r["verify_ok"] is True, describe(r))
    h = {b: {r["model"]: r["output_head"] for r in got[b]} for b in got}
    check(h["chromium"]["bert-tiny-hf"] == h["firefox"]["bert-tiny-hf"], f"text: {h}")
    check(h["chromium"]["vit-tiny-hf"] == h["firefox"]["vit-tiny-hf"], f"image: {h}")


def test_serve_stdio_per_request_text_image_audio():
    """serve --stdio: each request brings its own text, image or audio file."""
    from harness import Serve
    img = png(os.path.join(TMP, "serve.png"), 32, 32)
    wav = os.path.join(DATA, "build", "audio", "speech.wav")
    sv = Serve("--port", "0", "--browsers", "chromium")
    try:
        reqs = [{"id": "t1", "model": "bert-tiny-hf", "text": TEXT1, "outputs": "summary"},
                {"id": "t2", "model": "bert-tiny-hf", "text": TEXT2, "outputs": "summary"},
                {"id": "t1b", "model": "bert-tiny-hf", "text": TEXT1, "outputs": "summary"},
                {"id": "plain", "model": "bert-tiny-hf", "outputs": "summary"},
                {"id": "img", "model": "vit-tiny-hf", "image": img, "outputs": "summary"},
                {"id": "vplain", "model": "vit-tiny-hf", "outputs": "summary"},
                {"id": "wav", "model": "silero-vad-v5", "audio": wav, "outputs": "summary"},
                {"id": "notok", "model": "bert-tiny", "text": "x"},
                {"id": "noimg", "model": "vit-tiny-hf", "image": wav}]
        for r in reqs:
            sv.send(r)
        ids = {r["id"] for r in reqs}
        sv.wait(lambda a: ids <= {x.get("id") for x in a if "ok" in x}, 180, "every answer")
        ans = {x["id"]: x for x in sv.answers if x.get("id") in ids and "ok" in x}
        for k in ("t1", "t2", "t1b", "plain", "img", "vplain", "wav"):
            check(ans[k]["ok"] is True, f"{k}: {ans[k]}")
        out = {k: json.dumps(ans[k].get("outputs")) for k in ans}
        check(out["t1"] == out["t1b"] and out["t1"] != out["t2"] and out["t1"] != out["plain"], out)
        check(out["img"] != out["vplain"], out)
        check(not ans["notok"]["ok"] and "no tokenizer.json" in ans["notok"]["error"], ans["notok"])
        check(not ans["noimg"]["ok"] and "not a PNG or JPEG" in ans["noimg"]["error"], ans["noimg"])
        sv.close_input()
        sv.finish(120)
    finally:
        sv.kill()


if __name__ == "__main__":
    sys.exit(run_tests("dropin", globals(), sys.argv[1:], cleanup=lambda: shutil.rmtree(TMP, ignore_errors=True)))
