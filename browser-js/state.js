// accel-top browser page, what its modules share: the token and instance id from the URL, and
// the counters and notes that view.js shows (the console sees them as accelTop.state).

export const U32_MAX = 0xffffffff;

const params = new URLSearchParams(location.search);
export const token = params.get('token') ?? '';
export let instance = parseInstance(params.get('id'));

/** The instance id the server gave in its welcome (kept across reconnects). */
export function setInstance(n) {
  instance = n;
}

export const st = {
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
  refusal: null, // text: why accel-top refuses this page's WebSocket (GET /admission), or null
  serverError: null, // text: the last error the server sent
  serverErrors: 0,
  sentErrors: 0,
  uaMemory: null, // bytes from the latest measureUserAgentSpecificMemory(), sent with every pong
  uaMemoryAt: 0, // performance.now() when it was measured
  uaMemoryNote: 'not measured yet',
  uaMemorySince: null, // performance.now() when the pending measurement started
};

export function isU32(v) {
  return Number.isInteger(v) && v >= 0 && v <= U32_MAX;
}

function parseInstance(s) {
  if (typeof s !== 'string' || !/^[0-9]{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n <= U32_MAX ? n : null;
}

export function str(v) {
  return typeof v === 'string' ? v : v == null ? '' : String(v);
}
