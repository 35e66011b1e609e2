/**
 * Elementwise binary ops with broadcasting: arithmetic (with gradients), comparisons and logic.
 * @module
 */
import type { BinaryOp } from '../backends/backend.js';
import { type DType, isFloating } from '../core/dtype.js';
import { DTypeError } from '../core/errors.js';
import { broadcastShapes } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { asTensor, fromStorage, record, resultType, sumToShape, type TensorLike } from './util.js';

/** Runs a binary kernel on two operands promoted to `dtype`, producing `outDtype`. */
export function binaryRaw(op: BinaryOp, name: string, a: Tensor, b: Tensor, outDtype: DType): Tensor {
  const shape = broadcastShapes(name, a.shape, b.shape);
  return fromStorage(a.storage.backend.binary(op, a, b, shape, outDtype), shape);
}

/** b * alpha, keeping a JS scalar b a scalar (so that `add(x, 2, { alpha: 3 })` works). */
function scaled(b: TensorLike, alpha: number): TensorLike {
  return b instanceof Tensor ? mul(b, alpha) : Number(b) * alpha;
}

function operands(name: string, a: TensorLike, b: TensorLike, dtype?: DType): [Tensor, Tensor, DType] {
  const dt = dtype ?? resultType(a, b);
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new DTypeError(`${name}: at least one argument must be a tensor`);
  }
  return [asTensor(a, dt), asTensor(b, dt), dt];
}

/** a + alpha * b, broadcasting. */
export function add(a: TensorLike, b: TensorLike, options: { alpha?: number } = {}): Tensor {
  if (options.alpha !== undefined && options.alpha !== 1) return add(a, scaled(b, options.alpha));
  const [x, y, dt] = operands('add', a, b);
  // bool + bool is logical or (as in PyTorch); the add kernel would store 2.
  const out = binaryRaw(dt === 'bool' ? 'or' : 'add', 'add', x, y, dt);
  return record(out, 'Add', [x, y], (g, needs) => [
    needs[0] ? sumToShape(g, x.shape) : null,
    needs[1] ? sumToShape(g, y.shape) : null,
  ]);
}

/** a - alpha * b, broadcasting. */
export function sub(a: TensorLike, b: TensorLike, options: { alpha?: number } = {}): Tensor {
  if (options.alpha !== undefined && options.alpha !== 1) return sub(a, scaled(b, options.alpha));
  const [x, y, dt] = operands('sub', a, b);
  if (dt === 'bool')
    throw new DTypeError('sub: subtraction of bool tensors is not supported; use logicalXor');
  const out = binaryRaw('sub', 'sub', x, y, dt);
  return record(out, 'Sub', [x, y], (g, needs) => [
    needs[0] ? sumToShape(g, x.shape) : null,
    needs[1] ? sumToShape(g.neg(), y.shape) : null,
  ]);
}

/** a * b, broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y, dt] = operands('mul', a, b);
  const out = binaryRaw(dt === 'bool' ? 'and' : 'mul', 'mul', x, y, dt);
  return record(
    out,
    'Mul',
    [x, y],
    (g, needs) => [
      needs[0] ? sumToShape(g.mul(y), x.shape) : null,
      needs[1] ? sumToShape(g.mul(x), y.shape) : null,
    ],
    [x, y],
  );
}

/** True division a / b (integer inputs give float32, like PyTorch). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  let [x, y, dt] = operands('div', a, b);
  if (!isFloating(dt)) {
    dt = 'float32';
    x = x.to(dt);
    y = y.to(dt);
  }
  const out = binaryRaw('div', 'div', x, y, dt);
  return record(
    out,
    'Div',
    [x, y],
    (g, needs) => [
      needs[0] ? sumToShape(g.div(y), x.shape) : null,
      needs[1] ? sumToShape(g.mul(x).div(y.mul(y)).neg(), y.shape) : null,
    ],
    [x, y],
  );
}

/**
 * a ** b elementwise. The gradient w.r.t. a is taken as 0 where b == 0 (no 0 * inf at a == 0); the one
 * w.r.t. b uses log(a) and is taken as 0 where a == 0 and b >= 0 (like PyTorch).
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [x, y, dt] = operands('pow', a, b);
  const out = binaryRaw('pow', 'pow', x, y, dt);
  return record(
    out,
    'Pow',
    [x, y],
    (g, needs) => {
      const ga = needs[0] ? g.mul(y.mul(x.pow(y.sub(1)))).where(y.ne(0), 0) : null;
      const gb = needs[1] ? g.mul(out.mul(x.log())).where(x.ne(0).logicalOr(y.lt(0)), 0) : null;
      return [ga && sumToShape(ga, x.shape), gb && sumToShape(gb, y.shape)];
    },
    [x, y, out],
  );
}

/** Elementwise maximum (gradient split evenly at ties, like PyTorch). */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return minmax('maximum', a, b);
}

/** Elementwise minimum (gradient split evenly at ties, like PyTorch). */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return minmax('minimum', a, b);
}

function minmax(op: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const [x, y, dt] = operands(op, a, b);
  const out = binaryRaw(op, op, x, y, dt);
  return record(
    out,
    op === 'maximum' ? 'Maximum' : 'Minimum',
    [x, y],
    (g) => {
      const win = op === 'maximum' ? x.gt(y) : x.lt(y);
      const tie = x.eq(y);
      const half = g.mul(0.5);
      const gx = g.where(win, 0).add(half.where(tie, 0));
      const gy = g.sub(gx);
      return [sumToShape(gx, x.shape), sumToShape(gy, y.shape)];
    },
    [x, y],
  );
}

/** Elementwise atan2(a, b). */
export function atan2(a: TensorLike, b: TensorLike): Tensor {
  let [x, y, dt] = operands('atan2', a, b);
  if (!isFloating(dt)) {
    dt = 'float32';
    x = x.to(dt);
    y = y.to(dt);
  }
  const out = binaryRaw('atan2', 'atan2', x, y, dt);
  return record(
    out,
    'Atan2',
    [x, y],
    (g) => {
      const den = x.mul(x).add(y.mul(y));
      return [sumToShape(g.mul(y).div(den), x.shape), sumToShape(g.mul(x).neg().div(den), y.shape)];
    },
    [x, y],
  );
}

function compare(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(op, a, b);
  return binaryRaw(op, op, x, y, 'bool');
}

/** a == b elementwise (bool). */
export const eq = (a: TensorLike, b: TensorLike): Tensor => compare('eq', a, b);
/** a != b elementwise (bool). */
export const ne = (a: TensorLike, b: TensorLike): Tensor => compare('ne', a, b);
/** a < b elementwise (bool). */
export const lt = (a: TensorLike, b: TensorLike): Tensor => compare('lt', a, b);
/** a <= b elementwise (bool). */
export const le = (a: TensorLike, b: TensorLike): Tensor => compare('le', a, b);
/** a > b elementwise (bool). */
export const gt = (a: TensorLike, b: TensorLike): Tensor => compare('gt', a, b);
/** a >= b elementwise (bool). */
export const ge = (a: TensorLike, b: TensorLike): Tensor => compare('ge', a, b);

/** Logical ops treat non-zero as true (any dtype, like PyTorch and `logicalNot`); the result is bool. */
function logical(op: 'and' | 'or' | 'xor', name: string, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(name, a, b);
  return binaryRaw(op, name, x, y, 'bool');
}

/** Elementwise logical and (non-zero counts as true). */
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => logical('and', 'logicalAnd', a, b);
/** Elementwise logical or (non-zero counts as true). */
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => logical('or', 'logicalOr', a, b);
/** Elementwise logical xor (non-zero counts as true). */
export const logicalXor = (a: TensorLike, b: TensorLike): Tensor => logical('xor', 'logicalXor', a, b);

declare module '../core/tensor.js' {
  interface Tensor {
    /** this + alpha * other. */
    add(other: TensorLike, options?: { alpha?: number }): Tensor;
    /** this - alpha * other. */
    sub(other: TensorLike, options?: { alpha?: number }): Tensor;
    /** this * other. */
    mul(other: TensorLike): Tensor;
    /** this / other (true division). */
    div(other: TensorLike): Tensor;
    /** this ** exponent. */
    pow(exponent: TensorLike): Tensor;
    /** Elementwise maximum. */
    maximum(other: TensorLike): Tensor;
    /** Elementwise minimum. */
    minimum(other: TensorLike): Tensor;
    /** atan2(this, other). */
    atan2(other: TensorLike): Tensor;
    /** this == other. */
    eq(other: TensorLike): Tensor;
    /** this != other. */
    ne(other: TensorLike): Tensor;
    /** this < other. */
    lt(other: TensorLike): Tensor;
    /** this <= other. */
    le(other: TensorLike): Tensor;
    /** this > other. */
    gt(other: TensorLike): Tensor;
    /** this >= other. */
    ge(other: TensorLike): Tensor;
    /** Logical and (bool). */
    logicalAnd(other: TensorLike): Tensor;
    /** Logical or (bool). */
    logicalOr(other: TensorLike): Tensor;
    /** Logical xor (bool). */
    logicalXor(other: TensorLike): Tensor;
  }
}

const P = Tensor.prototype;
P.add = function (o, opts) {
  return add(this, o, opts);
};
P.sub = function (o, opts) {
  return sub(this, o, opts);
};
P.mul = function (o) {
  return mul(this, o);
};
P.div = function (o) {
  return div(this, o);
};
P.pow = function (o) {
  return pow(this, o);
};
P.maximum = function (o) {
  return maximum(this, o);
};
P.minimum = function (o) {
  return minimum(this, o);
};
P.atan2 = function (o) {
  return atan2(this, o);
};
P.eq = function (o) {
  return eq(this, o);
};
P.ne = function (o) {
  return ne(this, o);
};
P.lt = function (o) {
  return lt(this, o);
};
P.le = function (o) {
  return le(this, o);
};
P.gt = function (o) {
  return gt(this, o);
};
P.ge = function (o) {
  return ge(this, o);
};
P.logicalAnd = function (o) {
  return logicalAnd(this, o);
};
P.logicalOr = function (o) {
  return logicalOr(this, o);
};
P.logicalXor = function (o) {
  return logicalXor(this, o);
};
