/**
 * The safetensors format (used by PyTorch and Hugging Face) in memory: `serializeSafetensors` turns
 * named tensors into bytes, `parseSafetensors` reads them back. Browser-safe (no Node built-ins).
 *
 * Layout: 8 bytes little-endian header length N, N bytes of UTF-8 JSON header
 * `{"__metadata__": {...}, "name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`
 * padded with spaces to 8-byte alignment, then the tensors' raw little-endian bytes (offsets are
 * relative to the end of the header). Every check on the header runs before any tensor data is read,
 * so a damaged or hostile file gives a `SafetensorsError`, never a crash or a huge allocation.
 * @module
 */
import { getBackend } from '../backends/backend.js';
import { allocArray, type DType, isFloating, type TypedArray } from '../core/dtype.js';
import { NeuriteError, ValueError } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import '../ops/views.js';

/** A file (or byte buffer) that is not valid safetensors. The message names the problem and the tensor key. */
export class SafetensorsError extends NeuriteError {}

/** Largest header accepted when reading (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Named tensors: a Map (e.g. `module.stateDict()`) or a plain object. */
export type TensorMap = Map<string, Tensor> | Record<string, Tensor>;

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  /** Tensor name. */
  key: string;
  /** dtype as written in the file (`F32`, `I64`, `BF16`, ...). */
  dtype: string;
  /** Shape. */
  shape: number[];
  /** Start of the data, in bytes from the start of the data section. */
  begin: number;
  /** End (exclusive) of the data, in bytes from the start of the data section. */
  end: number;
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  /** Tensor entries in file order (by data offset). */
  entries: SafetensorsEntry[];
  /** String metadata (`__metadata__`), empty when the file has none. */
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

/** Options of `parseSafetensors`. */
export interface ParseOptions {
  /** Convert every floating tensor to this dtype (integer and bool tensors keep theirs). */
  dtype?: 'float32' | 'float64';
}

/** The result of `parseSafetensors`. */
export interface ParsedSafetensors {
  /** Tensors by name, in file order. */
  tensors: Map<string, Tensor>;
  /** String metadata (`__metadata__`), empty when the file has none. */
  metadata: Record<string, string>;
}

/** Bytes per element of every dtype the format defines that Neurite reads. */
const READ_SIZES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** dtypes of the format Neurite cannot represent (refused with an explicit message). */
const UNSUPPORTED = new Set([
  'U32',
  'U64',
  'C64',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F6_E2M3',
  'F6_E3M2',
  'F4',
]);

const WRITE_DTYPE: Record<DType, string> = { float64: 'F64', float32: 'F32', int32: 'I32', bool: 'BOOL' };
/** Order of data in the file: larger elements first (keeps every tensor aligned), then by name. */
const WRITE_RANK: Record<DType, number> = { float64: 3, float32: 2, int32: 1, bool: 0 };
const ELEM_SIZE: Record<DType, number> = { float64: 8, float32: 4, int32: 4, bool: 1 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Compares strings by Unicode code point (the byte order of their UTF-8 encodings, as in the reference). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca - cb;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}

function entriesOf(tensors: TensorMap, op: string): [string, Tensor][] {
  const list: [string, unknown][] =
    tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, unknown>);
  for (const [k, t] of list) {
    if (typeof k !== 'string') throw new ValueError(`${op}: tensor names must be strings, got ${typeof k}`);
    if (k === '__metadata__')
      throw new ValueError(`${op}: '__metadata__' is reserved and cannot name a tensor`);
    if (!(t instanceof Tensor)) {
      throw new ValueError(`${op}: value for '${k}' is not a Tensor (got ${t === null ? 'null' : typeof t})`);
    }
  }
  return list as [string, Tensor][];
}

function checkMetadata(metadata: Record<string, string>, op: string): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new ValueError(`${op}: metadata must be an object of strings`);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') {
      throw new ValueError(`${op}: metadata value for '${k}' must be a string, got ${typeof v}`);
    }
  }
}

/**
 * Encodes named tensors as a safetensors file. Tensors of any layout (transposed, sliced, ...) are
 * written as their row-major values; float32/float64/int32/bool map to F32/F64/I32/BOOL. As in the
 * reference implementation, data is ordered by element size (largest first) and then by name, and the
 * header is padded with spaces to a multiple of 8 bytes. `metadata` (string to string) goes to
 * `__metadata__`.
 */
export function serializeSafetensors(tensors: TensorMap, metadata?: Record<string, string>): Uint8Array {
  const op = 'serializeSafetensors';
  const list = entriesOf(tensors, op);
  if (metadata !== undefined) checkMetadata(metadata, op);
  list.sort((a, b) => WRITE_RANK[b[1].dtype] - WRITE_RANK[a[1].dtype] || compareCodePoints(a[0], b[0]));

  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let total = 0;
  const layout: { t: Tensor; begin: number; bytes: number }[] = [];
  for (const [k, t] of list) {
    const bytes = t.numel() * ELEM_SIZE[t.dtype];
    parts.push(
      `${JSON.stringify(k)}:{"dtype":"${WRITE_DTYPE[t.dtype]}","shape":${JSON.stringify(t.shape)},"data_offsets":[${total},${total + bytes}]}`,
    );
    layout.push({ t, begin: total, bytes });
    total += bytes;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const dataStart = 8 + headerLen;
  if (dataStart + total > Number.MAX_SAFE_INTEGER) {
    throw new SafetensorsError(`${op}: ${dataStart + total} bytes is too large for one buffer`);
  }
  let out: Uint8Array;
  try {
    out = new Uint8Array(dataStart + total);
  } catch (e) {
    throw new SafetensorsError(
      `${op}: could not allocate ${dataStart + total} bytes (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, dataStart);
  for (const { t, begin, bytes } of layout) {
    if (bytes === 0) continue;
    writeData(out, dv, dataStart + begin, t.dataSync(), t.dtype);
  }
  return out;
}

/** Writes `data` (row-major values of dtype `dtype`) little-endian at byte `pos` of `out`. */
function writeData(out: Uint8Array, dv: DataView, pos: number, data: TypedArray, dtype: DType): void {
  if (LITTLE_ENDIAN || dtype === 'bool') {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (dtype === 'bool') {
      for (let i = 0; i < raw.length; i++) out[pos + i] = raw[i] ? 1 : 0;
    } else out.set(raw, pos);
    return;
  }
  const n = data.length;
  if (dtype === 'float64') for (let i = 0; i < n; i++) dv.setFloat64(pos + 8 * i, data[i]!, true);
  else if (dtype === 'float32') for (let i = 0; i < n; i++) dv.setFloat32(pos + 4 * i, data[i]!, true);
  else for (let i = 0; i < n; i++) dv.setInt32(pos + 4 * i, data[i]!, true);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads and validates the header of a safetensors file without reading tensor data. Throws a
 * `SafetensorsError` naming the problem (and the tensor) for: a buffer shorter than 8 bytes, a header
 * length beyond the file or `MAX_HEADER_BYTES`, invalid UTF-8 or JSON, a header that is not an object,
 * bad `__metadata__`, unknown or unsupported dtypes, bad shapes or offsets, offsets whose size does not
 * match dtype size × element count, overlapping tensors, gaps between tensors, offsets past the end of
 * the file, and trailing bytes after the last tensor.
 */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (!(bytes instanceof Uint8Array)) {
    throw new SafetensorsError(`expected the file's bytes as a Uint8Array, got ${describe(bytes)}`);
  }
  if (bytes.length < 8) {
    throw new SafetensorsError(
      `file is too short (${bytes.length} bytes): it must start with an 8-byte header length`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER_BYTES) {
    throw new SafetensorsError(
      `header length ${dv.getBigUint64(0, true)} exceeds the limit of ${MAX_HEADER_BYTES} bytes (corrupt or not a safetensors file)`,
    );
  }
  const n = lo;
  if (8 + n > bytes.length) {
    throw new SafetensorsError(
      `header length ${n} runs past the end of the file (${bytes.length} bytes, so at most ${bytes.length - 8})`,
    );
  }
  if (n === 0 || bytes[8] !== 0x7b) {
    throw new SafetensorsError(`header must be a JSON object starting with '{' (header length ${n})`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isPlainObject(header)) {
    throw new SafetensorsError(`header must be a JSON object, got ${describe(header)}`);
  }

  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [key, info] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (info === null) continue;
      if (!isPlainObject(info)) {
        throw new SafetensorsError(`__metadata__ must be an object of strings, got ${describe(info)}`);
      }
      for (const [mk, mv] of Object.entries(info)) {
        if (typeof mv !== 'string') {
          throw new SafetensorsError(`__metadata__ value for '${mk}' must be a string, got ${describe(mv)}`);
        }
        metadata[mk] = mv;
      }
      continue;
    }
    entries.push(checkEntry(key, info, dataLen));
  }

  const order = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let prev: SafetensorsEntry | null = null;
  for (const e of order) {
    if (e.begin < expected) {
      throw new SafetensorsError(
        `tensor '${e.key}': data_offsets [${e.begin},${e.end}] overlap tensor '${prev!.key}' [${prev!.begin},${prev!.end}]`,
      );
    }
    if (e.begin > expected) {
      throw new SafetensorsError(
        `tensor '${e.key}': data_offsets [${e.begin},${e.end}] leave a gap of ${e.begin - expected} bytes ` +
          (prev
            ? `after tensor '${prev.key}' (which ends at ${expected})`
            : 'at the start of the data section'),
      );
    }
    expected = e.end;
    prev = e;
  }
  if (expected !== dataLen) {
    throw new SafetensorsError(
      `${dataLen - expected} trailing bytes after the last tensor${prev ? ` ('${prev.key}', ending at ${expected})` : ''}: ` +
        `the data section has ${dataLen} bytes`,
    );
  }
  return { entries: order, metadata, dataStart };
}

function checkEntry(key: string, info: unknown, dataLen: number): SafetensorsEntry {
  const where = `tensor '${key}'`;
  if (!isPlainObject(info))
    throw new SafetensorsError(`${where}: entry must be an object, got ${describe(info)}`);
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string') {
    throw new SafetensorsError(`${where}: dtype must be a string, got ${describe(dtype)}`);
  }
  const size = READ_SIZES[dtype];
  if (size === undefined) {
    if (UNSUPPORTED.has(dtype)) {
      throw new SafetensorsError(
        `${where}: dtype ${dtype} is not supported (supported: ${Object.keys(READ_SIZES).join(', ')})`,
      );
    }
    throw new SafetensorsError(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    throw new SafetensorsError(
      `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape) ?? 'nothing'}`,
    );
  }
  let numel = 1;
  for (const s of shape as number[]) numel *= s;
  if (!Number.isSafeInteger(numel * size)) {
    throw new SafetensorsError(`${where}: shape ${fmt(shape as number[])} is too large`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new SafetensorsError(
      `${where}: data_offsets must be two non-negative integers [begin, end], got ${JSON.stringify(offsets) ?? 'nothing'}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin)
    throw new SafetensorsError(`${where}: data_offsets [${begin},${end}] end before they begin`);
  if (end - begin !== numel * size) {
    throw new SafetensorsError(
      `${where}: data_offsets [${begin},${end}] span ${end - begin} bytes but dtype ${dtype} (${size} bytes) ` +
        `x shape ${fmt(shape as number[])} (${numel} elements) needs ${numel * size}`,
    );
  }
  if (end > dataLen) {
    throw new SafetensorsError(
      `${where}: data_offsets [${begin},${end}] run past the end of the file (the data section has ${dataLen} bytes)`,
    );
  }
  return { key, dtype, shape: (shape as number[]).slice(), begin, end };
}

/**
 * Decodes a safetensors file. F32/F64/I32/BOOL load as float32/float64/int32/bool; on reading, I64
 * (such as PyTorch's `num_batches_tracked`), I16/U16/I8/U8 become int32 (a value outside the int32
 * range is an error), and F16/BF16 become float32. `options.dtype` converts all floating tensors.
 * The whole header is validated (see `readSafetensorsHeader`) before any data is read.
 */
export function parseSafetensors(bytes: Uint8Array, options: ParseOptions = {}): ParsedSafetensors {
  if (options.dtype !== undefined && options.dtype !== 'float32' && options.dtype !== 'float64') {
    throw new ValueError(`parseSafetensors: dtype must be float32 or float64, got ${String(options.dtype)}`);
  }
  const header = readSafetensorsHeader(bytes);
  const tensors = new Map<string, Tensor>();
  for (const e of header.entries) {
    const start = bytes.byteOffset + header.dataStart + e.begin;
    const data = decode(bytes.buffer, start, e);
    let t = new Tensor(getBackend().fromArray(data), e.shape);
    if (options.dtype && isFloating(t.dtype) && t.dtype !== options.dtype) t = t.to(options.dtype);
    tensors.set(e.key, t);
  }
  return { tensors, metadata: header.metadata };
}

/** A fresh copy of `len` bytes of `buf` at `start` (aligned, so typed arrays can view it). */
function copyBytes(buf: ArrayBufferLike, start: number, len: number): ArrayBuffer {
  const out = new ArrayBuffer(len);
  new Uint8Array(out).set(new Uint8Array(buf, start, len));
  return out;
}

function decode(buf: ArrayBufferLike, start: number, e: SafetensorsEntry): TypedArray {
  const len = e.end - e.begin;
  const size = READ_SIZES[e.dtype]!;
  const n = len / size;
  if (e.dtype === 'BOOL') {
    const out = new Uint8Array(copyBytes(buf, start, len));
    for (let i = 0; i < n; i++) if (out[i]! > 1) out[i] = 1;
    return out;
  }
  if (LITTLE_ENDIAN) {
    if (e.dtype === 'F32') return new Float32Array(copyBytes(buf, start, len));
    if (e.dtype === 'F64') return new Float64Array(copyBytes(buf, start, len));
    if (e.dtype === 'I32') return new Int32Array(copyBytes(buf, start, len));
  }
  const dv = new DataView(buf, start, len);
  switch (e.dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    }
    case 'F64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const low = dv.getInt32(8 * i, true);
        const high = dv.getInt32(8 * i + 4, true);
        if (high !== (low < 0 ? -1 : 0)) {
          throw new SafetensorsError(
            `tensor '${e.key}': int64 value ${dv.getBigInt64(8 * i, true)} at flat index ${i} is outside the int32 range Neurite uses for integers`,
          );
        }
        out[i] = low;
      }
      return out;
    }
    case 'I16':
    case 'U16': {
      const out = new Int32Array(n);
      if (e.dtype === 'I16') for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true);
      else for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true);
      return out;
    }
    case 'I8':
    case 'U8': {
      const out = new Int32Array(n);
      if (e.dtype === 'I8') for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      else for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      // bfloat16 is the top half of a float32's bits (native order on both views, so any endianness works).
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    default:
      // Unreachable: readSafetensorsHeader only lets dtypes of READ_SIZES through.
      return allocArray('float32', 0);
  }
}

/** The float value of IEEE 754 half-precision bits. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
