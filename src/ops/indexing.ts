/**
 * Index-tensor ops: gather, scatter, scatterAdd, indexSelect, indexAdd, maskedSelect, maskedFill and
 * oneHot. Index tensors are int32; an out-of-range index throws an IndexError naming the op, the
 * index and the size of the dim.
 * @module
 */
import { getBackend } from '../backends/backend.js';
import { DTypeError, IndexError, ShapeError, ValueError } from '../core/errors.js';
import { broadcastShapes, fmt, normDim, numelOf } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { where } from './unary.js';
import { fromStorage, record, scalarTensor } from './util.js';

function requireIndex(op: string, index: Tensor): void {
  if (index.dtype !== 'int32') {
    throw new DTypeError(
      `${op}: index must be an int32 tensor, got ${index.dtype} of shape ${fmt(index.shape)}`,
    );
  }
}

function requireBool(op: string, mask: Tensor): void {
  if (mask.dtype !== 'bool') {
    throw new DTypeError(`${op}: mask must be a bool tensor, got ${mask.dtype} of shape ${fmt(mask.shape)}`);
  }
}

/** Zeros with `shape` and `like`'s dtype and backend (not recorded). */
function zerosOf(like: Tensor, shape: readonly number[]): Tensor {
  return fromStorage(like.storage.backend.alloc(like.dtype, numelOf(shape)), shape);
}

/**
 * Checks the shapes of gather/scatter operands: `index` has x's number of dims, and
 * `index.size(d) <= x.size(d)` for every d != dim (and `<= src.size(d)` for all d when src is given).
 */
function checkGatherShapes(op: string, x: Tensor, d: number, index: Tensor, src?: Tensor): void {
  if (index.ndim !== x.ndim) {
    throw new ShapeError(
      `${op}: index ${fmt(index.shape)} must have as many dims as the input ${fmt(x.shape)}`,
    );
  }
  for (let k = 0; k < x.ndim; k++) {
    if (k !== d && index.shape[k]! > x.shape[k]!) {
      throw new ShapeError(
        `${op}: index ${fmt(index.shape)} is larger than the input ${fmt(x.shape)} in dim ${k} (only dim ${d} may differ)`,
      );
    }
  }
  if (!src) return;
  if (src.ndim !== x.ndim) {
    throw new ShapeError(`${op}: src ${fmt(src.shape)} must have as many dims as the input ${fmt(x.shape)}`);
  }
  for (let k = 0; k < x.ndim; k++) {
    if (index.shape[k]! > src.shape[k]!) {
      throw new ShapeError(
        `${op}: index ${fmt(index.shape)} is larger than src ${fmt(src.shape)} in dim ${k}`,
      );
    }
  }
}

/** `src` narrowed (as a view) to `shape` from the start of every dim. */
function narrowTo(src: Tensor, shape: readonly number[]): Tensor {
  let s = src;
  shape.forEach((n, k) => {
    if (s.shape[k] !== n) s = s.narrow(k, 0, n);
  });
  return s;
}

/** Runs `fn` on x and index viewed as 1-d when x is 0-d (then restores index's shape). */
function lift0d(x: Tensor, index: Tensor, fn: (x: Tensor, index: Tensor) => Tensor): Tensor {
  if (x.ndim > 0) return fn(x, index);
  if (index.ndim !== 0)
    throw new ShapeError(`index of shape ${fmt(index.shape)} for a 0-d input must be 0-d`);
  return fn(x.reshape([1]), index.reshape([1])).reshape([]);
}

/**
 * `out[i][j][k] = x[i][index[i][j][k]][k]` for dim 1 (and likewise for other dims); the result has
 * index's shape. `index` is int32 with x's number of dims and no larger than x except along `dim`.
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  requireIndex('gather', index);
  const d = normDim('gather', dim, x.ndim);
  return lift0d(x, index, (xs, is) => {
    checkGatherShapes('gather', xs, d, is);
    const out = fromStorage(xs.storage.backend.gather(xs, d, is), is.shape);
    const inShape = xs.shape;
    return record(out, 'Gather', [xs], (g) => [scatterAdd(zerosOf(g, inShape), d, is, g)], [is]);
  });
}

/**
 * Out-of-place `scatter`: a copy of x with `out[i][index[i][j][k]][k] = src[i][j][k]` for dim 1
 * (likewise for other dims). `src` is a tensor (of x's dtype, at least index's size) or a number.
 * With repeated indices the last write wins.
 */
export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor {
  requireIndex('scatter', index);
  const d = normDim('scatter', dim, x.ndim);
  if (src instanceof Tensor && src.dtype !== x.dtype) {
    throw new DTypeError(`scatter: src dtype ${src.dtype} must match the input dtype ${x.dtype}`);
  }
  return lift0d(x, index, (xs, is) => {
    const srcT = src instanceof Tensor ? (xs !== x && src.ndim === 0 ? src.reshape([1]) : src) : undefined;
    checkGatherShapes('scatter', xs, d, is, srcT);
    const vals = srcT ? narrowTo(srcT, is.shape) : scalarTensor(src as number, xs.dtype).expand(is.shape);
    const out = fromStorage(xs.storage.backend.scatter(xs, d, is, vals, 'none'), xs.shape);
    const inputs = srcT ? [xs, vals] : [xs];
    return record(
      out,
      'Scatter',
      inputs,
      (g, needs) => [needs[0] ? scatter(g, d, is, 0) : null, needs[1] ? gather(g, d, is) : null],
      [is],
    );
  });
}

/**
 * Out-of-place `scatter_add`: a copy of x with `src[i][j][k]` added at `[i][index[i][j][k]][k]`
 * for dim 1 (likewise for other dims); repeated indices accumulate.
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  requireIndex('scatterAdd', index);
  const d = normDim('scatterAdd', dim, x.ndim);
  if (src.dtype !== x.dtype) {
    throw new DTypeError(`scatterAdd: src dtype ${src.dtype} must match the input dtype ${x.dtype}`);
  }
  return lift0d(x, index, (xs, is) => {
    const srcT = xs !== x && src.ndim === 0 ? src.reshape([1]) : src;
    checkGatherShapes('scatterAdd', xs, d, is, srcT);
    const vals = narrowTo(srcT, is.shape);
    const out = fromStorage(xs.storage.backend.scatter(xs, d, is, vals, 'add'), xs.shape);
    return record(
      out,
      'ScatterAdd',
      [xs, vals],
      (g, needs) => [needs[0] ? g : null, needs[1] ? gather(g, d, is) : null],
      [is],
    );
  });
}

function checkIndexVector(op: string, index: Tensor): void {
  requireIndex(op, index);
  if (index.ndim > 1) throw new ShapeError(`${op}: index must be 0-d or 1-d, got shape ${fmt(index.shape)}`);
}

/**
 * The entries `index` (0-d or 1-d int32) of `dim`, in index order (repeats allowed). The result has
 * x's shape with `dim` resized to the number of indices. Returns a copy.
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndexVector('indexSelect', index);
  const d = normDim('indexSelect', dim, x.ndim);
  if (x.ndim === 0) {
    if (index.numel() !== 1) {
      throw new ShapeError(`indexSelect: a 0-d input needs a single index, got shape ${fmt(index.shape)}`);
    }
    return indexSelect(x.reshape([1]), 0, index.reshape([1])).reshape([]);
  }
  const idx = index.ndim === 0 ? index.reshape([1]) : index;
  const shape = x.shape.slice();
  shape[d] = idx.shape[0]!;
  const out = fromStorage(x.storage.backend.indexSelect(x, d, idx), shape);
  const inShape = x.shape;
  return record(out, 'IndexSelect', [x], (g) => [indexAdd(zerosOf(g, inShape), d, idx, g)], [idx]);
}

/**
 * Out-of-place `index_add`: a copy of x with `alpha * src`'s slices added at positions `index`
 * (1-d int32) along `dim`; repeated indices accumulate. `src` has x's shape with `dim` resized to
 * the number of indices.
 */
export function indexAdd(
  x: Tensor,
  dim: number,
  index: Tensor,
  src: Tensor,
  options: { alpha?: number } = {},
): Tensor {
  checkIndexVector('indexAdd', index);
  const d = normDim('indexAdd', dim, x.ndim);
  if (x.ndim === 0) {
    return indexAdd(x.reshape([1]), 0, index.reshape([-1]), src.reshape([-1]), options).reshape([]);
  }
  const idx = index.ndim === 0 ? index.reshape([1]) : index;
  if (src.dtype !== x.dtype) {
    throw new DTypeError(`indexAdd: src dtype ${src.dtype} must match the input dtype ${x.dtype}`);
  }
  const want = x.shape.slice();
  want[d] = idx.shape[0]!;
  if (src.ndim !== want.length || src.shape.some((s, k) => s !== want[k])) {
    throw new ShapeError(
      `indexAdd: src has shape ${fmt(src.shape)}, expected ${fmt(want)} (input ${fmt(x.shape)} with dim ${d} of size ${want[d]})`,
    );
  }
  const vals = options.alpha === undefined || options.alpha === 1 ? src : src.mul(options.alpha);
  const out = fromStorage(x.storage.backend.indexAdd(x, d, idx, vals), x.shape);
  return record(
    out,
    'IndexAdd',
    [x, vals],
    (g, needs) => [needs[0] ? g : null, needs[1] ? indexSelect(g, d, idx) : null],
    [idx],
  );
}

/**
 * The elements of x where the bool `mask` is true, as a 1-d tensor in row-major order; x and mask
 * are broadcast together first.
 */
export function maskedSelect(x: Tensor, mask: Tensor): Tensor {
  requireBool('maskedSelect', mask);
  const shape = broadcastShapes('maskedSelect', x.shape, mask.shape);
  const m = mask.expand(shape).dataSync();
  let count = 0;
  for (let i = 0; i < m.length; i++) if (m[i]) count++;
  const idx = new Int32Array(count);
  for (let i = 0, k = 0; i < m.length; i++) if (m[i]) idx[k++] = i;
  const flat = x.expand(shape).reshape([-1]);
  return indexSelect(flat, 0, fromStorage(getBackend().fromArray(idx), [count]));
}

/**
 * x with `value` where the bool `mask` is true (x and mask broadcast together). `value` is a number
 * or a 0-d tensor (which receives a gradient); the result keeps x's dtype.
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number | boolean | Tensor): Tensor {
  requireBool('maskedFill', mask);
  let v: Tensor;
  if (value instanceof Tensor) {
    if (value.ndim !== 0) {
      throw new ValueError(
        `maskedFill: value must be a number or a 0-d tensor, got shape ${fmt(value.shape)}`,
      );
    }
    v = value.dtype === x.dtype ? value : value.to(x.dtype);
  } else {
    v = scalarTensor(value, x.dtype);
  }
  broadcastShapes('maskedFill', x.shape, mask.shape);
  return where(mask, v, x);
}

/**
 * One-hot encoding of int32 class indices: the result (int32) has shape `[...indices.shape, numClasses]`.
 * `numClasses = -1` uses the largest index + 1.
 */
export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  requireIndex('oneHot', indices);
  const data = indices.dataSync();
  let c = numClasses;
  if (c === -1) {
    if (data.length === 0)
      throw new ValueError('oneHot: cannot infer numClasses from an empty tensor; pass it');
    c = 0;
    for (let i = 0; i < data.length; i++) c = Math.max(c, data[i]! + 1);
  } else if (!Number.isInteger(c) || c < 0) {
    throw new ValueError(`oneHot: numClasses must be a non-negative integer or -1, got ${numClasses}`);
  }
  const out = new Int32Array(data.length * c);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= c) {
      throw new IndexError(
        `oneHot: index ${v} is out of bounds for numClasses ${c} (class values must be in [0, ${c}))`,
      );
    }
    out[i * c + v] = 1;
  }
  return fromStorage(getBackend().fromArray(out), [...indices.shape, c]);
}

declare module '../core/tensor.js' {
  interface Tensor {
    /** Gathers values along `dim` at int32 `index`. */
    gather(dim: number, index: Tensor): Tensor;
    /** Copy with `src` written at `index` along `dim`. */
    scatter(dim: number, index: Tensor, src: Tensor | number): Tensor;
    /** Copy with `src` added at `index` along `dim`. */
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    /** Entries `index` of `dim`. */
    indexSelect(dim: number, index: Tensor): Tensor;
    /** Copy with alpha * src's slices added at `index` along `dim`. */
    indexAdd(dim: number, index: Tensor, src: Tensor, options?: { alpha?: number }): Tensor;
    /** Elements where `mask` is true (1-d). */
    maskedSelect(mask: Tensor): Tensor;
    /** Copy with `value` where `mask` is true. */
    maskedFill(mask: Tensor, value: number | boolean | Tensor): Tensor;
  }
}

const P = Tensor.prototype;
P.gather = function (d, i) {
  return gather(this, d, i);
};
P.scatter = function (d, i, s) {
  return scatter(this, d, i, s);
};
P.scatterAdd = function (d, i, s) {
  return scatterAdd(this, d, i, s);
};
P.indexSelect = function (d, i) {
  return indexSelect(this, d, i);
};
P.indexAdd = function (d, i, s, o) {
  return indexAdd(this, d, i, s, o);
};
P.maskedSelect = function (m) {
  return maskedSelect(this, m);
};
P.maskedFill = function (m, v) {
  return maskedFill(this, m, v);
};
