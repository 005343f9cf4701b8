// accel-top browser page, the capability probe: what this browser can accelerate (WebGPU
// adapter, WebNN contexts per device type, WebAssembly SIMD and threads, browser name and
// version), run once per page load; the hello of every connection carries the result
// (accel-top-protocol(7), "CAPABILITIES").

import { str } from './state.js';

const WEBNN_TIMEOUT_MS = 3000;
const WEBGPU_TIMEOUT_MS = 5000;
const UA_TIMEOUT_MS = 1000;
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

// A probe the browser never answers must not hold back the hello.
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

export async function probeAll() {
  const [browser, webgpu, webnn] = await Promise.all([probeBrowser(), probeWebGPU(), probeWebNN()]);
  const hc = navigator.hardwareConcurrency;
  const dm = navigator.deviceMemory;
  return {
    browser,
    cross_origin_isolated: globalThis.crossOriginIsolated === true,
    // WebGPU and SharedArrayBuffer exist only in a secure context (https or loopback): the server
    // names this as the cause when they are missing
    isSecureContext: globalThis.isSecureContext === true,
    hardware_concurrency: Number.isInteger(hc) ? hc : null,
    device_memory: typeof dm === 'number' && Number.isFinite(dm) ? dm : null,
    webgpu,
    webnn,
    wasm: probeWasm(),
  };
}

// The capabilities hello reports when probeAll() itself threw.
export function failedCaps(e) {
  const no = { ok: false, error: String(e), accelerated: null };
  return {
    browser: { name: 'unknown', version: '', user_agent: navigator.userAgent },
    cross_origin_isolated: globalThis.crossOriginIsolated === true,
    isSecureContext: globalThis.isSecureContext === true,
    hardware_concurrency: null,
    device_memory: null,
    webgpu: { api: !!navigator.gpu, adapter: false, error: String(e), vendor: '', architecture: '', device: '',
      description: '', fallback: null, features: [], limits: {} },
    webnn: { api: navigator.ml != null, devices: { cpu: no, gpu: no, npu: no } },
    wasm: { api: false, simd: false, threads: false, error: String(e) },
  };
}
