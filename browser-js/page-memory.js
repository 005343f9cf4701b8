// accel-top browser page, its own memory: the latest measureUserAgentSpecificMemory() figure,
// which every pong carries while it is fresh and view.js shows.

import { st } from './state.js';

export const UA_MEMORY_EVERY_MS = 10000; // pause between two measureUserAgentSpecificMemory() calls
const UA_MEMORY_FRESH_MS = 60000; // an older figure is not sent: the server shows n/a

// performance.measureUserAgentSpecificMemory() exists only in cross-origin isolated pages of
// browsers that have it (Chromium; not Firefox). The browser may answer only at its next garbage
// collection, so one measurement runs at a time and the next starts UA_MEMORY_EVERY_MS after it
// ended. The latest value rides on every pong while it is fresh (accel-top-protocol(7)): a
// measurement can wait long (Chromium 156 here took over a minute to answer while a threaded wasm
// model ran), and a stale figure must not pass for a current one.
export function freshMemory() {
  return st.uaMemory !== null && performance.now() - st.uaMemoryAt < UA_MEMORY_FRESH_MS;
}

export async function measureMemory() {
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
