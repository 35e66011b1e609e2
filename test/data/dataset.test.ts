import { describe, expect, it } from 'vitest';
import {
  arange,
  data,
  Generator,
  IndexError,
  manualSeed,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import { numbers } from '../helpers/data.js';

const { ConcatDataset, Subset, TensorDataset, randomSplit } = data;

describe('TensorDataset', () => {
  it('returns views of each tensor at index i', () => {
    const x = arange(12).reshape([4, 3]);
    const y = tensor([10, 11, 12, 13]);
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(4);
    const [xi, yi] = ds.get(2);
    expect(xi!.toArray()).toEqual([6, 7, 8]);
    expect(yi!.shape).toEqual([]);
    expect(yi!.item()).toBe(12);
    expect(xi!.storage).toBe(x.storage); // a view, no copy
  });

  it('works with non-contiguous tensors and batches with getBatch', () => {
    const x = arange(12).reshape([3, 4]).t(); // [4,3], strided
    const ds = new TensorDataset(x);
    expect(ds.get(1)[0]!.toArray()).toEqual([1, 5, 9]);
    const [b] = ds.getBatch(Int32Array.from([3, 0]));
    expect(b!.toArray()).toEqual([
      [3, 7, 11],
      [0, 4, 8],
    ]);
  });

  it('checks sizes and indices', () => {
    expect(() => new TensorDataset()).toThrow(ValueError);
    expect(() => new TensorDataset(zeros([3, 2]), zeros([4]))).toThrow(
      /TensorDataset: size mismatch between tensors along dim 0: tensor 0 has shape \[3,2\], tensor 1 has shape \[4\]/,
    );
    expect(() => new TensorDataset(tensor(1))).toThrow(ShapeError);
    const ds = new TensorDataset(zeros([3]));
    expect(() => ds.get(3)).toThrow(/TensorDataset: index 3 is out of range for a dataset of length 3/);
    expect(() => ds.get(-1)).toThrow(IndexError);
    expect(() => ds.get(1.5)).toThrow(IndexError);
  });

  it('allows an empty first dim', () => {
    const ds = new TensorDataset(zeros([0, 3]));
    expect(ds.length).toBe(0);
  });
});

describe('Subset and ConcatDataset', () => {
  it('Subset maps indices', () => {
    const s = new Subset(numbers(10), [7, 2, 2]);
    expect(s.length).toBe(3);
    expect([s.get(0), s.get(1), s.get(2)]).toEqual([7, 2, 2]);
    expect(() => s.get(3)).toThrow(/Subset: index 3 is out of range for a dataset of length 3/);
    expect(() => new Subset(numbers(5), [0, 5])).toThrow(
      /Subset: index 5 is out of range for a dataset of length 5/,
    );
  });

  it('ConcatDataset chains datasets, including empty ones', () => {
    const c = new ConcatDataset([numbers(3), numbers(0), numbers(2)]);
    expect(c.length).toBe(5);
    expect(Array.from({ length: 5 }, (_, i) => c.get(i))).toEqual([0, 1, 2, 0, 1]);
    expect(c.cumulativeSizes).toEqual([3, 3, 5]);
    expect(() => c.get(5)).toThrow(/ConcatDataset: index 5 is out of range for a dataset of length 5/);
    expect(() => new ConcatDataset([])).toThrow(/ConcatDataset: expected at least one dataset/);
  });
});

describe('randomSplit', () => {
  const collect = (s: data.Subset<number>): number[] => Array.from({ length: s.length }, (_, i) => s.get(i));

  it('splits by lengths into disjoint subsets covering the dataset', () => {
    const parts = randomSplit(numbers(10), [3, 7], { generator: new Generator(1) });
    expect(parts.map((p) => p.length)).toEqual([3, 7]);
    const all = [...collect(parts[0]!), ...collect(parts[1]!)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it('splits by fractions, handing the remainder out in order', () => {
    const parts = randomSplit(numbers(10), [0.33, 0.33, 0.34], { generator: new Generator(0) });
    expect(parts.map((p) => p.length)).toEqual([4, 3, 3]);
    const p2 = randomSplit(numbers(7), [0.5, 0.5], { generator: new Generator(0) });
    expect(p2.map((p) => p.length)).toEqual([4, 3]);
  });

  it('is repeatable with a generator or manualSeed, and differs across seeds', () => {
    const a = randomSplit(numbers(50), [25, 25], { generator: new Generator(3) }).map(collect);
    const b = randomSplit(numbers(50), [25, 25], { generator: new Generator(3) }).map(collect);
    const c = randomSplit(numbers(50), [25, 25], { generator: new Generator(4) }).map(collect);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    manualSeed(9);
    const d = randomSplit(numbers(50), [25, 25]).map(collect);
    manualSeed(9);
    expect(randomSplit(numbers(50), [25, 25]).map(collect)).toEqual(d);
  });

  it('splits a TensorDataset', () => {
    const ds = new TensorDataset(arange(6).reshape([6, 1]), arange(6));
    const [tr, te] = randomSplit(ds, [4, 2], { generator: new Generator(0) });
    for (let i = 0; i < te!.length; i++) {
      const [x, y] = te!.get(i) as Tensor[];
      expect(x!.item()).toBe(y!.item());
    }
    expect(tr!.length).toBe(4);
  });

  it('rejects lengths that do not sum to the dataset length', () => {
    expect(() => randomSplit(numbers(10), [3, 4])).toThrow(
      /randomSplit: lengths \[3, 4\] sum to 7 but the dataset has length 10/,
    );
    expect(() => randomSplit(numbers(10), [0.5, 0.6])).toThrow(
      /randomSplit: lengths \[0.5, 0.6\] sum to 1.1/,
    );
    expect(() => randomSplit(numbers(10), [-1, 11])).toThrow(/randomSplit: lengths must be non-negative/);
    expect(() => randomSplit(numbers(10), [])).toThrow(/randomSplit: expected at least one length/);
  });
});
