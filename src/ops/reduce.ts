/**
 * Core reductions: sum and mean over all, one, several or negative dims, with keepdim.
 * (Other reductions live in their own modules.)
 * @module
 */
import type { ReduceOp } from '../backends/backend.js';
import { type DType, isFloating } from '../core/dtype.js';
import { normDims } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { fromStorage, record, requireFloat } from './util.js';

/** Options of reductions. */
export interface ReduceOptions {
  /** Keep reduced dims as size 1. */
  keepdim?: boolean;
  /** Output dtype (sum/mean). */
  dtype?: DType;
}

/** Runs a reduction kernel (no autograd); returns the result with or without kept dims. */
export function reduceRaw(op: ReduceOp, x: Tensor, dims: readonly number[], keepdim: boolean): Tensor {
  const storage = x.storage.backend.reduce(op, x, dims);
  const shape = keepdim
    ? x.shape.map((s, i) => (dims.includes(i) ? 1 : s))
    : x.shape.filter((_, i) => !dims.includes(i));
  return fromStorage(storage, shape);
}

/** Shape of `x` with the reduced `dims` set to 1 (to broadcast a reduced gradient back). */
export function keptShape(shape: readonly number[], dims: readonly number[]): number[] {
  return shape.map((s, i) => (dims.includes(i) ? 1 : s));
}

/** Sum over `dim` (all dims when omitted). Bool and int32 sum to int32. */
export function sum(x: Tensor, dim?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  const dims = normDims('sum', dim, x.ndim);
  const keepdim = options.keepdim ?? false;
  let src = x;
  if (options.dtype && options.dtype !== x.dtype) src = x.to(options.dtype);
  const out = reduceRaw('sum', src, dims, keepdim);
  const inShape = src.shape;
  return record(out, 'Sum', [src], (g) => [
    (keepdim ? g : g.reshape(keptShape(inShape, dims))).expand(inShape),
  ]);
}

/** Mean over `dim` (all dims when omitted); needs a floating tensor (or a floating `dtype`). */
export function mean(x: Tensor, dim?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  const src = options.dtype ? x.to(options.dtype) : x;
  if (!isFloating(src.dtype)) requireFloat('mean', src);
  const dims = normDims('mean', dim, src.ndim);
  let count = 1;
  for (const d of dims) count *= src.shape[d]!;
  return sum(src, dims, { keepdim: options.keepdim ?? false }).div(count);
}

declare module '../core/tensor.js' {
  interface Tensor {
    /** Sum over dims (all when omitted). */
    sum(dim?: number | readonly number[], options?: ReduceOptions): Tensor;
    /** Mean over dims (all when omitted). */
    mean(dim?: number | readonly number[], options?: ReduceOptions): Tensor;
  }
}

Tensor.prototype.sum = function (dim, options) {
  return sum(this, dim, options);
};
Tensor.prototype.mean = function (dim, options) {
  return mean(this, dim, options);
};
