// accel-top browser page, the onnxruntime-web part: loads ONNX models into
// InferenceSessions (one execution provider each), runs them on tensors that arrived as
// binary frames, and turns their outputs back into frames (accel-top-protocol(7),
// "RUNNING MODELS"). connection.js owns the connection and handlers.js the protocol checks;
// this module owns the sessions.

import { DTYPE_CODES, encodeTensor, tensorData } from './tensor.js';
import { lane, laneCount } from './ort-lanes.js';
import { parsePlacement, placementOptions, withPlacementLog } from './ort-placement.js';

// The ESM bundle with the wasm, webgpu (JSEP) and webnn execution providers and without
// WebGL. It loads ort-wasm-simd-threaded.jsep.{mjs,wasm} from ORT_DIR.
const ORT_DIR = '/ort/';
const ORT_BUNDLE = 'ort.bundle.min.mjs';
export const PLATFORMS = Object.freeze(['wasm', 'webgpu', 'webnn']);
export const WEBNN_DEVICES = Object.freeze(['gpu', 'cpu', 'npu']);
const MAX_ROWS = 32; // sessions kept on screen, gone ones dropped oldest first

/** A failure to report as a protocol error with this code. */
export class RunnerError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'RunnerError';
    this.code = code;
  }
}

/** The text of something thrown, as thrown (no "Error: " prefix for Error objects). */
export function errorText(e) {
  if (e instanceof Error) return e.message || String(e);
  return String(e);
}

// ---------------------------------------------------------------------------
// onnxruntime-web, imported on the first load

let ortPromise = null;
let importFailures = 0;

function importOrt() {
  if (!ortPromise) {
    // Firefox keeps a failed module import in its module map and fails every later
    // import of that URL at once; a retry therefore asks for a URL it has not seen.
    const url = new URL(ORT_DIR + ORT_BUNDLE, location.href);
    if (importFailures > 0) url.searchParams.set('retry', String(importFailures));
    ortPromise = import(url.href).then(
      (mod) => {
        const ort = mod.default ?? mod;
        const coi = globalThis.crossOriginIsolated === true;
        const hc = navigator.hardwareConcurrency;
        ort.env.wasm.wasmPaths = ORT_DIR;
        // At most 4 threads (onnxruntime-web's own cap): one per core on a 16-core machine made
        // every page's spinning pool take the cores its network process needs (bench/README.md,
        // "wasm threads": bert-tiny's compute 1.49 -> 1.16 ms, wire both ways 0.36 -> 0.24 ms p50,
        // 2 browsers 360 -> 949 req/s, same run).
        ort.env.wasm.numThreads = coi && Number.isInteger(hc) && hc > 0 ? Math.min(hc, 4) : 1;
        return ort;
      },
      (e) => {
        ortPromise = null; // the next load tries again
        importFailures++;
        throw e;
      },
    );
  }
  return ortPromise;
}

// One onnxruntime-web instance (one wasm runtime) serves every session of the page, and
// it takes one asynchronous call at a time: a second session.run() while a webgpu run
// awaits the GPU fails with "Session already started" / "Session mismatch", and two
// first InferenceSession.create() calls for different EPs fail with "multiple calls to
// 'initWasm()' detected". So every call into ORT (create, run, release) goes through
// this one FIFO; fetching model files, building tensors and encoding outputs do not.
let ortTail = Promise.resolve();

function withOrt(fn) {
  const p = ortTail.then(fn);
  ortTail = p.catch(() => {});
  return p;
}

// ---------------------------------------------------------------------------
// The completion floor. Firefox resolves WebGPU promises (mapAsync, onSubmittedWorkDone) only
// when its GPU process polls the device: on a 100 ms timer, or when a queue submission arrives
// (Mozilla bug 1870699, "Don't poll WebGPU from a timer"). An onnxruntime-web run ends in a
// read-back, so every run took at least ~100 ms there whatever the GPU did
// (bench/floor/probe.js measures it). The page measures the wait for an idle queue once per
// runtime; where it is over FLOOR_MS, an empty queue.submit() every NUDGE_MS while a webgpu run
// is pending lets the poll happen as soon as the work is done. Chromium's idle wait is ~0.1 ms:
// no nudging there.
const FLOOR_MS = 20;
const NUDGE_MS = 1;
let floorPromise = null;

function completionFloor(ort) {
  if (!floorPromise) {
    floorPromise = (async () => {
      const device = await ort.env.webgpu.device;
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await device.queue.onSubmittedWorkDone();
        best = Math.min(best, performance.now() - t);
      }
      return { device, idle_wait_ms: best, nudge_ms: best > FLOOR_MS ? NUDGE_MS : 0 };
    })().catch(() => ({ device: null, idle_wait_ms: null, nudge_ms: 0 }));
  }
  return floorPromise;
}

async function nudgeWhile(floor, p) {
  if (!floor?.nudge_ms || !floor.device) return p;
  const device = floor.device;
  const timer = setInterval(() => device.queue.submit([]), floor.nudge_ms);
  try {
    return await p;
  } finally {
    clearInterval(timer);
  }
}

// The worker lanes a webgpu session also runs on (ort-lanes.js). A lane that cannot load the
// model is left out (its error kept as the session's last error); the page's runtime remains.
let laneKeys = 0;

async function loadLanes(s, req) {
  const n = laneCount(s.floor);
  const url = new URL(req.url, location.href).href;
  const tries = [];
  for (let i = 1; i < n; i++) {
    const l = { lane: lane(i), busy: 0 };
    tries.push(l.lane.call({ type: 'load', key: s.laneKey, url, ep: 'webgpu', floorMs: FLOOR_MS, nudgeMs: NUDGE_MS }).then(() => l));
  }
  const got = [];
  for (const r of await Promise.allSettled(tries)) {
    if (r.status === 'fulfilled') got.push(r.value);
    else s.lastError = `lane: ${errorText(r.reason)}`;
  }
  return got;
}

// The least busy of the page's runtime (null) and the session's lanes. A worker wins a tie with
// the page, so that a session's first run, the one the server verifies against fp32 on wasm, runs
// in a worker when there are lanes (the page's own runtime is the path used without lanes).
function pickLane(s) {
  let best = null;
  let busy = s.pageBusy;
  for (const l of s.lanes) {
    if (l.busy < busy || (best === null && l.busy === busy)) {
      best = l;
      busy = l.busy;
    }
  }
  return best;
}

// ORT reports a dim that has neither a value nor a name as -1, read from wasm32 memory
// as 4294967295; it is sent as "?" (a symbolic dim without a name).
function dim(d) {
  if (typeof d !== 'number') return String(d);
  return d < 0 || d >= 0xffffffff ? '?' : d;
}

function metadata(list, names) {
  if (Array.isArray(list) && list.length === names.length) {
    return list.map((v) => {
      if (!v || typeof v.name !== 'string') return { name: String(v?.name ?? '') };
      if (v.isTensor === false || typeof v.type !== 'string') return { name: v.name };
      const dims = Array.isArray(v.shape) ? v.shape.map(dim) : [];
      return { name: v.name, type: v.type, dims };
    });
  }
  return names.map((name) => ({ name }));
}

// ---------------------------------------------------------------------------
// Sessions, for the page's table (all connections, gone ones too)

export const rows = [];
let rowsVersion = 0;

export function tableVersion() {
  return rowsVersion;
}

function touched() {
  rowsVersion++;
}

function addRow(s) {
  rows.push(s);
  while (rows.length > MAX_ROWS) {
    const i = rows.findIndex((r) => r.gone);
    if (i < 0) break;
    rows.splice(i, 1);
  }
  touched();
}

// ---------------------------------------------------------------------------
// The sessions of one connection. Keys are the server's, unique per connection; when
// the connection ends, its sessions are released.

export class SessionTable {
  constructor() {
    this.map = new Map(); // key -> session entry (loading, ready, running)
    this.closed = false;
  }

  has(key) {
    return this.map.has(key);
  }

  /**
   * Load a model. Resolves to the `loaded` reply's fields (without type/id); rejects
   * with RunnerError('load_failed', text).
   */
  async load(key, req) {
    let turn;
    const s = {
      key,
      model: req.model,
      precision: req.precision,
      platform: req.platform,
      deviceType: req.deviceType,
      file: req.file,
      state: 'loading',
      runs: 0,
      queued: 0,
      lastComputeMs: null,
      lastError: null,
      session: null,
      floor: null, // webgpu: completionFloor()'s result
      lanes: [], // webgpu: the worker lanes that also hold this model ({lane, busy}), see ort-lanes.js
      laneKey: ++laneKeys,
      laneRuns: new Set(),
      pageBusy: 0, // runs given to the page's own runtime and not yet done
      gone: false,
      chain: new Promise((resolve) => (turn = resolve)), // runs wait for the load
    };
    this.map.set(key, s);
    addRow(s);
    try {
      const ort = await importOrt();
      const t0 = performance.now();
      const res = await fetch(req.url);
      if (!res.ok) throw new Error(`fetch ${req.url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      const buf = await res.arrayBuffer();
      const t1 = performance.now();
      const ep = req.platform === 'webnn' ? { name: 'webnn', deviceType: req.deviceType } : req.platform;
      // webnn: ORT's own log of where it put each node (the ops WebNN lacks run on its CPU kernels)
      const logged = req.platform === 'webnn';
      const opts = {
        executionProviders: [ep],
        preferredOutputLocation: 'cpu', // outputs come back as CPU data, also from webgpu
        ...(logged ? placementOptions() : {}),
      };
      const { session, lines } = await withOrt(() =>
        logged ? withPlacementLog(() => ort.InferenceSession.create(new Uint8Array(buf), opts))
          : ort.InferenceSession.create(new Uint8Array(buf), opts).then((x) => ({ session: x, lines: null })),
      );
      const t2 = performance.now();
      s.session = session;
      let lanesMs = null;
      if (req.platform === 'webgpu') {
        s.floor = await withOrt(() => completionFloor(ort));
        const t3 = performance.now();
        s.lanes = await loadLanes(s, req);
        if (s.lanes.length) lanesMs = performance.now() - t3;
      }
      const reply = {
        session: key,
        load_ms: t2 - t0,
        fetch_ms: t1 - t0,
        bytes: buf.byteLength,
        ep: [req.platform],
        inputs: metadata(session.inputMetadata, session.inputNames),
        outputs: metadata(session.outputMetadata, session.outputNames),
        ort_version: ort.env.versions?.web ?? ort.env.versions?.common ?? null,
        threads: ort.env.wasm.numThreads ?? null,
      };
      if (req.platform === 'webnn') reply.device_type = req.deviceType;
      if (lines) reply.placement = parsePlacement(lines, req.platform);
      if (s.floor) {
        reply.idle_wait_ms = s.floor.idle_wait_ms;
        reply.nudge_ms = s.floor.nudge_ms;
        reply.lanes = 1 + s.lanes.length;
        if (lanesMs !== null) reply.lanes_load_ms = lanesMs;
      }
      // An unload (or the end of the connection) that came while loading waits in the
      // chain and releases the session after this.
      if (s.state === 'loading') s.state = 'ready';
      touched();
      turn();
      return reply;
    } catch (e) {
      const text = errorText(e);
      if (this.map.get(key) === s) this.map.delete(key);
      if (s.state === 'loading') {
        s.state = 'failed';
        if (s.session) void s.session.release().catch(() => {});
        s.session = null;
      }
      s.gone = true;
      s.lastError = text;
      touched();
      turn();
      throw new RunnerError('load_failed', text);
    }
  }

  /**
   * Run a session on input frames (ArrayBuffers with their parsed headers). Waits for the
   * session's earlier requests. Resolves to {queue_ms, compute_ms, frames} where frames
   * are the output frames (empty unless wantOutputs); rejects with RunnerError
   * ('no_session' or 'run_failed').
   */
  run(key, frames, headers, wantOutputs, requestId) {
    const s = this.map.get(key);
    if (!s) return Promise.reject(new RunnerError('no_session', `run: no session ${key}`));
    const ready = performance.now();
    s.queued++;
    touched();
    const l = pickLane(s);
    if (l) return this.runOnLane(s, l, frames, headers, wantOutputs, requestId, ready);
    s.pageBusy++;
    const p = s.chain.then(() => this.runTurn(s, frames, headers, wantOutputs, requestId, ready));
    s.chain = p.catch(() => {});
    return p.finally(() => s.pageBusy--);
  }

  /** A run on worker lane `l` (ort-lanes.js): inputs copied over, outputs copied back. */
  runOnLane(s, l, frames, headers, wantOutputs, requestId, ready) {
    l.busy++;
    const p = (async () => {
      const feeds = headers.map((h, i) => ({ name: h.name, type: h.dtypeName, dims: h.dims, data: tensorData(frames[i], h).slice() }));
      const start = performance.now();
      s.queued--;
      let r;
      try {
        r = await l.lane.call({ type: 'run', key: s.laneKey, feeds }, feeds.map((f) => f.data.buffer));
      } catch (e) {
        return this.failed(s, e);
      }
      s.runs++;
      s.lastComputeMs = r.compute_ms;
      touched();
      // lane: which runtime ran it (0 the page's own), so the server can verify each one
      const result = { queue_ms: start - ready + r.queue_ms, compute_ms: r.compute_ms, frames: [], lane: 1 + s.lanes.indexOf(l) };
      if (wantOutputs) {
        r.outputs.forEach((o, i) => {
          const code = DTYPE_CODES[o.type];
          if (code === undefined) throw new Error(`output "${o.name}" has type ${o.type}, which a frame cannot carry`);
          result.frames.push(encodeTensor({ dtype: code, dims: o.dims, data: o.data, name: o.name, requestId, index: i }));
        });
      }
      return result;
    })();
    const done = p.catch(() => {}).finally(() => {
      l.busy--;
      s.laneRuns.delete(done);
    });
    s.laneRuns.add(done);
    return p;
  }

  async runTurn(s, frames, headers, wantOutputs, requestId, ready) {
    let out = null;
    let waiting = true;
    try {
      const ort = await importOrt();
      const feeds = {};
      for (let i = 0; i < frames.length; i++) {
        const h = headers[i];
        feeds[h.name] = new ort.Tensor(h.dtypeName, tensorData(frames[i], h), h.dims);
      }
      const r = await withOrt(async () => {
        s.queued--;
        waiting = false;
        // Runs queued before an unload still run (the release waits behind them).
        if (!s.session) {
          const why = s.state === 'failed' ? 'its load failed' : s.state;
          throw new RunnerError('no_session', `run: no session ${s.key} (${why})`);
        }
        if (s.state === 'ready') s.state = 'running';
        touched();
        const start = performance.now();
        try {
          // a webnn session was created with ORT's verbose log on (placement): its runs log errors
          // only (a fresh object each run: ORT adds its defaults to the one it is given)
          out = await nudgeWhile(s.floor, s.platform === 'webnn' ? s.session.run(feeds, { logSeverityLevel: 3 }) : s.session.run(feeds));
        } finally {
          if (s.state === 'running') s.state = 'ready';
        }
        return { start, end: performance.now() };
      });
      const computeMs = r.end - r.start;
      s.runs++;
      s.lastComputeMs = computeMs;
      touched();
      const result = { queue_ms: r.start - ready, compute_ms: computeMs, frames: [], lane: 0 };
      if (wantOutputs) {
        const names = s.session?.outputNames ?? Object.keys(out);
        for (let i = 0; i < names.length; i++) {
          const t = out[names[i]];
          const code = DTYPE_CODES[t?.type];
          if (code === undefined) throw new Error(`output "${names[i]}" has type ${t?.type}, which a frame cannot carry`);
          const data = t.location === 'cpu' ? t.data : await t.getData();
          result.frames.push(encodeTensor({ dtype: code, dims: t.dims, data, name: names[i], requestId, index: i }));
        }
      }
      return result;
    } catch (e) {
      if (e instanceof RunnerError) throw e;
      return this.failed(s, e);
    } finally {
      if (waiting) s.queued--;
      for (const k in out) {
        try {
          out[k].dispose?.();
        } catch {}
      }
    }
  }

  failed(s, e) {
    s.lastError = errorText(e);
    touched();
    throw new RunnerError('run_failed', s.lastError);
  }

  /** Release a session once its queued runs are done. Rejects with no_session. */
  unload(key) {
    const s = this.map.get(key);
    if (!s) return Promise.reject(new RunnerError('no_session', `unload: no session ${key}`));
    this.map.delete(key);
    return this.release(s, 'unloaded');
  }

  release(s, finalState) {
    s.state = 'unloading';
    s.gone = true;
    touched();
    const p = s.chain.then(async () => {
      try {
        await Promise.allSettled([...s.laneRuns]);
        await Promise.allSettled(s.lanes.map((l) => l.lane.call({ type: 'release', key: s.laneKey })));
        s.lanes = [];
        const session = s.session;
        if (session) await withOrt(() => session.release());
      } catch (e) {
        s.lastError = `release: ${errorText(e)}`;
      } finally {
        s.session = null;
        s.state = finalState;
        touched();
      }
    });
    s.chain = p.catch(() => {});
    return p;
  }

  /** The connection ended: release everything (replies have nowhere to go). */
  closeAll() {
    this.closed = true;
    for (const s of this.map.values()) void this.release(s, 'closed');
    this.map.clear();
  }
}
