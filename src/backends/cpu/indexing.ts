/**
 * Gather/scatter/index-select CPU kernels. Indices must lie in [0, size) (negative indices are out of
 * range, as in PyTorch); a bad index throws an IndexError naming the op, the index, the dim and its size.
 * @module
 */
import { allocArray, dtypeOfArray, type TypedArray } from '../../core/dtype.js';
import { IndexError } from '../../core/errors.js';
import { contiguousStrides, numelOf } from '../../core/shape.js';
import type { View } from '../backend.js';
import { contiguousData, copyInto } from './elementwise.js';
import { arr } from './storage.js';
import { forEachRow } from './strided.js';

function outOfRange(op: string, i: number, size: number, dim: number): IndexError {
  return new IndexError(`${op}: index ${i} is out of bounds for dim ${dim} with size ${size}`);
}

/** Throws unless every entry of the (contiguous) index array is in [0, size). */
function checkAll(op: string, I: TypedArray, size: number, dim: number): void {
  for (let j = 0; j < I.length; j++) {
    const i = I[j]!;
    if (i < 0 || i >= size) throw outOfRange(op, i, size, dim);
  }
}

/** torch.gather along `dim`: the result has index's shape. Reads x and index through their strides. */
export function gatherKernel(x: View, dim: number, index: View): TypedArray {
  const X = arr(x);
  const I = arr(index);
  const o = allocArray(dtypeOfArray(X), numelOf(index.shape));
  const size = x.shape[dim]!;
  const dimStride = x.strides[dim]!;
  const xs = x.strides.slice();
  xs[dim] = 0;
  forEachRow(index.shape, [index.strides, xs], [index.offset, x.offset], (out, offs, inner, st) => {
    let p = offs[0]!;
    let q = offs[1]!;
    const sp = st[0]!;
    const sq = st[1]!;
    for (let k = 0; k < inner; k++, p += sp, q += sq) {
      const i = I[p]!;
      if (i < 0 || i >= size) throw outOfRange('gather', i, size, dim);
      o[out + k] = X[q + i * dimStride]!;
    }
  });
  return o;
}

/**
 * torch.scatter / scatter_add along `dim`, out of place: a contiguous copy of base with src written
 * (or added) at the indexed positions. index and src share a shape (src may be strided or broadcast).
 */
export function scatterKernel(
  base: View,
  dim: number,
  index: View,
  src: View,
  reduce: 'none' | 'add',
): TypedArray {
  const op = reduce === 'add' ? 'scatterAdd' : 'scatter';
  const o = allocArray(dtypeOfArray(arr(base)), numelOf(base.shape));
  copyInto(o, 0, base);
  const I = arr(index);
  const S = arr(src);
  const size = base.shape[dim]!;
  const bs = contiguousStrides(base.shape);
  const dimStride = bs[dim]!;
  bs[dim] = 0;
  forEachRow(
    index.shape,
    [index.strides, src.strides, bs],
    [index.offset, src.offset, 0],
    (_out, offs, inner, st) => {
      let p = offs[0]!;
      let q = offs[1]!;
      let r = offs[2]!;
      const sp = st[0]!;
      const sq = st[1]!;
      const sr = st[2]!;
      for (let k = 0; k < inner; k++, p += sp, q += sq, r += sr) {
        const i = I[p]!;
        if (i < 0 || i >= size) throw outOfRange(op, i, size, dim);
        if (reduce === 'add') o[r + i * dimStride]! += S[q]!;
        else o[r + i * dimStride] = S[q]!;
      }
    },
  );
  return o;
}

/** torch.index_select along `dim` with a 1-d index. */
export function indexSelectKernel(x: View, dim: number, index: View): TypedArray {
  const X = contiguousData(x);
  const I = contiguousData(index);
  const size = x.shape[dim]!;
  checkAll('indexSelect', I, size, dim);
  let inner = 1;
  for (let d = dim + 1; d < x.shape.length; d++) inner *= x.shape[d]!;
  const outer = numelOf(x.shape.slice(0, dim));
  const k = I.length;
  const o = allocArray(dtypeOfArray(X), outer * k * inner);
  if (inner === 1) {
    for (let a = 0; a < outer; a++) {
      const sb = a * size;
      const db = a * k;
      for (let j = 0; j < k; j++) o[db + j] = X[sb + I[j]!]!;
    }
    return o;
  }
  for (let a = 0; a < outer; a++) {
    for (let j = 0; j < k; j++) {
      const s = (a * size + I[j]!) * inner;
      o.set(X.subarray(s, s + inner), (a * k + j) * inner);
    }
  }
  return o;
}

/** Copy of base with src slices added at `index` along `dim` (index_add); src has base's shape with `dim` resized to the index length. */
export function indexAddKernel(base: View, dim: number, index: View, src: View): TypedArray {
  const o = allocArray(dtypeOfArray(arr(base)), numelOf(base.shape));
  copyInto(o, 0, base);
  const I = contiguousData(index);
  const S = contiguousData(src);
  const size = base.shape[dim]!;
  checkAll('indexAdd', I, size, dim);
  let inner = 1;
  for (let d = dim + 1; d < base.shape.length; d++) inner *= base.shape[d]!;
  const outer = numelOf(base.shape.slice(0, dim));
  const k = I.length;
  for (let a = 0; a < outer; a++) {
    for (let j = 0; j < k; j++) {
      const dst = (a * size + I[j]!) * inner;
      const s = (a * k + j) * inner;
      for (let c = 0; c < inner; c++) o[dst + c]! += S[s + c]!;
    }
  }
  return o;
}
