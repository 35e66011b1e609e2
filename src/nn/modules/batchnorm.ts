/**
 * Batch normalisation layers: `BatchNorm1d` and `BatchNorm2d`, with PyTorch's parameters (`weight`,
 * `bias`) and buffers (`running_mean`, `running_var`, `num_batches_tracked`).
 * @module
 */
import { noGrad } from '../../autograd/grad-mode.js';
import { ones, zeros } from '../../core/creation.js';
import type { DType } from '../../core/dtype.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import '../../ops/inplace.js';
import { batchNorm } from '../functional/norm.js';
import { expectRank, Module } from '../module.js';
import { Parameter } from '../parameter.js';

/** Options of the batch-norm layers (PyTorch's names and defaults). */
export interface BatchNormLayerOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /**
   * Weight of each new batch statistic in the running averages (default 0.1); null gives the
   * cumulative average over all batches seen (1 / numBatchesTracked).
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` and shift `bias` (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true); without them batch statistics are always used. */
  trackRunningStats?: boolean;
  /** Dtype of parameters and float buffers (float32 by default). */
  dtype?: DType;
}

/** Shared implementation of the batch-norm layers (PyTorch's `_BatchNorm`). */
export abstract class BatchNormBase extends Module {
  /** Per-channel scale [C] (ones), or null when not affine. */
  weight: Parameter | null;
  /** Per-channel shift [C] (zeros), or null when not affine. */
  bias: Parameter | null;
  /** Added to the variance. */
  readonly eps: number;
  /** Running-average weight (null: cumulative average). */
  readonly momentum: number | null;
  /** Learns weight and bias. */
  readonly affine: boolean;
  /** Keeps running statistics. */
  readonly trackRunningStats: boolean;

  protected constructor(
    private readonly layer: string,
    private readonly ranks: readonly number[],
    private readonly layout: string,
    readonly numFeatures: number,
    options: BatchNormLayerOptions,
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new ValueError(`${layer}: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const dtype = options.dtype ?? 'float32';
    this.weight = this.affine ? new Parameter(ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures], { dtype })) : null;
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? zeros([numFeatures], { dtype }) : null);
    this.registerBuffer('running_var', track ? ones([numFeatures], { dtype }) : null);
    this.registerBuffer('num_batches_tracked', track ? zeros([], { dtype: 'int32' }) : null);
  }

  /** Running mean [C] (null without running statistics). */
  get runningMean(): Tensor | null {
    return this.getBuffer('running_mean');
  }

  /** Running (unbiased) variance [C] (null without running statistics). */
  get runningVar(): Tensor | null {
    return this.getBuffer('running_var');
  }

  /** Number of training batches seen, as an int32 0-d tensor (null without running statistics). */
  get numBatchesTracked(): Tensor | null {
    return this.getBuffer('num_batches_tracked');
  }

  /** Resets the running statistics to mean 0, variance 1 and zero batches. */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.fill_(0);
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.fill_(0);
    });
  }

  override forward(x: Tensor): Tensor {
    const op = this.layer.charAt(0).toLowerCase() + this.layer.slice(1);
    expectRank(op, x, this.ranks, `input ${this.layout}`);
    if (x.shape[1] !== this.numFeatures) {
      throw new ShapeError(
        `${op}: expected ${this.numFeatures} channels (dim 1) in input ${this.layout}, got shape ${fmt(x.shape)}`,
      );
    }
    let factor = this.momentum ?? 0;
    const nbt = this.numBatchesTracked;
    if (this.training && this.trackRunningStats && nbt) {
      noGrad(() => nbt.add_(1));
      if (this.momentum === null) factor = 1 / nbt.item();
    }
    const rm = this.runningMean;
    const rv = this.runningVar;
    const useBatch = this.training || (!rm && !rv);
    const keep = !this.training || this.trackRunningStats;
    return batchNorm(x, keep ? rm : null, keep ? rv : null, this.weight, this.bias, {
      training: useBatch,
      momentum: factor,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Batch normalisation over [N, C] or [N, C, L] input, per channel C. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super('BatchNorm1d', [2, 3], '[N, C] or [N, C, L]', numFeatures, options);
  }
}

/** Batch normalisation over [N, C, H, W] input, per channel C. */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super('BatchNorm2d', [4], '[N, C, H, W]', numFeatures, options);
  }
}
