import { describe, expect, it } from 'vitest';
import {
  arange,
  bernoulli,
  DTypeError,
  empty,
  eye,
  full,
  fullLike,
  Generator,
  linspace,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  randperm,
  tensor,
  ValueError,
  zeros,
  zerosLike,
} from '../../src/index.js';

describe('tensor()', () => {
  it('infers dtype like PyTorch: integers -> int32, booleans -> bool, otherwise float32', () => {
    expect(tensor([1, 2, 3]).dtype).toBe('int32');
    expect(
      tensor([
        [1, 2],
        [3, 4],
      ]).dtype,
    ).toBe('int32');
    expect(tensor([true, false]).dtype).toBe('bool');
    expect(tensor([1, 2.5]).dtype).toBe('float32');
    expect(tensor(3).dtype).toBe('int32');
    expect(tensor(3.5).dtype).toBe('float32');
    expect(tensor(true).dtype).toBe('bool');
    // empty data is float32, as in PyTorch
    expect(tensor([]).dtype).toBe('float32');
    // integers outside int32 are stored as floats rather than wrapped
    expect(tensor([2 ** 40]).dtype).toBe('float32');
  });

  it('reads shapes from nested arrays, including scalars and zero-size dims', () => {
    expect(
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]).shape,
    ).toEqual([2, 3]);
    expect(tensor(7).shape).toEqual([]);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
    expect(tensor([[[1]], [[2]]]).shape).toEqual([2, 1, 1]);
    expect(
      tensor([
        [1, 2],
        [3, 4],
      ]).toArray(),
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('honours an explicit dtype (casting, truncating toward zero for int32)', () => {
    const a = tensor([1.7, -1.7, 0.2], { dtype: 'int32' });
    expect(Array.from(a.dataSync())).toEqual([1, -1, 0]);
    expect(tensor([1, 2], { dtype: 'float64' }).dataSync()).toBeInstanceOf(Float64Array);
    expect(tensor([0, 2, -1], { dtype: 'bool' }).toArray()).toEqual([false, true, true]);
    expect(tensor([true, false], { dtype: 'float32' }).toArray()).toEqual([1, 0]);
  });

  it('wraps typed arrays with their own dtype, with an optional shape', () => {
    expect(tensor(new Float64Array([1, 2])).dtype).toBe('float64');
    expect(tensor(new Float32Array([1, 2])).dtype).toBe('float32');
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(tensor(new Uint8Array([1, 0])).dtype).toBe('bool');
    const t = tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    expect(t.shape).toEqual([2, 3]);
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(Array.from(tensor(new Float32Array([1.9, -1.9]), { dtype: 'int32' }).dataSync())).toEqual([1, -1]);
    expect(tensor(new Float64Array([3, 0]), { dtype: 'bool' }).toArray()).toEqual([true, false]);
  });

  it('copies typed-array input (later writes to the source do not leak)', () => {
    const src = new Float32Array([1, 2]);
    const t = tensor(src);
    src[0] = 100;
    expect(t.toArray()).toEqual([1, 2]);
  });

  it('makes leaves that require grad only for floating dtypes', () => {
    const x = tensor([1.5, 2], { requiresGrad: true });
    expect(x.requiresGrad).toBe(true);
    expect(x.isLeaf).toBe(true);
    expect(() => tensor([1, 2], { requiresGrad: true })).toThrow(DTypeError);
    expect(() => tensor([1, 2], { requiresGrad: true })).toThrow(
      /tensor: only floating tensors can require gradients \(dtype int32\)/,
    );
  });

  it('rejects ragged arrays, bad elements and mismatched shapes with named errors', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ValueError);
    expect(() => tensor([[1, 2], [3]])).toThrow(
      /tensor: ragged nested array: expected length 2 at depth 1, got 1/,
    );
    expect(() => tensor([[1, 2], 3] as never)).toThrow(/tensor: ragged nested array/);
    expect(() => tensor(['a'] as never)).toThrow(/tensor: expected numbers or booleans, got string/);
    expect(() => tensor(new Float32Array(5), { shape: [2, 3] })).toThrow(
      /tensor: shape \[2,3\] needs 6 elements, the array has 5/,
    );
    expect(() => tensor(new Float32Array(2), { shape: [-2, -1] })).toThrow(/tensor: invalid shape \[-2,-1\]/);
  });
});

describe('constant fills', () => {
  it('zeros/ones/full/empty default to float32 and take dtype', () => {
    expect(zeros([2, 3]).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(zeros([2, 3]).dtype).toBe('float32');
    expect(ones([2], { dtype: 'int32' }).toArray()).toEqual([1, 1]);
    expect(full([2, 2], 7.5).toArray()).toEqual([
      [7.5, 7.5],
      [7.5, 7.5],
    ]);
    expect(full([2], true).dtype).toBe('bool');
    expect(full([2], true).toArray()).toEqual([true, true]);
    expect(full([], 3, { dtype: 'float64' }).item()).toBe(3);
    expect(empty([0, 4]).shape).toEqual([0, 4]);
    expect(zeros([3, 0, 2]).numel()).toBe(0);
    expect(ones([2], { requiresGrad: true }).requiresGrad).toBe(true);
  });

  it('zerosLike/onesLike/fullLike copy shape and dtype unless overridden', () => {
    const x = tensor([[1, 2, 3]], { dtype: 'float64' });
    const z = zerosLike(x);
    expect(z.shape).toEqual([1, 3]);
    expect(z.dtype).toBe('float64');
    expect(onesLike(x, { dtype: 'int32' }).dtype).toBe('int32');
    expect(onesLike(x).toArray()).toEqual([[1, 1, 1]]);
    expect(fullLike(x, 2).toArray()).toEqual([[2, 2, 2]]);
    // *Like of an int tensor stays int
    expect(zerosLike(tensor([1, 2])).dtype).toBe('int32');
  });

  it('rejects invalid shapes with the op name', () => {
    expect(() => zeros([2, -1])).toThrow(/full: invalid shape \[2,-1\]/);
    expect(() => ones([1.5])).toThrow(ValueError);
    expect(() => full([2], 1, { dtype: 'int32', requiresGrad: true })).toThrow(
      /full: only floating tensors can require gradients/,
    );
  });
});

describe('ranges', () => {
  it('arange like torch.arange (int32 for integer args, float32 otherwise)', () => {
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5).dtype).toBe('int32');
    expect(arange(2, 8, 2).toArray()).toEqual([2, 4, 6]);
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(arange(0, 1, 0.25).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(arange(0, 1, 0.25).dtype).toBe('float32');
    expect(arange(3, 3).shape).toEqual([0]);
    expect(arange(4, undefined, 1, { dtype: 'float64' }).dtype).toBe('float64');
  });

  it('arange errors name the op', () => {
    expect(() => arange(0, 5, 0)).toThrow(/arange: step must be a non-zero finite number, got 0/);
    expect(() => arange(0, 5, -1)).toThrow(/arange: upper bound and step sign are inconsistent/);
  });

  it('linspace includes both ends and is symmetric', () => {
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(-1, 1, 1).toArray()).toEqual([-1]);
    expect(linspace(0, 1, 0).shape).toEqual([0]);
    const l = linspace(0, 0.3, 4, { dtype: 'float64' }).dataSync();
    expect(l[3]).toBe(0.3);
    expect(() => linspace(0, 1, -1)).toThrow(/linspace: steps must be a non-negative integer, got -1/);
  });

  it('eye is square or rectangular', () => {
    expect(eye(2).toArray()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(eye(0).shape).toEqual([0, 0]);
    expect(() => eye(-1)).toThrow(/eye: invalid shape/);
  });
});

describe('random creation', () => {
  it('rand/randn have the requested shape and floating dtype only', () => {
    const g = new Generator(1);
    expect(rand([2, 3], { generator: g }).shape).toEqual([2, 3]);
    expect(randn([4], { dtype: 'float64', generator: g }).dtype).toBe('float64');
    expect(randn([3], { generator: g }).numel()).toBe(3);
    expect(randn([0, 3], { generator: g }).numel()).toBe(0);
    expect(() => rand([2], { dtype: 'int32' })).toThrow(/rand: dtype must be float32 or float64, got int32/);
    expect(() => randn([2], { dtype: 'bool' })).toThrow(DTypeError);
    const r = rand([1000], { generator: g }).dataSync();
    for (const v of r) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
    expect(rand([2], { requiresGrad: true, generator: g }).requiresGrad).toBe(true);
  });

  it('randint samples integers in [low, high)', () => {
    const r = randint(-2, 3, [2000], { generator: new Generator(3) });
    expect(r.dtype).toBe('int32');
    const seen = new Set<number>(Array.from(r.dataSync()));
    expect([...seen].sort()).toEqual([-1, -2, 0, 1, 2].sort());
    expect(() => randint(3, 3, [2])).toThrow(/randint: need integers low < high, got low=3, high=3/);
    expect(() => randint(0, 2.5, [2])).toThrow(ValueError);
  });

  it('bernoulli draws 0/1 with the given probabilities', () => {
    const g = new Generator(4);
    const p = tensor([0, 1, 0, 1]);
    expect(bernoulli(p, { generator: g }).toArray()).toEqual([0, 1, 0, 1]);
    const b = bernoulli(0.3, { shape: [20000], generator: g });
    expect(b.dtype).toBe('float32');
    const m = b.mean().item();
    expect(Math.abs(m - 0.3)).toBeLessThan(0.02);
    expect(() => bernoulli(tensor([0.5, 1.5]))).toThrow(
      /bernoulli: probability 1.5 at element 1 is outside \[0, 1\]/,
    );
  });

  it('randperm is a permutation of 0..n-1', () => {
    const p = randperm(50, { generator: new Generator(5) });
    expect(p.dtype).toBe('int32');
    const vals = Array.from(p.dataSync()).sort((a, b) => a - b);
    expect(vals).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(p.dataSync())).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(randperm(0).shape).toEqual([0]);
    expect(() => randperm(-1)).toThrow(/randperm: n must be a non-negative integer, got -1/);
  });
});
