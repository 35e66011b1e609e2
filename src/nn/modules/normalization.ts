/**
 * `LayerNorm` and `GroupNorm` layers (PyTorch's parameters `weight`, `bias`).
 * @module
 */
import { ones, zeros } from '../../core/creation.js';
import type { DType } from '../../core/dtype.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { fmt, sameShape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { groupNorm, layerNorm } from '../functional/norm.js';
import { expectRank, Module } from '../module.js';
import { Parameter } from '../parameter.js';

/** Options of `LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn `weight` (ones) and `bias` (zeros) of shape normalizedShape (default true). */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, also learn the bias (default true). */
  bias?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Normalises over the trailing dims `normalizedShape` of each sample (mean 0, variance 1), then scales and shifts. */
export class LayerNorm extends Module {
  /** Elementwise scale, shape normalizedShape (null without affine). */
  weight: Parameter | null;
  /** Elementwise shift (null without affine or bias). */
  bias: Parameter | null;
  /** The normalised trailing shape. */
  readonly normalizedShape: number[];
  /** Added to the variance. */
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (!this.normalizedShape.length || this.normalizedShape.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new ValueError(
        `LayerNorm: normalizedShape must be positive integers, got ${fmt(this.normalizedShape)}`,
      );
    }
    this.eps = options.eps ?? 1e-5;
    const dtype = options.dtype ?? 'float32';
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(ones(this.normalizedShape, { dtype })) : null;
    this.bias =
      affine && (options.bias ?? true) ? new Parameter(zeros(this.normalizedShape, { dtype })) : null;
  }

  override forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    if (x.ndim < k || !sameShape(x.shape.slice(x.ndim - k), this.normalizedShape)) {
      throw new ShapeError(
        `layerNorm: expected input [*, ${this.normalizedShape.join(', ')}], got shape ${fmt(x.shape)}`,
      );
    }
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, { eps: this.eps });
  }

  override extraRepr(): string {
    return `${fmt(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}

/** Options of `GroupNorm`. */
export interface GroupNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn per-channel `weight` (ones) and `bias` (zeros) (default true). */
  affine?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Splits the channels of [N, C, ...] into `numGroups` groups and normalises each group of each sample. */
export class GroupNorm extends Module {
  /** Per-channel scale [C] (null without affine). */
  weight: Parameter | null;
  /** Per-channel shift [C] (null without affine). */
  bias: Parameter | null;
  /** Added to the variance. */
  readonly eps: number;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(numGroups) || numGroups < 1 || numChannels % numGroups !== 0) {
      throw new ValueError(`GroupNorm: numGroups ${numGroups} must divide numChannels ${numChannels}`);
    }
    this.eps = options.eps ?? 1e-5;
    const dtype = options.dtype ?? 'float32';
    const affine = options.affine ?? true;
    this.weight = affine ? new Parameter(ones([numChannels], { dtype })) : null;
    this.bias = affine ? new Parameter(zeros([numChannels], { dtype })) : null;
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim < 2) expectRank('groupNorm', x, [2, 3, 4, 5], 'input [N, C, *]');
    if (x.shape[1] !== this.numChannels) {
      throw new ShapeError(
        `groupNorm: expected ${this.numChannels} channels (dim 1) in input [N, C, *], got shape ${fmt(x.shape)}`,
      );
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, { eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.weight !== null}`;
  }
}
