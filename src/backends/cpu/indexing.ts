/**
 * Gather/scatter/index-select CPU kernels.
 * @module
 */
import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
import { IndexError } from '../../core/errors.js';
import { numelOf } from '../../core/shape.js';
import type { View } from '../backend.js';
import { contiguousData } from './elementwise.js';

function dtypeOfArr(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

function checkIdx(op: string, i: number, size: number, dim: number): number {
  if (i < -size || i >= size) {
    throw new IndexError(`${op}: index ${i} is out of bounds for dim ${dim} with size ${size}`);
  }
  return i < 0 ? i + size : i;
}

/** Row-major multi-index walk: calls fn(flatIndexInShape, coords) for each element. */
function strideOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i]!;
  }
  return st;
}

/** torch.gather along `dim`. */
export function gatherKernel(x: View, dim: number, index: View): TypedArray {
  const X = contiguousData(x);
  const I = contiguousData(index);
  const ishape = index.shape;
  const n = numelOf(ishape);
  const o = allocArray(dtypeOfArr(X), n);
  const xs = strideOf(x.shape);
  const is = strideOf(ishape);
  const nd = ishape.length;
  const size = x.shape[dim]!;
  for (let f = 0; f < n; f++) {
    let rem = f;
    let off = 0;
    for (let d = 0; d < nd; d++) {
      const c = Math.floor(rem / is[d]!);
      rem -= c * is[d]!;
      off += (d === dim ? checkIdx('gather', I[f]!, size, dim) : c) * xs[d]!;
    }
    o[f] = X[off]!;
  }
  return o;
}

/** torch.scatter / scatter_add along `dim`, out of place. */
export function scatterKernel(
  base: View,
  dim: number,
  index: View,
  src: View,
  reduce: 'none' | 'add',
): TypedArray {
  const o = contiguousData(base).slice();
  const I = contiguousData(index);
  const S = contiguousData(src);
  const ishape = index.shape;
  const n = numelOf(ishape);
  const bs = strideOf(base.shape);
  const is = strideOf(ishape);
  const nd = ishape.length;
  const size = base.shape[dim]!;
  for (let f = 0; f < n; f++) {
    let rem = f;
    let off = 0;
    for (let d = 0; d < nd; d++) {
      const c = Math.floor(rem / is[d]!);
      rem -= c * is[d]!;
      off += (d === dim ? checkIdx('scatter', I[f]!, size, dim) : c) * bs[d]!;
    }
    if (reduce === 'add') o[off]! += S[f]!;
    else o[off] = S[f]!;
  }
  return o;
}

/** torch.index_select along `dim` with a 1-d index. */
export function indexSelectKernel(x: View, dim: number, index: View): TypedArray {
  const X = contiguousData(x);
  const I = contiguousData(index);
  const size = x.shape[dim]!;
  let inner = 1;
  for (let d = dim + 1; d < x.shape.length; d++) inner *= x.shape[d]!;
  const outer = size * inner === 0 ? numelOf(x.shape.slice(0, dim)) : X.length / (size * inner);
  const k = I.length;
  const o = allocArray(dtypeOfArr(X), outer * k * inner);
  for (let a = 0; a < outer; a++) {
    for (let j = 0; j < k; j++) {
      const src = (a * size + checkIdx('indexSelect', I[j]!, size, dim)) * inner;
      const dst = (a * k + j) * inner;
      for (let c = 0; c < inner; c++) o[dst + c] = X[src + c]!;
    }
  }
  return o;
}

/** Copy of base with src slices added at `index` along `dim` (index_add). */
export function indexAddKernel(base: View, dim: number, index: View, src: View): TypedArray {
  const o = contiguousData(base).slice();
  const I = contiguousData(index);
  const S = contiguousData(src);
  const size = base.shape[dim]!;
  let inner = 1;
  for (let d = dim + 1; d < base.shape.length; d++) inner *= base.shape[d]!;
  const outer = numelOf(base.shape.slice(0, dim));
  const k = I.length;
  for (let a = 0; a < outer; a++) {
    for (let j = 0; j < k; j++) {
      const dst = (a * size + checkIdx('indexAdd', I[j]!, size, dim)) * inner;
      const s = (a * k + j) * inner;
      for (let c = 0; c < inner; c++) o[dst + c]! += S[s + c]!;
    }
  }
  return o;
}
