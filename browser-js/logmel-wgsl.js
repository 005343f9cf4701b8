// Whisper's audio front end as WebGPU compute kernels: framing (with torch.stft's reflect
// padding), periodic Hann window, a direct 400-point DFT (400 is not a power of two), power
// spectrum, 80 Slaney mel bands, log10, the max-8 floor and (x+4)/4. The same steps, constants
// and layout as audio_log_mel() in pool/audio.c, which accel-top uses as the reference.
//
// The workgroup shape (X x Y x 1) and the items per thread are parameters, not constants: the
// kernels are compiled per shape, and accel-top's `tune` times the candidates on each browser
// and adapter and keeps the fastest. Dispatches are 2-D: x runs over frames, y over frequency
// bins (or mel bands), each thread computing ITEMS consecutive bins of one frame, so the shape
// decides which threads share a workgroup (and the samples they read).
//
// Timing: where the adapter has 'timestamp-query', the compute pass is timed on the GPU;
// elsewhere by wall time from submit to onSubmittedWorkDone. Every reply says which.

const N_FFT = 400;
const HOP = 160;
const N_BINS = N_FFT / 2 + 1;
const N_MELS = 80;
const RATE = 16000;
const WINDOW_SAMPLES = 30 * RATE;
const MAX_FRAMES = 3000;

export class LogMelError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// ---------------------------------------------------------------------------
// Tables, computed in double precision as pool/audio.c does

function hzToMel(hz) {
  const fSp = 200 / 3, minLogHz = 1000, minLogMel = minLogHz / fSp, logstep = Math.log(6.4) / 27;
  return hz < minLogHz ? hz / fSp : minLogMel + Math.log(hz / minLogHz) / logstep;
}

function melToHz(mel) {
  const fSp = 200 / 3, minLogHz = 1000, minLogMel = minLogHz / fSp, logstep = Math.log(6.4) / 27;
  return mel < minLogMel ? mel * fSp : minLogHz * Math.exp(logstep * (mel - minLogMel));
}

// The filterbank [80][201] and, per band, the range of bins where it is not zero (the kernel
// sums only those: the others add exact zeros in the reference).
function melFilters() {
  const fb = new Float32Array(N_MELS * N_BINS);
  const band = new Uint32Array(2 * N_MELS);
  const pts = [];
  const lo = hzToMel(0), hi = hzToMel(RATE / 2);
  for (let i = 0; i < N_MELS + 2; i++) pts.push(melToHz(lo + ((hi - lo) * i) / (N_MELS + 1)));
  for (let m = 0; m < N_MELS; m++) {
    const enorm = 2 / (pts[m + 2] - pts[m]);
    let first = N_BINS, last = 0;
    for (let k = 0; k < N_BINS; k++) {
      const f = (k * RATE) / N_FFT;
      const lower = (f - pts[m]) / (pts[m + 1] - pts[m]);
      const upper = (pts[m + 2] - f) / (pts[m + 2] - pts[m + 1]);
      const w = Math.max(0, Math.min(lower, upper));
      fb[m * N_BINS + k] = w * enorm;
      if (fb[m * N_BINS + k] !== 0) {
        first = Math.min(first, k);
        last = k + 1;
      }
    }
    band[2 * m] = first < last ? first : 0;
    band[2 * m + 1] = first < last ? last : 0;
  }
  return { fb, band };
}

// cos(2 pi j / 400), sin(2 pi j / 400), then the periodic Hann window.
function dftTables() {
  const t = new Float32Array(3 * N_FFT);
  for (let j = 0; j < N_FFT; j++) {
    t[j] = Math.cos((2 * Math.PI * j) / N_FFT);
    t[N_FFT + j] = Math.sin((2 * Math.PI * j) / N_FFT);
    t[2 * N_FFT + j] = 0.5 - 0.5 * Math.cos((2 * Math.PI * j) / N_FFT);
  }
  return t;
}

// ---------------------------------------------------------------------------
// Kernels

function header(wx, wy, items) {
  return `
const WX: u32 = ${wx}u;
const WY: u32 = ${wy}u;
const NT: u32 = ${wx * wy}u;
const ITEMS: u32 = ${items}u;
struct Params { frames: u32, n: u32, count: u32, pad: u32 };
@group(0) @binding(0) var<uniform> p: Params;
`;
}

// Framing and window: frames[t][i] = x[t*160 + i - 200] * hann[i] (reflected at the start, zeros
// after the end), one thread per frame (flattened over the workgroup), and whether the frame is
// all zeros: padding, skipped by the DFT as the reference skips it (the result is 0 either way).
const FRAME = `
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> tab: array<f32>;
@group(0) @binding(3) var<storage, read_write> fr: array<f32>;
@group(0) @binding(4) var<storage, read_write> silent: array<u32>;

@compute @workgroup_size(WX, WY, 1)
fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = w.x * NT + li;
  if (t >= p.frames) { return; }
  var zero = 1u;
  for (var i = 0u; i < ${N_FFT}u; i++) {
    let a = u32(abs(i32(t * ${HOP}u + i) - ${N_FFT / 2}));
    var v = 0.0;
    if (a < p.n) { v = x[a]; }
    if (v != 0.0) { zero = 0u; }
    fr[t * ${N_FFT}u + i] = v * tab[${2 * N_FFT}u + i];
  }
  silent[t] = zero;
}
`;

// DFT and power spectrum: power[k][t] for one frame t (x) and ITEMS bins k (y). The twiddle
// index k*i mod 400 advances by k per sample, so no multiplication or modulo in the loop.
const POWER = `
@group(0) @binding(1) var<storage, read> fr: array<f32>;
@group(0) @binding(2) var<storage, read> tab: array<f32>;
@group(0) @binding(3) var<storage, read> silent: array<u32>;
@group(0) @binding(4) var<storage, read_write> power: array<f32>;

@compute @workgroup_size(WX, WY, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let t = g.x;
  let k0 = g.y * ITEMS;
  if (t >= p.frames || k0 >= ${N_BINS}u) { return; }
  var re: array<f32, ITEMS>;
  var im: array<f32, ITEMS>;
  var idx: array<u32, ITEMS>;
  if (silent[t] == 0u) {
    let base = t * ${N_FFT}u;
    for (var i = 0u; i < ${N_FFT}u; i++) {
      let v = fr[base + i];
      for (var j = 0u; j < ITEMS; j++) {
        re[j] += v * tab[idx[j]];
        im[j] -= v * tab[${N_FFT}u + idx[j]];
        idx[j] += k0 + j;
        if (idx[j] >= ${N_FFT}u) { idx[j] -= ${N_FFT}u; }
      }
    }
  }
  for (var j = 0u; j < ITEMS; j++) {
    let k = k0 + j;
    if (k < ${N_BINS}u) { power[k * p.frames + t] = re[j] * re[j] + im[j] * im[j]; }
  }
}
`;

// Mel bands and log10: logmel[m][t].
const MEL = `
@group(0) @binding(1) var<storage, read> power: array<f32>;
@group(0) @binding(2) var<storage, read> fb: array<f32>;
@group(0) @binding(3) var<storage, read> band: array<u32>;
@group(0) @binding(4) var<storage, read_write> logmel: array<f32>;

@compute @workgroup_size(WX, WY, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let t = g.x;
  let m0 = g.y * ITEMS;
  if (t >= p.frames) { return; }
  for (var j = 0u; j < ITEMS; j++) {
    let m = m0 + j;
    if (m >= ${N_MELS}u) { return; }
    var s = 0.0;
    for (var k = band[2u * m]; k < band[2u * m + 1u]; k++) {
      s += fb[m * ${N_BINS}u + k] * power[k * p.frames + t];
    }
    logmel[m * p.frames + t] = log(max(s, 1e-10)) * 0.4342944819032518;
  }
}
`;

// The maximum over all bands and frames, by one workgroup (NT is a power of two).
const MAX = `
@group(0) @binding(1) var<storage, read> logmel: array<f32>;
@group(0) @binding(2) var<storage, read_write> mx: array<f32>;
var<workgroup> red: array<f32, NT>;

@compute @workgroup_size(WX, WY, 1)
fn main(@builtin(local_invocation_index) li: u32) {
  var m = -1e30;
  for (var i = li; i < p.count; i += NT) { m = max(m, logmel[i]); }
  red[li] = m;
  workgroupBarrier();
  for (var s = NT / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] = max(red[li], red[li + s]); }
    workgroupBarrier();
  }
  if (li == 0u) { mx[0] = red[0]; }
}
`;

// The floor at max-8 and the scaling, in place.
const NORM = `
@group(0) @binding(1) var<storage, read_write> logmel: array<f32>;
@group(0) @binding(2) var<storage, read> mx: array<f32>;

@compute @workgroup_size(WX, WY, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let t = g.x;
  if (t >= p.frames) { return; }
  let lo = mx[0] - 8.0;
  for (var j = 0u; j < ITEMS; j++) {
    let m = g.y * ITEMS + j;
    if (m >= ${N_MELS}u) { return; }
    let i = m * p.frames + t;
    logmel[i] = (max(logmel[i], lo) + 4.0) / 4.0;
  }
}
`;

// ---------------------------------------------------------------------------
// Device and pipelines (one device for the page, pipelines per shape)

let gpu = null; // { adapter, device, timestamps, tables, fb, band, pipelines: Map, adapterInfo }

async function getGpu() {
  if (gpu) return gpu;
  if (!navigator.gpu) throw new LogMelError('unavailable', 'WebGPU is not available in this browser (navigator.gpu is missing)');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new LogMelError('unavailable', 'WebGPU: requestAdapter() returned null');
  const timestamps = adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({ requiredFeatures: timestamps ? ['timestamp-query'] : [] });
  const info = adapter.info ?? {};
  const { fb, band } = melFilters();
  const g = { adapter, device, timestamps, pipelines: new Map(), lost: false };
  g.adapterInfo = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' / ');
  g.tab = upload(device, dftTables(), GPUBufferUsage.STORAGE);
  g.fb = upload(device, fb, GPUBufferUsage.STORAGE);
  g.band = upload(device, band, GPUBufferUsage.STORAGE);
  device.lost.then(() => {
    if (gpu === g) gpu = null; // the next request starts over with a new device
  });
  gpu = g;
  return g;
}

function upload(device, data, usage) {
  const buf = device.createBuffer({ size: Math.max(16, data.byteLength), usage: usage | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  return buf;
}

async function pipelines(g, wx, wy, items) {
  const key = `${wx}x${wy}x${items}`;
  let p = g.pipelines.get(key);
  if (p) return { p, compileMs: 0 };
  const t0 = performance.now();
  const head = header(wx, wy, items);
  const make = async (src) => {
    const module = g.device.createShaderModule({ code: head + src });
    return g.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  };
  g.device.pushErrorScope('validation');
  let made;
  try {
    made = await Promise.all([make(FRAME), make(POWER), make(MEL), make(MAX), make(NORM)]);
  } finally {
    const e = await g.device.popErrorScope();
    if (e) throw new LogMelError('run_failed', `WGSL for workgroup ${wx}x${wy}x1, ${items} per thread: ${e.message}`);
  }
  p = { frame: made[0], power: made[1], mel: made[2], max: made[3], norm: made[4] };
  g.pipelines.set(key, p);
  return { p, compileMs: performance.now() - t0 };
}

// ---------------------------------------------------------------------------
// One request

// Checks a shape against this adapter's limits; returns [wx, wy, items] or throws.
function checkShape(g, wg, items) {
  if (!Array.isArray(wg) || wg.length !== 3 || !wg.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new LogMelError('bad_message', 'logmel: workgroup must be [X, Y, 1] of positive integers');
  }
  const [wx, wy, wz] = wg;
  const n = wx * wy;
  if (wz !== 1 || (n & (n - 1)) !== 0) {
    throw new LogMelError('bad_message', `logmel: workgroup ${wx}x${wy}x${wz}: Z must be 1 and X*Y a power of two`);
  }
  const lim = g.device.limits;
  if (n > lim.maxComputeInvocationsPerWorkgroup || wx > lim.maxComputeWorkgroupSizeX || wy > lim.maxComputeWorkgroupSizeY) {
    throw new LogMelError(
      'unsupported',
      `logmel: workgroup ${wx}x${wy}x1 exceeds this adapter's limits (${lim.maxComputeInvocationsPerWorkgroup} invocations, X <= ${lim.maxComputeWorkgroupSizeX}, Y <= ${lim.maxComputeWorkgroupSizeY})`,
    );
  }
  if (!Number.isInteger(items) || items < 1 || items > 16) {
    throw new LogMelError('bad_message', 'logmel: items must be an integer from 1 to 16');
  }
  return [wx, wy, items];
}

// samples: Float32Array (16 kHz mono, -1..1). Returns { logmel: Float32Array [80][frames],
// gpuMs: [], wallMs: [], timing, compileMs, adapter }.
export async function logMel(samples, frames, { workgroup = [64, 1, 1], items = 1, repeat = 1 } = {}) {
  if (!Number.isInteger(frames) || frames < 1 || frames > MAX_FRAMES) {
    throw new LogMelError('bad_message', `logmel: frames must be an integer from 1 to ${MAX_FRAMES}`);
  }
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1000) {
    throw new LogMelError('bad_message', 'logmel: repeat must be an integer from 1 to 1000');
  }
  const g = await getGpu();
  const [wx, wy, it] = checkShape(g, workgroup, items);
  const { p, compileMs } = await pipelines(g, wx, wy, it);
  const dev = g.device;
  const n = Math.min(samples.length, WINDOW_SAMPLES);
  const count = N_MELS * frames;
  const bufs = [];
  const mk = (size, usage) => {
    const b = dev.createBuffer({ size: Math.max(16, size), usage });
    bufs.push(b);
    return b;
  };
  try {
    const params = upload(dev, new Uint32Array([frames, n, count, 0]), GPUBufferUsage.UNIFORM);
    bufs.push(params);
    const x = upload(dev, n ? samples.subarray(0, n) : new Float32Array(4), GPUBufferUsage.STORAGE);
    bufs.push(x);
    const fr = mk(4 * N_FFT * frames, GPUBufferUsage.STORAGE);
    const silent = mk(4 * frames, GPUBufferUsage.STORAGE);
    const power = mk(4 * N_BINS * frames, GPUBufferUsage.STORAGE);
    const logmel = mk(4 * count, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    const mx = mk(16, GPUBufferUsage.STORAGE);
    const read = mk(4 * count, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const bind = (pl, list) =>
      dev.createBindGroup({
        layout: pl.getBindGroupLayout(0),
        entries: list.map((b, i) => ({ binding: i, resource: { buffer: b } })),
      });
    const groups = [
      [p.frame, bind(p.frame, [params, x, g.tab, fr, silent]), Math.ceil(frames / (wx * wy)), 1],
      [p.power, bind(p.power, [params, fr, g.tab, silent, power]), Math.ceil(frames / wx), Math.ceil(Math.ceil(N_BINS / it) / wy)],
      [p.mel, bind(p.mel, [params, power, g.fb, g.band, logmel]), Math.ceil(frames / wx), Math.ceil(Math.ceil(N_MELS / it) / wy)],
      [p.max, bind(p.max, [params, logmel, mx]), 1, 1],
      [p.norm, bind(p.norm, [params, logmel, mx]), Math.ceil(frames / wx), Math.ceil(Math.ceil(N_MELS / it) / wy)],
    ];
    let qs = null, resolve = null, tsRead = null;
    if (g.timestamps) {
      qs = dev.createQuerySet({ type: 'timestamp', count: 2 });
      resolve = mk(16, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
      tsRead = mk(16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    }
    await dev.queue.onSubmittedWorkDone(); // uploads done before the clock starts
    const gpuMs = [], wallMs = [];
    let tsBroken = false;
    for (let r = 0; r < repeat; r++) {
      const enc = dev.createCommandEncoder();
      const desc = qs ? { timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {};
      const pass = enc.beginComputePass(desc);
      for (const [pl, bg, gx, gy] of groups) {
        pass.setPipeline(pl);
        pass.setBindGroup(0, bg);
        pass.dispatchWorkgroups(gx, gy, 1);
      }
      pass.end();
      if (qs) {
        enc.resolveQuerySet(qs, 0, 2, resolve, 0);
        enc.copyBufferToBuffer(resolve, 0, tsRead, 0, 16);
      }
      if (r === repeat - 1) enc.copyBufferToBuffer(logmel, 0, read, 0, 4 * count);
      const t0 = performance.now();
      dev.queue.submit([enc.finish()]);
      await dev.queue.onSubmittedWorkDone();
      wallMs.push(performance.now() - t0);
      if (qs) {
        await tsRead.mapAsync(GPUMapMode.READ);
        const ts = new BigInt64Array(tsRead.getMappedRange().slice(0));
        tsRead.unmap();
        const ms = Number(ts[1] - ts[0]) / 1e6;
        if (ms > 0) gpuMs.push(ms);
        else tsBroken = true;
      }
    }
    await read.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    qs?.destroy();
    const timing = g.timestamps && !tsBroken ? 'timestamp-query' : g.timestamps ? 'wall (timestamp-query gave no interval)' : 'wall';
    return {
      logmel: out,
      gpuMs: timing === 'timestamp-query' ? gpuMs : [],
      wallMs,
      timing,
      compileMs,
      adapter: g.adapterInfo,
    };
  } finally {
    for (const b of bufs) b.destroy();
  }
}
