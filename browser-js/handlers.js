// accel-top browser page, the accel.v1 messages it answers (accel-top-protocol(7), "TEXT
// MESSAGES", "BINARY FRAMES", "RUNNING MODELS", "AUDIO FRONT END"): the checks on each request,
// the binary frames that follow an announcement, and the replies. ort-runner.js runs the models,
// logmel-wgsl.js the audio front end; connection.js sends.

import { parseHeader, decodeTensor, encodeTensor, isOneMsg, parseOneMsg, buildOneMsg, oneMsgSize } from './tensor.js';
import { logMel } from './logmel-wgsl.js';
import { prepareInputs } from './prepare.js';
import { PLATFORMS, WEBNN_DEVICES } from './ort-runner.js';
import { st, isU32, str } from './state.js';
import { freshMemory } from './page-memory.js';
import { isLive, drop, sendText, sendError, badField, keepLate, onWelcome, onPong } from './connection.js';

const HANDLERS = new Map([
  ['ping', onPing],
  ['echo', onEcho],
  ['run', onRun],
  ['load', onLoad],
  ['unload', onUnload],
  ['logmel', onLogMel],
  ['pong', onPong],
  ['welcome', onWelcome],
  ['reconnect', (c) => drop(c, 1000, 'reconnect requested', 0)],
  ['error', onServerError],
]);

/** A text message from the server on connection c. */
export function onText(c, text) {
  const m = parseJson(c, text);
  if (m) dispatch(c, m);
}

function parseJson(c, text) {
  let m;
  try {
    m = JSON.parse(text);
  } catch (e) {
    sendError(c, null, 'bad_json', `not JSON: ${e.message}`);
    return null;
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) {
    sendError(c, null, 'bad_json', 'not a JSON object');
    return null;
  }
  return m;
}

function dispatch(c, m) {
  const id = isU32(m.id) ? m.id : null;
  if (typeof m.type !== 'string') {
    badField(c, id, 'message', 'type', 'a string');
    return;
  }
  const handler = HANDLERS.get(m.type);
  if (handler) handler(c, m, id);
  else sendError(c, id, 'unknown_type', `unknown type "${m.type}"`);
}

function onPing(c, m, id) {
  if (id === null) badField(c, null, 'ping', 'id', 'an integer 0..4294967295');
  else sendText(c, `{"type":"pong","id":${id}${freshMemory() ? `,"ua_memory":${st.uaMemory}` : ''}}`);
}

// Shown, never answered (two peers must not trade errors forever).
function onServerError(c, m, id) {
  st.serverErrors++;
  st.serverError =
    `${str(m.code) || '(no code)'}${id === null ? '' : ` (id ${id})`}: ${str(m.message)}`;
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
export function onBinary(c, buf) {
  if (isOneMsg(buf)) onOneMsg(c, buf);
  else onFrame(c, buf);
}

// One message per request: its JSON, then its frames as views over buf (no copies), through the
// same checks as a text message and its frames; the reply goes back as one message too
// (c.oneIds). The echo's reply is the same bytes, sent back as they came when its JSON is the same.
function onOneMsg(c, buf) {
  let p;
  try {
    p = parseOneMsg(buf);
  } catch (err) {
    sendError(c, null, 'bad_frame', err.message);
    return;
  }
  const m = parseJson(c, p.json);
  if (!m) return;
  if (m.tensors !== p.k) {
    sendError(c, isU32(m.id) ? m.id : null, 'bad_message', `one-message: ${p.k} frames, its JSON says tensors ${m.tensors}`);
    return;
  }
  if (isU32(m.id)) c.oneIds.add(m.id);
  c.oneRx = { id: m.id, json: p.json, buf };
  dispatch(c, m);
  for (const f of p.frames) onFrame(c, f);
  c.oneRx = null;
}

/** Whether the reply to id goes as one message (text + frames of size bytes fit the server's limit). */
export function replyAsOne(c, id, text, frames) {
  if (!c.oneIds.delete(id) || !c.onemsg) return false;
  return oneMsgSize(text, frames) <= c.maxMessage;
}

function onFrame(c, buf) {
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
    const bad = checkFrame(e, buf, pos);
    if (bad) {
      e.failed = true;
      e.frames = e.headers = null;
      sendError(c, e.id, bad.code, `${e.kind} ${e.id}: ${bad.why}`);
    } else {
      e.frames.push(buf);
    }
  }
  if (e.got === e.k) {
    c.pending = null;
    if (!e.failed) framesComplete(c, e);
  }
}

// Frame pos of the pending request e: null if it is the one expected (its header kept for a
// run), else {code, why}.
function checkFrame(e, buf, pos) {
  try {
    const h = parseHeader(buf);
    if (h.requestId !== e.id) return { code: 'out_of_order', why: `frame ${pos} has request id ${h.requestId}` };
    if (h.index !== pos) return { code: 'out_of_order', why: `frame ${pos} has index ${h.index}` };
    if (e.headers) e.headers.push(h);
    return null;
  } catch (err) {
    return { code: 'bad_frame', why: `frame ${pos}: ${err.message}` };
  }
}

function framesComplete(c, e) {
  if (e.kind === 'run') {
    startRun(c, e.id, e.session, e.outputs, e.frames, e.headers, e.t0, e.alm, e.prep);
    return;
  }
  if (e.kind === 'logmel') {
    startLogMel(c, e.id, e.m, e.frames[0]);
    return;
  }
  const ws = c.ws;
  if (ws.readyState !== 1) return;
  const text = `{"type":"echo","id":${e.id},"tensors":${e.k}}`;
  if (replyAsOne(c, e.id, text, e.frames)) {
    const same = c.oneRx && c.oneRx.id === e.id && c.oneRx.json === text;
    const out = same ? c.oneRx.buf : buildOneMsg(text, e.frames);
    ws.send(out);
    st.msgsOut++;
    st.bytesOut += out.byteLength;
    st.echoes++;
    return;
  }
  ws.send(text);
  let bytes = 0;
  for (const f of e.frames) {
    ws.send(f);
    bytes += f.byteLength;
  }
  st.msgsOut += 1 + e.k;
  st.bytesOut += bytes;
  st.echoes++;
}

// ---------------------------------------------------------------------------
// Models (ort-runner.js does the onnxruntime-web part)

function sendFailure(c, id, e) {
  c.oneIds.delete(id);
  const code = typeof e?.code === 'string' ? e.code : 'run_failed';
  const message = typeof e?.message === 'string' ? e.message : String(e);
  if (!isLive(c) || c.ws.readyState !== 1) {
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
      if (isLive(c)) sendText(c, JSON.stringify({ type: 'loaded', id, ...r }));
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
  collect(c, 'run', id, k, { session: m.session, outputs: m.outputs, t0, alm: m.audio_logmel, prep: m.prepare });
  let field = null;
  if (!isU32(m.session)) field = ['session', 'an integer 0..4294967295'];
  else if (m.outputs !== 'all' && m.outputs !== 'none') field = ['outputs', '"all" or "none"'];
  if (field) {
    if (c.pending) c.pending.failed = true; // its frames are swallowed
    badField(c, id, 'run', field[0], field[1]);
    return;
  }
  if (k === 0) startRun(c, id, m.session, m.outputs, [], [], t0, m.audio_logmel, m.prepare);
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

// prep: a run's "prepare" (--text, --image; prepare.js): inputs made here before the run
function startRun(c, id, key, outputs, frames, headers, t0, alm, prep) {
  let lm = null;
  let prepared = null;
  const inputsMs = performance.now() - t0; // its frames all in (bench/overhead's page legs)
  const front = alm ? gpuLogMel(frames, headers, alm).then((x) => { lm = x; }) : Promise.resolve();
  const inputs = prep === undefined ? front : front.then(() => prepareInputs(prep, frames, headers).then((x) => { prepared = x; }));
  inputs.then(() => c.sessions.run(key, frames, headers, outputs === 'all', id)).then(
    (r) => sendResult(c, id, key, r, t0, lm, prepared, inputsMs),
    (e) => sendFailure(c, id, e),
  );
}

// The result of run id: its text, then its output frames; kept for the next connection if
// this one closed meanwhile.
function sendResult(c, id, key, r, t0, lm, prepared, inputsMs) {
  const ws = c.ws;
  const n = r.frames.length;
  const pageMs = performance.now() - t0; // arrival of the request to sending the result
  const gpu = (lm ? `,"logmel_ms":${lm.ms},"logmel_timing":${JSON.stringify(lm.timing)}` : '') +
    (prepared ? `,"prepared":${JSON.stringify(prepared)}` : '');
  const text = `{"type":"result","id":${id},"session":${key},"compute_ms":${r.compute_ms},"queue_ms":${r.queue_ms},"page_ms":${pageMs},"inputs_ms":${inputsMs},"recv_at_ms":${performance.timeOrigin + t0}${gpu},"lane":${r.lane ?? 0},"tensors":${n}}`;
  if (!isLive(c) || ws.readyState !== 1) {
    keepLate(text, r.frames);
    return;
  }
  if (n > 0 && replyAsOne(c, id, text, r.frames)) {
    const out = buildOneMsg(text, r.frames);
    ws.send(out);
    st.msgsOut++;
    st.bytesOut += out.byteLength;
    st.results++;
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
      if (!isLive(c) || c.ws.readyState !== 1) return;
      const text = JSON.stringify({
        type: 'logmel_result', id, tensors: 1, timing: r.timing, gpu_ms: r.gpuMs, wall_ms: r.wallMs,
        compile_ms: r.compileMs, adapter: r.adapter,
      });
      const out = encodeTensor({ dtype: 1, dims: [80, m.frames], data: r.logmel, name: 'logmel', requestId: id, index: 0 });
      if (replyAsOne(c, id, text, [out])) {
        const one = buildOneMsg(text, [out]);
        c.ws.send(one);
        st.msgsOut++;
        st.bytesOut += one.byteLength;
        return;
      }
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
      if (isLive(c)) sendText(c, `{"type":"unloaded","id":${id},"session":${key}}`);
    },
    (e) => sendFailure(c, id, e),
  );
}
