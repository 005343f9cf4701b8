// accel-top browser page, the inputs the page makes itself (accel-top-protocol(7), "RUNNING
// MODELS", a run's "prepare"): token inputs from a text through the model's own tokenizer.json
// (@huggingface/tokenizers, transformers.js's tokenizer library, served at /tokenizers/), and an
// image input from a PNG/JPEG file that the run carries in place of that input's frame, decoded
// by the browser, resized to the input's height and width and normalised as the model's
// preprocessor_config.json says. Every run of the row does this, the fp32 reference's too, so the
// verification compares outputs made from the same inputs.

import { parseHeader, decodeTensor, encodeTensor, DTYPES } from './tensor.js';

const TOKENIZERS = '/tokenizers/tokenizers.min.mjs';
let libPromise = null;
const tokenizers = new Map(); // tokenizer.json URL -> Promise<Tokenizer>

function lib() {
  if (!libPromise) {
    libPromise = import(new URL(TOKENIZERS, location.href).href).catch((e) => {
      libPromise = null;
      throw e;
    });
  }
  return libPromise;
}

async function fetchJson(url, optional) {
  const res = await fetch(url);
  if (!res.ok) {
    if (optional) return {};
    throw new Error(`fetch ${url}: HTTP ${res.status}`);
  }
  return res.json();
}

function tokenizer(url) {
  let p = tokenizers.get(url);
  if (!p) {
    p = (async () => {
      const { Tokenizer } = await lib();
      const json = await fetchJson(url, false);
      const config = await fetchJson(url.replace(/tokenizer\.json$/, 'tokenizer_config.json'), true);
      return new Tokenizer(json, config);
    })();
    p.catch(() => tokenizers.delete(url));
    tokenizers.set(url, p);
  }
  return p;
}

function bad(message) {
  return Object.assign(new Error(`run: prepare: ${message}`), { code: 'bad_message' });
}

// Frame i rewritten with values (numbers), in its own dtype and dims.
function rewrite(frames, headers, i, values) {
  const h = headers[i];
  const info = DTYPES[h.dtype];
  const n = h.elements;
  const data = new info.ArrayType(n);
  for (let k = 0; k < n; k++) {
    const v = k < values.length ? values[k] : 0;
    data[k] = info.ArrayType === BigInt64Array ? BigInt(v) : v;
  }
  const f = encodeTensor({ dtype: h.dtype, dims: h.dims, data, name: h.name, requestId: h.requestId, index: i });
  frames[i] = f;
  headers[i] = parseHeader(f);
}

function index(v, frames) {
  return Number.isInteger(v) && v >= 0 && v < frames.length ? v : null;
}

async function prepareText(p, frames, headers) {
  const ids = index(p.ids, frames);
  if (ids === null || typeof p.text !== 'string' || typeof p.tokenizer !== 'string') {
    throw bad('text needs "text", "tokenizer" and the index "ids" of one of its frames');
  }
  const tok = await tokenizer(p.tokenizer);
  const enc = tok.encode(p.text);
  const len = headers[ids].dims[headers[ids].dims.length - 1];
  const n = Math.min(enc.ids.length, len); // longer texts are cut to the input's length
  rewrite(frames, headers, ids, enc.ids.slice(0, n));
  const mask = index(p.mask, frames);
  if (mask !== null) rewrite(frames, headers, mask, new Array(n).fill(1)); // padding: 0
  const types = index(p.type_ids, frames);
  if (types !== null) rewrite(frames, headers, types, []);
  return `text: ${enc.ids.length} tokens${enc.ids.length > len ? `, cut to ${len}` : ''}`;
}

async function prepareImage(p, frames, headers) {
  const i = index(p.image, frames);
  const dims = p.dims;
  if (i === null || !Array.isArray(dims) || dims.length !== 4 || !Array.isArray(p.mean) || !Array.isArray(p.std)) {
    throw bad('image needs the index "image" of its frame, "dims" [batch, channels, height, width], "mean" and "std"');
  }
  const file = decodeTensor(frames[i]);
  const [batch, channels, height, width] = dims;
  const bitmap = await createImageBitmap(new Blob([file.data]));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0, width, height); // the browser's resampling (bilinear)
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const plane = width * height;
  const out = new Float32Array(batch * channels * plane);
  const rescale = typeof p.rescale === 'number' ? p.rescale : 1 / 255;
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const m = p.mean[c] ?? 0.5;
      const s = p.std[c] ?? 0.5;
      const base = (b * channels + c) * plane;
      for (let k = 0; k < plane; k++) out[base + k] = (rgba[4 * k + c] * rescale - m) / s;
    }
  }
  const f = encodeTensor({ dtype: 1, dims, data: out, name: headers[i].name, requestId: headers[i].requestId, index: i });
  frames[i] = f;
  headers[i] = parseHeader(f);
  const what = `image ${bitmap.width}x${bitmap.height} -> ${width}x${height}`;
  bitmap.close?.();
  return what;
}

/** Makes the inputs a run's "prepare" asks for, in place. Resolves to a short description. */
export async function prepareInputs(p, frames, headers) {
  if (p === null || typeof p !== 'object') throw bad('"prepare" must be an object');
  const done = [];
  if (p.text !== undefined) done.push(await prepareText(p, frames, headers));
  if (p.image !== undefined) done.push(await prepareImage(p, frames, headers));
  return done.join('; ');
}
