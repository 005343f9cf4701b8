// accel-top browser page: where onnxruntime-web placed a session's nodes. A webnn (or webgpu)
// session runs the nodes its backend lacks on ORT's CPU (wasm) kernels, silently; the only
// place ORT says which is its own log, written while the session is created. Its wasm runtime
// writes that log with console.error/console.log bound when the runtime starts, so the tee
// below is installed when this module loads (before onnxruntime-web is imported) and copies
// lines only while a capture is open; everything still reaches the real console.

let capture = null; // lines of the session being created, or null

for (const k of ['log', 'info', 'warn', 'error', 'debug']) {
  const real = console[k];
  console[k] = function (...args) {
    if (capture && capture.length < 20000) {
      for (const line of args.map(String).join(' ').split('\n')) capture.push(line);
    }
    return real.apply(this, args);
  };
}

/** Session options that make ORT log its node placements (verbose, this session only). */
export function placementOptions() {
  return { logSeverityLevel: 0, logVerbosityLevel: 0 };
}

/**
 * Runs create() with ORT's log captured; resolves to {session, lines}. A WebNN graph the browser
 * cannot build (Chromium 153 on int8 graphs: "UnknownError: Failed to execute 'build' on
 * 'MLGraphBuilder': Failed to compile model") rejects inside onnxruntime-web where nobody awaits
 * it, and create() then never settles; that unhandled rejection fails the load with its text.
 */
export async function withPlacementLog(create) {
  capture = [];
  let onLost = null;
  const lost = new Promise((_, reject) => {
    onLost = (ev) => {
      const r = ev.reason;
      reject(new Error(`the WebNN backend failed and onnxruntime-web never returned: ${r instanceof Error ? `${r.name}: ${r.message}` : String(r)}`));
    };
  });
  globalThis.addEventListener?.('unhandledrejection', onLost);
  try {
    const session = await Promise.race([create(), lost]);
    return { session, lines: capture };
  } finally {
    globalThis.removeEventListener?.('unhandledrejection', onLost);
    capture = null;
  }
}

const EP_NAMES = { webnn: 'WebNNExecutionProvider', webgpu: 'JsExecutionProvider', wasm: 'CPUExecutionProvider' };

// The lines of ORT's log (1.30) read here, after its "[V:onnxruntime:, file.cc:N Function] " prefix:
//  GetCapability]  WebNNExecutionProvider::GetCapability, number of partitions supported by WebNN: P
//                  number of nodes in the graph: N number of nodes supported by WebNN: S
//  GetSupportedNodes]  Operator type: [Op] index: [i] name: [n] supported: [0|1]
//  VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [XExecutionProvider]. Number of nodes: K
//  VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [XExecutionProvider]. Number of nodes: K
//  VerifyEachNodeIsAssignedToAnEp]    Op (node name)        (one per node, under the line above)
// After partitioning, what WebNN took is one compiled node per partition, so the node counts
// come from GetCapability and the fallback ops from the CPU provider's list.
const CAPABILITY = /number of partitions supported by WebNN: (\d+) number of nodes in the graph: (\d+) number of nodes supported by WebNN: (\d+)/;
const OPERATOR = /Operator type: \[([\w.]+)\] index: \[(\d+)\] name: \[(.*)\] supported: \[([01])\]/;
const PLACED = /(All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const PLACED_NODE = /VerifyEachNodeIsAssignedToAnEp\]\s+([\w.]+) \((.*)\)\s*$/;
const COPIES = new Set(['MemcpyFromHost', 'MemcpyToHost']); // ORT's own copies, not model ops

function countOps(ops) {
  const n = new Map();
  for (const op of ops) n.set(op, (n.get(op) ?? 0) + 1);
  return [...n.entries()].map(([op, k]) => (k > 1 ? `${op} x${k}` : op));
}

/**
 * What ORT's log says about placement, for the `loaded` reply: {known, ep, nodes,
 * nodes_on_ep, partitions, fallback_ops: ["Op", "Op xK", ...], fallback_nodes, note}.
 * known is false when the log has none of the lines above: then ORT did not say, and note
 * says so.
 */
export function parsePlacement(lines, platform) {
  const epName = EP_NAMES[platform] ?? platform;
  const r = { known: false, ep: epName, nodes: null, nodes_on_ep: null, partitions: null,
    fallback_ops: [], fallback_nodes: 0, note: null };
  const refused = new Map(); // node name -> op type: WebNN said it does not support it
  const onCpu = []; // op types of the nodes placed on another provider than epName
  let where = null; // the provider whose node list we are reading
  let placed = false;
  for (const line of lines) {
    let m;
    if ((m = CAPABILITY.exec(line))) {
      r.partitions = Number(m[1]);
      r.nodes = Number(m[2]);
      r.nodes_on_ep = Number(m[3]);
      r.known = true;
    } else if ((m = OPERATOR.exec(line))) {
      if (m[4] === '0') refused.set(`${m[2]} ${m[3]}`, m[1]);
      else refused.delete(`${m[2]} ${m[3]}`); // GetCapability may run twice
    } else if ((m = PLACED.exec(line))) {
      placed = r.known = true;
      where = m[1] === 'All nodes' ? null : m[2];
      if (m[1] === 'All nodes' && m[2] !== epName) onCpu.push(`all ${m[3]} nodes on ${m[2]}`);
    } else if (where && (m = PLACED_NODE.exec(line))) {
      if (where !== epName && !COPIES.has(m[1])) onCpu.push(m[1]);
    } else {
      where = null;
    }
  }
  const ops = placed ? onCpu : [...refused.values()];
  r.fallback_ops = countOps(ops);
  r.fallback_nodes = ops.length;
  if (!r.known) r.note = `onnxruntime-web logged no node placement for this ${platform} session`;
  return r;
}
