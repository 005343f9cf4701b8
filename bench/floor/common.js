// Shared by probe.js and worker.js: onnxruntime-web import, inputs from a model's accel.json,
// and the "nudge" (an empty queue.submit() every few ms while a result is awaited).

export async function importOrt(threads) {
  const mod = await import('/ort/ort.bundle.min.mjs');
  const ort = mod.default ?? mod;
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads;
  return ort;
}

// Deterministic inputs of the manifest's shapes: token ids, ones, or values in [-1, 1).
export function makeFeeds(ort, manifest) {
  const feeds = {};
  for (const inp of manifest.inputs) {
    const dims = inp.shape.map((d) => (typeof d === 'number' ? d : manifest.dims[d]));
    const n = dims.reduce((a, b) => a * b, 1);
    const kind = inp.fill?.kind;
    let data;
    if (inp.dtype === 'int64') {
      data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) data[i] = kind === 'ones' ? 1n : BigInt((i * 7 + 3) % (inp.fill?.vocab_size ?? 100));
    } else if (inp.dtype === 'float32') {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = kind === 'ones' ? 1 : ((i * 2654435761) % 2000) / 1000 - 1;
    } else {
      throw new Error(`input ${inp.name}: dtype ${inp.dtype} not handled by the probe`);
    }
    feeds[inp.name] = new ort.Tensor(inp.dtype, data, dims);
  }
  return feeds;
}

// While `p` is pending, submit an empty command list every `ms` milliseconds on `device`.
export async function nudged(device, ms, p) {
  if (!device || !ms) return p;
  const t = setInterval(() => device.queue.submit([]), ms);
  try {
    return await p;
  } finally {
    clearInterval(t);
  }
}
