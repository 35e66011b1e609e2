/**
 * Basic layers as functions: `linear`, `embedding` and `dropout`.
 * @module
 */
import { tensor } from '../../core/creation.js';
import { allocArray } from '../../core/dtype.js';
import { DTypeError, IndexError, ShapeError, ValueError } from '../../core/errors.js';
import { defaultGenerator, type Generator } from '../../core/random.js';
import { contiguousStrides, fmt } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { addmmT } from '../../ops/matmul.js';
import { fromStorage, record, requireFloat } from '../../ops/util.js';

/**
 * Affine map `input @ weight^T + bias`: input [..., inFeatures], weight [outFeatures, inFeatures],
 * bias [outFeatures]; returns [..., outFeatures].
 */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  requireFloat('linear', input);
  requireFloat('linear', weight);
  if (weight.ndim !== 2) {
    throw new ShapeError(
      `linear: expected a 2-d weight [outFeatures, inFeatures], got shape ${fmt(weight.shape)}`,
    );
  }
  if (input.ndim === 0) {
    throw new ShapeError('linear: input must have at least 1 dim, got a 0-d tensor');
  }
  const inF = input.shape[input.ndim - 1]!;
  if (inF !== weight.shape[1]) {
    throw new ShapeError(
      `linear: input has ${inF} features (input shape ${fmt(input.shape)}) but weight expects ${weight.shape[1]} (weight shape ${fmt(weight.shape)})`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new ShapeError(`linear: bias must have shape [${weight.shape[0]}], got ${fmt(bias.shape)}`);
  }
  if (input.dtype !== weight.dtype || (bias && bias.dtype !== input.dtype)) {
    const y = input.matmul(weight.t());
    return bias ? y.add(bias) : y;
  }
  // One fused op (product and bias, one graph node) on a 2-d view of the input.
  if (input.ndim === 2) return addmmT(input, weight, bias ?? null);
  const outShape = [...input.shape.slice(0, -1), weight.shape[0]!];
  return addmmT(input.reshape([-1, inF]), weight, bias ?? null).reshape(outShape);
}

/** Options of `embedding`. */
export interface EmbeddingOptions {
  /** Row whose lookups get no gradient (negative counts from the end). */
  paddingIdx?: number | null;
}

/** Rows `idx` (1-d int32) of a 2-d tensor, as an op whose gradient adds rows back (`addRows`). */
function selectRows(w: Tensor, idx: Tensor): Tensor {
  const rows = w.shape[0]!;
  const out = fromStorage(w.storage.backend.indexSelect(w, 0, idx), [idx.shape[0]!, w.shape[1]!]);
  return record(out, 'IndexSelect', [w], (g) => [addRows(g, idx, rows)]);
}

/** Zeros [rows, D] with the rows of g added at `idx`; its gradient selects the rows again. */
function addRows(g: Tensor, idx: Tensor, rows: number): Tensor {
  const b = g.storage.backend;
  const shape = [rows, g.shape[1]!];
  const base = {
    storage: b.alloc(g.dtype, rows * shape[1]!),
    shape,
    strides: contiguousStrides(shape),
    offset: 0,
  };
  const out = fromStorage(b.indexAdd(base, 0, idx, g), shape);
  return record(out, 'IndexAdd', [g], (gg) => [selectRows(gg, idx)]);
}

/**
 * Looks up rows of `weight` [numEmbeddings, dim] for int32 `indices` of any shape; returns
 * [...indices.shape, dim]. The weight gradient accumulates into the looked-up rows (repeats add up),
 * except for the `paddingIdx` row, which gets none.
 */
export function embedding(indices: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  requireFloat('embedding', weight);
  if (indices.dtype !== 'int32') {
    throw new DTypeError(
      `embedding: indices must be an int32 tensor, got ${indices.dtype} of shape ${fmt(indices.shape)}`,
    );
  }
  if (weight.ndim !== 2) {
    throw new ShapeError(
      `embedding: expected a 2-d weight [numEmbeddings, dim], got shape ${fmt(weight.shape)}`,
    );
  }
  const rows = weight.shape[0]!;
  const dim = weight.shape[1]!;
  let pad = options.paddingIdx ?? null;
  if (pad !== null) {
    if (!Number.isInteger(pad) || pad < -rows || pad >= rows) {
      throw new ValueError(
        `embedding: paddingIdx ${pad} is out of range for ${rows} embeddings (weight shape ${fmt(weight.shape)})`,
      );
    }
    if (pad < 0) pad += rows;
  }
  const flat = indices.reshape([-1]).contiguous();
  const data = flat.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= rows) {
      throw new IndexError(
        `embedding: index ${v} is out of range for ${rows} embeddings (weight shape ${fmt(weight.shape)})`,
      );
    }
  }
  let keep: Tensor | null = null;
  if (pad !== null) {
    const k = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) k[i] = data[i] === pad ? 0 : 1;
    keep = tensor(k, { shape: [data.length, 1], dtype: 'bool' });
  }
  const out = fromStorage(weight.storage.backend.indexSelect(weight, 0, flat), [data.length, dim]);
  const rec = record(out, 'Embedding', [weight], (g) => [addRows(keep ? g.where(keep, 0) : g, flat, rows)]);
  return rec.reshape([...indices.shape, dim]);
}

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Probability of zeroing an element (default 0.5). */
  p?: number;
  /** Apply dropout (default true); when false the input is returned unchanged. */
  training?: boolean;
  /** Random stream for the mask (the default generator, seeded by `manualSeed`, otherwise). */
  generator?: Generator;
}

/**
 * Inverted dropout: zeroes each element with probability `p` and scales the rest by 1/(1-p), so the
 * expected value is unchanged. The gradient is the same mask.
 */
export function dropout(x: Tensor, options: DropoutOptions = {}): Tensor {
  const p = options.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) {
    throw new ValueError(`dropout: probability p must be between 0 and 1, got ${p}`);
  }
  requireFloat('dropout', x);
  if (!(options.training ?? true) || p === 0) return x;
  const gen = options.generator ?? defaultGenerator;
  const n = x.numel();
  const m = allocArray(x.dtype, n);
  if (p < 1) {
    const keep = 1 - p;
    const scale = 1 / keep;
    for (let i = 0; i < n; i++) m[i] = gen.random() < keep ? scale : 0;
  }
  return x.mul(tensor(m, { shape: x.shape }));
}
