/**
 * Shape helpers: sizes, strides, broadcasting and dim normalisation.
 * @module
 */
import { IndexError, ShapeError, ValueError } from './errors.js';

/** A tensor shape: one non-negative size per dimension. */
export type Shape = readonly number[];

/** Formats a shape as `[2,3]` for messages. */
export function fmt(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Number of elements of `shape` (1 for a scalar). */
export function numelOf(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Row-major (C-contiguous) strides of `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i]!;
  }
  return st;
}

/** True when `strides` are the row-major strides of `shape` (size-1 dims may have any stride). */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const s = shape[i]!;
    if (s === 0) return true;
    if (s !== 1 && strides[i] !== acc) return false;
    acc *= s;
  }
  return true;
}

/** Checks that `shape` is a list of non-negative integers. */
export function checkShape(op: string, shape: Shape): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) {
      throw new ValueError(`${op}: invalid shape ${fmt(shape)} (sizes must be non-negative integers)`);
    }
  }
}

/** The broadcast shape of `a` and `b` (numpy/PyTorch rules), or a ShapeError naming `op`. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new ShapeError(
        `${op}: shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast together (dim ${i - n}: ${da} vs ${db})`,
      );
    }
  }
  return out;
}

/** Normalises a possibly negative `dim` for a tensor of `ndim` dims; throws an IndexError naming `op`. */
export function normDim(op: string, dim: number, ndim: number): number {
  const lo = ndim === 0 ? -1 : -ndim;
  const hi = ndim === 0 ? 0 : ndim - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi) {
    throw new IndexError(`${op}: dim ${dim} out of range for a ${ndim}-d tensor (expected ${lo}..${hi})`);
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/** Normalises a list of dims (or all dims when undefined), sorted and without duplicates. */
export function normDims(op: string, dims: number | readonly number[] | undefined, ndim: number): number[] {
  if (dims === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : dims;
  const out = list.map((d) => normDim(op, d, ndim));
  const set = new Set(out);
  if (set.size !== out.length) throw new ValueError(`${op}: dim ${fmt(list)} appears more than once`);
  return [...set].sort((x, y) => x - y);
}

/** Two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
