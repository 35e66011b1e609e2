/**
 * `DataLoader`: iterates a dataset in (optionally shuffled) mini-batches, collating samples into
 * batch tensors.
 * @module
 */
import { tensor } from '../core/creation.js';
import { ValueError } from '../core/errors.js';
import { defaultGenerator, Generator } from '../core/random.js';
import { Tensor } from '../core/tensor.js';
import { stack } from '../ops/shape.js';
import { type Dataset, Subset, TensorDataset } from './dataset.js';

/**
 * The type `defaultCollate` makes of a list of samples of type `T`: tensors and numbers become one
 * batch tensor, arrays/tuples and plain objects are collated field by field, strings become arrays.
 */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends string
      ? T[]
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Collated<T[K]> }
        : T extends object
          ? { [K in keyof T]: Collated<T[K]> }
          : T[];

/**
 * Merges a list of samples into a batch, recursively:
 * - tensors (all the same shape) are stacked along a new dim 0;
 * - numbers become a 1-d tensor (int32 when all are integers, float32 otherwise), booleans a bool tensor;
 * - arrays/tuples (all of the same length) and plain objects are collated position by position / key by key;
 * - strings and anything else are returned as an array.
 */
export function defaultCollate<T>(items: readonly T[]): Collated<T> {
  return collateAny(items as readonly unknown[], 'defaultCollate') as Collated<T>;
}

function collateAny(items: readonly unknown[], path: string): unknown {
  if (items.length === 0) throw new ValueError(`${path}: cannot collate an empty batch`);
  const first = items[0];
  if (first instanceof Tensor) {
    items.forEach((t, k) => {
      if (!(t instanceof Tensor)) {
        throw new ValueError(`${path}: sample 0 is a Tensor but sample ${k} is ${describe(t)}`);
      }
    });
    return stack(items as Tensor[], 0);
  }
  if (typeof first === 'number' || typeof first === 'boolean') {
    items.forEach((v, k) => {
      if (typeof v !== typeof first) {
        throw new ValueError(`${path}: sample 0 is a ${typeof first} but sample ${k} is ${describe(v)}`);
      }
    });
    return tensor(items as number[] | boolean[]);
  }
  if (Array.isArray(first)) {
    const len = first.length;
    items.forEach((v, k) => {
      if (!Array.isArray(v) || v.length !== len) {
        throw new ValueError(
          `${path}: sample 0 is an array of length ${len} but sample ${k} is ${describe(v)}`,
        );
      }
    });
    const out: unknown[] = [];
    for (let j = 0; j < len; j++) {
      out.push(
        collateAny(
          items.map((v) => (v as unknown[])[j]),
          `${path}[${j}]`,
        ),
      );
    }
    return out;
  }
  if (first !== null && typeof first === 'object' && Object.getPrototypeOf(first) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) {
      out[key] = collateAny(
        items.map((v) => (v as Record<string, unknown>)[key]),
        `${path}.${key}`,
      );
    }
    return out;
  }
  return items.slice();
}

function describe(v: unknown): string {
  if (v instanceof Tensor) return 'a Tensor';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return v === null ? 'null' : `a ${typeof v}`;
}

/** Options of `DataLoader`. */
export interface DataLoaderOptions<T, B> {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** Visit the samples in a new random order every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /**
   * Stream for shuffling. By default the loader makes its own generator, seeded from the default
   * generator when the loader is constructed, so `manualSeed(s)` before building it makes runs repeatable.
   */
  generator?: Generator;
  /** Merges a list of samples into a batch (default `defaultCollate`). */
  collate?: (items: T[]) => B;
}

/**
 * Iterates a dataset in mini-batches: `for (const [x, y] of loader) { ... }`. Each iteration is one
 * epoch; with `shuffle` every epoch draws a new permutation from the loader's generator.
 * Batches of a `TensorDataset` (or a `Subset` of one) with the default collate are gathered with one
 * `indexSelect` per tensor rather than by stacking samples.
 */
export class DataLoader<T, B = Collated<T>> implements Iterable<B> {
  /** The dataset iterated. */
  readonly dataset: Dataset<T>;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether each epoch is shuffled. */
  readonly shuffle: boolean;
  /** Whether an incomplete last batch is dropped. */
  readonly dropLast: boolean;
  /** The stream the shuffling permutations are drawn from. */
  readonly generator: Generator;
  /** The collate function. */
  readonly collate: (items: T[]) => B;

  /** A loader over `dataset`; throws for an empty dataset or a batch size that is not a positive integer. */
  constructor(dataset: Dataset<T>, options: DataLoaderOptions<T, B> = {}) {
    if (dataset.length === 0) throw new ValueError('DataLoader: the dataset is empty');
    const bs = options.batchSize ?? 1;
    if (!Number.isInteger(bs) || bs <= 0) {
      throw new ValueError(`DataLoader: batchSize must be a positive integer, got ${bs}`);
    }
    this.dataset = dataset;
    this.batchSize = bs;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.generator = options.generator ?? new Generator(defaultGenerator.nextUint32());
    this.collate = options.collate ?? (defaultCollate as unknown as (items: T[]) => B);
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of one epoch (a fresh permutation when shuffling). */
  private order(): Int32Array {
    const n = this.dataset.length;
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    if (this.shuffle) {
      const g = this.generator;
      for (let i = n - 1; i > 0; i--) {
        const j = g.randint(0, i + 1);
        const t = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = t;
      }
    }
    return idx;
  }

  /** Yields the batches of one epoch (the permutation is drawn when iteration starts). */
  *[Symbol.iterator](): Iterator<B> {
    const order = this.order();
    const batches = this.length;
    const fast = this.collate === (defaultCollate as unknown) ? batchFetcher(this.dataset) : null;
    for (let b = 0; b < batches; b++) {
      const idx = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      if (fast) {
        yield fast(idx) as B;
      } else {
        const items: T[] = new Array(idx.length);
        for (let k = 0; k < idx.length; k++) items[k] = this.dataset.get(idx[k]!);
        yield this.collate(items);
      }
    }
  }
}

/** A function fetching a whole batch at once, for datasets that support it (else null). */
function batchFetcher(ds: Dataset<unknown>): ((idx: Int32Array) => Tensor[]) | null {
  if (ds instanceof TensorDataset) return (idx) => ds.getBatch(idx);
  if (ds instanceof Subset) {
    const inner = batchFetcher(ds.dataset);
    if (!inner) return null;
    const map = Int32Array.from(ds.indices);
    return (idx) => inner(idx.map((i) => map[i]!));
  }
  return null;
}
