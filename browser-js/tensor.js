// accel-top tensor frame codec (protocol accel.v1, "Binary frames").
//
// One binary WebSocket message holds one tensor. Little-endian header:
//
//   0   4        magic "ATNS" (0x41 0x54 0x4E 0x53)
//   4   1        version: 1
//   5   1        dtype code (see DTYPES)
//   6   1        rank: 0..8
//   7   1        name length in bytes: 0..255 (UTF-8, no NUL)
//   8   4        request id (u32): id of the JSON message that announced the tensor
//   12  4        tensor index (u32): 0..K-1, in order
//   16  8*rank   dims, u64 each
//   ..  namelen  name
//   ..  0..7     zero padding, so the data starts at a multiple of 8
//   hdr ..       data: product(dims) * dtype size bytes (rank 0 = one element), exactly
//
// parseHeader() validates a frame and returns its header without touching the data.
// decodeTensor() (or tensorData() on a header parseHeader() gave) adds a typed-array
// view of the data (no copy when the frame is an ArrayBuffer). encodeTensor() builds a
// frame from a typed array.

export const MAGIC = 0x534e5441; // "ATNS" read as a little-endian u32
export const VERSION = 1;
export const MAX_RANK = 8;
export const MAX_NAME = 255;
export const FIXED_HEADER = 16;

// Codes are the protocol's; names are onnxruntime-web's tensor type names.
// float16 data is exposed as raw bits in a Uint16Array (onnxruntime-web 1.30 accepts that
// for 'float16' tensors and, where the browser has Float16Array, wraps it in one without
// copying; its float16 outputs are then Float16Arrays, whose bytes encodeTensor sends as
// they are); bool as one byte per element in a Uint8Array.
export const DTYPES = Object.freeze({
  1: Object.freeze({ code: 1, name: 'float32', size: 4, ArrayType: Float32Array }),
  2: Object.freeze({ code: 2, name: 'float16', size: 2, ArrayType: Uint16Array }),
  3: Object.freeze({ code: 3, name: 'int64', size: 8, ArrayType: BigInt64Array }),
  4: Object.freeze({ code: 4, name: 'int32', size: 4, ArrayType: Int32Array }),
  5: Object.freeze({ code: 5, name: 'int8', size: 1, ArrayType: Int8Array }),
  6: Object.freeze({ code: 6, name: 'uint8', size: 1, ArrayType: Uint8Array }),
  7: Object.freeze({ code: 7, name: 'bool', size: 1, ArrayType: Uint8Array }),
  8: Object.freeze({ code: 8, name: 'uint16', size: 2, ArrayType: Uint16Array }),
  9: Object.freeze({ code: 9, name: 'float64', size: 8, ArrayType: Float64Array }),
});

export const DTYPE_CODES = Object.freeze(
  Object.fromEntries(Object.values(DTYPES).map((d) => [d.name, d.code])),
);

/** A frame that breaks the format. `code` is the protocol error code to report. */
export class FrameError extends Error {
  constructor(message, code = 'bad_frame') {
    super(message);
    this.name = 'FrameError';
    this.code = code;
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** Resolve a dtype given as a code (1..9) or a name ('float32', ...). */
export function dtypeInfo(dtype) {
  const info = typeof dtype === 'string' ? DTYPES[DTYPE_CODES[dtype]] : DTYPES[dtype];
  if (!info) throw new TypeError(`unknown dtype ${String(dtype)}`);
  return info;
}

/** Header length (data offset) for a given rank and name length: padded to 8. */
export function headerLength(rank, nameLength) {
  return (FIXED_HEADER + 8 * rank + nameLength + 7) & ~7;
}

function asBytes(frame) {
  if (frame instanceof ArrayBuffer) return new Uint8Array(frame);
  if (ArrayBuffer.isView(frame)) return new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
  throw new FrameError('frame is not binary');
}

/**
 * Validate a frame and return its header:
 * { dtype, dtypeName, elementSize, rank, dims (numbers), name, requestId, index,
 *   dataOffset, dataLength, elements }.
 * Throws FrameError (code 'bad_frame') when anything is wrong.
 */
export function parseHeader(frame) {
  const bytes = asBytes(frame);
  const n = bytes.byteLength;
  if (n < FIXED_HEADER) throw new FrameError(`frame is ${n} bytes, shorter than the 16-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  if (view.getUint32(0, true) !== MAGIC) throw new FrameError('bad magic (want "ATNS")');
  const version = bytes[4];
  if (version !== VERSION) throw new FrameError(`unsupported frame version ${version}`);
  const dt = DTYPES[bytes[5]];
  if (!dt) throw new FrameError(`unknown dtype ${bytes[5]}`);
  const rank = bytes[6];
  if (rank > MAX_RANK) throw new FrameError(`rank ${rank} > ${MAX_RANK}`);
  const nameLength = bytes[7];
  const requestId = view.getUint32(8, true);
  const index = view.getUint32(12, true);
  const nameStart = FIXED_HEADER + 8 * rank;
  const padStart = nameStart + nameLength;
  const dataOffset = (padStart + 7) & ~7;
  if (n < dataOffset) throw new FrameError(`frame is ${n} bytes, header needs ${dataOffset}`);

  const dims = new Array(rank);
  let elements = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getBigUint64(FIXED_HEADER + 8 * i, true);
    if (d > 9007199254740991n) throw new FrameError(`dim ${i} is too large (${d})`);
    const dn = Number(d);
    dims[i] = dn;
    elements *= dn;
  }
  const dataLength = n - dataOffset;
  if (elements * dt.size !== dataLength) {
    throw new FrameError(
      `data is ${dataLength} bytes, dims [${dims.join(',')}] of ${dt.name} need ${elements * dt.size}`,
    );
  }

  let name = '';
  if (nameLength > 0) {
    const nb = bytes.subarray(nameStart, padStart);
    if (nb.includes(0)) throw new FrameError('name contains NUL');
    try {
      name = utf8Decoder.decode(nb);
    } catch {
      throw new FrameError('name is not valid UTF-8');
    }
  }
  for (let i = padStart; i < dataOffset; i++) {
    if (bytes[i] !== 0) throw new FrameError('header padding is not zero');
  }

  return {
    dtype: dt.code,
    dtypeName: dt.name,
    elementSize: dt.size,
    rank,
    dims,
    name,
    requestId,
    index,
    dataOffset,
    dataLength,
    elements,
  };
}

/**
 * Parse a frame and return its header plus `data`, a typed array of the dtype's
 * ArrayType. The data is a view into the frame (no copy) when it is suitably aligned,
 * which it always is for a whole ArrayBuffer as received from a WebSocket.
 */
export function decodeTensor(frame) {
  const h = parseHeader(frame);
  h.data = tensorData(frame, h);
  return h;
}

/**
 * The data of a frame whose header parseHeader() already returned, as a typed array of
 * the dtype's ArrayType: a view into the frame (no copy) when the data is aligned for
 * the type, which it always is for a whole ArrayBuffer; else a copy.
 */
export function tensorData(frame, h) {
  const bytes = asBytes(frame);
  const { ArrayType, size } = DTYPES[h.dtype];
  const start = bytes.byteOffset + h.dataOffset;
  if (start % size === 0) return new ArrayType(bytes.buffer, start, h.elements);
  const copy = bytes.slice(h.dataOffset);
  return new ArrayType(copy.buffer, 0, h.elements);
}

function toTypedData(info, data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) {
    let typed;
    if (info.ArrayType === BigInt64Array) typed = BigInt64Array.from(data, (v) => BigInt(v));
    else if (info.name === 'bool') typed = Uint8Array.from(data, (v) => (v ? 1 : 0));
    else typed = info.ArrayType.from(data);
    return new Uint8Array(typed.buffer);
  }
  throw new TypeError('tensor data must be a typed array, an ArrayBuffer or an Array');
}

/**
 * Build one frame. `dtype`: code or name; `dims`: numbers or bigints; `data`: a typed
 * array (any type: its bytes are copied as they are), an ArrayBuffer, or a plain Array
 * (converted to the dtype). Returns an ArrayBuffer ready for WebSocket.send().
 */
export function encodeTensor({ dtype, dims = [], data, name = '', requestId = 0, index = 0 }) {
  const info = dtypeInfo(dtype);
  const rank = dims.length;
  if (rank > MAX_RANK) throw new RangeError(`rank ${rank} > ${MAX_RANK}`);
  const nameBytes = utf8Encoder.encode(name);
  if (nameBytes.length > MAX_NAME) throw new RangeError(`name is ${nameBytes.length} bytes > ${MAX_NAME}`);
  if (nameBytes.includes(0)) throw new RangeError('name contains NUL');
  if (!Number.isInteger(requestId) || requestId < 0 || requestId > 0xffffffff) throw new RangeError('bad requestId');
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new RangeError('bad index');

  let elements = 1n;
  const bigDims = dims.map((d) => {
    const b = BigInt(d);
    if (b < 0n || b > 0xffffffffffffffffn) throw new RangeError(`bad dim ${d}`);
    elements *= b;
    return b;
  });
  const src = toTypedData(info, data);
  const need = elements * BigInt(info.size);
  if (BigInt(src.byteLength) !== need) {
    throw new RangeError(`data is ${src.byteLength} bytes, dims [${dims.join(',')}] of ${info.name} need ${need}`);
  }

  const offset = headerLength(rank, nameBytes.length);
  const buf = new ArrayBuffer(offset + src.byteLength);
  const view = new DataView(buf);
  const out = new Uint8Array(buf);
  view.setUint32(0, MAGIC, true);
  out[4] = VERSION;
  out[5] = info.code;
  out[6] = rank;
  out[7] = nameBytes.length;
  view.setUint32(8, requestId, true);
  view.setUint32(12, index, true);
  for (let i = 0; i < rank; i++) view.setBigUint64(FIXED_HEADER + 8 * i, bigDims[i], true);
  out.set(nameBytes, FIXED_HEADER + 8 * rank);
  out.set(src, offset);
  return buf;
}

// One message per request (accel-top-protocol(7), "ONE-MESSAGE FORM"): one binary message holds
// the JSON and its K frames, for a peer that announced "onemsg" (hello's protocol_features, the
// welcome's answer). Little-endian:
//
//   0   4   magic "ATNM" (0x41 0x54 0x4E 0x4D)
//   4   1   version: 1
//   5   3   zero
//   8   4   JSON length J (u32)
//   12  4   K (u32): the frames; the JSON's "tensors" says the same
//   16  J   the JSON message, then zero padding to a multiple of 8
//   then K times: u64 frame length L, the frame (the layout above), zero padding to 8
//
// parseOneMsg() gives the JSON text and the frames as views over the received buffer (no copy);
// buildOneMsg() assembles one ArrayBuffer for a reply.

export const ONEMSG_MAGIC = 0x4d4e5441; // "ATNM" read as a little-endian u32
const pad8 = (n) => (n + 7) & ~7;

/** Whether a received ArrayBuffer is a one-message (else a single frame). */
export function isOneMsg(buf) {
  return buf.byteLength >= 4 && new DataView(buf).getUint32(0, true) === ONEMSG_MAGIC;
}

/** {json, k, frames}: frames are Uint8Array views into buf. Throws FrameError. */
export function parseOneMsg(buf) {
  const n = buf.byteLength;
  if (n < 16) throw new FrameError(`one-message of ${n} bytes is shorter than its 16-byte header`);
  const view = new DataView(buf);
  if (view.getUint32(0, true) !== ONEMSG_MAGIC) throw new FrameError('bad magic (want "ATNM")');
  if (view.getUint8(4) !== VERSION) throw new FrameError(`unsupported one-message version ${view.getUint8(4)}`);
  const jl = view.getUint32(8, true);
  const k = view.getUint32(12, true);
  if (16 + pad8(jl) > n) throw new FrameError(`one-message JSON of ${jl} bytes is past the end`);
  const json = utf8Decoder.decode(new Uint8Array(buf, 16, jl));
  const frames = [];
  let off = 16 + pad8(jl);
  for (let i = 0; i < k; i++) {
    if (off + 8 > n) throw new FrameError(`one-message frame ${i}'s length is past the end`);
    const fl = Number(view.getBigUint64(off, true));
    off += 8;
    if (off + pad8(fl) > n) throw new FrameError(`one-message frame ${i} of ${fl} bytes is past the end`);
    frames.push(new Uint8Array(buf, off, fl));
    off += pad8(fl);
  }
  if (off !== n) throw new FrameError(`one-message has ${n - off} bytes after its ${k} frames`);
  return { json, k, frames };
}

/** One ArrayBuffer: the JSON text and the frames (ArrayBuffers or views), as above. */
export function buildOneMsg(text, frames) {
  const jb = utf8Encoder.encode(text);
  let total = 16 + pad8(jb.length);
  for (const f of frames) total += 8 + pad8(f.byteLength);
  const buf = new ArrayBuffer(total);
  const view = new DataView(buf);
  const out = new Uint8Array(buf);
  view.setUint32(0, ONEMSG_MAGIC, true);
  out[4] = VERSION;
  view.setUint32(8, jb.length, true);
  view.setUint32(12, frames.length, true);
  out.set(jb, 16);
  let off = 16 + pad8(jb.length);
  for (const f of frames) {
    view.setBigUint64(off, BigInt(f.byteLength), true);
    out.set(f instanceof ArrayBuffer ? new Uint8Array(f) : new Uint8Array(f.buffer, f.byteOffset, f.byteLength), off + 8);
    off += 8 + pad8(f.byteLength);
  }
  return buf;
}

/** The size buildOneMsg() would give, without building it. */
export function oneMsgSize(text, frames) {
  let total = 16 + pad8(utf8Encoder.encode(text).length);
  for (const f of frames) total += 8 + pad8(f.byteLength);
  return total;
}
