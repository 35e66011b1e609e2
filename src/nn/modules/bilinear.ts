/**
 * `Bilinear`: y = x1ᵀ W x2 + b (PyTorch's keys `weight` [out, in1, in2], `bias` [out]).
 * @module
 */
import { empty } from '../../core/creation.js';
import type { DType } from '../../core/dtype.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { fmt, sameShape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import '../../ops/matmul.js';
import '../../ops/reduce.js';
import '../../ops/views.js';
import { requireFloat } from '../../ops/util.js';
import { uniform_ } from '../init.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';

/** Options of `Bilinear`. */
export interface BilinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/**
 * Bilinear map of two inputs [..., in1] and [..., in2] (same leading dims) to [..., out]:
 * y[k] = sum_ij x1[i] W[k, i, j] x2[j] + b[k]. Initialised uniform in ±1/sqrt(in1), like PyTorch.
 */
export class Bilinear extends Module {
  /** Weight [out, in1, in2]. */
  weight: Parameter;
  /** Bias [out], or null. */
  bias: Parameter | null;

  constructor(
    readonly in1Features: number,
    readonly in2Features: number,
    readonly outFeatures: number,
    options: BilinearOptions = {},
  ) {
    super();
    for (const v of [in1Features, in2Features, outFeatures]) {
      if (!Number.isInteger(v) || v < 0) {
        throw new ValueError(
          `Bilinear: feature sizes must be non-negative integers, got (${in1Features}, ${in2Features}, ${outFeatures})`,
        );
      }
    }
    const dtype = options.dtype ?? 'float32';
    this.weight = new Parameter(empty([outFeatures, in1Features, in2Features], { dtype }));
    this.bias = (options.bias ?? true) ? new Parameter(empty([outFeatures], { dtype })) : null;
    const bound = in1Features > 0 ? 1 / Math.sqrt(in1Features) : 0;
    uniform_(this.weight, -bound, bound);
    if (this.bias) uniform_(this.bias, -bound, bound);
  }

  override forward(x1: Tensor, x2: Tensor): Tensor {
    requireFloat('bilinear', x1);
    requireFloat('bilinear', x2);
    const [i1, i2, o] = [this.in1Features, this.in2Features, this.outFeatures];
    if (x1.ndim === 0 || x1.shape[x1.ndim - 1] !== i1 || x2.ndim === 0 || x2.shape[x2.ndim - 1] !== i2) {
      throw new ShapeError(
        `bilinear: expected inputs [*, ${i1}] and [*, ${i2}], got shapes ${fmt(x1.shape)} and ${fmt(x2.shape)}`,
      );
    }
    const lead = x1.shape.slice(0, -1);
    if (!sameShape(lead, x2.shape.slice(0, -1))) {
      throw new ShapeError(
        `bilinear: inputs must have the same leading dims, got shapes ${fmt(x1.shape)} and ${fmt(x2.shape)}`,
      );
    }
    const a = x1.reshape([-1, i1]);
    const b = x2.reshape([-1, i2]);
    // (x1 @ W viewed as [in1, out*in2]) -> [n, out, in2], then contract with x2.
    const w = this.weight.permute([1, 0, 2]).reshape([i1, o * i2]);
    const t = a.matmul(w).reshape([-1, o, i2]);
    let y = t.mul(b.unsqueeze(1)).sum(2);
    if (this.bias) y = y.add(this.bias);
    return y.reshape([...lead, o]);
  }

  override extraRepr(): string {
    return `in1Features=${this.in1Features}, in2Features=${this.in2Features}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
