import { describe, expect, it } from 'vitest';
import {
  arange,
  data,
  Generator,
  manualSeed,
  ShapeError,
  stack,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import { numbers } from '../helpers/data.js';

const { DataLoader, Subset, TensorDataset, defaultCollate } = data;

/** The values of every batch of a loader over `numbers`. */
function epoch(loader: Iterable<Tensor>): number[][] {
  return Array.from(loader, (b) => b.toArray() as number[]);
}

describe('DataLoader', () => {
  it('batches in order, with a smaller last batch', () => {
    const loader = new DataLoader(numbers(7), { batchSize: 3 });
    expect(loader.length).toBe(3);
    expect(epoch(loader)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(loader.batchSize).toBe(3);
  });

  it('drops the incomplete last batch with dropLast', () => {
    const loader = new DataLoader(numbers(7), { batchSize: 3, dropLast: true });
    expect(loader.length).toBe(2);
    expect(epoch(loader)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    const none = new DataLoader(numbers(2), { batchSize: 3, dropLast: true });
    expect(none.length).toBe(0);
    expect(epoch(none)).toEqual([]);
  });

  it('defaults to batches of one', () => {
    const loader = new DataLoader(numbers(3));
    expect(loader.length).toBe(3);
    expect(epoch(loader)).toEqual([[0], [1], [2]]);
  });

  it('shuffles every epoch into a new permutation of all samples', () => {
    const loader = new DataLoader(numbers(20), { batchSize: 6, shuffle: true, generator: new Generator(0) });
    const e1 = epoch(loader).flat();
    const e2 = epoch(loader).flat();
    const sorted = Array.from({ length: 20 }, (_, i) => i);
    expect([...e1].sort((a, b) => a - b)).toEqual(sorted);
    expect([...e2].sort((a, b) => a - b)).toEqual(sorted);
    expect(e1).not.toEqual(sorted);
    expect(e1).not.toEqual(e2);
  });

  it('is repeatable: same generator seed, or manualSeed before construction', () => {
    const a = new DataLoader(numbers(30), { batchSize: 4, shuffle: true, generator: new Generator(5) });
    const b = new DataLoader(numbers(30), { batchSize: 4, shuffle: true, generator: new Generator(5) });
    expect(epoch(a)).toEqual(epoch(b));
    manualSeed(123);
    const c = new DataLoader(numbers(30), { batchSize: 4, shuffle: true });
    const c1 = epoch(c);
    const c2 = epoch(c);
    manualSeed(123);
    const d = new DataLoader(numbers(30), { batchSize: 4, shuffle: true });
    expect(epoch(d)).toEqual(c1);
    expect(epoch(d)).toEqual(c2);
    manualSeed(124);
    const e = new DataLoader(numbers(30), { batchSize: 4, shuffle: true });
    expect(epoch(e)).not.toEqual(c1);
  });

  it('batches a TensorDataset into [x, y] batch tensors (fast path equals stacking)', () => {
    const x = arange(30, undefined, 1, { dtype: 'float32' }).reshape([10, 3]);
    const y = arange(10);
    const ds = new TensorDataset(x, y);
    const fast = new DataLoader(ds, { batchSize: 4, shuffle: true, generator: new Generator(2) });
    const slow = new DataLoader(ds, {
      batchSize: 4,
      shuffle: true,
      generator: new Generator(2),
      collate: (items: Tensor[][]) => [stack(items.map((s) => s[0]!)), stack(items.map((s) => s[1]!))],
    });
    const f = Array.from(fast);
    const s = Array.from(slow);
    expect(f.length).toBe(3);
    f.forEach(([fx, fy], k) => {
      const [sx, sy] = s[k]!;
      expect(fx!.shape).toEqual(sx!.shape);
      expect(fx!.dtype).toBe('float32');
      expect(fy!.dtype).toBe('int32');
      expect(fx!.toArray()).toEqual(sx!.toArray());
      expect(fy!.toArray()).toEqual(sy!.toArray());
    });
    expect(f[2]![0]!.shape).toEqual([2, 3]);
    for (const [bx, by] of fast) {
      // every row of x belongs to its label
      const xs = bx!.toArray() as number[][];
      (by!.toArray() as number[]).forEach((label, r) => {
        expect(xs[r]).toEqual([3 * label, 3 * label + 1, 3 * label + 2]);
      });
    }
  });

  it('batches a Subset of a TensorDataset', () => {
    const ds = new TensorDataset(arange(10).reshape([10, 1]), arange(10));
    const loader = new DataLoader(new Subset(ds, [9, 3, 5]), { batchSize: 2 });
    const batches = Array.from(loader);
    expect(batches.map(([xb]) => xb!.toArray())).toEqual([[[9], [3]], [[5]]]);
    expect(batches.map(([, yb]) => yb!.toArray())).toEqual([[9, 3], [5]]);
  });

  it('collates nested samples: tuples, objects, numbers, strings', () => {
    const ds: data.Dataset<[Tensor, number, { w: number; name: string }]> = {
      length: 3,
      get: (i) => [tensor([i, i + 0.5]), i, { w: i / 2, name: `s${i}` }],
    };
    const [[x, y, meta]] = Array.from(new DataLoader(ds, { batchSize: 3 }));
    expect(x.shape).toEqual([3, 2]);
    expect(x.toArray()).toEqual([
      [0, 0.5],
      [1, 1.5],
      [2, 2.5],
    ]);
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([0, 1, 2]);
    expect(meta.w.dtype).toBe('float32');
    expect(meta.w.toArray()).toEqual([0, 0.5, 1]);
    expect(meta.name).toEqual(['s0', 's1', 's2']);
    expect(defaultCollate([true, false]).dtype).toBe('bool');
  });

  it('uses a custom collate', () => {
    const loader = new DataLoader(numbers(5), { batchSize: 2, collate: (items) => items.join('+') });
    expect(Array.from(loader)).toEqual(['0+1', '2+3', '4']);
  });

  it('reports clear errors', () => {
    expect(() => new DataLoader(numbers(0))).toThrow(/DataLoader: the dataset is empty/);
    expect(() => new DataLoader(new TensorDataset(zeros([0, 2])))).toThrow(ValueError);
    expect(() => new DataLoader(numbers(3), { batchSize: 0 })).toThrow(
      /DataLoader: batchSize must be a positive integer, got 0/,
    );
    expect(() => new DataLoader(numbers(3), { batchSize: -2 })).toThrow(/got -2/);
    expect(() => new DataLoader(numbers(3), { batchSize: 1.5 })).toThrow(/got 1.5/);
    const ragged: data.Dataset<Tensor> = { length: 2, get: (i) => zeros([i + 1]) };
    expect(() => Array.from(new DataLoader(ragged, { batchSize: 2 }))).toThrow(ShapeError);
    const mixed: data.Dataset<unknown> = { length: 2, get: (i) => (i ? 'a' : 1) };
    expect(() => Array.from(new DataLoader(mixed, { batchSize: 2 }))).toThrow(
      /defaultCollate: sample 0 is a number but sample 1 is a string/,
    );
    const arrays: data.Dataset<number[]> = { length: 2, get: (i) => new Array(i + 1).fill(0) };
    expect(() => Array.from(new DataLoader(arrays, { batchSize: 2 }))).toThrow(
      /defaultCollate: sample 0 is an array of length 1 but sample 1 is an array of length 2/,
    );
  });
});
