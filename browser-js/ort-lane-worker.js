// A lane of the page (ort-lanes.js): one more onnxruntime-web runtime, in a module worker, with
// its own wasm instance and WebGPU device, so that its runs overlap those of the page and of the
// other lanes. Messages: {id, type: 'load'|'run'|'release', ...}; replies {id, ok, ...} or
// {id, error}. Calls into this runtime are taken one at a time, like the page's (ort-runner.js).

const ORT_DIR = '/ort/';
let ortPromise = null;
let tail = Promise.resolve();
const sessions = new Map();
let floor = null; // {device, nudge_ms}: as ort-runner.js's completionFloor(), for this runtime

function ort() {
  if (!ortPromise) {
    ortPromise = import(new URL(ORT_DIR + 'ort.bundle.min.mjs', location.href).href).then((mod) => {
      const o = mod.default ?? mod;
      o.env.wasm.wasmPaths = ORT_DIR;
      o.env.wasm.numThreads = 1; // a lane is for webgpu runs: its CPU side is light
      return o;
    });
  }
  return ortPromise;
}

async function measureFloor(o, floorMs, nudgeMs) {
  const device = await o.env.webgpu.device;
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await device.queue.onSubmittedWorkDone();
    best = Math.min(best, performance.now() - t);
  }
  return { device, nudge_ms: best > floorMs ? nudgeMs : 0 };
}

async function handle(m, received) {
  const o = await ort();
  if (m.type === 'load') {
    const res = await fetch(m.url);
    if (!res.ok) throw new Error(`fetch ${m.url}: HTTP ${res.status}`);
    const session = await o.InferenceSession.create(new Uint8Array(await res.arrayBuffer()), {
      executionProviders: [m.ep], preferredOutputLocation: 'cpu',
    });
    sessions.set(m.key, session);
    if (m.ep === 'webgpu' && !floor) floor = await measureFloor(o, m.floorMs, m.nudgeMs);
    return {};
  }
  const session = sessions.get(m.key);
  if (!session) throw new Error(`lane: no session ${m.key}`);
  if (m.type === 'release') {
    sessions.delete(m.key);
    await session.release();
    return {};
  }
  const feeds = {};
  for (const f of m.feeds) feeds[f.name] = new o.Tensor(f.type, f.data, f.dims);
  const start = performance.now();
  let timer = null;
  if (floor?.nudge_ms) timer = setInterval(() => floor.device.queue.submit([]), floor.nudge_ms);
  let out;
  try {
    out = await session.run(feeds);
  } finally {
    if (timer) clearInterval(timer);
  }
  const computeMs = performance.now() - start;
  const outputs = [];
  const transfer = [];
  for (const name of session.outputNames) {
    const t = out[name];
    const data = (t.location === 'cpu' ? t.data : await t.getData()).slice();
    outputs.push({ name, type: t.type, dims: t.dims, data });
    transfer.push(data.buffer);
    t.dispose?.();
  }
  return { queue_ms: start - received, compute_ms: computeMs, outputs, transfer };
}

onmessage = (e) => {
  const m = e.data;
  const received = performance.now();
  const p = tail.then(() => handle(m, received));
  tail = p.catch(() => {});
  p.then(
    (r) => {
      const transfer = r.transfer ?? [];
      delete r.transfer;
      postMessage({ id: m.id, ok: true, ...r }, transfer);
    },
    (err) => postMessage({ id: m.id, error: err instanceof Error ? err.message || String(err) : String(err) }),
  );
};
