// accel-top browser page, its main module: probes what this browser can accelerate
// (probe.js), says hello to accel-top over a WebSocket and keeps the connection alive
// (connection.js, protocol accel.v1, see accel-top-protocol(7)), answers its requests
// (handlers.js: echoes, and models loaded and run by ort-runner.js), and shows its own state on
// the page (view.js). This file only wires them together and starts them.

import { st, token } from './state.js';
import { probeAll, failedCaps } from './probe.js';
import { connect, receiveWith, closeForPageHide } from './connection.js';
import { onText, onBinary } from './handlers.js';
import { measureMemory } from './page-memory.js';
import { render, renderCaps } from './view.js';

const RENDER_EVERY_MS = 250;

receiveWith({ text: onText, binary: onBinary });
addEventListener('pagehide', closeForPageHide);
addEventListener('error', (ev) => {
  st.lastError = `page error: ${ev.message}`;
});
addEventListener('unhandledrejection', (ev) => {
  st.lastError = `page error: ${String(ev.reason)}`;
});

setInterval(render, RENDER_EVERY_MS);
render();
if (!token) st.lastError = 'no token in the URL (?token=...): the server will refuse the connection';

const capsReady = probeAll()
  .catch((e) => {
    // Not expected (every probe catches its own errors), but hello must still go out.
    st.lastError = `capability probe failed: ${String(e)}`;
    return failedCaps(e);
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
