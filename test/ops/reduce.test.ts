import { describe, expect, it } from 'vitest';
import {
  amax,
  amin,
  argmax,
  argmin,
  cumprod,
  cumsum,
  DTypeError,
  gradcheck,
  gradgradcheck,
  IndexError,
  logsumexp,
  type MinMaxResult,
  max,
  mean,
  min,
  norm,
  prod,
  randn,
  std,
  sum,
  type Tensor,
  tensor,
  ValueError,
  var as variance,
  zeros,
} from '../../src/index.js';
import { checkReference, type RefImpl } from '../helpers/reference.js';
import { stridedLast } from '../helpers/views.js';

type Kw = Record<string, unknown>;

/** The input view named by the case's `pre` kwarg (see scripts/reference/reduce.py). */
function pre(v: unknown, kw: Kw): Tensor {
  const x = v as Tensor;
  switch (kw.pre) {
    case 't':
      return x.transpose(-1, -2);
    case 's':
      return stridedLast(x);
    case 'e':
      return x.expand(2, 3, 4);
    default:
      return x;
  }
}

const dimOf = (kw: Kw): number | number[] | undefined =>
  (kw.dim ?? undefined) as number | number[] | undefined;
const keep = (kw: Kw): { keepdim: boolean } => ({ keepdim: Boolean(kw.keepdim) });
const pOf = (kw: Kw): number => {
  const p = kw.p ?? 2;
  if (p === 'inf') return Number.POSITIVE_INFINITY;
  if (p === '-inf') return Number.NEGATIVE_INFINITY;
  return p as number;
};

function minmax(fn: typeof max): RefImpl {
  return ([x], kw) => {
    const d = dimOf(kw);
    if (d === undefined) return fn(pre(x, kw));
    const r: MinMaxResult = fn(pre(x, kw), d as number, keep(kw));
    return [r.values, r.indices];
  };
}

const impls: Record<string, RefImpl> = {
  sum: ([x], kw) => sum(pre(x, kw), dimOf(kw), keep(kw)),
  mean: ([x], kw) => mean(pre(x, kw), dimOf(kw), keep(kw)),
  prod: ([x], kw) => prod(pre(x, kw), dimOf(kw), keep(kw)),
  max: minmax(max),
  min: minmax(min),
  amax: ([x], kw) => amax(pre(x, kw), dimOf(kw), keep(kw)),
  amin: ([x], kw) => amin(pre(x, kw), dimOf(kw), keep(kw)),
  var: ([x], kw) => variance(pre(x, kw), { ...kw, dim: dimOf(kw) }),
  std: ([x], kw) => pre(x, kw).std({ ...kw, dim: dimOf(kw) }),
  logsumexp: ([x], kw) => logsumexp(pre(x, kw), dimOf(kw), keep(kw)),
  argmax: ([x], kw) => argmax(pre(x, kw), dimOf(kw) as number | undefined, keep(kw)),
  argmin: ([x], kw) => argmin(pre(x, kw), dimOf(kw) as number | undefined, keep(kw)),
  norm: ([x], kw) => norm(pre(x, kw), pOf(kw), dimOf(kw), keep(kw)),
  cumsum: ([x], kw) => cumsum(pre(x, kw), kw.dim as number),
  cumprod: ([x], kw) => cumprod(pre(x, kw), kw.dim as number),
};

const f64 = (shape: number[]): Tensor => randn(shape, { dtype: 'float64' }).requiresGrad_();
const t64 = (data: number[][] | number[]): Tensor => tensor(data, { dtype: 'float64', requiresGrad: true });

describe('reductions against PyTorch', () => {
  it('match forward values and gradients (float64 and float32)', () => {
    const n = checkReference('reduce', impls, { checkDtype: true });
    expect(n).toBeGreaterThan(200);
  });
});

describe('tensor methods', () => {
  it('max/min without and with a dim', () => {
    const x = tensor([
      [1, 5, 2],
      [7, 0, 7],
    ]);
    expect(x.max().item()).toBe(7);
    expect(x.min().item()).toBe(0);
    expect(x.max().shape).toEqual([]);
    const r = x.max(1);
    expect(r.values.toArray()).toEqual([5, 7]);
    expect(r.indices.toArray()).toEqual([1, 0]);
    expect(r.indices.dtype).toBe('int32');
    const k = x.min(0, { keepdim: true });
    expect(k.values.shape).toEqual([1, 3]);
    expect(k.indices.toArray()).toEqual([[0, 1, 0]]);
    expect(x.max(tensor([[2, 2, 2]])).toArray()).toEqual([
      [2, 5, 2],
      [7, 2, 7],
    ]);
    expect(x.min(tensor(3)).toArray()).toEqual([
      [1, 3, 2],
      [3, 0, 3],
    ]);
  });

  it('var/std/prod/amax/argmax/logsumexp/norm/cumsum/cumprod methods', () => {
    const x = tensor(
      [
        [1, 2, 4],
        [3, 3, 9],
      ],
      { dtype: 'float64' },
    );
    const close = (t: Tensor, want: number[]): void =>
      want.forEach((w, i) => {
        expect(t.dataSync()[i]).toBeCloseTo(w, 12);
      });
    close(x.var({ dim: 1 }), [7 / 3, 12]);
    close(x.var(1, { unbiased: false }), [14 / 9, 8]);
    close(x.std({ dim: 0, correction: 0 }), [1, 0.5, 2.5]);
    expect(x.var({ dim: [0, 1], keepdim: true }).shape).toEqual([1, 1]);
    expect(x.prod(1).toArray()).toEqual([8, 81]);
    expect(x.amax([0, 1]).item()).toBe(9);
    expect(x.amin(0).toArray()).toEqual([1, 2, 4]);
    expect(x.argmax().item()).toBe(5);
    expect(x.argmin(1, { keepdim: true }).toArray()).toEqual([[0], [0]]);
    expect(x.logsumexp(1).dataSync()[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(4)), 12);
    expect(x.norm().item()).toBeCloseTo(Math.sqrt(1 + 4 + 16 + 9 + 9 + 81), 12);
    expect(x.norm(1, 1).toArray()).toEqual([7, 15]);
    expect(x.cumsum(1).toArray()).toEqual([
      [1, 3, 7],
      [3, 6, 15],
    ]);
    expect(x.cumprod(0).toArray()).toEqual([
      [1, 2, 4],
      [3, 6, 36],
    ]);
    expect(x.norm('fro').item()).toBeCloseTo(x.norm(2).item(), 12);
  });

  it('keeps dtypes like PyTorch (int sums, bool max, float32 stays float32)', () => {
    expect(tensor([true, false, true]).sum().dtype).toBe('int32');
    expect(tensor([true, false]).max().dtype).toBe('bool');
    expect(tensor([1, 2, 3]).prod().item()).toBe(6);
    expect(tensor([1, 2, 3]).cumsum(0).dtype).toBe('int32');
    expect(tensor([1.5, 2]).var().dtype).toBe('float32');
    expect(tensor([1, 2]).sum(0, { dtype: 'float64' }).dtype).toBe('float64');
    expect(tensor([1, 2]).mean(undefined, { dtype: 'float64' }).item()).toBe(1.5);
  });

  it('zero-size tensors: sum is 0, prod is 1, mean is NaN', () => {
    expect(zeros([2, 0]).sum().item()).toBe(0);
    expect(zeros([0]).prod().item()).toBe(1);
    expect(Number.isNaN(zeros([0, 3]).mean().item())).toBe(true);
    expect(zeros([0, 3]).max(1).values.shape).toEqual([0]);
    expect(zeros([0, 3]).amax(1).shape).toEqual([0]);
    expect(zeros([2, 0]).logsumexp(1).toArray()).toEqual([
      Number.NEGATIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    expect(zeros([2, 0]).norm(2, 1).toArray()).toEqual([0, 0]);
    expect(zeros([2, 0]).cumsum(1).shape).toEqual([2, 0]);
  });

  it('0-d tensors reduce over dim 0 / -1 to themselves', () => {
    const s = tensor(3.5, { dtype: 'float64', requiresGrad: true });
    expect(s.sum(0).item()).toBe(3.5);
    expect(s.max(-1).values.item()).toBe(3.5);
    expect(s.max(0).indices.item()).toBe(0);
    expect(s.argmax().item()).toBe(0);
    expect(s.cumprod(0).item()).toBe(3.5);
    expect(s.amax().item()).toBe(3.5);
  });

  it('large reductions with non-adjacent dims agree with a plain loop', () => {
    const x = randn([5, 6, 7, 8], { dtype: 'float64' });
    const d = x.dataSync();
    const s = x.sum([1, 3]).dataSync();
    const m = x.amax([0, 2]).dataSync();
    for (let a = 0; a < 5; a++) {
      for (let c = 0; c < 7; c++) {
        let acc = 0;
        for (let b = 0; b < 6; b++) for (let e = 0; e < 8; e++) acc += d[((a * 6 + b) * 7 + c) * 8 + e]!;
        expect(s[a * 7 + c]).toBeCloseTo(acc, 10);
      }
    }
    for (let b = 0; b < 6; b++) {
      for (let e = 0; e < 8; e++) {
        let best = Number.NEGATIVE_INFINITY;
        for (let a = 0; a < 5; a++)
          for (let c = 0; c < 7; c++) best = Math.max(best, d[((a * 6 + b) * 7 + c) * 8 + e]!);
        expect(m[b * 8 + e]).toBe(best);
      }
    }
  });
});

describe('gradcheck', () => {
  const x = (): Tensor => f64([2, 3, 4]);
  it('sum / mean / prod', () => {
    expect(gradcheck((a) => a.sum([0, 2], { keepdim: true }), [x()])).toBe(true);
    expect(gradcheck((a) => a.mean(-1), [x()])).toBe(true);
    expect(gradcheck((a) => a.transpose(0, 2).mean([0, 1]), [x()])).toBe(true);
    expect(gradcheck((a) => a.prod(1), [x()])).toBe(true);
    expect(gradcheck((a) => a.prod([0, 2]), [x()])).toBe(true);
    expect(gradcheck((a) => a.prod(), [f64([5])])).toBe(true);
  });

  it('prod with zeros in the input', () => {
    const z = t64([
      [2, 0, 3, 1.5],
      [0, 1, 0, 2],
      [1, 2, 3, 4],
    ]);
    expect(gradcheck((a) => a.prod(1), [z])).toBe(true);
    expect(gradcheck((a) => a.prod(0, { keepdim: true }), [z])).toBe(true);
  });

  it('max / min / amax / amin', () => {
    expect(gradcheck((a) => a.max(), [x()])).toBe(true);
    expect(gradcheck((a) => a.max(1).values, [x()])).toBe(true);
    expect(gradcheck((a) => a.min(-1, { keepdim: true }).values, [x()])).toBe(true);
    expect(gradcheck((a) => a.amax([0, 2]), [x()])).toBe(true);
    expect(gradcheck((a) => a.amin([1], { keepdim: true }), [x()])).toBe(true);
    expect(gradcheck((a) => a.min(), [x()])).toBe(true);
  });

  it('var / std / logsumexp / norm', () => {
    expect(gradcheck((a) => a.var({ dim: 1 }), [x()])).toBe(true);
    expect(gradcheck((a) => a.var({ dim: [0, 2], correction: 0, keepdim: true }), [x()])).toBe(true);
    expect(gradcheck((a) => a.std(), [x()])).toBe(true);
    expect(gradcheck((a) => a.std(-1, { unbiased: false }), [x()])).toBe(true);
    expect(gradcheck((a) => a.logsumexp([0, 2]), [x()])).toBe(true);
    expect(gradcheck((a) => a.mul(300).logsumexp(1), [x()])).toBe(true);
    for (const p of [2, 1, 3, 0.5, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(gradcheck((a) => a.norm(p, 1), [x()])).toBe(true);
    }
    expect(gradcheck((a) => a.norm(), [x()])).toBe(true);
  });

  it('cumsum / cumprod (also with zeros)', () => {
    expect(gradcheck((a) => a.cumsum(1), [x()])).toBe(true);
    expect(gradcheck((a) => a.transpose(0, 2).cumsum(-1), [x()])).toBe(true);
    expect(gradcheck((a) => a.cumprod(2), [x()])).toBe(true);
    const z = t64([
      [2, 0, 3, 1.5, -1],
      [0.5, 2, 0, 4, 0],
      [0, 0, 1, 2, 3],
    ]);
    expect(gradcheck((a) => a.cumprod(1), [z])).toBe(true);
    expect(gradcheck((a) => a.cumprod(0), [z])).toBe(true);
  });

  it('second order (gradgradcheck)', () => {
    expect(gradgradcheck((a) => a.prod(1), [x()])).toBe(true);
    expect(gradgradcheck((a) => a.var({ dim: 1 }), [x()])).toBe(true);
    expect(gradgradcheck((a) => a.std(0), [x()])).toBe(true);
    expect(gradgradcheck((a) => a.logsumexp(-1), [x()])).toBe(true);
    expect(gradgradcheck((a) => a.norm(2, 1), [x()])).toBe(true);
    expect(gradgradcheck((a) => a.norm(3, [0, 2]), [x()])).toBe(true);
    expect(gradgradcheck((a) => a.cumsum(1), [x()])).toBe(true);
    expect(gradgradcheck((a) => a.cumprod(-1), [x()])).toBe(true);
    expect(gradgradcheck((a) => a.amax(1).mul(a.amax(1)), [x()])).toBe(true);
    expect(gradgradcheck((a) => a.max(1).values.exp(), [x()])).toBe(true);
    expect(gradgradcheck((a) => a.mean(1).square(), [x()])).toBe(true);
  });

  it('subgradients at 0 / ties follow PyTorch', () => {
    const z = t64([
      [0, 0, 0],
      [3, 0, -4],
    ]);
    z.norm(2, 1).sum().backward();
    expect(z.grad!.toArray()).toEqual([
      [0, 0, 0],
      [0.6, 0, -0.8],
    ]);
    const c = t64([2, 2, 2]);
    c.std().backward();
    expect(c.grad!.toArray()).toEqual([0, 0, 0]);
    const t = t64([1, 3, 3, 0]);
    t.max().backward();
    expect(t.grad!.toArray()).toEqual([0, 0.5, 0.5, 0]);
    const u = t64([1, 3, 3, 0]);
    u.max(0).values.backward();
    expect(u.grad!.toArray()).toEqual([0, 1, 0, 0]);
  });
});

describe('errors', () => {
  it('mean / var / std / logsumexp / norm need floating input', () => {
    const i = tensor([1, 2, 3]);
    expect(() => mean(i)).toThrow(DTypeError);
    expect(() => mean(i)).toThrow(/mean: expected a floating tensor.*int32/);
    expect(() => variance(i)).toThrow(/var: expected a floating tensor/);
    expect(() => std(i)).toThrow(/std: expected a floating tensor/);
    expect(() => logsumexp(i)).toThrow(/logsumexp: expected a floating tensor/);
    expect(() => norm(tensor([true]))).toThrow(/norm: expected a floating tensor.*bool/);
  });

  it('reductions without identity on empty dims name the op and shape', () => {
    expect(() => zeros([2, 0]).max(1)).toThrow(ValueError);
    expect(() => zeros([2, 0]).max(1)).toThrow(/max: cannot reduce over dim 1 of size 0 \(shape \[2,0\]\)/);
    expect(() => zeros([2, 0]).max()).toThrow(/max: cannot reduce an empty tensor \(shape \[2,0\]\)/);
    expect(() => zeros([0]).min()).toThrow(/min: cannot reduce an empty tensor \(shape \[0\]\)/);
    expect(() => zeros([3, 0]).amax()).toThrow(/amax: cannot reduce an empty tensor \(shape \[3,0\]\)/);
    expect(() => zeros([3, 0]).amax([0, 1])).toThrow(/amax: cannot reduce over dim 1 of size 0/);
    expect(() => zeros([3, 0]).amin(1)).toThrow(/amin: cannot reduce over dim 1 of size 0 \(shape \[3,0\]\)/);
    expect(() => zeros([0, 2]).argmax()).toThrow(/argmax: cannot reduce an empty tensor \(shape \[0,2\]\)/);
    expect(() => zeros([0, 2]).argmin(0)).toThrow(/argmin: cannot reduce over dim 0 of size 0/);
    expect(() => zeros([0, 2]).norm(Number.POSITIVE_INFINITY, 0)).toThrow(
      /norm: cannot reduce over dim 0 of size 0/,
    );
  });

  it('bad dims and arguments', () => {
    const x = zeros([2, 3]);
    expect(() => x.sum(2)).toThrow(IndexError);
    expect(() => x.max(-3)).toThrow(/max: dim -3 out of range for a 2-d tensor/);
    expect(() => x.amax([0, 0])).toThrow(/amax: dim \[0,0\] appears more than once/);
    expect(() => x.var({ dim: 5 })).toThrow(/var: dim 5 out of range/);
    expect(() => x.cumsum(2)).toThrow(/cumsum: dim 2 out of range/);
    expect(() => x.cumprod(-3)).toThrow(/cumprod: dim -3 out of range/);
    expect(() => x.argmax(4)).toThrow(/argmax: dim 4 out of range/);
    expect(() => x.norm(Number.NaN)).toThrow(/norm: p must be a number/);
    expect(() => x.var({ correction: Number.POSITIVE_INFINITY })).toThrow(/var: correction must be finite/);
  });
});
