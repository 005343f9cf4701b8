// Lanes: more than one onnxruntime-web runtime in one page. A runtime takes one call at a time
// ("Session already started" for a second session.run() while a webgpu run is pending), so one
// page ran one request at a time. Where WebGPU has a completion floor (Firefox, see
// ort-runner.js), runtimes in workers overlap: on an H200 (bench/README.md), bert-tiny fp32 went
// from 270 runs/s with one runtime to 599/s with 8 lanes at 16 in flight, vit-tiny from 139/s to
// 295/s. A model loaded for webgpu is therefore loaded in each lane too, and its runs go to the
// least busy lane (lane 0 is the page's own runtime, lanes 1.. are workers shared by all sessions
// of the page).

const MAX_LANES = 16;
// bench/gpu-bundle.sh packs copies of the page with this set (1, 8, 16) to measure other depths.
const FORCED_LANES = null;
const workers = []; // index i: lane i+1

/**
 * How many lanes a webgpu session gets: `lanes=N` in the page's query string (1..16) if given;
 * else, where the completion floor was measured (nudge_ms > 0), one lane per two cores up to 8
 * (8 lanes gave the most runs/s at 8 and 16 in flight on a 16-core machine; each lane's runtime
 * needs CPU time to drive the GPU, and holds its own copy of the model); else 1.
 */
export function laneCount(floor) {
  const q = new URLSearchParams(location.search).get('lanes');
  const n = q === null ? NaN : Number(q);
  if (Number.isInteger(n) && n >= 1 && n <= MAX_LANES) return n;
  if (FORCED_LANES) return FORCED_LANES;
  if (!floor?.nudge_ms) return 1;
  const hc = navigator.hardwareConcurrency || 1;
  return Math.max(1, Math.min(8, Math.floor(hc / 2)));
}

class WorkerLane {
  constructor() {
    this.worker = new Worker(new URL('./ort-lane-worker.js', import.meta.url), { type: 'module' });
    this.next = 1;
    this.pending = new Map();
    this.broken = null;
    this.worker.onmessage = (e) => {
      const p = this.pending.get(e.data.id);
      if (!p) return;
      this.pending.delete(e.data.id);
      if (e.data.error !== undefined) p.reject(new Error(e.data.error));
      else p.resolve(e.data);
    };
    this.worker.onerror = (e) => {
      this.broken = `lane worker: ${e.message || 'failed to start'}`;
      for (const p of this.pending.values()) p.reject(new Error(this.broken));
      this.pending.clear();
    };
  }

  call(msg, transfer = []) {
    if (this.broken) return Promise.reject(new Error(this.broken));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }
}

/** Worker lane `i` (1-based), started on first use. */
export function lane(i) {
  while (workers.length < i) workers.push(new WorkerLane());
  return workers[i - 1];
}
