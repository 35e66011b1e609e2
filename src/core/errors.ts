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
