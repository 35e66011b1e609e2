/**
 * Elementwise unary math ops with their gradients, plus `where`, `clamp` and logical not.
 * @module
 */
import { isGradEnabled } from '../autograd/grad-mode.js';
import type { UnaryOp } from '../backends/backend.js';
import { zerosLike } from '../core/creation.js';
import { isFloating } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import { broadcastShapes } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { asTensor, fromStorage, record, resultType, sumToShape, type TensorLike } from './util.js';

/** Runs a unary kernel without autograd; integer inputs of float-only ops are computed in float32. */
export function unaryRaw(op: UnaryOp, x: Tensor, floatOnly = true): Tensor {
  const src = floatOnly && !isFloating(x.dtype) ? x.to('float32') : x;
  return fromStorage(src.storage.backend.unary(op, src, src.dtype), src.shape);
}

type GradRule = (g: Tensor, x: Tensor, y: Tensor) => Tensor;

/** Gradient rules: g is the output gradient, x the input, y the output. */
const RULES: Partial<Record<UnaryOp, GradRule>> = {
  neg: (g) => g.neg(),
  abs: (g, x) => g.mul(x.sign()),
  exp: (g, _x, y) => g.mul(y),
  log: (g, x) => g.div(x),
  log1p: (g, x) => g.div(x.add(1)),
  expm1: (g, _x, y) => g.mul(y.add(1)),
  sqrt: (g, _x, y) => g.div(y.mul(2)),
  rsqrt: (g, _x, y) => g.mul(y.pow(3)).mul(-0.5),
  square: (g, x) => g.mul(x).mul(2),
  reciprocal: (g, _x, y) => g.mul(y.mul(y)).neg(),
  sin: (g, x) => g.mul(x.cos()),
  cos: (g, x) => g.mul(x.sin()).neg(),
  tan: (g, _x, y) => g.mul(y.mul(y).add(1)),
  asin: (g, x) => g.mul(x.mul(x).neg().add(1).rsqrt()),
  acos: (g, x) => g.mul(x.mul(x).neg().add(1).rsqrt()).neg(),
  atan: (g, x) => g.div(x.mul(x).add(1)),
  sinh: (g, x) => g.mul(x.cosh()),
  cosh: (g, x) => g.mul(x.sinh()),
  tanh: (g, _x, y) => g.mul(y.mul(y).neg().add(1)),
  sigmoid: (g, _x, y) => g.mul(y.mul(y.neg().add(1))),
  // Without a graph of the backward pass, one fused kernel instead of a comparison and a where.
  relu: (g, _x, y) =>
    isGradEnabled() ? g.where(y.gt(0), 0) : fromStorage(g.storage.backend.reluBackward(g, y), g.shape),
  erf: (g, x) =>
    g.mul(
      x
        .mul(x)
        .neg()
        .exp()
        .mul(2 / Math.sqrt(Math.PI)),
    ),
};

/** Names used for graph nodes. */
const NODE_NAMES: Partial<Record<UnaryOp, string>> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' };

/** Piecewise-constant ops (floor, ceil, round, trunc, sign): recorded with a zero gradient, like PyTorch. */
function zeroGrad(y: Tensor, x: Tensor, op: UnaryOp): Tensor {
  return record(y, op.charAt(0).toUpperCase() + op.slice(1), [x], (g) => [zerosLike(g)]);
}

function unary(op: UnaryOp, x: Tensor): Tensor {
  const y = unaryRaw(op, x);
  const rule = RULES[op];
  if (!rule) return zeroGrad(y, x, op);
  const name = NODE_NAMES[op] ?? op.charAt(0).toUpperCase() + op.slice(1);
  const src = isFloating(x.dtype) ? x : y;
  return record(y, name, [src], (g) => [rule(g, src, y)], [src, y]);
}

/** -x, keeping integer dtypes. */
export function neg(x: Tensor): Tensor {
  if (x.dtype === 'bool')
    throw new DTypeError('neg: negation of a bool tensor is not supported; use logicalNot');
  const y = unaryRaw('neg', x, false);
  return record(y, 'Neg', [x], (g) => [g.neg()]);
}

/** |x|, keeping integer dtypes. */
export function abs(x: Tensor): Tensor {
  const y = unaryRaw('abs', x, false);
  return record(y, 'Abs', [x], (g) => [g.mul(x.sign())], [x]);
}

/** sign(x) in {-1, 0, 1}, keeping the dtype (zero gradient). */
export function sign(x: Tensor): Tensor {
  return zeroGrad(unaryRaw('sign', x, false), x, 'sign');
}

/** Logical not of a bool tensor (non-bool: x == 0). */
export function logicalNot(x: Tensor): Tensor {
  return fromStorage(x.storage.backend.unary('not', x, 'bool'), x.shape);
}

/** True where x is NaN. */
export function isnan(x: Tensor): Tensor {
  return fromStorage(x.storage.backend.unary('isnan', x, 'bool'), x.shape);
}

/** True where x is +-Inf. */
export function isinf(x: Tensor): Tensor {
  return fromStorage(x.storage.backend.unary('isinf', x, 'bool'), x.shape);
}

/** Elementwise exp. */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Elementwise natural log. */
export const log = (x: Tensor): Tensor => unary('log', x);
/** log(1 + x), accurate near 0. */
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
/** exp(x) - 1, accurate near 0. */
export const expm1 = (x: Tensor): Tensor => unary('expm1', x);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** 1 / sqrt(x). */
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
/** x * x. */
export const square = (x: Tensor): Tensor => (isFloating(x.dtype) ? unary('square', x) : x.mul(x));
/** 1 / x. */
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** Sine. */
export const sin = (x: Tensor): Tensor => unary('sin', x);
/** Cosine. */
export const cos = (x: Tensor): Tensor => unary('cos', x);
/** Tangent. */
export const tan = (x: Tensor): Tensor => unary('tan', x);
/** Arcsine. */
export const asin = (x: Tensor): Tensor => unary('asin', x);
/** Arccosine. */
export const acos = (x: Tensor): Tensor => unary('acos', x);
/** Arctangent. */
export const atan = (x: Tensor): Tensor => unary('atan', x);
/** Hyperbolic sine. */
export const sinh = (x: Tensor): Tensor => unary('sinh', x);
/** Hyperbolic cosine. */
export const cosh = (x: Tensor): Tensor => unary('cosh', x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** Logistic sigmoid 1 / (1 + exp(-x)), computed stably. */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** max(x, 0). */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** Gauss error function. */
export const erf = (x: Tensor): Tensor => unary('erf', x);
/** Round down (zero gradient). */
export const floor = (x: Tensor): Tensor => (isFloating(x.dtype) ? unary('floor', x) : x);
/** Round up (zero gradient). */
export const ceil = (x: Tensor): Tensor => (isFloating(x.dtype) ? unary('ceil', x) : x);
/** Round half to even (zero gradient). */
export const round = (x: Tensor): Tensor => (isFloating(x.dtype) ? unary('round', x) : x);
/** Round toward zero (zero gradient). */
export const trunc = (x: Tensor): Tensor => (isFloating(x.dtype) ? unary('trunc', x) : x);

/** Elementwise `cond ? a : b` with broadcasting (cond must be bool). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (cond.dtype !== 'bool')
    throw new DTypeError(`where: condition must be a bool tensor, got ${cond.dtype}`);
  const dt = resultType(a, b);
  const x = asTensor(a, dt);
  const y = asTensor(b, dt);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, x.shape), y.shape);
  const out = fromStorage(cond.storage.backend.where(cond, x, y, shape, dt), shape);
  return record(out, 'Where', [x, y], (g, needs) => [
    needs[0] ? sumToShape(g.where(cond, 0), x.shape) : null,
    needs[1] ? sumToShape(g.where(cond.logicalNot(), 0), y.shape) : null,
  ]);
}

/** Clamps into [min, max] (either bound may be omitted or a tensor); gradient passes where not clamped. */
export function clamp(x: Tensor, min?: TensorLike | null, max?: TensorLike | null): Tensor {
  if ((min === undefined || min === null) && (max === undefined || max === null)) {
    throw new ValueError('clamp: at least one of min or max must be given');
  }
  let y = x;
  if (min !== undefined && min !== null) y = clampSide(y, min, true);
  if (max !== undefined && max !== null) y = clampSide(y, max, false);
  return y;
}

/**
 * One side of clamp: the gradient goes to x where x is within the bound (bound reached still passes).
 * NaN in x is kept (the test is "not beyond the bound"), as in PyTorch.
 */
function clampSide(x: Tensor, m: TensorLike, lower: boolean): Tensor {
  const dt = resultType(x, m);
  const xt = asTensor(x, dt);
  const mt = asTensor(m, dt);
  const keep = (lower ? xt.lt(mt) : xt.gt(mt)).logicalNot();
  const out = xt.where(keep, mt).detach();
  const lowerName = lower ? 'ClampMin' : 'ClampMax';
  return record(out, lowerName, [xt, mt], (g, needs) => [
    needs[0] ? g.where(keep, 0) : null,
    needs[1] ? sumToShape(g.where(keep.logicalNot(), 0), mt.shape) : null,
  ]);
}

declare module '../core/tensor.js' {
  interface Tensor {
    /** -this. */
    neg(): Tensor;
    /** |this|. */
    abs(): Tensor;
    /** sign(this). */
    sign(): Tensor;
    /** exp(this). */
    exp(): Tensor;
    /** log(this). */
    log(): Tensor;
    /** log(1 + this). */
    log1p(): Tensor;
    /** exp(this) - 1. */
    expm1(): Tensor;
    /** sqrt(this). */
    sqrt(): Tensor;
    /** 1 / sqrt(this). */
    rsqrt(): Tensor;
    /** this * this. */
    square(): Tensor;
    /** 1 / this. */
    reciprocal(): Tensor;
    /** sin(this). */
    sin(): Tensor;
    /** cos(this). */
    cos(): Tensor;
    /** tan(this). */
    tan(): Tensor;
    /** asin(this). */
    asin(): Tensor;
    /** acos(this). */
    acos(): Tensor;
    /** atan(this). */
    atan(): Tensor;
    /** sinh(this). */
    sinh(): Tensor;
    /** cosh(this). */
    cosh(): Tensor;
    /** tanh(this). */
    tanh(): Tensor;
    /** sigmoid(this). */
    sigmoid(): Tensor;
    /** relu(this). */
    relu(): Tensor;
    /** erf(this). */
    erf(): Tensor;
    /** floor(this). */
    floor(): Tensor;
    /** ceil(this). */
    ceil(): Tensor;
    /** round(this), half to even. */
    round(): Tensor;
    /** trunc(this). */
    trunc(): Tensor;
    /** Logical not. */
    logicalNot(): Tensor;
    /** True where NaN. */
    isnan(): Tensor;
    /** True where +-Inf. */
    isinf(): Tensor;
    /** `cond ? this : other` (PyTorch's `x.where(cond, y)`). */
    where(cond: Tensor, other: TensorLike): Tensor;
    /** Clamps into [min, max]. */
    clamp(min?: TensorLike | null, max?: TensorLike | null): Tensor;
  }
}

const P = Tensor.prototype;
const methods: Record<string, (x: Tensor) => Tensor> = {
  neg,
  abs,
  sign,
  exp,
  log,
  log1p,
  expm1,
  sqrt,
  rsqrt,
  square,
  reciprocal,
  sin,
  cos,
  tan,
  asin,
  acos,
  atan,
  sinh,
  cosh,
  tanh,
  sigmoid,
  relu,
  erf,
  floor,
  ceil,
  round,
  trunc,
  logicalNot,
  isnan,
  isinf,
};
for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(P, name, {
    value: function (this: Tensor) {
      return fn(this);
    },
    writable: true,
    configurable: true,
  });
}
P.where = function (cond, other) {
  return where(cond, this, other);
};
P.clamp = function (min, max) {
  return clamp(this, min, max);
};
