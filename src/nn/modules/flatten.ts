/**
 * Reshaping layers: `Flatten` and `Unflatten`.
 * @module
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { fmt, normDim } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import '../../ops/views.js';
import { Module } from '../module.js';

/** Flattens dims startDim..endDim into one (defaults 1 and -1: keep the batch dim, flatten the rest). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    if (x.ndim === 0) throw new ShapeError('flatten: expected an input with at least 1 dim, got shape []');
    return x.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

/** Splits dim `dim` into `sizes` (one entry may be -1, inferred), the inverse of `Flatten`. */
export class Unflatten extends Module {
  constructor(
    readonly dim: number,
    readonly sizes: readonly number[],
  ) {
    super();
    const bad = sizes.filter((s) => s === -1).length > 1 || sizes.some((s) => !Number.isInteger(s) || s < -1);
    if (!sizes.length || bad) {
      throw new ValueError(
        `Unflatten: sizes must be non-negative integers with at most one -1, got ${fmt(sizes)}`,
      );
    }
  }
  override forward(x: Tensor): Tensor {
    const d = normDim('unflatten', this.dim, x.ndim);
    const n = x.shape[d]!;
    const known = this.sizes.filter((s) => s !== -1).reduce((a, s) => a * s, 1);
    const infer = this.sizes.includes(-1);
    if (infer ? known === 0 || n % known !== 0 : known !== n) {
      throw new ShapeError(
        `unflatten: sizes ${fmt(this.sizes)} do not match size ${n} of dim ${this.dim} (input shape ${fmt(x.shape)})`,
      );
    }
    const sizes = this.sizes.map((s) => (s === -1 ? n / known : s));
    return x.reshape([...x.shape.slice(0, d), ...sizes, ...x.shape.slice(d + 1)]);
  }
  override extraRepr(): string {
    return `dim=${this.dim}, sizes=${fmt(this.sizes)}`;
  }
}
