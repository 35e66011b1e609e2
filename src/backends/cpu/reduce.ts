/**
 * Reduction and scan CPU kernels.
 *
 * A reduction is brought to the layout [outer, r, inner] (r = product of the reduced sizes): without
 * copying when the tensor is contiguous and the reduced dims are adjacent, otherwise by one strided
 * copy with the reduced dims moved to the end. Sums and products accumulate in float64.
 * @module
 */
import { allocArray, type DType, dtypeOfArray, type TypedArray } from '../../core/dtype.js';
import { numelOf } from '../../core/shape.js';
import type { ReduceOp, View } from '../backend.js';
import { contiguousData } from './elementwise.js';
import { arr } from './storage.js';

/** Permuted view with `dims` moved to the end (no copy). */
function moveToEnd(x: View, dims: readonly number[]): View {
  const keep: number[] = [];
  for (let d = 0; d < x.shape.length; d++) if (!dims.includes(d)) keep.push(d);
  const order = [...keep, ...dims];
  return {
    storage: x.storage,
    shape: order.map((d) => x.shape[d]!),
    strides: order.map((d) => x.strides[d]!),
    offset: x.offset,
  };
}

/** True when the view's elements are row-major without gaps (size-1 dims may have any stride). */
function isPlainContiguous(x: View): boolean {
  let acc = 1;
  for (let i = x.shape.length - 1; i >= 0; i--) {
    if (x.shape[i] !== 1 && x.strides[i] !== acc) return false;
    acc *= x.shape[i]!;
  }
  return true;
}

/** Output dtype of a reduction: int32 for arg ops and for sum/prod of bool; otherwise x's dtype. */
function reduceOutType(op: ReduceOp, src: TypedArray): DType {
  if (op === 'argmax' || op === 'argmin') return 'int32';
  const dt = dtypeOfArray(src);
  if (dt === 'bool' && (op === 'sum' || op === 'prod')) return 'int32';
  return dt;
}

/**
 * Reduces `dims` (sorted, distinct) away. Values keep x's dtype (sum/prod of bool give int32); arg
 * ops give int32 indices into the reduced (flattened) dims. max/min propagate NaN (first NaN wins).
 */
export function reduceKernel(op: ReduceOp, x: View, dims: readonly number[]): TypedArray {
  const src = arr(x);
  const outType = reduceOutType(op, src);
  let r = 1;
  for (const d of dims) r *= x.shape[d]!;
  let outN = 1;
  for (let d = 0; d < x.shape.length; d++) if (!dims.includes(d)) outN *= x.shape[d]!;
  const o = allocArray(outType, outN);
  if (outN === 0) return o;
  if (r === 0) {
    if (op === 'prod') o.fill(1);
    else if (op !== 'sum') throw new Error(`reduce ${op}: cannot reduce over a zero-size dim`);
    return o;
  }
  // Layout [outer, r, inner].
  let data: TypedArray;
  let inner = 1;
  const first = dims.length ? dims[0]! : 0;
  const last = dims.length ? dims[dims.length - 1]! : -1;
  const plain = isPlainContiguous(x);
  if (plain && last - first + 1 === dims.length) {
    for (let i = last + 1; i < x.shape.length; i++) inner *= x.shape[i]!;
    data = src.subarray(x.offset, x.offset + numelOf(x.shape));
  } else if (plain && op === 'sum' && isLeadingAndTrailing(x.shape.length, dims)) {
    // [r1, k, r2] with r1 and r2 reduced, e.g. [N, C, H, W] -> [C] (a convolution's bias gradient).
    let r1 = 1;
    for (let d = 0; dims.includes(d); d++) r1 *= x.shape[d]!;
    sumOuterInner(src.subarray(x.offset, x.offset + numelOf(x.shape)), r1, outN, r / r1, o);
    return o;
  } else {
    data = contiguousData(moveToEnd(x, dims));
  }
  const outer = outN / inner;
  if (inner === 1) reduceRows(op, data, r, outer, o);
  else reduceStrided(op, data, r, outer, inner, o);
  return o;
}

/** True when `dims` (sorted, distinct) are a non-empty leading run 0..p-1 plus a non-empty trailing run q..nd-1. */
function isLeadingAndTrailing(nd: number, dims: readonly number[]): boolean {
  if (dims[0] !== 0 || dims[dims.length - 1] !== nd - 1) return false;
  let p = 0;
  while (dims[p] === p) p++;
  // dims[p..] must be the run ending at nd - 1, and something must be kept between the runs.
  return p < dims.length && dims[p]! > p && dims[p]! + (dims.length - p) === nd;
}

/** Reduces `outer` contiguous runs of length r. */
function reduceRows(op: ReduceOp, data: TypedArray, r: number, outer: number, o: TypedArray): void {
  switch (op) {
    case 'sum':
      sumOuterInner(data, 1, outer, r, o);
      return;
    case 'prod':
      for (let a = 0, p = 0; a < outer; a++) {
        let s = 1;
        for (const end = p + r; p < end; p++) s *= data[p]!;
        o[a] = s;
      }
      return;
    default: {
      const isMax = op === 'max' || op === 'argmax';
      const isArg = op === 'argmax' || op === 'argmin';
      for (let a = 0; a < outer; a++) {
        const base = a * r;
        let best = data[base]!;
        let bi = 0;
        if (!Number.isNaN(best)) {
          for (let i = 1; i < r; i++) {
            const v = data[base + i]!;
            if (Number.isNaN(v)) {
              best = v;
              bi = i;
              break;
            }
            if (isMax ? v > best : v < best) {
              best = v;
              bi = i;
            }
          }
        }
        o[a] = isArg ? bi : best;
      }
    }
  }
}

/**
 * Sums the middle axis of [outer, r, inner] with inner > 1. Each output adds its r values in order
 * into a float64 accumulator (as the copy-to-rows path would); four rows go per pass over the
 * accumulators, `((acc + x0) + x1) + ...` keeping that order.
 */
function sumStrided(data: TypedArray, r: number, outer: number, inner: number, o: TypedArray): void {
  const acc = new Float64Array(inner);
  for (let a = 0; a < outer; a++) {
    acc.fill(0);
    const base = a * r * inner;
    let i = 0;
    for (; i + 4 <= r; i += 4) {
      const p = base + i * inner;
      for (let c = 0; c < inner; c++) {
        const q = p + c;
        acc[c] = acc[c]! + data[q]! + data[q + inner]! + data[q + 2 * inner]! + data[q + 3 * inner]!;
      }
    }
    for (; i < r; i++) {
      const p = base + i * inner;
      for (let c = 0; c < inner; c++) acc[c]! += data[p + c]!;
    }
    const ob = a * inner;
    for (let c = 0; c < inner; c++) o[ob + c] = acc[c]!;
  }
}

/**
 * Sums contiguous [r1, k, r2] data over its first and last axes into o[k] (r1 = 1: k rows of r2),
 * adding each output's values in memory order (as the copy-to-rows path would) in a float64
 * accumulator. Four outputs are summed side by side so that their additions overlap.
 */
function sumOuterInner(data: TypedArray, r1: number, k: number, r2: number, o: TypedArray): void {
  const acc = new Float64Array(k);
  for (let i = 0; i < r1; i++) {
    const base = i * k * r2;
    let c = 0;
    for (; c + 4 <= k; c += 4) {
      const p = base + c * r2;
      let s0 = acc[c]!;
      let s1 = acc[c + 1]!;
      let s2 = acc[c + 2]!;
      let s3 = acc[c + 3]!;
      for (let j = 0; j < r2; j++) {
        s0 += data[p + j]!;
        s1 += data[p + r2 + j]!;
        s2 += data[p + 2 * r2 + j]!;
        s3 += data[p + 3 * r2 + j]!;
      }
      acc[c] = s0;
      acc[c + 1] = s1;
      acc[c + 2] = s2;
      acc[c + 3] = s3;
    }
    for (; c < k; c++) {
      const p = base + c * r2;
      let s = acc[c]!;
      for (let j = 0; j < r2; j++) s += data[p + j]!;
      acc[c] = s;
    }
  }
  for (let c = 0; c < k; c++) o[c] = acc[c]!;
}

/** Reduces the middle axis of [outer, r, inner] with inner > 1, walking memory in order. */
function reduceStrided(
  op: ReduceOp,
  data: TypedArray,
  r: number,
  outer: number,
  inner: number,
  o: TypedArray,
): void {
  if (op === 'sum') {
    sumStrided(data, r, outer, inner, o);
    return;
  }
  const acc = new Float64Array(inner);
  if (op === 'prod') {
    for (let a = 0; a < outer; a++) {
      acc.fill(1);
      let p = a * r * inner;
      for (let i = 0; i < r; i++) for (let c = 0; c < inner; c++, p++) acc[c]! *= data[p]!;
      const ob = a * inner;
      for (let c = 0; c < inner; c++) o[ob + c] = acc[c]!;
    }
    return;
  }
  const isMax = op === 'max' || op === 'argmax';
  const isArg = op === 'argmax' || op === 'argmin';
  const idx = new Int32Array(inner);
  for (let a = 0; a < outer; a++) {
    let p = a * r * inner;
    for (let c = 0; c < inner; c++, p++) acc[c] = data[p]!;
    idx.fill(0);
    for (let i = 1; i < r; i++) {
      for (let c = 0; c < inner; c++, p++) {
        const v = data[p]!;
        const best = acc[c]!;
        if (Number.isNaN(best)) continue;
        if (Number.isNaN(v) || (isMax ? v > best : v < best)) {
          acc[c] = v;
          idx[c] = i;
        }
      }
    }
    const ob = a * inner;
    if (isArg) for (let c = 0; c < inner; c++) o[ob + c] = idx[c]!;
    else for (let c = 0; c < inner; c++) o[ob + c] = acc[c]!;
  }
}

/** Inclusive scan along `dim` (bool input gives int32). */
export function cumulativeKernel(op: 'sum' | 'prod', x: View, dim: number): TypedArray {
  const src = contiguousData(x);
  const dt = dtypeOfArray(src);
  const o = allocArray(dt === 'bool' ? 'int32' : dt, src.length);
  if (x.shape.length === 0) {
    if (src.length) o[0] = src[0]!;
    return o;
  }
  const r = x.shape[dim]!;
  let inner = 1;
  for (let i = dim + 1; i < x.shape.length; i++) inner *= x.shape[i]!;
  if (r * inner === 0) return o;
  const outer = src.length / (r * inner);
  const isSum = op === 'sum';
  const acc = new Float64Array(inner);
  for (let a = 0; a < outer; a++) {
    acc.fill(isSum ? 0 : 1);
    let p = a * r * inner;
    for (let i = 0; i < r; i++) {
      if (isSum) {
        for (let c = 0; c < inner; c++, p++) {
          acc[c]! += src[p]!;
          o[p] = acc[c]!;
        }
      } else {
        for (let c = 0; c < inner; c++, p++) {
          acc[c]! *= src[p]!;
          o[p] = acc[c]!;
        }
      }
    }
  }
  return o;
}
