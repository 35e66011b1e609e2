/**
 * Activation functions as modules (no parameters): `ReLU`, `LeakyReLU`, `ELU`, `SELU`, `GELU`,
 * `SiLU`, `Sigmoid`, `Tanh`, `Softplus`, `Mish`, `Hardtanh`, `ReLU6`, `Hardsigmoid`, `Hardswish`,
 * `LogSigmoid`, `Softmax`, `LogSoftmax` and `Identity`.
 * @module
 */
import type { Tensor } from '../../core/tensor.js';
import {
  type EluOptions,
  elu,
  type GeluOptions,
  gelu,
  type HardtanhOptions,
  hardsigmoid,
  hardswish,
  hardtanh,
  type LeakyReluOptions,
  leakyRelu,
  logSigmoid,
  logSoftmax,
  mish,
  relu6,
  type SoftplusOptions,
  selu,
  silu,
  softmax,
  softplus,
} from '../../ops/activation.js';
import '../../ops/unary.js';
import { Module } from '../module.js';

/** max(x, 0). */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** x for x > 0, negativeSlope * x otherwise (default slope 0.01). */
export class LeakyReLU extends Module {
  /** Slope for x < 0. */
  readonly negativeSlope: number;
  constructor(options: LeakyReluOptions = {}) {
    super();
    this.negativeSlope = options.negativeSlope ?? 0.01;
  }
  override forward(x: Tensor): Tensor {
    return leakyRelu(x, { negativeSlope: this.negativeSlope });
  }
  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** x for x > 0, alpha * (exp(x) - 1) otherwise (default alpha 1). */
export class ELU extends Module {
  /** Scale of the negative part. */
  readonly alpha: number;
  constructor(options: EluOptions = {}) {
    super();
    this.alpha = options.alpha ?? 1;
  }
  override forward(x: Tensor): Tensor {
    return elu(x, { alpha: this.alpha });
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** Scaled ELU with the self-normalising constants. */
export class SELU extends Module {
  override forward(x: Tensor): Tensor {
    return selu(x);
  }
}

/** Gaussian error linear unit: exact (erf) or `approximate: 'tanh'`. */
export class GELU extends Module {
  /** 'none' (exact) or 'tanh'. */
  readonly approximate: 'none' | 'tanh';
  constructor(options: GeluOptions = {}) {
    super();
    this.approximate = options.approximate ?? 'none';
  }
  override forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x * sigmoid(x) (also called swish). */
export class SiLU extends Module {
  override forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** 1 / (1 + exp(-x)). */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/** Hyperbolic tangent. */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/** log(1 + exp(beta x)) / beta, linear above `threshold` (defaults beta 1, threshold 20). */
export class Softplus extends Module {
  /** Sharpness. */
  readonly beta: number;
  /** Linear above beta * x > threshold. */
  readonly threshold: number;
  constructor(options: SoftplusOptions = {}) {
    super();
    this.beta = options.beta ?? 1;
    this.threshold = options.threshold ?? 20;
  }
  override forward(x: Tensor): Tensor {
    return softplus(x, { beta: this.beta, threshold: this.threshold });
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** x * tanh(softplus(x)). */
export class Mish extends Module {
  override forward(x: Tensor): Tensor {
    return mish(x);
  }
}

/** Clamps into [minVal, maxVal] (default [-1, 1]). */
export class Hardtanh extends Module {
  /** Lower bound. */
  readonly minVal: number;
  /** Upper bound. */
  readonly maxVal: number;
  constructor(options: HardtanhOptions = {}) {
    super();
    this.minVal = options.minVal ?? -1;
    this.maxVal = options.maxVal ?? 1;
  }
  override forward(x: Tensor): Tensor {
    return hardtanh(x, { minVal: this.minVal, maxVal: this.maxVal });
  }
  override extraRepr(): string {
    return `minVal=${this.minVal}, maxVal=${this.maxVal}`;
  }
}

/** min(max(x, 0), 6). */
export class ReLU6 extends Module {
  override forward(x: Tensor): Tensor {
    return relu6(x);
  }
}

/** Piecewise-linear sigmoid: relu6(x + 3) / 6. */
export class Hardsigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return hardsigmoid(x);
  }
}

/** x * relu6(x + 3) / 6. */
export class Hardswish extends Module {
  override forward(x: Tensor): Tensor {
    return hardswish(x);
  }
}

/** log(sigmoid(x)), computed stably. */
export class LogSigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return logSigmoid(x);
  }
}

/** softmax along `dim` (required, as PyTorch's implicit-dim choice is deprecated). */
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log(softmax(x)) along `dim`, computed stably. */
export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** Returns its input unchanged (a placeholder, e.g. to remove a layer from a model). */
export class Identity extends Module {
  override forward<T>(x: T): T {
    return x;
  }
}
