/**
 * Error classes thrown by Neurite. Every message names the op (or layer) and the shapes, dims or
 * dtypes involved, e.g. `matmul: shapes [2,3] and [4,5] cannot be multiplied (3 != 4)`.
 * @module
 */

/** Base class of every error Neurite throws on purpose. */
export class NeuriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together (broadcasting, matmul, reshape, cat, ...). */
export class ShapeError extends NeuriteError {}

/** A dimension index out of range, or an index out of bounds. */
export class IndexError extends NeuriteError {}

/** A dtype an op does not accept (for example a float op on an int32 or bool tensor). */
export class DTypeError extends NeuriteError {}

/** A bad argument value (negative size, unknown mode, p out of range, ...). */
export class ValueError extends NeuriteError {}

/** Misuse of autograd: backward on a non-scalar without a gradient, a freed graph, in-place conflicts. */
export class AutogradError extends NeuriteError {}

/** Raised in anomaly mode (`detectAnomaly`) when an op's forward or backward produces NaN or Inf. */
export class AnomalyError extends NeuriteError {}

/**
 * Memory for a tensor could not be had: a typed array larger than the JavaScript engine allows or can
 * allocate, or WebAssembly linear memory past its limit. The message names the op or the dtype, the
 * shapes or element count, and the bytes asked for, e.g.
 * `matmul: out of WebAssembly memory: needs 5.00 GiB of linear memory for float32 [1, 65536, 20480] x [1, 20480, 8] (limit 2.00 GiB)`.
 */
export class OutOfMemoryError extends NeuriteError {
  /**
   * @param message what was asked for and why it failed.
   * @param requestedBytes the bytes that were asked for.
   */
  constructor(
    message: string,
    readonly requestedBytes: number,
  ) {
    super(message);
  }
}

/** A byte count for messages: `512 B`, `1.50 KiB`, `5.00 GiB` (binary units). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(2)} ${units[unit]}`;
}
