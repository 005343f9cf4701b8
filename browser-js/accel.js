// accel-top browser page: probes what this browser can accelerate, says hello to
// accel-top over a WebSocket (protocol accel.v1, see accel-top-protocol(7)), keeps the
// connection alive, answers pings and echoes, loads and runs models on request
// (ort-runner.js), and shows its own state on the page.

import { parseHeader, decodeTensor, encodeTensor } from './tensor.js';
import { logMel } from './logmel-wgsl.js';
import { PLATFORMS, WEBNN_DEVICES, SessionTable, rows as sessionRows, tableVersion } from './ort-runner.js';

const PROTOCOL = 1;
const SUBPROTOCOL = 'accel.v1';
const U32_MAX = 0xffffffff;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;
const WEBNN_TIMEOUT_MS = 3000;
const WEBGPU_TIMEOUT_MS = 5000;
const UA_TIMEOUT_MS = 1000;
const WELCOME_TIMEOUT_MS = 10000; // no welcome this long after connecting: start over
const MIN_HEARTBEAT_MS = 10;
const RENDER_EVERY_MS = 250;
const UA_MEMORY_EVERY_MS = 10000; // pause between two measureUserAgentSpecificMemory() calls
const UA_MEMORY_FRESH_MS = 60000; // an older figure is not sent: the server shows n/a
const LIMIT_KEYS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupStorageSize',
];

// (module (func (result v128) v128.const i32x4 0 0 0 0))
const WASM_SIMD = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // func 0: type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code: v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
]);
// (module (memory 1 1 shared) (func i32.const 0 i32.atomic.load drop))
const WASM_THREADS = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
  0x03, 0x02, 0x01, 0x00,
  0x05, 0x04, 0x01, 0x03, 0x01, 0x01, // memory: shared, min 1, max 1
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a, 0x0b,
]);

// ---------------------------------------------------------------------------
// State

const params = new URLSearchParams(location.search);
const token = params.get('token') ?? '';
let instance = parseInstance(params.get('id'));

const st = {
  phase: 'probing', // probing | connecting | connected | reconnecting
  caps: null,
  connects: 0,
  welcomes: 0,
  msgsIn: 0,
  msgsOut: 0,
  bytesIn: 0,
  bytesOut: 0,
  echoes: 0,
  results: 0,
  heartbeatMs: null,
  timeoutMs: null,
  rttMs: null,
  reconnectAt: 0,
  lastClose: null, // {code, reason, by, at}
  lastError: null, // text: an error this page sent or hit
  serverError: null, // text: the last error the server sent
  serverErrors: 0,
  sentErrors: 0,
  uaMemory: null, // bytes from the latest measureUserAgentSpecificMemory(), sent with every pong
  uaMemoryAt: 0, // performance.now() when it was measured
  uaMemoryNote: 'not measured yet',
  uaMemorySince: null, // performance.now() when the pending measurement started
};

let conn = null; // the live connection's state, or null
let backoffMs = BACKOFF_MIN_MS;
let nextRequestId = 1;

function newId() {
  const id = nextRequestId;
  nextRequestId = nextRequestId >= U32_MAX ? 0 : nextRequestId + 1;
  return id;
}

function isU32(v) {
  return Number.isInteger(v) && v >= 0 && v <= U32_MAX;
}

function parseInstance(s) {
  if (typeof s !== 'string' || !/^[0-9]{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n <= U32_MAX ? n : null;
}

// ---------------------------------------------------------------------------
// Capability probes (once per page load; reconnects reuse the result)

class Timeout {
  constructor(ms) {
    this.ms = ms;
  }
  toString() {
    return `timed out after ${this.ms} ms`;
  }
}

function withTimeout(promise, ms, onLate) {
  let timer = 0;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(ms)), ms);
  });
  const p = Promise.resolve(promise);
  if (onLate) {
    // A result that arrives after the timeout is still cleaned up.
    guard.catch(() => p.then(onLate, () => {}));
  }
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

function str(v) {
  return typeof v === 'string' ? v : v == null ? '' : String(v);
}

async function probeWebGPU() {
  const r = {
    api: false,
    adapter: false,
    error: null,
    vendor: '',
    architecture: '',
    device: '',
    description: '',
    fallback: null,
    features: [],
    limits: {},
  };
  try {
    const gpu = navigator.gpu;
    if (!gpu) return r;
    r.api = true;
    const adapter = await withTimeout(gpu.requestAdapter(), WEBGPU_TIMEOUT_MS);
    if (!adapter) {
      r.error = 'requestAdapter() returned null';
      return r;
    }
    r.adapter = true;
    const info = adapter.info ?? {};
    r.vendor = str(info.vendor);
    r.architecture = str(info.architecture);
    r.device = str(info.device);
    r.description = str(info.description);
    const fb = info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? null;
    r.fallback = typeof fb === 'boolean' ? fb : null;
    r.features = adapter.features ? Array.from(adapter.features, String).sort() : [];
    const lim = adapter.limits;
    if (lim) {
      for (const k of LIMIT_KEYS) {
        const v = lim[k];
        if (typeof v === 'number') r.limits[k] = v;
      }
    }
  } catch (e) {
    r.error = String(e);
  }
  return r;
}

async function probeWebNNDevice(ml, deviceType) {
  const d = { ok: false, error: null, accelerated: null };
  try {
    const ctx = await withTimeout(ml.createContext({ deviceType }), WEBNN_TIMEOUT_MS, (late) => {
      try {
        late?.destroy?.();
      } catch {}
    });
    d.ok = true;
    try {
      if (typeof ctx?.accelerated === 'boolean') d.accelerated = ctx.accelerated;
    } catch {}
    try {
      ctx?.destroy?.();
    } catch {}
  } catch (e) {
    d.error = String(e);
  }
  return d;
}

async function probeWebNN() {
  const blank = () => ({ ok: false, error: null, accelerated: null });
  const r = { api: false, devices: { cpu: blank(), gpu: blank(), npu: blank() } };
  try {
    const ml = navigator.ml;
    if (ml == null) return r;
    r.api = true;
    const [cpu, gpu, npu] = await Promise.all(['cpu', 'gpu', 'npu'].map((t) => probeWebNNDevice(ml, t)));
    r.devices = { cpu, gpu, npu };
  } catch (e) {
    for (const d of Object.values(r.devices)) if (!d.ok && d.error == null) d.error = String(e);
  }
  return r;
}

function probeWasm() {
  const r = { api: false, simd: false, threads: false };
  try {
    if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return r;
    r.api = true;
    r.simd = WebAssembly.validate(WASM_SIMD);
    const threadsValid = WebAssembly.validate(WASM_THREADS);
    r.threads = threadsValid && globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
  } catch (e) {
    r.error = String(e); // extra field, only when something threw
  }
  return r;
}

async function probeBrowser() {
  const ua = navigator.userAgent;
  const b = { name: 'unknown', version: '', user_agent: ua };
  try {
    let m;
    let brand = null; // the userAgentData brand whose full version we want
    const brands = navigator.userAgentData?.brands?.map((x) => x.brand) ?? [];
    if ((m = /\bEdg(?:e|A|iOS)?\/([0-9][0-9.]*)/.exec(ua))) {
      b.name = 'edge';
      brand = 'Microsoft Edge';
    } else if ((m = /\bFirefox\/([0-9][0-9.]*)/.exec(ua))) {
      b.name = 'firefox';
    } else if ((m = /\bOPR\/([0-9][0-9.]*)/.exec(ua))) {
      b.name = 'opera';
      brand = 'Opera';
    } else if ((m = /Chrome\/([0-9][0-9.]*)/.exec(ua))) {
      if (brands.includes('Chromium') && !brands.includes('Google Chrome')) {
        b.name = 'chromium';
        brand = 'Chromium';
      } else {
        b.name = 'chrome';
        brand = 'Google Chrome';
      }
    } else if ((m = /\bVersion\/([0-9][0-9.]*).*\bSafari\//.exec(ua))) {
      b.name = 'safari';
    }
    if (m) b.version = m[1];
    const uad = navigator.userAgentData;
    if (brand && typeof uad?.getHighEntropyValues === 'function') {
      try {
        const hv = await withTimeout(uad.getHighEntropyValues(['fullVersionList']), UA_TIMEOUT_MS);
        const full = hv?.fullVersionList?.find((x) => x.brand === brand)?.version;
        if (typeof full === 'string' && /^[0-9][0-9.]*$/.test(full) && full.split('.')[0] === b.version.split('.')[0]) {
          b.version = full;
        }
      } catch {}
    }
  } catch {}
  return b;
}

async function probeAll() {
  const [browser, webgpu, webnn] = await Promise.all([probeBrowser(), probeWebGPU(), probeWebNN()]);
  const hc = navigator.hardwareConcurrency;
  const dm = navigator.deviceMemory;
  return {
    browser,
    cross_origin_isolated: globalThis.crossOriginIsolated === true,
    hardware_concurrency: Number.isInteger(hc) ? hc : null,
    device_memory: typeof dm === 'number' && Number.isFinite(dm) ? dm : null,
    webgpu,
    webnn,
    wasm: probeWasm(),
  };
}

// ---------------------------------------------------------------------------
// Connection

function wsUrl() {
  return `ws://${location.host}/ws?token=${encodeURIComponent(token)}`;
}

function connect() {
  st.phase = 'connecting';
  st.connects++;
  render();
  let sock;
  try {
    sock = new WebSocket(wsUrl(), SUBPROTOCOL);
  } catch (e) {
    st.lastError = `WebSocket(): ${String(e)}`;
    scheduleReconnect();
    return;
  }
  sock.binaryType = 'arraybuffer';
  const c = {
    ws: sock,
    helloId: null,
    welcomed: false,
    lastRx: performance.now(),
    pending: null, // frames being collected: {kind: 'echo'|'run', id, k, got, frames, failed, ...}
    sessions: new SessionTable(),
    pings: new Map(), // request id -> t sent
    welcomeTimer: 0,
    pingTimer: 0,
    watchTimer: 0,
  };
  conn = c;
  sock.onopen = () => onOpen(c);
  sock.onmessage = (ev) => onMessage(c, ev);
  sock.onclose = (ev) => onClose(c, ev);
  sock.onerror = () => {}; // a close event follows
  c.welcomeTimer = setTimeout(() => drop(c, 4001, `no welcome within ${WELCOME_TIMEOUT_MS} ms`), WELCOME_TIMEOUT_MS);
}

function teardown(c) {
  clearTimeout(c.welcomeTimer);
  clearInterval(c.pingTimer);
  clearInterval(c.watchTimer);
  c.ws.onopen = c.ws.onmessage = c.ws.onclose = c.ws.onerror = null;
  c.pending = null;
  c.sessions.closeAll();
  c.pings.clear();
  if (conn === c) conn = null;
}

// The page ends the connection itself (timeout, reconnect notice); `delay` undefined = backoff.
function drop(c, code, reason, delay) {
  if (conn !== c) return;
  teardown(c);
  try {
    c.ws.close(code, reason);
  } catch {}
  st.lastClose = { code, reason, by: 'page', at: Date.now() };
  scheduleReconnect(delay);
}

function onClose(c, ev) {
  if (conn !== c) return;
  teardown(c);
  st.lastClose = { code: ev.code, reason: ev.reason, by: 'server', at: Date.now() };
  scheduleReconnect();
}

function scheduleReconnect(delay) {
  if (delay === undefined) {
    delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
  }
  st.phase = 'reconnecting';
  st.reconnectAt = performance.now() + delay;
  render();
  setTimeout(connect, delay);
}

function sendText(c, text) {
  if (c.ws.readyState !== 1) return false;
  c.ws.send(text);
  st.msgsOut++;
  st.bytesOut += text.length;
  return true;
}

function sendError(c, id, code, message) {
  st.sentErrors++;
  st.lastError = `sent ${code}${id == null ? '' : ` (id ${id})`}: ${message}`;
  sendText(c, JSON.stringify({ type: 'error', id: id ?? null, code, message }));
}

function badField(c, id, type, field, want) {
  sendError(c, id, 'bad_message', `${type}: field "${field}" is missing or not ${want}`);
}

function onOpen(c) {
  if (conn !== c) return;
  const caps = st.caps;
  c.helloId = newId();
  sendText(
    c,
    JSON.stringify({
      type: 'hello',
      id: c.helloId,
      protocol: PROTOCOL,
      instance,
      browser: caps.browser,
      cross_origin_isolated: caps.cross_origin_isolated,
      hardware_concurrency: caps.hardware_concurrency,
      device_memory: caps.device_memory,
      webgpu: caps.webgpu,
      webnn: caps.webnn,
      wasm: caps.wasm,
    }),
  );
}

function onMessage(c, ev) {
  if (conn !== c) return;
  c.lastRx = performance.now();
  st.msgsIn++;
  const data = ev.data;
  if (typeof data === 'string') {
    st.bytesIn += data.length;
    onText(c, data);
  } else {
    st.bytesIn += data.byteLength;
    onBinary(c, data);
  }
}

function onText(c, text) {
  let m;
  try {
    m = JSON.parse(text);
  } catch (e) {
    sendError(c, null, 'bad_json', `not JSON: ${e.message}`);
    return;
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) {
    sendError(c, null, 'bad_json', 'not a JSON object');
    return;
  }
  const id = isU32(m.id) ? m.id : null;
  if (typeof m.type !== 'string') {
    badField(c, id, 'message', 'type', 'a string');
    return;
  }
  switch (m.type) {
    case 'ping':
      if (id === null) badField(c, null, 'ping', 'id', 'an integer 0..4294967295');
      else sendText(c, `{"type":"pong","id":${id}${freshMemory() ? `,"ua_memory":${st.uaMemory}` : ''}}`);
      return;
    case 'echo':
      onEcho(c, m, id);
      return;
    case 'run':
      onRun(c, m, id);
      return;
    case 'load':
      onLoad(c, m, id);
      return;
    case 'unload':
      onUnload(c, m, id);
      return;
    case 'logmel':
      onLogMel(c, m, id);
      return;
    case 'pong':
      onPong(c, m, id);
      return;
    case 'welcome':
      onWelcome(c, m, id);
      return;
    case 'reconnect':
      drop(c, 1000, 'reconnect requested', 0);
      return;
    case 'error':
      // Shown, never answered (two peers must not trade errors forever).
      st.serverErrors++;
      st.serverError =
        `${str(m.code) || '(no code)'}${id === null ? '' : ` (id ${id})`}: ${str(m.message)}`;
      return;
    default:
      sendError(c, id, 'unknown_type', `unknown type "${m.type}"`);
  }
}

function onWelcome(c, m, id) {
  if (c.welcomed) {
    sendError(c, id, 'out_of_order', 'welcome: already welcomed on this connection');
    return;
  }
  if (id === null) return badField(c, null, 'welcome', 'id', 'an integer 0..4294967295');
  if (id !== c.helloId) {
    sendError(c, id, 'out_of_order', `welcome: id ${id} does not answer hello id ${c.helloId}`);
    return;
  }
  if (!isU32(m.instance)) return badField(c, id, 'welcome', 'instance', 'an integer 0..4294967295');
  const hb = m.heartbeat_ms;
  const to = m.timeout_ms;
  if (typeof hb !== 'number' || !(hb > 0)) return badField(c, id, 'welcome', 'heartbeat_ms', 'a positive number');
  if (typeof to !== 'number' || !(to > 0)) return badField(c, id, 'welcome', 'timeout_ms', 'a positive number');

  c.welcomed = true;
  clearTimeout(c.welcomeTimer);
  st.welcomes++;
  backoffMs = BACKOFF_MIN_MS;
  st.phase = 'connected';
  st.heartbeatMs = hb;
  st.timeoutMs = to;
  if (instance !== m.instance) {
    instance = m.instance;
    rememberInstance();
  }
  render();
  flushOutbox(c);
  c.pingTimer = setInterval(() => sendPing(c), Math.max(hb, MIN_HEARTBEAT_MS));
  const check = Math.max(MIN_HEARTBEAT_MS, Math.min(to / 4, 1000));
  c.watchTimer = setInterval(() => {
    if (performance.now() - c.lastRx > to) drop(c, 4000, `no message from server for ${to} ms`);
  }, check);
}

function rememberInstance() {
  try {
    const u = new URL(location.href);
    u.searchParams.set('id', String(instance));
    history.replaceState(history.state, '', u);
  } catch {}
}

function sendPing(c) {
  if (conn !== c) return;
  const id = newId();
  const t = performance.now();
  if (c.pings.size >= 64) c.pings.delete(c.pings.keys().next().value);
  c.pings.set(id, t);
  sendText(c, `{"type":"ping","id":${id},"t":${t}}`);
}

function onPong(c, m, id) {
  if (id === null) return badField(c, null, 'pong', 'id', 'an integer 0..4294967295');
  const t = c.pings.get(id);
  if (t !== undefined) {
    c.pings.delete(id);
    st.rttMs = performance.now() - t;
  }
}

// Start collecting the K frames announced by an echo or run request. An announcement
// that cuts short the previous one's frames fails that one.
function collect(c, kind, id, k, extra) {
  const prev = c.pending;
  if (prev && !prev.failed) {
    sendError(c, prev.id, 'out_of_order', `${prev.kind} ${prev.id} got ${prev.got} of ${prev.k} frames before ${kind} ${id}`);
  }
  c.pending = k === 0 ? null : { kind, id, k, got: 0, frames: [], headers: kind === 'run' ? [] : null, failed: false, ...extra };
}

function onEcho(c, m, id) {
  if (id === null) return badField(c, null, 'echo', 'id', 'an integer 0..4294967295');
  const k = m.tensors;
  if (!isU32(k)) return badField(c, id, 'echo', 'tensors', 'an integer >= 0');
  collect(c, 'echo', id, k);
  if (k === 0) {
    st.echoes++;
    sendText(c, `{"type":"echo","id":${id},"tensors":0}`);
  }
}

// Every binary frame after an announcement counts toward it, so a bad frame fails that
// request once (one error) without making its remaining frames strays.
function onBinary(c, buf) {
  const e = c.pending;
  if (e === null) {
    let detail = '';
    try {
      const h = parseHeader(buf);
      detail = ` (request ${h.requestId}, index ${h.index})`;
    } catch {}
    sendError(c, null, 'out_of_order', `binary frame${detail} was not announced`);
    return;
  }
  const pos = e.got++;
  if (!e.failed) {
    let code = null;
    let why = '';
    try {
      const h = parseHeader(buf);
      if (h.requestId !== e.id) {
        code = 'out_of_order';
        why = `frame ${pos} has request id ${h.requestId}`;
      } else if (h.index !== pos) {
        code = 'out_of_order';
        why = `frame ${pos} has index ${h.index}`;
      } else if (e.headers) {
        e.headers.push(h);
      }
    } catch (err) {
      code = 'bad_frame';
      why = `frame ${pos}: ${err.message}`;
    }
    if (code) {
      e.failed = true;
      e.frames = e.headers = null;
      sendError(c, e.id, code, `${e.kind} ${e.id}: ${why}`);
    } else {
      e.frames.push(buf);
    }
  }
  if (e.got === e.k) {
    c.pending = null;
    if (e.failed) return;
    if (e.kind === 'run') {
      startRun(c, e.id, e.session, e.outputs, e.frames, e.headers, e.t0, e.alm);
      return;
    }
    if (e.kind === 'logmel') {
      startLogMel(c, e.id, e.m, e.frames[0]);
      return;
    }
    const ws = c.ws;
    if (ws.readyState !== 1) return;
    ws.send(`{"type":"echo","id":${e.id},"tensors":${e.k}}`);
    let bytes = 0;
    for (const f of e.frames) {
      ws.send(f);
      bytes += f.byteLength;
    }
    st.msgsOut += 1 + e.k;
    st.bytesOut += bytes;
    st.echoes++;
  }
}

// ---------------------------------------------------------------------------
// Models (ort-runner.js does the onnxruntime-web part)

// Replies whose connection closed before they were ready (a frozen or throttled page, a dropped
// socket) are kept and sent after the next welcome: the server, not the page, decides that they are
// late (it discards and counts them; it never delivers a request twice).
const OUTBOX_MAX = 32;
const outbox = [];

function keepLate(text, frames) {
  if (outbox.length >= OUTBOX_MAX) outbox.shift();
  outbox.push({ text, frames: frames || [] });
}

function flushOutbox(c) {
  while (outbox.length && c.ws.readyState === 1) {
    const { text, frames } = outbox.shift();
    c.ws.send(text);
    for (const f of frames) c.ws.send(f);
    st.msgsOut += 1 + frames.length;
    st.lateSent = (st.lateSent || 0) + 1;
  }
}

function sendFailure(c, id, e) {
  const code = typeof e?.code === 'string' ? e.code : 'run_failed';
  const message = typeof e?.message === 'string' ? e.message : String(e);
  if (conn !== c || c.ws.readyState !== 1) {
    keepLate(JSON.stringify({ type: 'error', id, code, message }));
    return;
  }
  sendError(c, id, code, message);
}

function onLoad(c, m, id) {
  if (id === null) return badField(c, null, 'load', 'id', 'an integer 0..4294967295');
  const key = m.session;
  if (!isU32(key)) return badField(c, id, 'load', 'session', 'an integer 0..4294967295');
  for (const f of ['model', 'precision', 'url', 'file']) {
    if (typeof m[f] !== 'string') return badField(c, id, 'load', f, 'a string');
  }
  if (!PLATFORMS.includes(m.platform)) return badField(c, id, 'load', 'platform', `one of ${PLATFORMS.join(', ')}`);
  const deviceType = m.device_type ?? 'gpu';
  if (!WEBNN_DEVICES.includes(deviceType)) {
    return badField(c, id, 'load', 'device_type', `one of ${WEBNN_DEVICES.join(', ')}`);
  }
  if (c.sessions.has(key)) {
    sendError(c, id, 'bad_message', `load: session ${key} is already in use`);
    return;
  }
  const req = { model: m.model, precision: m.precision, platform: m.platform, url: m.url, file: m.file, deviceType };
  c.sessions.load(key, req).then(
    (r) => {
      if (conn === c) sendText(c, JSON.stringify({ type: 'loaded', id, ...r }));
    },
    (e) => sendFailure(c, id, e),
  );
}

function onRun(c, m, id) {
  if (id === null) return badField(c, null, 'run', 'id', 'an integer 0..4294967295');
  const k = m.tensors;
  if (!isU32(k)) return badField(c, id, 'run', 'tensors', 'an integer >= 0');
  // From here on the K frames belong to this request, whatever else is wrong with it.
  const t0 = performance.now(); // the request reached the page: page_ms counts from here
  collect(c, 'run', id, k, { session: m.session, outputs: m.outputs, t0, alm: m.audio_logmel });
  let field = null;
  if (!isU32(m.session)) field = ['session', 'an integer 0..4294967295'];
  else if (m.outputs !== 'all' && m.outputs !== 'none') field = ['outputs', '"all" or "none"'];
  if (field) {
    if (c.pending) c.pending.failed = true; // its frames are swallowed
    badField(c, id, 'run', field[0], field[1]);
    return;
  }
  if (k === 0) startRun(c, id, m.session, m.outputs, [], [], t0, m.audio_logmel);
}

// --optimize-audio: the request carries the raw clip at audio_logmel.index; its log-mel is
// computed here on the GPU (logmel-wgsl.js) and takes the clip's place as the model's input.
async function gpuLogMel(frames, headers, alm) {
  const i = alm.index;
  if (!Number.isInteger(i) || i < 0 || i >= frames.length || !Array.isArray(alm.dims)) {
    throw Object.assign(new Error('run: audio_logmel needs an index of one of its frames and the dims'), { code: 'bad_message' });
  }
  const audio = decodeTensor(frames[i]);
  if (audio.dtype !== 1) throw Object.assign(new Error('run: the audio for audio_logmel must be float32'), { code: 'bad_frame' });
  const r = await logMel(audio.data, alm.frames, { workgroup: alm.workgroup, items: alm.items, repeat: 1 });
  const f = encodeTensor({ dtype: 1, dims: alm.dims, data: r.logmel, name: headers[i].name, requestId: headers[i].requestId, index: i });
  frames[i] = f;
  headers[i] = parseHeader(f);
  return { ms: r.timing === 'timestamp-query' ? r.gpuMs[0] : r.wallMs[0], timing: r.timing };
}

function startRun(c, id, key, outputs, frames, headers, t0, alm) {
  let lm = null;
  const front = alm ? gpuLogMel(frames, headers, alm).then((x) => { lm = x; }) : Promise.resolve();
  front.then(() => c.sessions.run(key, frames, headers, outputs === 'all', id)).then(
    (r) => {
      const ws = c.ws;
      const n = r.frames.length;
      const pageMs = performance.now() - t0; // arrival of the request to sending the result
      const gpu = lm ? `,"logmel_ms":${lm.ms},"logmel_timing":${JSON.stringify(lm.timing)}` : '';
      const text = `{"type":"result","id":${id},"session":${key},"compute_ms":${r.compute_ms},"queue_ms":${r.queue_ms},"page_ms":${pageMs}${gpu},"lane":${r.lane ?? 0},"tensors":${n}}`;
      if (conn !== c || ws.readyState !== 1) {
        keepLate(text, r.frames);
        return;
      }
      ws.send(text);
      let bytes = text.length;
      for (const f of r.frames) {
        ws.send(f);
        bytes += f.byteLength;
      }
      st.msgsOut += 1 + n;
      st.bytesOut += bytes;
      st.results++;
    },
    (e) => sendFailure(c, id, e),
  );
}

// logmel: the audio front end on this page's GPU (logmel-wgsl.js), with one workgroup shape.
function onLogMel(c, m, id) {
  if (id === null) return badField(c, null, 'logmel', 'id', 'an integer 0..4294967295');
  const k = m.tensors;
  if (!isU32(k)) return badField(c, id, 'logmel', 'tensors', 'an integer >= 0');
  collect(c, 'logmel', id, k, { m }); // the K frames belong to this request, right or wrong
  if (k !== 1) {
    if (c.pending) c.pending.failed = true; // its frames are swallowed
    badField(c, id, 'logmel', 'tensors', '1 (the audio)');
  }
}

function startLogMel(c, id, m, frame) {
  let audio;
  try {
    audio = decodeTensor(frame);
    if (audio.dtype !== 1) throw new Error('the audio frame must be float32');
  } catch (e) {
    sendError(c, id, 'bad_frame', `logmel ${id}: ${e.message}`);
    return;
  }
  logMel(audio.data, m.frames, { workgroup: m.workgroup, items: m.items, repeat: m.repeat ?? 1 }).then(
    (r) => {
      if (conn !== c || c.ws.readyState !== 1) return;
      const text = JSON.stringify({
        type: 'logmel_result', id, tensors: 1, timing: r.timing, gpu_ms: r.gpuMs, wall_ms: r.wallMs,
        compile_ms: r.compileMs, adapter: r.adapter,
      });
      const out = encodeTensor({ dtype: 1, dims: [80, m.frames], data: r.logmel, name: 'logmel', requestId: id, index: 0 });
      c.ws.send(text);
      c.ws.send(out);
      st.msgsOut += 2;
      st.bytesOut += text.length + out.byteLength;
    },
    (e) => sendFailure(c, id, e),
  );
}

function onUnload(c, m, id) {
  if (id === null) return badField(c, null, 'unload', 'id', 'an integer 0..4294967295');
  const key = m.session;
  if (!isU32(key)) return badField(c, id, 'unload', 'session', 'an integer 0..4294967295');
  c.sessions.unload(key).then(
    () => {
      if (conn === c) sendText(c, `{"type":"unloaded","id":${id},"session":${key}}`);
    },
    (e) => sendFailure(c, id, e),
  );
}

addEventListener('pagehide', () => {
  const c = conn;
  if (!c) return;
  teardown(c);
  try {
    c.ws.close(1000, 'page closed');
  } catch {}
});

// ---------------------------------------------------------------------------
// Display (refreshed a few times a second, never per message)

const $ = (id) => document.getElementById(id);
const shown = new Map();

function show(id, text, cls) {
  const prev = shown.get(id);
  if (prev && prev.text === text && prev.cls === cls) return;
  shown.set(id, { text, cls });
  const el = $(id);
  if (!el) return;
  el.textContent = text;
  if (cls !== undefined) el.className = cls;
}

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}

function fmtClose(lc) {
  if (!lc) return '—';
  const who = lc.by === 'page' ? 'closed by page' : 'closed';
  const reason = lc.reason ? ` "${lc.reason}"` : lc.code === 1006 ? ' (abnormal: refused or dropped)' : '';
  return `${who}: code ${lc.code}${reason} at ${new Date(lc.at).toLocaleTimeString()}`;
}

function render() {
  let state;
  let cls = 'warn';
  switch (st.phase) {
    case 'probing':
      state = 'probing capabilities…';
      break;
    case 'connecting':
      state = `connecting to ${location.host}…`;
      break;
    case 'connected':
      state = `connected as instance ${instance}`;
      cls = 'ok';
      break;
    case 'reconnecting': {
      const s = Math.max(0, (st.reconnectAt - performance.now()) / 1000);
      state = `reconnecting in ${s.toFixed(1)} s`;
      cls = 'bad';
      break;
    }
  }
  show('state', state, cls);
  document.title = `accel-top ${instance ?? '?'}: ${st.phase}`;
  show('instance', instance === null ? 'none yet' : String(instance));
  show('heartbeat', st.heartbeatMs === null ? '—' : `ping every ${st.heartbeatMs} ms, timeout ${st.timeoutMs} ms`);
  show('rtt', st.rttMs === null ? '—' : `${st.rttMs.toFixed(1)} ms`);
  let note = st.uaMemoryNote;
  if (st.uaMemorySince !== null && performance.now() - st.uaMemorySince > 2 * UA_MEMORY_EVERY_MS) {
    note += `; the next measurement has waited ${((performance.now() - st.uaMemorySince) / 1000).toFixed(0)} s for the browser`;
  }
  show('ua-memory', st.uaMemory ? `${fmtBytes(st.uaMemory)} (${note}${freshMemory() ? '' : '; too old to send'})` : note);
  show('connects', `${st.connects} attempts, ${st.welcomes} welcomed`);
  show('close', fmtClose(st.lastClose));
  show('msgs-in', `${st.msgsIn} (${fmtBytes(st.bytesIn)})`);
  show('msgs-out', `${st.msgsOut} (${fmtBytes(st.bytesOut)})`);
  show('echoes', String(st.echoes));
  show('results', String(st.results));
  show('error', st.lastError ?? '—', st.lastError ? 'bad' : '');
  show('server-error', st.serverError ? `${st.serverError} (${st.serverErrors} in all)` : '—', st.serverError ? 'bad' : '');
  renderSessions();
}

const STATE_CLASS = { ready: 'ok', running: 'ok', loading: 'warn', unloading: 'warn', failed: 'bad' };
let sessionsShown = -1;

function renderSessions() {
  const v = tableVersion();
  if (v === sessionsShown) return;
  sessionsShown = v;
  const body = $('sessions');
  if (!body) return;
  const trs = [];
  for (let i = sessionRows.length - 1; i >= 0; i--) {
    const s = sessionRows[i];
    const platform = s.platform === 'webnn' ? `webnn ${s.deviceType}` : s.platform;
    const state = s.queued > 0 ? `${s.state} (+${s.queued} queued)` : s.state;
    const cells = [
      [String(s.key)],
      [s.model],
      [s.file],
      [s.precision],
      [platform],
      [state, STATE_CLASS[s.state] ?? 'dim'],
      [String(s.runs), 'num'],
      [s.lastComputeMs === null ? '—' : s.lastComputeMs.toFixed(2), 'num'],
      [s.lastError ?? '—', s.lastError ? 'bad err' : 'err'],
    ];
    const tr = document.createElement('tr');
    for (const [text, cls] of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    trs.push(tr);
  }
  if (trs.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 9;
    td.className = 'dim';
    td.textContent = 'no sessions yet';
    tr.append(td);
    trs.push(tr);
  }
  body.replaceChildren(...trs);
}

function renderCaps(caps) {
  const g = caps.webgpu;
  let gpu;
  let gcls = 'bad';
  if (!g.api) gpu = 'no navigator.gpu';
  else if (!g.adapter) gpu = `no adapter: ${g.error}`;
  else {
    const what = [g.vendor, g.architecture, g.device, g.description].filter(Boolean).join(' / ') || '(no adapter info)';
    const fb = g.fallback === true ? 'fallback (software) adapter' : g.fallback === false ? 'hardware adapter' : 'fallback unknown';
    gpu = `${what}; ${fb}; ${g.features.length} features; maxBufferSize ${g.limits.maxBufferSize ?? '?'}`;
    gcls = g.fallback === true ? 'warn' : 'ok';
  }
  show('cap-webgpu', gpu, gcls);
  for (const t of ['cpu', 'gpu', 'npu']) {
    const d = caps.webnn.devices[t];
    let text;
    if (!caps.webnn.api) text = 'no navigator.ml';
    else if (d.ok) text = `ok${d.accelerated === null ? '' : d.accelerated ? ', accelerated' : ', not accelerated'}`;
    else text = d.error ?? 'failed';
    show(`cap-webnn-${t}`, text, d.ok ? 'ok' : 'bad');
  }
  const w = caps.wasm;
  show(
    'cap-wasm',
    w.api ? `simd ${w.simd ? 'yes' : 'no'}, threads ${w.threads ? 'yes' : 'no'}${w.error ? ` (${w.error})` : ''}` : 'no WebAssembly',
    w.api && w.simd ? 'ok' : 'bad',
  );
  show(
    'cap-browser',
    `${caps.browser.name} ${caps.browser.version}; ${caps.hardware_concurrency ?? '?'} threads; ` +
      `memory ${caps.device_memory === null ? '?' : `${caps.device_memory} GiB`}; ` +
      `cross-origin isolated ${caps.cross_origin_isolated ? 'yes' : 'no'}`,
  );
}

addEventListener('error', (ev) => {
  st.lastError = `page error: ${ev.message}`;
});
addEventListener('unhandledrejection', (ev) => {
  st.lastError = `page error: ${String(ev.reason)}`;
});

// ---------------------------------------------------------------------------
// Page memory

// performance.measureUserAgentSpecificMemory() exists only in cross-origin isolated pages of
// browsers that have it (Chromium; not Firefox). The browser may answer only at its next garbage
// collection, so one measurement runs at a time and the next starts UA_MEMORY_EVERY_MS after it
// ended. The latest value rides on every pong while it is fresh (accel-top-protocol(7)): a
// measurement can wait long (Chromium 156 here took over a minute to answer while a threaded wasm
// model ran), and a stale figure must not pass for a current one.
function freshMemory() {
  return st.uaMemory !== null && performance.now() - st.uaMemoryAt < UA_MEMORY_FRESH_MS;
}

async function measureMemory() {
  if (typeof performance.measureUserAgentSpecificMemory !== 'function') {
    st.uaMemoryNote = 'n/a: no performance.measureUserAgentSpecificMemory in this browser';
    return;
  }
  if (globalThis.crossOriginIsolated !== true) {
    st.uaMemoryNote = 'n/a: the page is not cross-origin isolated';
    return;
  }
  for (;;) {
    const t0 = performance.now();
    if (st.uaMemory === null) st.uaMemoryNote = 'measuring…';
    st.uaMemorySince = t0;
    try {
      const r = await performance.measureUserAgentSpecificMemory();
      if (Number.isSafeInteger(r.bytes) && r.bytes > 0) {
        st.uaMemory = r.bytes;
        st.uaMemoryAt = performance.now();
        st.uaMemoryNote = `measured in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      }
    } catch (e) {
      st.uaMemoryNote = `measureUserAgentSpecificMemory failed: ${String(e)}`;
    }
    st.uaMemorySince = null;
    await new Promise((resolve) => setTimeout(resolve, UA_MEMORY_EVERY_MS));
  }
}

// ---------------------------------------------------------------------------
// Start

setInterval(render, RENDER_EVERY_MS);
render();
if (!token) st.lastError = 'no token in the URL (?token=...): the server will refuse the connection';

const capsReady = probeAll()
  .catch((e) => {
    // Not expected (every probe catches its own errors), but hello must still go out.
    st.lastError = `capability probe failed: ${String(e)}`;
    const no = { ok: false, error: String(e), accelerated: null };
    return {
      browser: { name: 'unknown', version: '', user_agent: navigator.userAgent },
      cross_origin_isolated: globalThis.crossOriginIsolated === true,
      hardware_concurrency: null,
      device_memory: null,
      webgpu: { api: !!navigator.gpu, adapter: false, error: String(e), vendor: '', architecture: '', device: '',
        description: '', fallback: null, features: [], limits: {} },
      webnn: { api: navigator.ml != null, devices: { cpu: no, gpu: no, npu: no } },
      wasm: { api: false, simd: false, threads: false, error: String(e) },
    };
  })
  .then((caps) => {
  st.caps = caps;
  renderCaps(caps);
  return caps;
});
capsReady.then(connect);
capsReady.then(measureMemory); // after the probes, so its garbage collection does not slow them

// For someone poking at the page from the devtools console.
globalThis.accelTop = { state: st, capabilities: capsReady };
