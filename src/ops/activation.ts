/**
 * Activation functions (also exported as `nn.functional`): ReLU variants, GELU, SiLU, softplus, Mish,
 * hard (piecewise-linear) activations, log-sigmoid, and numerically stable softmax / log-softmax.
 *
 * Each op computes its forward pass without building a graph and records one autograd node whose
 * backward is written with differentiable tensor ops, so higher-order gradients work.
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import type { DType } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { normDim } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { reduceRaw } from './reduce.js';
import { record, requireFloat } from './util.js';

/** Options of `leakyRelu`. */
export interface LeakyReluOptions {
  /** Slope for x < 0 (default 0.01). */
  negativeSlope?: number;
}

/** Options of `elu`. */
export interface EluOptions {
  /** Scale of the negative part alpha * (exp(x) - 1) (default 1). */
  alpha?: number;
}

/** Options of `gelu`. */
export interface GeluOptions {
  /** 'none' (exact, with erf; default) or 'tanh' (the tanh approximation). */
  approximate?: 'none' | 'tanh';
}

/** Options of `softplus`. */
export interface SoftplusOptions {
  /** Sharpness: softplus(x) = log(1 + exp(beta * x)) / beta (default 1). */
  beta?: number;
  /** Above beta * x > threshold the function is the identity (default 20). */
  threshold?: number;
}

/** Options of `hardtanh`. */
export interface HardtanhOptions {
  /** Lower end of the linear region (default -1). */
  minVal?: number;
  /** Upper end of the linear region (default 1). */
  maxVal?: number;
}

/** Options of `softmax` and `logSoftmax`. */
export interface SoftmaxOptions {
  /** Cast the input to this dtype first (e.g. 'float64' for extra precision). */
  dtype?: DType;
}

/**
 * Records a pointwise activation of float tensor `x`: `forward` runs without autograd, `backward`
 * maps (g, x, y) to the input gradient with differentiable ops (y is the recorded output).
 */
function pointwise(
  op: string,
  node: string,
  x: Tensor,
  forward: (x: Tensor) => Tensor,
  backward: (g: Tensor, x: Tensor, y: Tensor) => Tensor,
): Tensor {
  requireFloat(op, x);
  const y = noGrad(() => forward(x));
  return record(y, node, [x], (g) => [backward(g, x, y)], [x, y]);
}

/** Numerically stable softplus log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)), from differentiable ops. */
function softplusRaw(z: Tensor): Tensor {
  return z.relu().add(z.abs().neg().exp().log1p());
}

/** x for x > 0, negativeSlope * x otherwise. */
export function leakyRelu(x: Tensor, options: LeakyReluOptions = {}): Tensor {
  const s = options.negativeSlope ?? 0.01;
  return pointwise(
    'leakyRelu',
    'LeakyRelu',
    x,
    (t) => t.where(t.gt(0), t.mul(s)),
    (g, t) => g.where(t.gt(0), g.mul(s)),
  );
}

/** x for x > 0, alpha * (exp(x) - 1) otherwise. */
export function elu(x: Tensor, options: EluOptions = {}): Tensor {
  const alpha = options.alpha ?? 1;
  return pointwise(
    'elu',
    'Elu',
    x,
    // exp of min(x, 0): the unused branch stays finite (no Inf for anomaly mode, no 0 * inf in gradients).
    (t) => t.where(t.gt(0), t.clamp(null, 0).expm1().mul(alpha)),
    (g, t) => g.where(t.gt(0), g.mul(t.clamp(null, 0).exp().mul(alpha))),
  );
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Scaled ELU: scale * elu(x, alpha) with the self-normalising constants (alpha ≈ 1.6733, scale ≈ 1.0507). */
export function selu(x: Tensor): Tensor {
  return pointwise(
    'selu',
    'Selu',
    x,
    (t) => t.where(t.gt(0), t.clamp(null, 0).expm1().mul(SELU_ALPHA)).mul(SELU_SCALE),
    (g, t) =>
      g.mul(SELU_SCALE).where(
        t.gt(0),
        g.mul(
          t
            .clamp(null, 0)
            .exp()
            .mul(SELU_ALPHA * SELU_SCALE),
        ),
      ),
  );
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** Gaussian error linear unit x * Φ(x) (`approximate: 'tanh'` for the tanh approximation). */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  const approx = options.approximate ?? 'none';
  if (approx === 'tanh') {
    const inner = (t: Tensor): Tensor => t.mul(t).mul(t).mul(GELU_C).add(t).mul(SQRT_2_PI);
    return pointwise(
      'gelu',
      'Gelu',
      x,
      (t) => inner(t).tanh().add(1).mul(t).mul(0.5),
      (g, t) => {
        const th = inner(t).tanh();
        const dInner = t
          .mul(t)
          .mul(3 * GELU_C)
          .add(1)
          .mul(SQRT_2_PI);
        const d = th
          .add(1)
          .mul(0.5)
          .add(t.mul(0.5).mul(th.mul(th).neg().add(1)).mul(dInner));
        return g.mul(d);
      },
    );
  }
  if (approx !== 'none') {
    throw new ValueError(`gelu: approximate must be 'none' or 'tanh', got '${String(approx)}'`);
  }
  return pointwise(
    'gelu',
    'Gelu',
    x,
    (t) => t.mul(SQRT1_2).erf().add(1).mul(t).mul(0.5),
    (g, t) => {
      const cdf = t.mul(SQRT1_2).erf().add(1).mul(0.5);
      const pdf = t.mul(t).mul(-0.5).exp().mul(INV_SQRT_2PI);
      return g.mul(cdf.add(t.mul(pdf)));
    },
  );
}

/** Sigmoid linear unit (swish) x * sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return pointwise(
    'silu',
    'Silu',
    x,
    (t) => t.mul(t.sigmoid()),
    (g, t) => {
      const s = t.sigmoid();
      return g.mul(s.mul(t.mul(s.neg().add(1)).add(1)));
    },
  );
}

/** log(1 + exp(beta * x)) / beta, the identity where beta * x > threshold; stable for large |x|. */
export function softplus(x: Tensor, options: SoftplusOptions = {}): Tensor {
  const beta = options.beta ?? 1;
  const threshold = options.threshold ?? 20;
  if (beta === 0) throw new ValueError('softplus: beta must be non-zero');
  return pointwise(
    'softplus',
    'Softplus',
    x,
    (t) => {
      const z = t.mul(beta);
      return t.where(z.gt(threshold), softplusRaw(z).div(beta));
    },
    (g, t) => {
      const z = t.mul(beta);
      return g.where(z.gt(threshold), g.mul(z.sigmoid()));
    },
  );
}

/** Mish: x * tanh(softplus(x)). */
export function mish(x: Tensor): Tensor {
  return pointwise(
    'mish',
    'Mish',
    x,
    (t) => t.mul(softplusRaw(t).tanh()),
    (g, t) => {
      const th = softplusRaw(t).tanh();
      return g.mul(th.add(t.mul(t.sigmoid()).mul(th.mul(th).neg().add(1))));
    },
  );
}

/** Clamps into [minVal, maxVal]; the gradient is 1 strictly inside, 0 on and outside the ends (like PyTorch). */
export function hardtanh(x: Tensor, options: HardtanhOptions = {}): Tensor {
  const lo = options.minVal ?? -1;
  const hi = options.maxVal ?? 1;
  if (lo > hi) throw new ValueError(`hardtanh: minVal (${lo}) must not be greater than maxVal (${hi})`);
  return clampLinear('hardtanh', 'Hardtanh', x, lo, hi);
}

/** min(max(x, 0), 6). */
export function relu6(x: Tensor): Tensor {
  return clampLinear('relu6', 'Relu6', x, 0, 6);
}

function clampLinear(op: string, node: string, x: Tensor, lo: number, hi: number): Tensor {
  return pointwise(
    op,
    node,
    x,
    (t) => t.clamp(lo, hi),
    (g, t) => g.where(t.gt(lo).logicalAnd(t.lt(hi)), 0),
  );
}

/** Piecewise-linear sigmoid: relu6(x + 3) / 6. */
export function hardsigmoid(x: Tensor): Tensor {
  return pointwise(
    'hardsigmoid',
    'Hardsigmoid',
    x,
    (t) => t.div(6).add(0.5).clamp(0, 1),
    (g, t) => g.div(6).where(t.gt(-3).logicalAnd(t.lt(3)), 0),
  );
}

/** x * relu6(x + 3) / 6. */
export function hardswish(x: Tensor): Tensor {
  return pointwise(
    'hardswish',
    'Hardswish',
    x,
    (t) => t.mul(t.div(6).add(0.5).clamp(0, 1)),
    (g, t) => g.where(t.gt(3), g.mul(t.div(3).add(0.5))).where(t.ge(-3), 0),
  );
}

/** log(sigmoid(x)) = -softplus(-x), stable for large |x|. */
export function logSigmoid(x: Tensor): Tensor {
  return pointwise(
    'logSigmoid',
    'LogSigmoid',
    x,
    (t) => softplusRaw(t.neg()).neg(),
    (g, t) => g.mul(t.neg().sigmoid()),
  );
}

/** Input of softmax/logSoftmax after the dtype option, checked to be floating. */
function softmaxInput(op: string, x: Tensor, options: SoftmaxOptions): Tensor {
  const src = options.dtype ? x.to(options.dtype) : x;
  requireFloat(op, src);
  return src;
}

/** x minus its max along `d` (no autograd; the shift does not change softmax). */
function shifted(x: Tensor, d: number): Tensor {
  if (x.numel() === 0) return x;
  return x.sub(reduceRaw('max', x, [d], true));
}

/**
 * softmax along `dim`: exp(x) / sum(exp(x)), computed after subtracting the max so large inputs do
 * not overflow. Backward: y * (g - sum(g * y)).
 */
export function softmax(x: Tensor, dim: number, options: SoftmaxOptions = {}): Tensor {
  const src = softmaxInput('softmax', x, options);
  const d = normDim('softmax', dim, src.ndim);
  if (src.ndim === 0) return softmax(src.reshape([1]), 0).reshape([]);
  const y = noGrad(() => {
    const e = shifted(src, d).exp();
    return e.div(e.sum(d, { keepdim: true }));
  });
  return record(
    y,
    'Softmax',
    [src],
    (g) => {
      const gy = g.mul(y);
      return [gy.sub(y.mul(gy.sum(d, { keepdim: true })))];
    },
    [y],
  );
}

/**
 * log(softmax(x)) along `dim`, computed stably as (x - max) - log(sum(exp(x - max))).
 * Backward: g - softmax(x) * sum(g).
 */
export function logSoftmax(x: Tensor, dim: number, options: SoftmaxOptions = {}): Tensor {
  const src = softmaxInput('logSoftmax', x, options);
  const d = normDim('logSoftmax', dim, src.ndim);
  if (src.ndim === 0) return logSoftmax(src.reshape([1]), 0).reshape([]);
  const y = noGrad(() => {
    const z = shifted(src, d);
    return z.sub(z.exp().sum(d, { keepdim: true }).log());
  });
  return record(y, 'LogSoftmax', [src], (g) => [g.sub(y.exp().mul(g.sum(d, { keepdim: true })))], [y]);
}

declare module '../core/tensor.js' {
  interface Tensor {
    /** Leaky ReLU. */
    leakyRelu(options?: LeakyReluOptions): Tensor;
    /** ELU. */
    elu(options?: EluOptions): Tensor;
    /** SELU. */
    selu(): Tensor;
    /** GELU. */
    gelu(options?: GeluOptions): Tensor;
    /** SiLU (swish). */
    silu(): Tensor;
    /** Softplus. */
    softplus(options?: SoftplusOptions): Tensor;
    /** Mish. */
    mish(): Tensor;
    /** Hardtanh. */
    hardtanh(options?: HardtanhOptions): Tensor;
    /** ReLU6. */
    relu6(): Tensor;
    /** Hard sigmoid. */
    hardsigmoid(): Tensor;
    /** Hard swish. */
    hardswish(): Tensor;
    /** log(sigmoid(this)). */
    logSigmoid(): Tensor;
    /** Softmax along `dim`. */
    softmax(dim: number, options?: SoftmaxOptions): Tensor;
    /** Log-softmax along `dim`. */
    logSoftmax(dim: number, options?: SoftmaxOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.leakyRelu = function (o) {
  return leakyRelu(this, o);
};
P.elu = function (o) {
  return elu(this, o);
};
P.selu = function () {
  return selu(this);
};
P.gelu = function (o) {
  return gelu(this, o);
};
P.silu = function () {
  return silu(this);
};
P.softplus = function (o) {
  return softplus(this, o);
};
P.mish = function () {
  return mish(this);
};
P.hardtanh = function (o) {
  return hardtanh(this, o);
};
P.relu6 = function () {
  return relu6(this);
};
P.hardsigmoid = function () {
  return hardsigmoid(this);
};
P.hardswish = function () {
  return hardswish(this);
};
P.logSigmoid = function () {
  return logSigmoid(this);
};
P.softmax = function (dim, o) {
  return softmax(this, dim, o);
};
P.logSoftmax = function (dim, o) {
  return logSoftmax(this, dim, o);
};
