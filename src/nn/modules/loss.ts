/**
 * Loss functions as modules, wrapping `nn.functional`: `MSELoss`, `L1Loss`, `SmoothL1Loss`,
 * `HuberLoss`, `CrossEntropyLoss`, `NLLLoss`, `BCELoss`, `BCEWithLogitsLoss`, `KLDivLoss` and
 * `CosineSimilarity`. Call them as `loss.forward(input, target)`. Class weights are buffers, as in
 * PyTorch (state-dict keys `weight`, `pos_weight`).
 * @module
 */
import type { Tensor } from '../../core/tensor.js';
import {
  type BceOptions,
  type BceWithLogitsOptions,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  type CosineSimilarityOptions,
  type CrossEntropyOptions,
  cosineSimilarity,
  crossEntropy,
  type HuberOptions,
  huberLoss,
  type KlDivOptions,
  klDiv,
  type LossOptions,
  l1Loss,
  mseLoss,
  type NllLossOptions,
  nllLoss,
  type Reduction,
  type SmoothL1Options,
  smoothL1Loss,
} from '../functional/loss.js';
import { Module } from '../module.js';

/** Base of the loss modules: holds the reduction. */
export abstract class Loss extends Module {
  /** 'mean' (default), 'sum' or 'none'. */
  readonly reduction: Reduction;
  constructor(options: LossOptions = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
  override extraRepr(): string {
    return this.reduction === 'mean' ? '' : `reduction='${this.reduction}'`;
  }
}

/** Mean squared error. */
export class MSELoss extends Loss {
  override forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error. */
export class L1Loss extends Loss {
  override forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/** Smooth L1 loss: quadratic below `beta` (default 1), linear above. */
export class SmoothL1Loss extends Loss {
  /** Switch point. */
  readonly beta: number;
  constructor(options: SmoothL1Options = {}) {
    super(options);
    this.beta = options.beta ?? 1;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

/** Huber loss: quadratic below `delta` (default 1), linear above. */
export class HuberLoss extends Loss {
  /** Switch point. */
  readonly delta: number;
  constructor(options: HuberOptions = {}) {
    super(options);
    this.delta = options.delta ?? 1;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

/** Negative log likelihood of log-probabilities [N, C, ...] with int32 class targets [N, ...]. */
export class NLLLoss extends Loss {
  /** Targets equal to this are skipped (default -100). */
  readonly ignoreIndex: number;
  constructor(options: NllLossOptions = {}) {
    super(options);
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.registerBuffer('weight', options.weight ?? null);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    const weight = this.getBuffer('weight') ?? undefined;
    return nllLoss(input, target, { reduction: this.reduction, ignoreIndex: this.ignoreIndex, weight });
  }
}

/**
 * Cross entropy of logits [N, C, ...] with int32 class targets [N, ...] or class probabilities
 * [N, C, ...] (log-softmax + NLL, optionally with class weights and label smoothing).
 */
export class CrossEntropyLoss extends Loss {
  /** Targets equal to this are skipped (default -100). */
  readonly ignoreIndex: number;
  /** Label smoothing amount (default 0). */
  readonly labelSmoothing: number;
  constructor(options: CrossEntropyOptions = {}) {
    super(options);
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.labelSmoothing = options.labelSmoothing ?? 0;
    this.registerBuffer('weight', options.weight ?? null);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      reduction: this.reduction,
      ignoreIndex: this.ignoreIndex,
      labelSmoothing: this.labelSmoothing,
      weight: this.getBuffer('weight') ?? undefined,
    });
  }
}

/** Binary cross entropy of probabilities in [0, 1] with float targets. */
export class BCELoss extends Loss {
  constructor(options: BceOptions = {}) {
    super(options);
    this.registerBuffer('weight', options.weight ?? null);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, {
      reduction: this.reduction,
      weight: this.getBuffer('weight') ?? undefined,
    });
  }
}

/** Binary cross entropy of logits (sigmoid built in, numerically stable), with optional `posWeight`. */
export class BCEWithLogitsLoss extends Loss {
  constructor(options: BceWithLogitsOptions = {}) {
    super(options);
    this.registerBuffer('weight', options.weight ?? null);
    this.registerBuffer('pos_weight', options.posWeight ?? null);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, {
      reduction: this.reduction,
      weight: this.getBuffer('weight') ?? undefined,
      posWeight: this.getBuffer('pos_weight') ?? undefined,
    });
  }
}

/** KL divergence with log-probability inputs; use `reduction: 'batchmean'` for the true KL. */
export class KLDivLoss extends Module {
  /** 'mean' (default, as in PyTorch), 'batchmean', 'sum' or 'none'. */
  readonly reduction: Reduction | 'batchmean';
  /** Targets are log-probabilities. */
  readonly logTarget: boolean;
  constructor(options: KlDivOptions = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
    this.logTarget = options.logTarget ?? false;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
  override extraRepr(): string {
    return `reduction='${this.reduction}', logTarget=${this.logTarget}`;
  }
}

/** Cosine similarity of two inputs along `dim` (default 1), with eps (default 1e-8). */
export class CosineSimilarity extends Module {
  /** Dim of the vectors. */
  readonly dim: number;
  /** Norm floor. */
  readonly eps: number;
  constructor(options: CosineSimilarityOptions = {}) {
    super();
    this.dim = options.dim ?? 1;
    this.eps = options.eps ?? 1e-8;
  }
  override forward(x1: Tensor, x2: Tensor): Tensor {
    return cosineSimilarity(x1, x2, { dim: this.dim, eps: this.eps });
  }
  override extraRepr(): string {
    return `dim=${this.dim}, eps=${this.eps}`;
  }
}
