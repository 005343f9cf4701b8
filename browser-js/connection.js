// accel-top browser page, the connection: one WebSocket at a time to accel-top (protocol
// accel.v1, accel-top-protocol(7), "CONNECTING"), opened with the token from the URL; hello with
// the capabilities and the instance id the server gave before, welcome, heartbeat (pings out,
// pongs in, a watchdog on silence), reconnect with backoff, and the replies that were ready only
// after their connection closed (sent after the next welcome). What arrives goes to the receiver
// that accel.js names (handlers.js).

import { SessionTable } from './ort-runner.js';
import { U32_MAX, token, instance, setInstance, st, isU32 } from './state.js';
import { render } from './view.js';

const PROTOCOL = 1;
const SUBPROTOCOL = 'accel.v1';
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;
const WELCOME_TIMEOUT_MS = 10000; // no welcome this long after connecting: start over
const MIN_HEARTBEAT_MS = 10;
// accel.v1 additions this page speaks (accel-top-protocol(7), "ONE-MESSAGE FORM"); ?onemsg=0
// leaves "onemsg" out, so that the server sends text + frames (the old form, for comparisons)
const FEATURES = new URLSearchParams(location.search).get('onemsg') === '0' ? [] : ['onemsg'];

let conn = null; // the live connection's state, or null
let backoffMs = BACKOFF_MIN_MS;
let nextRequestId = 1;
let receiver = { text() {}, binary() {} };

function newId() {
  const id = nextRequestId;
  nextRequestId = nextRequestId >= U32_MAX ? 0 : nextRequestId + 1;
  return id;
}

/** Whether c is still the live connection (a reply that finds it is not is kept or dropped). */
export function isLive(c) {
  return conn === c;
}

/** Who reads what arrives: text(c, string) and binary(c, ArrayBuffer). */
export function receiveWith(r) {
  receiver = r;
}

function wsUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'; // --tls-cert, --tls self-signed, or a TLS proxy
  return `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`;
}

// A refused upgrade is a bare close (code 1006) that says nothing; accel-top answers why at
// GET /admission (the origin it sees for this page, whether it is allowed, and the option that
// would allow it). Asked after a connection that closed before it opened, one question at a time.
let admissionAsked = false;

async function askAdmission() {
  if (admissionAsked) return;
  admissionAsked = true;
  try {
    const r = await fetch(`/admission?token=${encodeURIComponent(token)}`, { cache: 'no-store' });
    const j = await r.json();
    st.refusal = j && j.allowed === false && typeof j.reason === 'string' ? j.reason : null;
  } catch {
    st.refusal = null; // the server is unreachable: the close itself says enough
  } finally {
    admissionAsked = false;
  }
  render();
}

export function connect() {
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
    opened: false,
    welcomed: false,
    lastRx: performance.now(),
    pending: null, // frames being collected: {kind: 'echo'|'run', id, k, got, frames, failed, ...}
    sessions: new SessionTable(),
    onemsg: false, // the welcome accepted one-message replies
    maxMessage: 0, // the welcome's max_message (bytes)
    oneIds: new Set(), // requests that came as one message: their replies go as one too
    oneRx: null, // the one-message being handled: {id, json, buf}
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
  c.oneIds.clear();
  c.sessions.closeAll();
  c.pings.clear();
  if (conn === c) conn = null;
}

/** The page ends the connection itself (timeout, reconnect notice); `delay` undefined = backoff. */
export function drop(c, code, reason, delay) {
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
  if (!c.opened) askAdmission();
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

/** On pagehide: close the live connection, without reconnecting. */
export function closeForPageHide() {
  const c = conn;
  if (!c) return;
  teardown(c);
  try {
    c.ws.close(1000, 'page closed');
  } catch {}
}

export function sendText(c, text) {
  if (c.ws.readyState !== 1) return false;
  c.ws.send(text);
  st.msgsOut++;
  st.bytesOut += text.length;
  return true;
}

export function sendError(c, id, code, message) {
  st.sentErrors++;
  st.lastError = `sent ${code}${id == null ? '' : ` (id ${id})`}: ${message}`;
  sendText(c, JSON.stringify({ type: 'error', id: id ?? null, code, message }));
}

export function badField(c, id, type, field, want) {
  sendError(c, id, 'bad_message', `${type}: field "${field}" is missing or not ${want}`);
}

function onOpen(c) {
  if (conn !== c) return;
  c.opened = true;
  st.refusal = null;
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
      secure_context: caps.isSecureContext,
      hardware_concurrency: caps.hardware_concurrency,
      device_memory: caps.device_memory,
      webgpu: caps.webgpu,
      webnn: caps.webnn,
      wasm: caps.wasm,
      protocol_features: FEATURES,
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
    receiver.text(c, data);
  } else {
    st.bytesIn += data.byteLength;
    receiver.binary(c, data);
  }
}

export function onWelcome(c, m, id) {
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
  const pf = m.protocol_features;
  c.onemsg = Array.isArray(pf) && pf.includes('onemsg') && FEATURES.includes('onemsg');
  c.maxMessage = typeof m.max_message === 'number' && m.max_message > 0 ? m.max_message : 0;
  welcomed(c, m.instance, hb, to);
}

function welcomed(c, inst, hb, to) {
  c.welcomed = true;
  clearTimeout(c.welcomeTimer);
  st.welcomes++;
  backoffMs = BACKOFF_MIN_MS;
  st.phase = 'connected';
  st.heartbeatMs = hb;
  st.timeoutMs = to;
  if (instance !== inst) {
    setInstance(inst);
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

// The instance id goes into the page's URL, so a reload says hello as the same instance.
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

export function onPong(c, m, id) {
  if (id === null) return badField(c, null, 'pong', 'id', 'an integer 0..4294967295');
  const t = c.pings.get(id);
  if (t !== undefined) {
    c.pings.delete(id);
    st.rttMs = performance.now() - t;
  }
}

// Replies whose connection closed before they were ready (a frozen or throttled page, a dropped
// socket) are kept and sent after the next welcome: the server, not the page, decides that they are
// late (it discards and counts them; it never delivers a request twice).
const OUTBOX_MAX = 32;
const outbox = [];

export function keepLate(text, frames) {
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
