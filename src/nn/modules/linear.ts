/**
 * `nn.Linear`: y = x Wᵀ + b.
 * @module
 */
import { empty } from '../../core/creation.js';
import type { DType } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { linear } from '../functional/basic.js';
import { kaimingUniform_, uniform_ } from '../init.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';

/** Options of `Linear`. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Applies an affine map to the last dimension: [..., inFeatures] -> [..., outFeatures]. */
export class Linear extends Module {
  /** Weight of shape [outFeatures, inFeatures], initialised like PyTorch (kaiming uniform, a = sqrt(5)). */
  weight: Parameter;
  /** Bias of shape [outFeatures], uniform in ±1/sqrt(inFeatures); null without bias. */
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    if (
      !Number.isInteger(inFeatures) ||
      inFeatures < 0 ||
      !Number.isInteger(outFeatures) ||
      outFeatures < 0
    ) {
      throw new ValueError(
        `Linear: feature sizes must be non-negative integers, got (${inFeatures}, ${outFeatures})`,
      );
    }
    const dtype = options.dtype ?? 'float32';
    this.weight = new Parameter(empty([outFeatures, inFeatures], { dtype }));
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    this.bias = null;
    if (options.bias ?? true) {
      this.bias = new Parameter(empty([outFeatures], { dtype }));
      const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  override forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
