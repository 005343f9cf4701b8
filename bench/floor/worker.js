// One onnxruntime-web instance (own wasm, own WebGPU device) running one session in a loop.
import { importOrt, makeFeeds, nudged } from './common.js';

let session, feeds, device;

onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === 'init') {
      if (m.ep === 'webgpu' && !self.navigator.gpu) throw new Error('navigator.gpu is undefined in a worker');
      const ort = await importOrt(1);
      const buf = await (await fetch(m.url)).arrayBuffer();
      session = await ort.InferenceSession.create(new Uint8Array(buf), {
        executionProviders: [m.ep], preferredOutputLocation: 'cpu',
      });
      feeds = makeFeeds(ort, m.manifest);
      device = m.ep === 'webgpu' ? await ort.env.webgpu.device : null;
      await session.run(feeds);
      postMessage({ type: 'ready' });
    } else if (m.type === 'loop') {
      // start at a common instant, stop at a common deadline
      while (performance.timeOrigin + performance.now() < m.start) await new Promise((r) => setTimeout(r, 1));
      const lat = [];
      while (performance.timeOrigin + performance.now() < m.end) {
        const t = performance.now();
        await nudged(device, m.nudge, session.run(feeds));
        lat.push(performance.now() - t);
      }
      postMessage({ type: 'done', lat, end: performance.timeOrigin + performance.now() });
    }
  } catch (err) {
    postMessage({ type: 'error', error: String(err?.message ?? err) });
  }
};
