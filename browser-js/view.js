// accel-top browser page, what it shows: its connection, capabilities and sessions, written
// into index.html's elements a few times a second (render()), never per message. Only this
// module touches the DOM.

import { st, instance } from './state.js';
import { freshMemory, UA_MEMORY_EVERY_MS } from './page-memory.js';
import { rows as sessionRows, tableVersion } from './ort-runner.js';

const $ = (id) => document.getElementById(id);
const shown = new Map();

// An element is written only when its text or class changed.
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

function renderPhase() {
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
      state = st.refusal
        ? `refused by accel-top: ${st.refusal}; trying again in ${s.toFixed(1)} s`
        : `reconnecting in ${s.toFixed(1)} s`;
      cls = 'bad';
      break;
    }
  }
  show('state', state, cls);
  document.title = `accel-top ${instance ?? '?'}: ${st.phase}`;
}

function renderMemory() {
  let note = st.uaMemoryNote;
  if (st.uaMemorySince !== null && performance.now() - st.uaMemorySince > 2 * UA_MEMORY_EVERY_MS) {
    note += `; the next measurement has waited ${((performance.now() - st.uaMemorySince) / 1000).toFixed(0)} s for the browser`;
  }
  show('ua-memory', st.uaMemory ? `${fmtBytes(st.uaMemory)} (${note}${freshMemory() ? '' : '; too old to send'})` : note);
}

export function render() {
  renderPhase();
  show('instance', instance === null ? 'none yet' : String(instance));
  show('heartbeat', st.heartbeatMs === null ? '—' : `ping every ${st.heartbeatMs} ms, timeout ${st.timeoutMs} ms`);
  show('rtt', st.rttMs === null ? '—' : `${st.rttMs.toFixed(1)} ms`);
  renderMemory();
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

// One <tr> of [text, class] cells.
function tableRow(cells) {
  const tr = document.createElement('tr');
  for (const [text, cls] of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
  }
  return tr;
}

function sessionRow(s) {
  const platform = s.platform === 'webnn' ? `webnn ${s.deviceType}` : s.platform;
  const state = s.queued > 0 ? `${s.state} (+${s.queued} queued)` : s.state;
  return tableRow([
    [String(s.key)],
    [s.model],
    [s.file],
    [s.precision],
    [platform],
    [state, STATE_CLASS[s.state] ?? 'dim'],
    [String(s.runs), 'num'],
    [s.lastComputeMs === null ? '—' : s.lastComputeMs.toFixed(2), 'num'],
    [s.lastError ?? '—', s.lastError ? 'bad err' : 'err'],
  ]);
}

function noSessionsRow() {
  const tr = document.createElement('tr');
  const td = document.createElement('td');
  td.colSpan = 9;
  td.className = 'dim';
  td.textContent = 'no sessions yet';
  tr.append(td);
  return tr;
}

// The session table (ort-runner.js), newest first, rebuilt only when it changed.
function renderSessions() {
  const v = tableVersion();
  if (v === sessionsShown) return;
  sessionsShown = v;
  const body = $('sessions');
  if (!body) return;
  const trs = [];
  for (let i = sessionRows.length - 1; i >= 0; i--) trs.push(sessionRow(sessionRows[i]));
  if (trs.length === 0) trs.push(noSessionsRow());
  body.replaceChildren(...trs);
}

function renderWebGPU(g) {
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
}

function renderWebNN(webnn) {
  for (const t of ['cpu', 'gpu', 'npu']) {
    const d = webnn.devices[t];
    let text;
    if (!webnn.api) text = 'no navigator.ml';
    else if (d.ok) text = `ok${d.accelerated === null ? '' : d.accelerated ? ', accelerated' : ', not accelerated'}`;
    else text = d.error ?? 'failed';
    show(`cap-webnn-${t}`, text, d.ok ? 'ok' : 'bad');
  }
}

/** The capabilities table, once the probe (probe.js) has answered. */
export function renderCaps(caps) {
  renderWebGPU(caps.webgpu);
  renderWebNN(caps.webnn);
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
      `cross-origin isolated ${caps.cross_origin_isolated ? 'yes' : 'no'}; ` +
      `secure context ${caps.isSecureContext ? 'yes' : 'no (http on a non-loopback name: no WebGPU, no wasm threads; accel-top --tls self-signed serves https)'}`,
  );
}
