import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  add,
  atan2,
  broadcastShapes,
  DTypeError,
  div,
  eq,
  ge,
  gradcheck,
  gradgradcheck,
  gt,
  le,
  logicalAnd,
  logicalOr,
  logicalXor,
  lt,
  maximum,
  minimum,
  mul,
  ne,
  pow,
  randn,
  ShapeError,
  sub,
  type Tensor,
  type TensorLike,
  tensor,
  zeros,
} from '../../src/index.js';
import { checkReference, type RefImpl } from '../helpers/reference.js';
import { strided46 } from '../helpers/views.js';

type Bin = (a: TensorLike, b: TensorLike, opts?: { alpha?: number }) => Tensor;

const T = (v: unknown): Tensor => v as Tensor;
const S = (v: unknown): TensorLike => v as TensorLike;

function variants(name: string, fn: Bin): Record<string, RefImpl> {
  return {
    [name]: ([a, b], kw) => fn(S(a), S(b), kw as { alpha?: number }),
    [`${name}_t`]: ([a, b]) => fn(T(a).t(), S(b)),
    [`${name}_tt`]: ([a, b]) => fn(T(a).t(), T(b).t()),
    [`${name}_strided`]: ([a, b]) => fn(strided46(T(a)), S(b)),
    [`${name}_scalar`]: ([a, b], kw) => fn(S(a), S(b), kw as { alpha?: number }),
    [`${name}_rscalar`]: ([a, b]) => fn(S(a), S(b)),
  };
}

const impls: Record<string, RefImpl> = {
  ...variants('add', add),
  ...variants('sub', sub),
  ...variants('mul', mul),
  ...variants('div', div),
  ...variants('pow', pow),
  ...variants('maximum', maximum),
  ...variants('minimum', minimum),
  ...variants('atan2', atan2),
  ...variants('eq', eq),
  ...variants('ne', ne),
  ...variants('lt', lt),
  ...variants('le', le),
  ...variants('gt', gt),
  ...variants('ge', ge),
  ...variants('logical_and', logicalAnd),
  ...variants('logical_or', logicalOr),
  ...variants('logical_xor', logicalXor),
};

const f64 = (shape: number[]): Tensor => randn(shape, { dtype: 'float64' }).requiresGrad_();
const pos64 = (shape: number[]): Tensor =>
  randn(shape, { dtype: 'float64' }).abs().add(0.5).detach().requiresGrad_();

describe('binary ops: PyTorch reference', () => {
  it('matches forward values, dtypes and gradients', () => {
    const n = checkReference('binary', impls, { checkDtype: true });
    expect(n).toBeGreaterThan(100);
  });
});

describe('binary ops: gradcheck', () => {
  const shapes: [number[], number[]][] = [
    [
      [3, 4],
      [3, 4],
    ],
    [
      [3, 1],
      [1, 4],
    ],
    [[4], [2, 3, 4]],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [[], [2, 3]],
    [
      [2, 0],
      [2, 1],
    ],
  ];
  const ops: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['add', (a, b) => add(a, b)],
    ['add alpha', (a, b) => add(a, b, { alpha: -1.5 })],
    ['sub', (a, b) => sub(a, b)],
    ['sub alpha', (a, b) => sub(a, b, { alpha: 2 })],
    ['mul', mul],
    ['div', div],
    ['pow', pow],
    ['maximum', maximum],
    ['minimum', minimum],
    ['atan2', atan2],
  ];
  for (const [name, fn] of ops) {
    it(`${name} over broadcast, 0-d and size-0 shapes`, () => {
      for (const [sa, sb] of shapes) {
        const a = name === 'pow' ? pos64(sa) : f64(sa);
        const b = name === 'div' ? pos64(sb) : f64(sb);
        expect(gradcheck(fn, [a, b])).toBe(true);
      }
    });
    it(`${name} on transposed and strided inputs`, () => {
      const a = name === 'pow' ? pos64([4, 3]) : f64([4, 3]);
      const b = name === 'div' ? pos64([3, 4]) : f64([3, 4]);
      expect(gradcheck((x, y) => fn(x.t(), y), [a, b])).toBe(true);
      const c = name === 'pow' ? pos64([4, 6]) : f64([4, 6]);
      const d = name === 'div' ? pos64([2, 3]) : f64([2, 3]);
      expect(gradcheck((x, y) => fn(strided46(x), y), [c, d])).toBe(true);
    });
  }
  it('with python scalars on either side', () => {
    const a = f64([2, 3]);
    expect(gradcheck((x) => add(x, 2.5, { alpha: 3 }), [a])).toBe(true);
    expect(gradcheck((x) => sub(1.5, x), [a])).toBe(true);
    expect(gradcheck((x) => div(2, x.abs().add(0.5)), [a])).toBe(true);
    expect(gradcheck((x) => pow(x, 3), [a])).toBe(true);
    expect(gradcheck((x) => pow(1.7, x), [a])).toBe(true);
  });
  it('second order (gradgradcheck)', () => {
    expect(gradgradcheck(mul, [f64([3, 1]), f64([4])])).toBe(true);
    expect(gradgradcheck(div, [f64([2, 3]), pos64([3])])).toBe(true);
    expect(gradgradcheck(pow, [pos64([2, 3]), f64([2, 3])])).toBe(true);
    expect(gradgradcheck(atan2, [f64([2, 3]), pos64([2, 3])])).toBe(true);
  });
});

describe('binary ops: semantics', () => {
  it('pow has finite gradients at a zero base', () => {
    const x = tensor([0, 0, 0, 2], { dtype: 'float64', requiresGrad: true });
    const y = tensor([0, 1, 2, 0], { dtype: 'float64', requiresGrad: true });
    pow(x, y).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 1, 0, 0]);
    expect(Array.from(y.grad!.dataSync())).toEqual([0, 0, 0, Math.log(2)]);
  });
  it('maximum/minimum split the gradient evenly at ties', () => {
    const a = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const b = tensor([1, 1, 3], { dtype: 'float64', requiresGrad: true });
    maximum(a, b).sum().backward();
    expect(Array.from(a.grad!.dataSync())).toEqual([0.5, 1, 0.5]);
    expect(Array.from(b.grad!.dataSync())).toEqual([0.5, 0, 0.5]);
  });
  it('bool + bool is logical or, bool * bool logical and (values stay 0/1)', () => {
    const a = tensor([true, true, false, false]);
    const b = tensor([true, false, true, false]);
    const s = add(a, b);
    expect(s.dtype).toBe('bool');
    expect(Array.from(s.dataSync())).toEqual([1, 1, 1, 0]);
    expect(Array.from(mul(a, b).dataSync())).toEqual([1, 0, 0, 0]);
    expect(add(a, true).dtype).toBe('bool');
    expect(add(a, 2).dtype).toBe('int32');
  });
  it('type promotion', () => {
    const i = tensor([1, 2, 3]);
    const f = tensor([0.5, 1.5, 2.5]);
    expect(i.dtype).toBe('int32');
    expect(add(i, f).dtype).toBe('float32');
    expect(div(i, i).dtype).toBe('float32');
    expect(div(i, 2).toArray()).toEqual([0.5, 1, 1.5]);
    expect(add(f, 0.1).dtype).toBe('float32');
    expect(add(f, f.double()).dtype).toBe('float64');
    expect(add(f, tensor(1, { dtype: 'float64' })).dtype).toBe('float32');
    expect(add(i, 0.5).dtype).toBe('float32');
    expect(mul(i, 2).dtype).toBe('int32');
    expect(lt(i, 2.5).toArray()).toEqual([true, true, false]);
  });
  it('float32 + float64 sends a float32 gradient back to the float32 input', () => {
    const a = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const b = tensor([3, 4], { dtype: 'float64', requiresGrad: true });
    mul(a, b).sum().backward();
    expect(a.grad!.dtype).toBe('float32');
    expect(b.grad!.dtype).toBe('float64');
    expect(a.grad!.toArray()).toEqual([3, 4]);
  });
  it('comparisons and logical ops give bool and no gradient', () => {
    const a = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const c = gt(a, 1.5);
    expect(c.dtype).toBe('bool');
    expect(c.requiresGrad).toBe(false);
    expect(logicalAnd(c, tensor([true, false, true])).toArray()).toEqual([false, false, true]);
    expect(logicalOr(tensor([0, 1, 0]), tensor([0, 0, 2])).toArray()).toEqual([false, true, true]);
  });
  it('keeps integer arithmetic in int32', () => {
    const a = tensor([7, -7]);
    expect(sub(a, 2).toArray()).toEqual([5, -9]);
    expect(mul(a, tensor([2, 3])).toArray()).toEqual([14, -21]);
  });
  it('tensor methods dispatch to the functions', () => {
    const a = tensor([1, 2, 3], { dtype: 'float64' });
    expect(a.add(1, { alpha: 2 }).toArray()).toEqual([3, 4, 5]);
    expect(a.sub(a).toArray()).toEqual([0, 0, 0]);
    expect(a.pow(2).toArray()).toEqual([1, 4, 9]);
    expect(a.maximum(2).toArray()).toEqual([2, 2, 3]);
    expect(a.minimum(2).toArray()).toEqual([1, 2, 2]);
    expect(a.ne(2).toArray()).toEqual([true, false, true]);
    expect(a.le(2).toArray()).toEqual([true, true, false]);
    expect(a.ge(2).toArray()).toEqual([false, true, true]);
    expect(a.eq(2).toArray()).toEqual([false, true, false]);
  });
});

describe('binary ops: errors', () => {
  it('names the op and both shapes when broadcasting fails', () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(ShapeError);
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(/add: shapes \[2,3\] and \[4\] cannot be broadcast/);
    expect(() => mul(zeros([2, 3]), zeros([3, 2]))).toThrow(/mul: shapes \[2,3\] and \[3,2\]/);
    expect(() => div(zeros([5]), zeros([2]))).toThrow(/div: shapes \[5\] and \[2\]/);
    expect(() => maximum(zeros([5]), zeros([2]))).toThrow(/maximum: shapes \[5\] and \[2\]/);
    expect(() => lt(zeros([5]), zeros([2]))).toThrow(/lt: shapes \[5\] and \[2\]/);
  });
  it('rejects bool subtraction and two scalars', () => {
    expect(() => sub(tensor([true]), tensor([false]))).toThrow(DTypeError);
    expect(() => sub(tensor([true]), tensor([false]))).toThrow(/sub: subtraction of bool tensors/);
    expect(() => add(1, 2)).toThrow(/add: at least one argument must be a tensor/);
  });
});

describe('broadcasting: properties', () => {
  // Two shapes that broadcast: each dim of a common shape is kept, or set to 1 in one operand
  // (broadcasting both ways), and either operand may drop leading dims.
  const pairArb = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 })), {
      minLength: 0,
      maxLength: 4,
    })
    .chain((dims) =>
      fc.tuple(
        fc.constant(dims),
        fc.integer({ min: 0, max: dims.length }),
        fc.integer({ min: 0, max: dims.length }),
      ),
    )
    .map(([dims, dropA, dropB]) => {
      const full = dims.map(([n]) => n);
      const a = dims.map(([n, w]) => (w === 1 ? 1 : n)).slice(dropA);
      const b = dims.map(([n, w]) => (w === 2 ? 1 : n)).slice(dropB);
      return { full, a, b };
    });

  /** Element of `t` at `idx` (an index into the broadcast shape of rank `rank`). */
  const at = (t: Tensor, data: ArrayLike<number>, idx: number[]): number => {
    const lead = idx.length - t.ndim;
    let off = 0;
    t.shape.forEach((n, k) => {
      off = off * n + (n === 1 ? 0 : idx[lead + k]!);
    });
    return data[off]!;
  };

  it('broadcastShapes is symmetric and add/mul agree with elementwise indexing, both ways', () => {
    fc.assert(
      fc.property(pairArb, fc.integer({ min: 0, max: 1000 }), ({ a, b }, seed) => {
        const out = broadcastShapes('add', a, b);
        expect(broadcastShapes('add', b, a)).toEqual(out);
        const x = randn(a, { dtype: 'float64' });
        const y = randn(b, { dtype: 'float64' }).add(seed);
        const s = x.add(y);
        const p = y.mul(x);
        expect(s.shape).toEqual(out);
        expect(p.shape).toEqual(out);
        const xd = x.dataSync();
        const yd = y.dataSync();
        const sd = s.dataSync();
        const pd = p.dataSync();
        const idx = new Array<number>(out.length).fill(0);
        for (let i = 0; i < sd.length; i++) {
          let r = i;
          for (let k = out.length - 1; k >= 0; k--) {
            idx[k] = r % out[k]!;
            r = Math.floor(r / out[k]!);
          }
          expect(sd[i]).toBe(at(x, xd, idx) + at(y, yd, idx));
          expect(pd[i]).toBe(at(y, yd, idx) * at(x, xd, idx));
        }
      }),
      { numRuns: 80 },
    );
  });

  it('gradients of broadcast inputs have the input shapes and sum over the broadcast dims', () => {
    fc.assert(
      fc.property(pairArb, ({ a, b }) => {
        const x = randn(a, { dtype: 'float64', requiresGrad: true });
        const y = randn(b, { dtype: 'float64', requiresGrad: true });
        const out = broadcastShapes('mul', a, b);
        x.mul(y).sum().backward();
        expect(x.grad!.shape).toEqual(a);
        expect(y.grad!.shape).toEqual(b);
        // d/dx sum(x*y) = y expanded to the output shape, summed back to x's shape
        const n = out.reduce((m, v) => m * v, 1);
        const expX = y.detach().expand(out).contiguous();
        const gx = x.grad!.dataSync();
        const total = Array.from(gx).reduce((m, v) => m + v, 0);
        expect(total).toBeCloseTo(n === 0 ? 0 : expX.sum().item(), 9);
        if (x.numel() > 0 && y.numel() > 0 && n > 0) {
          expect(
            gradcheck((p, q) => p.mul(q).add(q), [x.detach().requiresGrad_(), y.detach().requiresGrad_()]),
          ).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });
});
