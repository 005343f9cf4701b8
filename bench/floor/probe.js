// The WebGPU floor probe: where does a fixed per-run time come from, and how many runs can be in
// flight at once? Part "gpu" uses WebGPU alone (a WGSL kernel, onSubmittedWorkDone, mapAsync,
// timestamp queries); part "ort" runs onnxruntime-web sessions, sequentially, with two sessions of
// one page at once, and as 1..16 workers each with its own runtime. Results go to serve.py.
import { importOrt, makeFeeds, nudged } from './common.js';

const q = new URLSearchParams(location.search);
const ITERS = Number(q.get('iters') ?? 20);
const DUR = Number(q.get('dur') ?? 3000);
const DEPTHS = (q.get('depths') ?? '1,2,4,8,16').split(',').map(Number);
const MODELS = (q.get('models') ?? 'bert-tiny').split(',').filter(Boolean);
const PRECISIONS = (q.get('precisions') ?? 'fp32').split(',').filter(Boolean);
const PARTS = (q.get('parts') ?? 'gpu,ort').split(',');
const NUDGE_MS = Number(q.get('nudge') ?? 1);
const WORK = Number(q.get('work') ?? 256); // loop trips per element in the kernel
const FILES = { fp32: 'model.onnx', fp16: 'model_fp16.onnx', int8: 'model_quantized.onnx', int4: 'model_q4.onnx', q4f16: 'model_q4f16.onnx' };

const out = { ua: navigator.userAgent, coi: globalThis.crossOriginIsolated, cores: navigator.hardwareConcurrency,
  started: new Date().toISOString(), params: Object.fromEntries(q) };
function log(m) {
  document.getElementById('log').textContent += m + '\n';
  return fetch('/log', { method: 'POST', body: String(m) }).catch(() => {});
}
function stats(a) {
  if (!a.length) return { n: 0 };
  const s = [...a].sort((x, y) => x - y);
  const p = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  const r = (x) => Math.round(x * 1000) / 1000;
  return { n: s.length, min: r(s[0]), p50: r(p(0.5)), p95: r(p(0.95)), max: r(s[s.length - 1]), mean: r(s.reduce((x, y) => x + y, 0) / s.length) };
}
const line = (name, st) => `${name.padEnd(44)} n=${st.n} p50=${st.p50} p95=${st.p95} min=${st.min} max=${st.max} ms`;

// ---------------------------------------------------------------- WebGPU alone

async function gpuPart() {
  const ad = await navigator.gpu.requestAdapter();
  if (!ad) throw new Error('requestAdapter() gave no adapter');
  const info = ad.info ?? {};
  out.adapter = { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
    isFallbackAdapter: info.isFallbackAdapter, features: [...ad.features].sort() };
  const hasTs = ad.features.has('timestamp-query');
  const dev = await ad.requestDevice({ requiredFeatures: hasTs ? ['timestamp-query'] : [] });
  await log(`adapter ${JSON.stringify(out.adapter)}`);
  const N = 1 << 20;
  const module = dev.createShaderModule({ code: `
    @group(0) @binding(0) var<storage, read_write> buf: array<f32>;
    @compute @workgroup_size(256) fn main(@builtin(global_invocation_id) id: vec3u) {
      if (id.x >= arrayLength(&buf)) { return; }
      var x = buf[id.x];
      for (var k = 0u; k < ${WORK}u; k++) { x = x * 0.999 + 0.5; }
      buf[id.x] = x;
    }` });
  const pipe = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const lane = () => {
    const storage = dev.createBuffer({ size: N * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    dev.queue.writeBuffer(storage, 0, new Float32Array(N).fill(1));
    const l = { storage, read: dev.createBuffer({ size: 4096, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      bind: dev.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: storage } }] }) };
    if (hasTs) {
      l.qs = dev.createQuerySet({ type: 'timestamp', count: 2 });
      l.resolve = dev.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      l.tsRead = dev.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    return l;
  };
  const encode = (l, ts) => {
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass(ts ? { timestampWrites: { querySet: l.qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
    pass.setPipeline(pipe);
    pass.setBindGroup(0, l.bind);
    pass.dispatchWorkgroups(N / 256);
    pass.end();
    enc.copyBufferToBuffer(l.storage, 0, l.read, 0, 4096);
    if (ts) {
      enc.resolveQuerySet(l.qs, 0, 2, l.resolve, 0);
      enc.copyBufferToBuffer(l.resolve, 0, l.tsRead, 0, 16);
    }
    return enc.finish();
  };
  // one dispatch + read-back; returns wall ms (and GPU ns when ts)
  const roundTrip = async (l, { ts = false, nudge = 0, wait = 'map' } = {}) => {
    const t0 = performance.now();
    dev.queue.submit([encode(l, ts)]);
    let gpuNs = null;
    if (wait === 'done') {
      await nudged(dev, nudge, dev.queue.onSubmittedWorkDone());
    } else {
      const maps = [l.read.mapAsync(GPUMapMode.READ)];
      if (ts) maps.push(l.tsRead.mapAsync(GPUMapMode.READ));
      await nudged(dev, nudge, Promise.all(maps));
      const v = new Float32Array(l.read.getMappedRange(0, 16))[0];
      if (!(v > 1)) throw new Error(`kernel output ${v}: the kernel did not run`);
      l.read.unmap();
      if (ts) {
        const t = new BigUint64Array(l.tsRead.getMappedRange(0, 16));
        gpuNs = Number(t[1] - t[0]);
        l.tsRead.unmap();
      }
    }
    return { ms: performance.now() - t0, gpuNs };
  };
  const L = lane();
  await roundTrip(L, { ts: hasTs }); // warm-up: pipeline, first map
  const g = (out.gpu = { work: WORK, elements: N, timestamp_query: hasTs, cases: {} });
  const measure = async (name, fn) => {
    const ms = [], extra = [];
    for (let i = 0; i < ITERS; i++) {
      const r = await fn();
      ms.push(r.ms);
      if (r.gpuNs != null) extra.push(r.gpuNs / 1e6);
    }
    g.cases[name] = { wall_ms: stats(ms) };
    if (extra.length) g.cases[name].gpu_ms = stats(extra);
    await log(line(name, g.cases[name].wall_ms) + (extra.length ? `  gpu p50=${g.cases[name].gpu_ms.p50} ms` : ''));
  };
  await measure('onSubmittedWorkDone, nothing submitted', async () => {
    const t0 = performance.now();
    await dev.queue.onSubmittedWorkDone();
    return { ms: performance.now() - t0 };
  });
  await measure('dispatch + onSubmittedWorkDone', () => roundTrip(L, { wait: 'done' }));
  await measure('dispatch + copy + mapAsync', () => roundTrip(L));
  if (hasTs) await measure('dispatch + mapAsync, timestamp queries', () => roundTrip(L, { ts: true }));
  await measure(`dispatch + mapAsync, nudge ${NUDGE_MS} ms`, () => roundTrip(L, { nudge: NUDGE_MS }));
  await measure(`onSubmittedWorkDone, nothing submitted, nudge ${NUDGE_MS} ms`, async () => {
    const t0 = performance.now();
    await nudged(dev, NUDGE_MS, dev.queue.onSubmittedWorkDone());
    return { ms: performance.now() - t0 };
  });
  // instants at which read-backs resolve, back to back: a timer shows as even spacing
  const stamps = [];
  for (let i = 0; i < ITERS; i++) {
    await roundTrip(L);
    stamps.push(performance.now());
  }
  g.resolve_spacing_ms = stamps.slice(1).map((t, i) => Math.round((t - stamps[i]) * 100) / 100);
  // K read-backs in flight at once, K lanes in closed loops for DUR ms
  g.throughput = [];
  const lanes = [L];
  for (const nudge of [0, NUDGE_MS]) {
    for (const k of DEPTHS) {
      while (lanes.length < k) lanes.push(lane());
      const end = performance.now() + DUR;
      const lat = [];
      const t0 = performance.now();
      await Promise.all(lanes.slice(0, k).map(async (l) => {
        while (performance.now() < end) lat.push((await roundTrip(l, { nudge })).ms);
      }));
      const rps = lat.length / ((performance.now() - t0) / 1000);
      const row = { in_flight: k, nudge_ms: nudge, per_s: Math.round(rps * 10) / 10, latency_ms: stats(lat) };
      g.throughput.push(row);
      await log(`gpu in flight ${k} nudge ${nudge}: ${row.per_s}/s p50 ${row.latency_ms.p50} ms`);
    }
  }
  for (const l of lanes) l.storage.destroy();
  dev.destroy();
}

// ---------------------------------------------------------------- onnxruntime-web

async function ortPart() {
  const ort = await importOrt(navigator.hardwareConcurrency || 1);
  out.ort = { version: ort.env.versions?.web ?? null, runs: [] };
  for (const model of MODELS) {
    const manifest = await (await fetch(`/models/${model}/accel.json`)).json();
    for (const precision of PRECISIONS) {
      const url = `/models/${model}/onnx/${FILES[precision]}`;
      const r = { model, precision, ep: 'webgpu' };
      out.ort.runs.push(r);
      try {
        const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
        const opts = { executionProviders: ['webgpu'], preferredOutputLocation: 'cpu' };
        const s1 = await ort.InferenceSession.create(bytes, opts);
        const feeds = makeFeeds(ort, manifest);
        const dev = await ort.env.webgpu.device;
        await s1.run(feeds);
        for (const nudge of [0, NUDGE_MS]) {
          const lat = [];
          for (let i = 0; i < ITERS; i++) {
            const t = performance.now();
            await nudged(dev, nudge, s1.run(feeds));
            lat.push(performance.now() - t);
          }
          r[`sequential_nudge_${nudge}`] = stats(lat);
          await log(line(`${model} ${precision} one session, nudge ${nudge}`, stats(lat)));
        }
        // two sessions of one page (one runtime) at once
        const s2 = await ort.InferenceSession.create(bytes, opts);
        await s2.run(feeds);
        try {
          const t = performance.now();
          await Promise.all([s1.run(feeds), s2.run(feeds)]);
          r.two_sessions_one_page = { ok: true, ms: performance.now() - t };
        } catch (e) {
          r.two_sessions_one_page = { ok: false, error: String(e?.message ?? e) };
        }
        await log(`${model} ${precision} two sessions of one page at once: ${JSON.stringify(r.two_sessions_one_page)}`);
        await s2.release();
        await s1.release();
        if (PARTS.includes('workers')) await workers(r, url, manifest);
      } catch (e) {
        r.error = String(e?.message ?? e);
        await log(`${model} ${precision}: ${r.error}`);
      }
    }
  }
}

// K workers, each its own runtime and session, in closed loops for DUR ms
async function workers(r, url, manifest) {
  const max = Math.max(...DEPTHS);
  const ws = [];
  const call = (w, msg) => new Promise((res, rej) => {
    w.onmessage = (e) => (e.data.type === 'error' ? rej(new Error(e.data.error)) : res(e.data));
    w.postMessage(msg);
  });
  r.workers = [];
  try {
    for (let i = 0; i < max; i++) {
      const w = new Worker('worker.js', { type: 'module' });
      ws.push(w);
      await call(w, { type: 'init', url, manifest, ep: 'webgpu' });
    }
    for (const nudge of [0, NUDGE_MS]) {
      for (const k of DEPTHS) {
        const start = performance.timeOrigin + performance.now() + 50;
        const end = start + DUR;
        const res = await Promise.all(ws.slice(0, k).map((w) => call(w, { type: 'loop', start, end, nudge })));
        const lat = res.flatMap((x) => x.lat);
        const last = Math.max(...res.map((x) => x.end));
        const row = { in_flight: k, nudge_ms: nudge, per_s: Math.round((lat.length / ((last - start) / 1000)) * 10) / 10, latency_ms: stats(lat) };
        r.workers.push(row);
        await log(`${r.model} ${r.precision} workers ${k} nudge ${nudge}: ${row.per_s}/s p50 ${row.latency_ms.p50} ms`);
      }
    }
  } catch (e) {
    r.workers_error = `${ws.length} workers: ${String(e?.message ?? e)}`;
    await log(`${r.model} ${r.precision} workers: ${r.workers_error}`);
  } finally {
    for (const w of ws) w.terminate();
  }
}

(async () => {
  try {
    if (PARTS.includes('gpu')) await gpuPart().catch((e) => { out.gpu_error = String(e?.message ?? e); return log(`gpu: ${out.gpu_error}`); });
    if (PARTS.includes('ort')) await ortPart().catch((e) => { out.ort_error = String(e?.message ?? e); return log(`ort: ${out.ort_error}`); });
  } finally {
    out.finished = new Date().toISOString();
    await fetch('/result', { method: 'POST', body: JSON.stringify(out) });
  }
})();
