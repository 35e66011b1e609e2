import { describe, expect, it } from 'vitest';
import {
  abs,
  acos,
  asin,
  atan,
  ceil,
  clamp,
  cos,
  cosh,
  DTypeError,
  erf,
  exp,
  expm1,
  floor,
  gradcheck,
  gradgradcheck,
  log,
  log1p,
  logicalNot,
  neg,
  randn,
  reciprocal,
  relu,
  round,
  rsqrt,
  ShapeError,
  sigmoid,
  sign,
  sin,
  sinh,
  sqrt,
  square,
  type Tensor,
  type TensorLike,
  tan,
  tanh,
  tensor,
  trunc,
  ValueError,
  where,
  zeros,
} from '../../src/index.js';
import { checkReference, type RefImpl } from '../helpers/reference.js';
import { strided46 } from '../helpers/views.js';

const T = (v: unknown): Tensor => v as Tensor;
const B = (v: unknown): TensorLike | null => v as TensorLike | null;

const UNARY: Record<string, (x: Tensor) => Tensor> = {
  neg,
  abs,
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
  sign,
};

const impls: Record<string, RefImpl> = {
  logical_not: ([x]) => logicalNot(T(x)),
  clamp: ([x, lo, hi]) => clamp(T(x), B(lo), B(hi)),
  clamp_t: ([x, lo, hi]) => clamp(T(x).t(), B(lo), B(hi)),
  where: ([c, a, b]) => where(T(c), B(a)!, B(b)!),
  where_t: ([c, a, b]) => where(T(c), T(a).t(), B(b)!),
};
for (const [name, fn] of Object.entries(UNARY)) {
  impls[name] = ([x]) => fn(T(x));
  impls[`${name}_t`] = ([x]) => fn(T(x).t());
  impls[`${name}_strided`] = ([x]) => fn(strided46(T(x)));
}

const f64 = (shape: number[], lo = -1, hi = 1): Tensor =>
  randn(shape, { dtype: 'float64' })
    .sigmoid()
    .mul(hi - lo)
    .add(lo)
    .detach()
    .requiresGrad_();

/** Input ranges inside each op's domain (and away from kinks) for finite differences. */
const DOMAIN: Record<string, [number, number]> = {
  log: [0.2, 3],
  log1p: [-0.8, 2],
  sqrt: [0.2, 3],
  rsqrt: [0.2, 3],
  reciprocal: [0.3, 3],
  tan: [-1.2, 1.2],
  asin: [-0.9, 0.9],
  acos: [-0.9, 0.9],
  abs: [0.1, 2],
  relu: [0.1, 2],
};

describe('unary ops: PyTorch reference', () => {
  it('matches forward values, dtypes and gradients', () => {
    const n = checkReference('unary', impls, { checkDtype: true });
    expect(n).toBeGreaterThan(150);
  });
});

describe('unary ops: gradcheck', () => {
  for (const [name, fn] of Object.entries(UNARY)) {
    it(`${name} (plain, transposed, strided, 0-d, size-0)`, () => {
      const [lo, hi] = DOMAIN[name] ?? [-2, 2];
      const sgn = name === 'abs' || name === 'relu' ? -1 : 1;
      expect(gradcheck(fn, [f64([3, 4], lo, hi)])).toBe(true);
      if (sgn < 0) expect(gradcheck(fn, [f64([3, 4], -hi, -lo)])).toBe(true);
      expect(gradcheck((x) => fn(x.t()), [f64([4, 3], lo, hi)])).toBe(true);
      expect(gradcheck((x) => fn(strided46(x)), [f64([4, 6], lo, hi)])).toBe(true);
      expect(gradcheck(fn, [f64([], lo, hi)])).toBe(true);
      expect(gradcheck((x) => fn(x).sum(), [f64([0, 3], lo, hi)])).toBe(true);
    });
  }
  it('clamp with scalar and tensor bounds', () => {
    expect(gradcheck((x) => clamp(x, -0.5, 0.5), [f64([3, 4], -2, 2)])).toBe(true);
    expect(gradcheck((x) => clamp(x, 0.1), [f64([3, 4], -2, 2)])).toBe(true);
    expect(gradcheck((x) => clamp(x, null, 0.1), [f64([3, 4], -2, 2)])).toBe(true);
    const lo = f64([4], -1.5, -0.5);
    const hi = f64([3, 1], 0.5, 1.5);
    expect(gradcheck((x, a, b) => clamp(x, a, b), [f64([3, 4], -2, 2), lo, hi])).toBe(true);
  });
  it('where with broadcasting', () => {
    const c = tensor([true, false, true, false]);
    expect(gradcheck((a, b) => where(c, a, b), [f64([3, 1]), f64([1, 4])])).toBe(true);
    expect(gradcheck((a) => where(c.reshape(2, 2), a, 3), [f64([2, 2])])).toBe(true);
  });
  it('second order (gradgradcheck)', () => {
    for (const fn of [exp, log, sqrt, rsqrt, sin, tan, asin, atan, tanh, sigmoid, erf, reciprocal, cosh]) {
      expect(gradgradcheck(fn, [f64([2, 3], 0.2, 0.9)])).toBe(true);
    }
    const c = tensor([true, false, true]);
    expect(gradgradcheck((a, b) => where(c, a.mul(a), b.exp()), [f64([3]), f64([3])])).toBe(true);
  });
});

describe('unary ops: semantics', () => {
  it('piecewise-constant ops keep autograd with a zero gradient (like PyTorch)', () => {
    for (const fn of [floor, ceil, round, trunc, sign]) {
      const x = tensor([-1.5, 0.2, 2.7], { dtype: 'float64', requiresGrad: true });
      const y = fn(x);
      expect(y.requiresGrad).toBe(true);
      y.sum().backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 0]);
    }
  });
  it('round is half to even', () => {
    expect(round(tensor([0.5, 1.5, 2.5, -0.5, -2.5])).toArray()).toEqual([0, 2, 2, -0, -2]);
  });
  it('integer inputs: float ops compute in float32, neg/abs/sign keep int32', () => {
    const i = tensor([-4, 0, 9]);
    expect(exp(i).dtype).toBe('float32');
    expect(sqrt(abs(i)).toArray()).toEqual([2, 0, 3]);
    expect(neg(i).dtype).toBe('int32');
    expect(sign(i).toArray()).toEqual([-1, 0, 1]);
    expect(floor(i).dtype).toBe('int32');
  });
  it('clamp propagates NaN and passes the gradient at the bounds', () => {
    const y = clamp(tensor([Number.NaN, -3, 3]), -1, 1).toArray() as number[];
    expect(Number.isNaN(y[0]!)).toBe(true);
    expect(y.slice(1)).toEqual([-1, 1]);
    const x = tensor([-1, 0, 1, 2], { dtype: 'float64', requiresGrad: true });
    clamp(x, -1, 1).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([1, 1, 1, 0]);
  });
  it('clamp with tensor bounds sends gradients to the bounds', () => {
    const x = tensor([-2, 0, 2], { dtype: 'float64', requiresGrad: true });
    const lo = tensor([-1, -1, -1], { dtype: 'float64', requiresGrad: true });
    const hi = tensor(1, { dtype: 'float64', requiresGrad: true });
    clamp(x, lo, hi).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 1, 0]);
    expect(Array.from(lo.grad!.dataSync())).toEqual([1, 0, 0]);
    expect(hi.grad!.item()).toBe(1);
  });
  it('sigmoid is stable for large inputs', () => {
    const y = sigmoid(tensor([-1000, 1000], { dtype: 'float64' })).toArray();
    expect(y).toEqual([0, 1]);
  });
  it('logicalNot of floats tests for zero', () => {
    expect(logicalNot(tensor([0, 1.5])).toArray()).toEqual([true, false]);
    expect(tensor([true, false]).logicalNot().toArray()).toEqual([false, true]);
  });
  it('tensor methods dispatch to the functions', () => {
    const x = tensor([0.25, 0.5], { dtype: 'float64' });
    expect(x.exp().toArray()).toEqual([Math.exp(0.25), Math.exp(0.5)]);
    expect(x.sqrt().toArray()).toEqual([0.5, Math.sqrt(0.5)]);
    expect(x.clamp(0.3, null).toArray()).toEqual([0.3, 0.5]);
    expect(x.where(tensor([true, false]), 7).toArray()).toEqual([0.25, 7]);
    expect(x.neg().abs().toArray()).toEqual([0.25, 0.5]);
  });
});

describe('unary ops: errors', () => {
  it('clamp needs a bound', () => {
    expect(() => clamp(zeros([2]))).toThrow(ValueError);
    expect(() => clamp(zeros([2]))).toThrow(/clamp: at least one of min or max/);
  });
  it('clamp bounds must broadcast to the input', () => {
    expect(() => clamp(zeros([2, 3]), zeros([2]))).toThrow(ShapeError);
  });
  it('where needs a bool condition and broadcastable operands', () => {
    expect(() => where(zeros([2]), zeros([2]), zeros([2]))).toThrow(DTypeError);
    expect(() => where(zeros([2]), zeros([2]), zeros([2]))).toThrow(
      /where: condition must be a bool tensor, got float32/,
    );
    expect(() => where(tensor([true, false]), zeros([3]), 1)).toThrow(/where: shapes \[2\] and \[3\]/);
  });
  it('neg of bool is refused', () => {
    expect(() => neg(tensor([true]))).toThrow(/neg: negation of a bool tensor is not supported/);
  });
});
