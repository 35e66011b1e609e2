/**
 * Datasets: the `Dataset` interface (random access by index), `TensorDataset`, `Subset`,
 * `ConcatDataset` and `randomSplit`.
 * @module
 */
import { randperm } from '../core/creation.js';
import { IndexError, ShapeError, ValueError } from '../core/errors.js';
import { defaultGenerator, type Generator } from '../core/random.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { indexSelect } from '../ops/indexing.js';
import { select } from '../ops/shape.js';

/** A random-access collection of samples: `length` samples, `get(i)` for `0 <= i < length`. */
export interface Dataset<T> {
  /** Number of samples. */
  readonly length: number;
  /** The sample at index `i`. */
  get(i: number): T;
}

/** Throws an IndexError naming `op` unless `i` is an integer in [0, n). */
export function checkIndex(op: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new IndexError(`${op}: index ${i} is out of range for a dataset of length ${n}`);
  }
}

/**
 * A dataset of tensors that share their first dimension: sample `i` is `[t0[i], t1[i], ...]`
 * (views, no copy). `DataLoader` batches it with one `indexSelect` per tensor instead of stacking.
 */
export class TensorDataset implements Dataset<Tensor[]> {
  /** The wrapped tensors (all of the same size along dim 0). */
  readonly tensors: readonly Tensor[];

  /** Wraps `tensors`; all must have at least one dim and the same size along dim 0. */
  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new ValueError('TensorDataset: expected at least one tensor');
    tensors.forEach((t, k) => {
      if (t.ndim === 0) throw new ShapeError(`TensorDataset: tensor ${k} is 0-d; tensors need a first dim`);
      if (t.shape[0] !== tensors[0]!.shape[0]) {
        throw new ShapeError(
          `TensorDataset: size mismatch between tensors along dim 0: tensor 0 has shape ` +
            `${fmt(tensors[0]!.shape)}, tensor ${k} has shape ${fmt(t.shape)}`,
        );
      }
    });
    this.tensors = tensors;
  }

  /** Number of samples (the size of dim 0). */
  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }

  /** `[t[i] for each tensor t]` (views). */
  get(i: number): Tensor[] {
    checkIndex('TensorDataset', i, this.length);
    return this.tensors.map((t) => select(t, 0, i));
  }

  /** The samples at `indices`, already batched: one `[indices.length, ...]` tensor per wrapped tensor. */
  getBatch(indices: Int32Array): Tensor[] {
    for (const i of indices) checkIndex('TensorDataset', i, this.length);
    const idx = indexTensor(this.tensors[0]!, indices);
    return this.tensors.map((t) => indexSelect(t, 0, idx));
  }
}

/** A dataset holding only the samples at `indices` of another one (in that order). */
export class Subset<T> implements Dataset<T> {
  /** The indices into `dataset`, in order. */
  readonly indices: readonly number[];

  /** Wraps `dataset`; every index must be an integer in [0, dataset.length). */
  constructor(
    readonly dataset: Dataset<T>,
    indices: ArrayLike<number>,
  ) {
    const list = Array.from(indices);
    for (const i of list) {
      if (!Number.isInteger(i) || i < 0 || i >= dataset.length) {
        throw new IndexError(`Subset: index ${i} is out of range for a dataset of length ${dataset.length}`);
      }
    }
    this.indices = list;
  }

  /** Number of samples (the number of indices). */
  get length(): number {
    return this.indices.length;
  }

  /** The sample `dataset.get(indices[i])`. */
  get(i: number): T {
    checkIndex('Subset', i, this.indices.length);
    return this.dataset.get(this.indices[i]!);
  }
}

/** The samples of several datasets one after the other. */
export class ConcatDataset<T> implements Dataset<T> {
  /** The concatenated datasets. */
  readonly datasets: readonly Dataset<T>[];
  /** `cumulativeSizes[k]` is the total length of datasets 0..k. */
  readonly cumulativeSizes: readonly number[];

  /** Concatenates `datasets` (at least one). */
  constructor(datasets: readonly Dataset<T>[]) {
    if (datasets.length === 0) throw new ValueError('ConcatDataset: expected at least one dataset');
    this.datasets = datasets.slice();
    const sizes: number[] = [];
    let total = 0;
    for (const d of datasets) {
      total += d.length;
      sizes.push(total);
    }
    this.cumulativeSizes = sizes;
  }

  /** Total number of samples. */
  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1]!;
  }

  /** Sample `i` of the concatenation. */
  get(i: number): T {
    checkIndex('ConcatDataset', i, this.length);
    // binary search for the first dataset whose cumulative size exceeds i
    let lo = 0;
    let hi = this.cumulativeSizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulativeSizes[mid]! > i) hi = mid;
      else lo = mid + 1;
    }
    const start = lo === 0 ? 0 : this.cumulativeSizes[lo - 1]!;
    return this.datasets[lo]!.get(i - start);
  }
}

/** Options of `randomSplit`. */
export interface RandomSplitOptions {
  /** Stream for the permutation (the default generator, seeded by `manualSeed`, otherwise). */
  generator?: Generator;
}

/**
 * Splits a dataset into non-overlapping random subsets. `lengths` are either sample counts that sum
 * to `dataset.length`, or fractions that sum to 1: each subset then gets `floor(fraction * length)`
 * samples and the remainder is handed out one at a time to the subsets in order (like PyTorch).
 */
export function randomSplit<T>(
  dataset: Dataset<T>,
  lengths: readonly number[],
  options: RandomSplitOptions = {},
): Subset<T>[] {
  const n = dataset.length;
  if (lengths.length === 0) throw new ValueError('randomSplit: expected at least one length');
  if (lengths.some((l) => !Number.isFinite(l) || l < 0)) {
    throw new ValueError(`randomSplit: lengths must be non-negative numbers, got [${lengths.join(', ')}]`);
  }
  const total = lengths.reduce((a, b) => a + b, 0);
  let counts: number[];
  if (Math.abs(total - 1) <= 1e-6 && total !== n) {
    if (lengths.some((l) => l > 1)) {
      throw new ValueError(`randomSplit: fractions must be in [0, 1], got [${lengths.join(', ')}]`);
    }
    counts = lengths.map((f) => Math.floor(f * n));
    let rest = n - counts.reduce((a, b) => a + b, 0);
    for (let k = 0; rest > 0; k = (k + 1) % counts.length, rest--) counts[k]! += 1;
  } else {
    if (total !== n || !lengths.every(Number.isInteger)) {
      throw new ValueError(
        `randomSplit: lengths [${lengths.join(', ')}] sum to ${total} but the dataset has length ${n} ` +
          '(give integer lengths that sum to the length, or fractions that sum to 1)',
      );
    }
    counts = lengths.slice();
  }
  const perm = randperm(n, { generator: options.generator ?? defaultGenerator }).dataSync();
  const out: Subset<T>[] = [];
  let off = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, perm.subarray(off, off + c)));
    off += c;
  }
  return out;
}

/** An int32 index tensor for `indices`, created on the backend of `like`. */
function indexTensor(like: Tensor, indices: Int32Array): Tensor {
  return new Tensor(like.storage.backend.fromArray(indices.slice()), [indices.length]);
}
