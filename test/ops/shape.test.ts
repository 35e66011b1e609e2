import { describe, expect, it } from 'vitest';
import {
  arange,
  cat,
  chunk,
  flip,
  get,
  gradcheck,
  gradgradcheck,
  IndexError,
  type IndexItem,
  narrow,
  type PadOptions,
  pad,
  repeat,
  roll,
  ShapeError,
  select,
  slice,
  split,
  stack,
  type Tensor,
  tensor,
  tile,
  tril,
  triu,
  unbind,
  ValueError,
  zeros,
} from '../../src/index.js';
import { checkReference } from '../helpers/reference.js';

/** The same non-contiguous transforms as scripts/reference/shape.py (applied to the first input). */
function pre(x: Tensor, kind: unknown): Tensor {
  if (kind === 't') return x.transpose(-1, -2);
  if (kind === 'step') return x.slice(-1, null, null, 2);
  return x;
}

const T = (v: unknown): Tensor => v as Tensor;
const first = (xs: unknown[], k: Record<string, unknown>): Tensor[] =>
  xs.map((x, i) => (i === 0 ? pre(T(x), k.pre) : T(x)));

const f64 = (shape: number[], seed = 0): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + seed) + i * 0.01);
  return tensor(data, { shape, dtype: 'float64' });
};

describe('shape ops: PyTorch reference', () => {
  it('matches forward values and gradients', () => {
    const n = checkReference('shape', {
      cat: (xs, k) => cat(first(xs, k), k.dim as number),
      stack: (xs, k) => stack(first(xs, k), k.dim as number),
      split: ([x], k) => split(pre(T(x), k.pre), k.s as number | number[], k.dim as number),
      chunk: ([x], k) => chunk(pre(T(x), k.pre), k.n as number, k.dim as number),
      unbind: ([x], k) => unbind(pre(T(x), k.pre), k.dim as number),
      narrow: ([x], k) => narrow(pre(T(x), k.pre), k.dim as number, k.start as number, k.length as number),
      select: ([x], k) => select(pre(T(x), k.pre), k.dim as number, k.index as number),
      slice: ([x], k) =>
        slice(
          pre(T(x), k.pre),
          k.dim as number,
          k.start as number | null,
          k.end as number | null,
          k.step as number,
        ),
      get: ([x], k) => get(pre(T(x), k.pre), ...(k.items as IndexItem[])),
      flip: ([x], k) => flip(pre(T(x), k.pre), k.dims as number[]),
      roll: ([x], k) =>
        roll(pre(T(x), k.pre), k.shifts as number | number[], (k.dims ?? undefined) as number | number[]),
      repeat: ([x], k) => repeat(pre(T(x), k.pre), k.sizes as number[]),
      tile: ([x], k) => tile(pre(T(x), k.pre), k.reps as number[]),
      pad: ([x], k) =>
        pad(pre(T(x), k.pre), k.pad as number[], {
          mode: k.mode as PadOptions['mode'],
          value: k.mode === 'constant' ? (k.value as number) : undefined,
        }),
      tri: ([x], k) => (k.fn === 'tril' ? tril : triu)(pre(T(x), k.pre), k.diagonal as number),
    });
    expect(n).toBeGreaterThan(60);
  });
});

describe('slicing views', () => {
  const x = arange(0, 24, 1, { dtype: 'float64' }).reshape(2, 3, 4);
  it('narrow, select, slice, get, split, chunk and unbind share storage', () => {
    for (const v of [
      narrow(x, 1, 1, 2),
      select(x, -1, 2),
      slice(x, 2, 1, null, 2),
      get(x, 0, [1, null], [null, null, 2]),
      ...split(x, 2, 2),
      ...chunk(x, 2, 1),
      ...unbind(x, 0),
    ]) {
      expect(v.storage).toBe(x.storage);
    }
  });
  it('get follows Python indexing', () => {
    expect(get(x, 0, [1, null], [null, null, 2]).toArray()).toEqual([
      [4, 6],
      [8, 10],
    ]);
    expect(x.get(1, 2, 3).item()).toBe(23);
    expect(x.get(1, 2, 3).shape).toEqual([]);
    expect(x.get('...', 0).toArray()).toEqual([
      [0, 4, 8],
      [12, 16, 20],
    ]);
    expect(x.get(-1, '1:', '::3').toArray()).toEqual([
      [16, 19],
      [20, 23],
    ]);
    expect(x.get(null, 'newaxis', -1, ':2').shape).toEqual([2, 1, 2]);
    expect(x.get(0, '...', 'newaxis').shape).toEqual([3, 4, 1]);
    expect(x.get().shape).toEqual([2, 3, 4]);
    expect(x.get([5]).shape).toEqual([0, 3, 4]);
  });
  it('writes into a view are visible in the base', () => {
    const base = zeros([3, 4]);
    const v = base.get([1, null], [null, null, 2]);
    v.storage.backend.fill(v, 7);
    expect(base.toArray()).toEqual([
      [0, 0, 0, 0],
      [7, 0, 7, 0],
      [7, 0, 7, 0],
    ]);
  });
  it('slice clamps out-of-range bounds and may be empty', () => {
    expect(slice(x, 2, -100, 100).shape).toEqual([2, 3, 4]);
    expect(slice(x, 2, 3, 1).shape).toEqual([2, 3, 0]);
    expect(slice(x, 1, null, -1).toArray()).toEqual(x.get(null, ':-1').toArray());
  });
  it('split and chunk sizes follow PyTorch', () => {
    const v = arange(0, 5);
    expect(split(v, 2).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4]]);
    expect(split(v, [1, 0, 4]).map((t) => t.shape[0])).toEqual([1, 0, 4]);
    expect(chunk(arange(0, 6), 4).map((t) => t.shape[0])).toEqual([2, 2, 2]);
    expect(chunk(zeros([0]), 3).map((t) => t.shape[0])).toEqual([0, 0, 0]);
    expect(split(zeros([0, 2]), 3).map((t) => t.shape)).toEqual([[0, 2]]);
  });
});

describe('copies and dtypes', () => {
  it('cat promotes dtypes and skips legacy empty tensors', () => {
    const a = tensor([1, 2]);
    const b = tensor([0.5], { dtype: 'float64' });
    const c = cat([a, b]);
    expect(c.dtype).toBe('float64');
    expect(c.toArray()).toEqual([1, 2, 0.5]);
    expect(cat([tensor([true]), tensor([3])]).toArray()).toEqual([1, 3]);
    expect(cat([zeros([0]), zeros([2, 2])], 1).shape).toEqual([2, 2]);
  });
  it('cat and stack of non-contiguous inputs', () => {
    const m = arange(0, 6).reshape(2, 3);
    expect(cat([m.t(), m.t()], 1).toArray()).toEqual([
      [0, 3, 0, 3],
      [1, 4, 1, 4],
      [2, 5, 2, 5],
    ]);
    expect(stack([m.get(null, 0), m.get(null, 2)], 1).toArray()).toEqual([
      [0, 2],
      [3, 5],
    ]);
  });
  it('flip, roll, repeat, tile, pad and tril return new storage', () => {
    const m = arange(0, 6, 1, { dtype: 'float32' }).reshape(2, 3);
    for (const y of [flip(m, 0), roll(m, 0, 0), repeat(m, [1, 1]), tile(m, [1]), pad(m, [0, 0]), tril(m)]) {
      expect(y.storage).not.toBe(m.storage);
    }
    expect(pad(m, [1, 0], { mode: 'reflect' }).storage).not.toBe(m.storage);
  });
  it('int and bool inputs keep their dtype', () => {
    const m = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(tril(m).dtype).toBe('int32');
    expect(triu(m.gt(1)).dtype).toBe('bool');
    expect(triu(m.gt(1)).toArray()).toEqual([
      [false, true],
      [false, true],
    ]);
    expect(pad(m, [1, 1], { value: 9 }).toArray()).toEqual([
      [9, 1, 2, 9],
      [9, 3, 4, 9],
    ]);
    expect(flip(m, [0, 1]).toArray()).toEqual([
      [4, 3],
      [2, 1],
    ]);
    expect(roll(m, 1).toArray()).toEqual([
      [4, 1],
      [2, 3],
    ]);
  });
  it('zero-size dims', () => {
    const e = zeros([0, 3]);
    expect(cat([e, zeros([2, 3])]).shape).toEqual([2, 3]);
    expect(stack([e, e]).shape).toEqual([2, 0, 3]);
    expect(flip(e, 0).shape).toEqual([0, 3]);
    expect(roll(e, 2, 0).shape).toEqual([0, 3]);
    expect(repeat(e, [2, 2]).shape).toEqual([0, 6]);
    expect(pad(e, [1, 1]).shape).toEqual([0, 5]);
    expect(pad(e, [1, 1, 1, 0]).toArray()).toEqual([[0, 0, 0, 0, 0]]);
    expect(tril(e).shape).toEqual([0, 3]);
  });
});

describe('shape ops: gradcheck', () => {
  const x = f64([3, 4, 5]).requiresGrad_();
  const y = f64([3, 2, 5], 1).requiresGrad_();
  it.each<[string, (a: Tensor, b: Tensor) => Tensor]>([
    ['cat', (a, b) => cat([a, b.mul(2), a.get(null, [0, 1])], 1)],
    ['cat of transposed inputs', (a, b) => cat([a.transpose(0, 2), b.transpose(0, 2)], 1)],
    ['stack', (a, b) => stack([a.get(null, [0, 2]), b], -2)],
    ['split', (a) => split(a, [1, 3], 1)[1]!.mul(split(a, 2, 1)[0]!.sum())],
    ['chunk', (a) => chunk(a, 2, -1)[1]!],
    ['unbind', (a, b) => unbind(a, 1)[2]!.add(unbind(b, 1)[0]!)],
    ['narrow of a transpose', (a) => narrow(a.transpose(0, 2), 0, 1, 3)],
    ['select', (a) => select(a, 1, -1)],
    ['slice with step', (a) => slice(a, 2, -4, null, 2)],
    ['get', (a) => get(a, '...', 'newaxis', [1, null, 3])],
    ['get of a strided tensor', (a) => get(a.get(null, null, '::2'), 1, [null, null, 2])],
    ['flip', (a) => flip(a, [0, -1])],
    ['roll', (a) => roll(a, [1, -2], [0, 2])],
    ['roll flattened', (a) => roll(a, 7)],
    ['repeat', (a) => repeat(a, [2, 1, 1, 2])],
    ['tile', (a) => tile(a.get(0), [3])],
    ['pad constant with crop', (a) => pad(a, [-1, 2, 1, 0], { value: 2 })],
    ['pad reflect', (a) => pad(a, [2, 3, 1, 1], { mode: 'reflect' })],
    ['pad replicate', (a) => pad(a, [3, 1], { mode: 'replicate' })],
    ['pad circular', (a) => pad(a, [0, 2, 4, 1], { mode: 'circular' })],
    ['tril', (a) => tril(a, 1)],
    ['triu of a transpose', (a) => triu(a.transpose(0, 2), -1)],
  ])('%s', (_name, f) => {
    expect(gradcheck(f, [x, y])).toBe(true);
  });

  it('gradgradcheck: cat, get, pad, roll, flip', () => {
    const a = f64([2, 3, 4]).requiresGrad_();
    const b = f64([2, 1, 4], 2).requiresGrad_();
    expect(gradgradcheck((p, q) => cat([p, q], 1).pow(2), [a, b])).toBe(true);
    expect(gradgradcheck((p) => get(p, 1, [1, null], '::2').pow(3), [a])).toBe(true);
    expect(gradgradcheck((p) => pad(p, [1, 2, -1, 1], { value: 1 }).pow(2), [a])).toBe(true);
    expect(gradgradcheck((p) => pad(p, [2, 1], { mode: 'reflect' }).pow(2), [a])).toBe(true);
    expect(gradgradcheck((p) => roll(flip(p, 1), 1, 2).pow(2), [a])).toBe(true);
  });
});

describe('shape op errors', () => {
  const x = zeros([2, 3, 4]);
  it('cat and stack', () => {
    expect(() => cat([])).toThrow(/cat: expected a non-empty list/);
    expect(() => cat([x, zeros([2, 3])])).toThrow(ShapeError);
    expect(() => cat([x, zeros([2, 3])])).toThrow(
      /cat: tensors must have the same number of dims: tensor 0 has shape \[2,3,4\], tensor 1 has shape \[2,3\]/,
    );
    expect(() => cat([x, zeros([2, 5, 4])], 0)).toThrow(
      /cat: sizes must match except in dim 0: .* tensor 1 has shape \[2,5,4\] \(dim 1: 3 vs 5\)/,
    );
    expect(() => cat([x, x], 3)).toThrow(/cat: dim 3 out of range for a 3-d tensor/);
    expect(() => cat([zeros([])])).toThrow(/cat: zero-dimensional tensors cannot be concatenated/);
    expect(() => stack([])).toThrow(/stack: expected a non-empty list/);
    expect(() => stack([x, zeros([2, 3, 5])])).toThrow(
      /stack: expects each tensor to be equal size, but got \[2,3,4\] at entry 0 and \[2,3,5\] at entry 1/,
    );
    expect(() => stack([x], 4)).toThrow(/stack: dim 4 out of range for a 4-d tensor/);
  });
  it('narrow, select, slice, get', () => {
    expect(() => narrow(x, 1, 2, 2)).toThrow(IndexError);
    expect(() => narrow(x, 1, 2, 2)).toThrow(/narrow: start 2 \+ length 2 exceeds size 3 of dim 1/);
    expect(() => narrow(x, 1, -4, 1)).toThrow(/narrow: start -4 is out of range for dim 1 with size 3/);
    expect(() => narrow(zeros([]), 0, 0, 1)).toThrow(/narrow: cannot narrow a 0-d tensor/);
    expect(() => select(x, 2, 4)).toThrow(/select: index 4 is out of range for dim 2 with size 4/);
    expect(() => slice(x, 0, 0, 2, 0)).toThrow(/slice: step must be a positive integer, got 0/);
    expect(() => slice(x, 0, 0, 2, -1)).toThrow(ValueError);
    expect(() => slice(x, 5)).toThrow(/slice: dim 5 out of range/);
    expect(() => get(x, 0, 0, 0, 0)).toThrow(/get: too many indices for a 3-d tensor of shape \[2,3,4\]: 4/);
    expect(() => get(x, 0, 3)).toThrow(/get: index 3 is out of range for dim 1 with size 3/);
    expect(() => get(x, '...', '...')).toThrow(/get: an index can only have a single ellipsis/);
    expect(() => get(x, 'abc')).toThrow(/get: cannot parse index 'abc'/);
    expect(() => get(x, '1:x')).toThrow(/get: cannot parse index '1:x'/);
    expect(() => get(x, '::-1')).toThrow(/get: step must be a positive integer, got -1/);
    expect(() => get(x, [0, 1, 1, 1])).toThrow(/get: a slice has at most 3 entries/);
  });
  it('split, chunk, unbind', () => {
    expect(() => split(x, 0, 1)).toThrow(/split: split size must be a positive integer, got 0/);
    expect(() => split(x, [1, 1], 1)).toThrow(
      /split: sizes \[1,1\] must be non-negative integers summing to 3/,
    );
    expect(() => chunk(x, 0)).toThrow(/chunk: number of chunks must be a positive integer, got 0/);
    expect(() => unbind(zeros([]))).toThrow(/unbind: cannot unbind a 0-d tensor/);
  });
  it('flip, roll, repeat', () => {
    expect(() => flip(x, [0, 0])).toThrow(/flip: dim \[0,0\] appears more than once/);
    expect(() => flip(x, 3)).toThrow(/flip: dim 3 out of range/);
    expect(() => roll(x, [1, 2])).toThrow(/roll: without dims, shifts must be a single number/);
    expect(() => roll(x, [1, 2], [0])).toThrow(
      /roll: shifts \[1,2\] and dims \[0\] must have the same length/,
    );
    expect(() => roll(x, 1, 3)).toThrow(/roll: dim 3 out of range/);
    expect(() => repeat(x, [2, 2])).toThrow(
      /repeat: number of repeat dims \(2\) cannot be smaller than the number of tensor dims \(3/,
    );
    expect(() => repeat(x, [1, -1, 1])).toThrow(/repeat: repeats must be non-negative integers/);
  });
  it('pad', () => {
    expect(() => pad(x, [1])).toThrow(/pad: padding length 1 must be even and at most 2 \* ndim \(6\)/);
    expect(() => pad(x, [1, 1, 1, 1, 1, 1, 1, 1])).toThrow(/pad: padding length 8 must be even/);
    expect(() => pad(x, [4, 0], { mode: 'reflect' })).toThrow(
      /pad: reflect padding \(4, 0\) of dim 2 must be smaller than its size 4/,
    );
    expect(() => pad(x, [-1, 0], { mode: 'replicate' })).toThrow(
      /pad: negative padding \(-1, 0\) of dim 2 is only supported in constant mode/,
    );
    expect(() => pad(x, [0, 5], { mode: 'circular' })).toThrow(
      /pad: circular padding \(0, 5\) of dim 2 must be at most its size 4/,
    );
    expect(() => pad(zeros([2, 0]), [1, 1], { mode: 'replicate' })).toThrow(
      /pad: cannot replicate-pad dim 1 of size 0/,
    );
    expect(() => pad(x, [-3, -2])).toThrow(/pad: padding \(-3, -2\) of dim 2 gives a negative size -1/);
    expect(() => pad(x, [1, 1], { mode: 'reflect', value: 2 })).toThrow(
      /pad: mode 'reflect' does not take a value/,
    );
    expect(() => pad(x, [1, 1], { mode: 'wrap' as PadOptions['mode'] })).toThrow(/pad: unknown mode 'wrap'/);
  });
  it('tril and triu', () => {
    expect(() => tril(zeros([3]))).toThrow(/tril: input must have at least 2 dims, got shape \[3\]/);
    expect(() => triu(x, 0.5)).toThrow(/triu: diagonal must be an integer, got 0.5/);
  });
});

describe('tile varargs and tensor indices in get', () => {
  it('tile takes reps as varargs or an array, like torch.Tensor.tile', () => {
    const x = arange(2);
    expect(x.tile(2).toArray()).toEqual([0, 1, 0, 1]);
    expect(x.tile(2, 1).toArray()).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(x.tile([2]).toArray()).toEqual(tile(x, [2]).toArray());
  });
  it('get refuses tensor indices instead of ignoring them', () => {
    const x = arange(4);
    const mask = tensor([true, false, true, false]);
    expect(() => get(x, mask as unknown as IndexItem)).toThrow(IndexError);
    expect(() => get(x, mask as unknown as IndexItem)).toThrow(
      /get: tensor indices are not supported \(index of shape \[4\], dtype bool\); use maskedSelect/,
    );
    expect(x.maskedSelect(mask).toArray()).toEqual([0, 2]);
  });
});
