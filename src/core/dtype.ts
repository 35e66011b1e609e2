/**
 * Data types, their typed-array storage and PyTorch-like type promotion.
 * @module
 */
import { DTypeError, formatBytes, OutOfMemoryError } from './errors.js';

/** The element types a tensor can hold. `float32` is the default for floating data. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** A typed array of one of the storage types (`bool` is stored as 0/1 bytes). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A floating typed array. */
export type FloatArray = Float32Array | Float64Array;

/** All dtypes, in promotion order. */
export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** Bytes per element of each dtype's storage. */
const ITEM_BYTES: Record<DType, number> = { bool: 1, int32: 4, float32: 4, float64: 8 };

/**
 * Allocates a zero-filled typed array for `dtype`.
 * @throws OutOfMemoryError naming the dtype, the element count and the bytes when the engine cannot
 * allocate it (instead of V8's bare "Array buffer allocation failed" or "Invalid typed array length").
 */
export function allocArray(dtype: DType, size: number): TypedArray {
  try {
    switch (dtype) {
      case 'float32':
        return new Float32Array(size);
      case 'float64':
        return new Float64Array(size);
      case 'int32':
        return new Int32Array(size);
      case 'bool':
        return new Uint8Array(size);
      default:
        throw new DTypeError(`unknown dtype ${JSON.stringify(dtype)} (expected ${DTYPES.join(', ')})`);
    }
  } catch (e) {
    if (!(e instanceof RangeError) || !(size >= 0)) throw e;
    const bytes = size * ITEM_BYTES[dtype];
    throw new OutOfMemoryError(
      `cannot allocate a ${dtype} tensor of ${size} elements (${formatBytes(bytes)}): ${e.message}`,
      bytes,
    );
  }
}

/** Node's `Buffer` where it exists (for {@link allocArrayUninit}); undefined in browsers. */
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow?: (bytes: number) => Uint8Array } }).Buffer;

/**
 * Arrays from this many bytes up that {@link allocArrayUninit} takes uninitialised from Node (smaller
 * ones cost little to zero, and `new` keeps them on V8's fast path).
 */
export const UNINIT_MIN_BYTES = 1 << 16;

/**
 * Allocates a typed array for `dtype` whose contents are unspecified (stale memory), for kernels that
 * write every element: in Node, arrays of at least {@link UNINIT_MIN_BYTES} bytes come from
 * `Buffer.allocUnsafeSlow` (its own ArrayBuffer, offset 0), which skips the zero fill that `new` does
 * (about 0.1 ms per MB, plus the page faults of fresh memory); elsewhere, and for smaller arrays, this is
 * {@link allocArray}. Never hand such an array out before every element is written.
 * @throws OutOfMemoryError as {@link allocArray} does.
 */
export function allocArrayUninit(dtype: DType, size: number): TypedArray {
  const bytes = size * (ITEM_BYTES[dtype] ?? 0);
  if (
    NodeBuffer?.allocUnsafeSlow === undefined ||
    !(bytes >= UNINIT_MIN_BYTES) ||
    !Number.isSafeInteger(size)
  ) {
    return allocArray(dtype, size);
  }
  let buffer: ArrayBufferLike;
  try {
    buffer = NodeBuffer.allocUnsafeSlow(bytes).buffer;
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return allocArray(dtype, size); // which throws the OutOfMemoryError (or allocates after all)
  }
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, 0, size);
    case 'float64':
      return new Float64Array(buffer, 0, size);
    case 'int32':
      return new Int32Array(buffer, 0, size);
    default:
      return new Uint8Array(buffer, 0, size);
  }
}

/** Throws a DTypeError naming `op` unless `dtype` is one of the supported dtypes. */
export function checkDType(op: string, dtype: DType): void {
  if (!DTYPES.includes(dtype)) {
    throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(dtype)} (expected ${DTYPES.join(', ')})`);
  }
}

/** The dtype that stores as `arr`'s typed-array kind (Uint8Array means bool). */
export function dtypeOfArray(arr: TypedArray): DType {
  if (arr instanceof Float32Array) return 'float32';
  if (arr instanceof Float64Array) return 'float64';
  if (arr instanceof Int32Array) return 'int32';
  return 'bool';
}

/** True for float32 and float64. */
export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** The smallest dtype both `a` and `b` convert to without loss in the common cases (like `torch.promote_types`). */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * Result dtype of combining a tensor of dtype `t` with a JS scalar. Scalars are "weak" as in PyTorch:
 * they never widen a tensor's category-internal width (float32 + 1.5 stays float32) but an int/bool
 * tensor combined with a fractional number becomes float32.
 */
export function promoteWithScalar(t: DType, s: number | boolean): DType {
  if (typeof s === 'boolean') return t;
  if (isFloating(t)) return t;
  if (!Number.isInteger(s)) return 'float32';
  return t === 'bool' ? 'int32' : t;
}

/** Throws a DTypeError unless `dtype` is floating. */
export function assertFloating(op: string, dtype: DType): void {
  if (!isFloating(dtype)) {
    throw new DTypeError(`${op}: expected a floating tensor (float32 or float64), got ${dtype}`);
  }
}
