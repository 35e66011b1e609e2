/**
 * Reduction and scan CPU kernels.
 * @module
 */
import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
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

/** Reduces `dims` away. Values keep x's dtype (sum/prod of bool/int32 give int32); arg ops give int32. */
export function reduceKernel(op: ReduceOp, x: View, dims: readonly number[]): TypedArray {
  let r = 1;
  for (const d of dims) r *= x.shape[d]!;
  const outer = numelOf(x.shape) / (r || 1);
  const outN = r === 0 ? numelOf(x.shape.filter((_, i) => !dims.includes(i))) : outer;
  const src = arr(x);
  const isArg = op === 'argmax' || op === 'argmin';
  const outType: DType = isArg ? 'int32' : src instanceof Uint8Array ? 'int32' : dtypeOfArr(src);
  const o = allocArray(outType, outN);
  if (r === 0) {
    if (op === 'prod') o.fill(1);
    else if (op === 'max' || op === 'min' || isArg) {
      if (outN > 0) throw new Error(`reduce ${op}: cannot reduce over a zero-size dim`);
    }
    return o;
  }
  // Fast path: single reduced dim on a contiguous tensor -> [outer, r, inner] without copying.
  let data: TypedArray;
  let inner = 1;
  let outerN = outer;
  if (dims.length === 1 && isPlainContiguous(x)) {
    const d = dims[0]!;
    for (let i = d + 1; i < x.shape.length; i++) inner *= x.shape[i]!;
    outerN = outer / inner;
    data = src.subarray(x.offset, x.offset + numelOf(x.shape));
  } else {
    data = contiguousData(moveToEnd(x, dims));
  }
  for (let a = 0; a < outerN; a++) {
    for (let c = 0; c < inner; c++) {
      let p = a * r * inner + c;
      const oi = a * inner + c;
      switch (op) {
        case 'sum': {
          let s = 0;
          for (let i = 0; i < r; i++, p += inner) s += data[p]!;
          o[oi] = s;
          break;
        }
        case 'prod': {
          let s = 1;
          for (let i = 0; i < r; i++, p += inner) s *= data[p]!;
          o[oi] = s;
          break;
        }
        case 'max':
        case 'argmax': {
          let best = data[p]!;
          let bi = 0;
          for (let i = 0; i < r; i++, p += inner) {
            const v = data[p]!;
            if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
              best = v;
              bi = i;
            }
          }
          o[oi] = op === 'max' ? best : bi;
          break;
        }
        case 'min':
        case 'argmin': {
          let best = data[p]!;
          let bi = 0;
          for (let i = 0; i < r; i++, p += inner) {
            const v = data[p]!;
            if (v < best || (Number.isNaN(v) && !Number.isNaN(best))) {
              best = v;
              bi = i;
            }
          }
          o[oi] = op === 'min' ? best : bi;
          break;
        }
      }
    }
  }
  return o;
}

function isPlainContiguous(x: View): boolean {
  let acc = 1;
  for (let i = x.shape.length - 1; i >= 0; i--) {
    if (x.shape[i] !== 1 && x.strides[i] !== acc) return false;
    acc *= x.shape[i]!;
  }
  return true;
}

function dtypeOfArr(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return 'int32';
}

/** Inclusive scan along `dim`. */
export function cumulativeKernel(op: 'sum' | 'prod', x: View, dim: number): TypedArray {
  const src = contiguousData(x);
  const outType: DType = src instanceof Uint8Array ? 'int32' : dtypeOfArr(src);
  const o = allocArray(outType, src.length);
  const r = x.shape[dim]!;
  let inner = 1;
  for (let i = dim + 1; i < x.shape.length; i++) inner *= x.shape[i]!;
  const outer = r * inner === 0 ? 0 : src.length / (r * inner);
  for (let a = 0; a < outer; a++) {
    for (let c = 0; c < inner; c++) {
      let p = a * r * inner + c;
      let acc = op === 'sum' ? 0 : 1;
      for (let i = 0; i < r; i++, p += inner) {
        acc = op === 'sum' ? acc + src[p]! : acc * src[p]!;
        o[p] = acc;
      }
    }
  }
  return o;
}
