/**
 * Elementwise CPU kernels: copy/cast, assign, fill, unary, binary, where.
 * @module
 */
import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
import { isContiguous, numelOf, type Shape } from '../../core/shape.js';
import type { BinaryOp, UnaryOp, View } from '../backend.js';
import { arr } from './storage.js';
import { coalesce, forEachRow } from './strided.js';

/** Abramowitz–Stegun-free erf: uses a high-precision series/continued fraction (|err| < 1e-15). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  if (ax > 6) return x < 0 ? -1 : 1;
  // continued fraction for erfc (Lentz), accurate for ax >= 2.5
  const x2 = ax * ax;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let i = 1; i < 200; i++) {
    const an = i / 2;
    d = ax + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + an / c;
    if (c === 0) c = 1e-300;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-x2) / (f * Math.sqrt(Math.PI));
  return x < 0 ? erfc - 1 : 1 - erfc;
}

/** Contiguous copy of a strided view (no cast). Returns the source array itself when already contiguous and whole. */
export function contiguousData(x: View): TypedArray {
  const src = arr(x);
  const n = numelOf(x.shape);
  if (isContiguous(x.shape, x.strides)) {
    if (x.offset === 0 && src.length === n) return src;
    return src.subarray(x.offset, x.offset + n);
  }
  const out = allocArray(dtypeOf(src), n);
  copyInto(out, 0, x);
  return out;
}

function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

/** Copies view `x` into `out` starting at `outOff`, row-major, converting by assignment. */
export function copyInto(out: TypedArray, outOff: number, x: View): void {
  const src = arr(x);
  const { shape, strides } = coalesce(x.shape, [x.strides]);
  const toBool = out instanceof Uint8Array && !(src instanceof Uint8Array);
  const toInt = out instanceof Int32Array;
  forEachRow(shape, strides, [x.offset], (o, offs, inner, st) => {
    let p = offs[0]!;
    const s = st[0]!;
    const base = outOff + o;
    if (toBool) for (let i = 0; i < inner; i++, p += s) out[base + i] = src[p] !== 0 ? 1 : 0;
    else if (toInt) for (let i = 0; i < inner; i++, p += s) out[base + i] = Math.trunc(src[p]!);
    else for (let i = 0; i < inner; i++, p += s) out[base + i] = src[p]!;
  });
}

/** Writes `src` (broadcast to dst's shape) into the view `dst`. */
export function assignView(dst: View, src: View): void {
  const d = arr(dst);
  const s = arr(src);
  const srcStrides = broadcastStrides(src, dst.shape);
  const toBool = d instanceof Uint8Array && !(s instanceof Uint8Array);
  const toInt = d instanceof Int32Array && !(s instanceof Int32Array);
  // Copy first if the two views share a storage (overlap-safe).
  const srcArr = src.storage === dst.storage ? s.slice() : s;
  const { shape, strides } = coalesce(dst.shape, [dst.strides, srcStrides]);
  forEachRow(shape, strides, [dst.offset, src.offset], (_o, offs, inner, st) => {
    let p = offs[0]!;
    let q = offs[1]!;
    const sp = st[0]!;
    const sq = st[1]!;
    if (toBool) for (let i = 0; i < inner; i++, p += sp, q += sq) d[p] = srcArr[q] !== 0 ? 1 : 0;
    else if (toInt) for (let i = 0; i < inner; i++, p += sp, q += sq) d[p] = Math.trunc(srcArr[q]!);
    else for (let i = 0; i < inner; i++, p += sp, q += sq) d[p] = srcArr[q]!;
  });
}

/** Fills the view `dst` with `value`. */
export function fillView(dst: View, value: number): void {
  const d = arr(dst);
  const v =
    d instanceof Uint8Array ? (value !== 0 ? 1 : 0) : d instanceof Int32Array ? Math.trunc(value) : value;
  if (isContiguous(dst.shape, dst.strides)) {
    d.fill(v, dst.offset, dst.offset + numelOf(dst.shape));
    return;
  }
  const { shape, strides } = coalesce(dst.shape, [dst.strides]);
  forEachRow(shape, strides, [dst.offset], (_o, offs, inner, st) => {
    let p = offs[0]!;
    for (let i = 0; i < inner; i++, p += st[0]!) d[p] = v;
  });
}

/** Strides of `x` broadcast to `shape` (stride 0 for new or size-1 dims). */
export function broadcastStrides(x: View, shape: Shape): number[] {
  const nd = shape.length;
  const off = nd - x.shape.length;
  const st = new Array<number>(nd).fill(0);
  for (let i = 0; i < x.shape.length; i++)
    st[off + i] = x.shape[i] === 1 && shape[off + i] !== 1 ? 0 : x.strides[i]!;
  return st;
}

function unaryFn(op: UnaryOp): (v: number) => number {
  switch (op) {
    case 'neg':
      return (v) => -v;
    case 'abs':
      return Math.abs;
    case 'exp':
      return Math.exp;
    case 'log':
      return Math.log;
    case 'log1p':
      return Math.log1p;
    case 'expm1':
      return Math.expm1;
    case 'sqrt':
      return Math.sqrt;
    case 'rsqrt':
      return (v) => 1 / Math.sqrt(v);
    case 'square':
      return (v) => v * v;
    case 'reciprocal':
      return (v) => 1 / v;
    case 'sin':
      return Math.sin;
    case 'cos':
      return Math.cos;
    case 'tan':
      return Math.tan;
    case 'asin':
      return Math.asin;
    case 'acos':
      return Math.acos;
    case 'atan':
      return Math.atan;
    case 'sinh':
      return Math.sinh;
    case 'cosh':
      return Math.cosh;
    case 'tanh':
      return Math.tanh;
    case 'sigmoid':
      return (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
    case 'relu':
      return (v) => Math.max(v, 0);
    case 'erf':
      return erf;
    case 'floor':
      return Math.floor;
    case 'ceil':
      return Math.ceil;
    case 'round':
      // round half to even, like PyTorch
      return (v) => {
        const r = Math.round(v);
        return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
      };
    case 'trunc':
      return Math.trunc;
    case 'sign':
      return (v) => (v > 0 ? 1 : v < 0 ? -1 : 0);
    case 'not':
      return (v) => (v === 0 ? 1 : 0);
    case 'isnan':
      return (v) => (Number.isNaN(v) ? 1 : 0);
    case 'isinf':
      return (v) => (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY ? 1 : 0);
  }
}

const LOG2E = Math.LOG2E;
/** ln 2 split so that k * LN2_HI is exact for the |k| < 2^11 used here (fdlibm's constants). */
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
/** 1.5 * 2^52: x + ROUND_MAGIC - ROUND_MAGIC is x rounded to the nearest integer (|x| < 2^51). */
const ROUND_MAGIC = 6755399441055744;
/** Powers 2^k for k in [-POW2_BIAS, 140), indexed by k + POW2_BIAS. */
const POW2_BIAS = 160;
const POW2 = new Float64Array(300);
for (let i = 0; i < POW2.length; i++) POW2[i] = 2 ** (i - POW2_BIAS);

/**
 * exp into a float32 array without a libm call per element: x = k ln2 + r with |r| <= ln2/2, e^r by
 * its degree-7 Taylor polynomial (relative error < 1e-8, far below float32's 6e-8 ulp), times 2^k
 * from a table, in doubles; the store rounds to float32. Beyond the range where float32 results are
 * finite and non-zero the result is Infinity or 0 (so exp(inf) = inf, exp(-inf) = 0); NaN stays NaN.
 */
function expFloat32(src: Float32Array, o: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = src[i]!;
    if (x > -105 && x < 89) {
      // k = round(x / ln 2): adding 1.5 * 2^52 rounds to an integer (Math.round is much slower here).
      const k = x * LOG2E + ROUND_MAGIC - ROUND_MAGIC;
      const r = x - k * LN2_HI - k * LN2_LO;
      const p =
        1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040)))))));
      o[i] = p * POW2[(k | 0) + POW2_BIAS]!;
    } else if (x >= 89) {
      o[i] = Number.POSITIVE_INFINITY;
    } else if (x <= -105) {
      o[i] = 0;
    } else {
      o[i] = Number.NaN;
    }
  }
}

/** The 32-bit words of a float32 array (same memory). */
function words(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** Float32 bit pattern of -Infinity as an int32: sign-set words at or below it are negative numbers, above it negative NaNs. */
const NEG_INF_BITS = -8388608;
/** Float32 bit pattern of +Infinity: positive words up to it are numbers, above it NaNs. */
const POS_INF_BITS = 0x7f800000;

/**
 * max(x, 0) on float32 data without branches (a data-dependent branch mispredicts on about half of
 * the elements of a typical activation, which made the loop ~8x slower): negative numbers, -0 and
 * -Infinity become +0; NaN (of either sign) and non-negative values are kept, like Math.max(x, 0).
 */
function reluFloat32(src: Float32Array, o: Float32Array): void {
  const s = words(src);
  const d = words(o);
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const b = s[i]!;
    const neg = b >> 31;
    // keep: sign clear, or a negative NaN (b above the -Infinity pattern)
    const keep = ~neg | (((NEG_INF_BITS - b) >> 31) & neg);
    d[i] = b & keep;
  }
}

/** ReLU backward: grad where out > 0, else 0; both views of one shape (any strides). */
export function reluBackwardKernel(grad: View, out: View): TypedArray {
  const G = contiguousData(grad);
  const Y = contiguousData(out);
  const n = G.length;
  const o = allocArray(dtypeOf(G), n);
  if (G instanceof Float32Array && Y instanceof Float32Array && o instanceof Float32Array) {
    // Branch-free: out > 0 exactly when its word is in [1, +Infinity's pattern] (NaN words are above).
    const g = words(G);
    const y = words(Y);
    const d = words(o);
    for (let i = 0; i < n; i++) {
      const b = y[i]!;
      d[i] = g[i]! & -(+(b > 0) & +(b <= POS_INF_BITS));
    }
    return o;
  }
  for (let i = 0; i < n; i++) o[i] = Y[i]! > 0 ? G[i]! : 0;
  return o;
}

/** Applies a unary op to a view; output is a fresh contiguous array of dtype `out`. */
export function unaryKernel(op: UnaryOp, x: View, out: DType): TypedArray {
  const src = contiguousData(x);
  const n = src.length;
  const o = allocArray(out, n);
  // Hot ops get their own loops (no call per element).
  switch (op) {
    case 'exp':
      if (o instanceof Float32Array && src instanceof Float32Array) expFloat32(src, o, n);
      else for (let i = 0; i < n; i++) o[i] = Math.exp(src[i]!);
      return o;
    case 'neg':
      for (let i = 0; i < n; i++) o[i] = -src[i]!;
      return o;
    case 'relu':
      if (o instanceof Float32Array && src instanceof Float32Array) {
        reluFloat32(src, o);
        return o;
      }
      for (let i = 0; i < n; i++) {
        const v = src[i]!;
        o[i] = Math.max(v, 0);
      }
      return o;
    case 'tanh':
      for (let i = 0; i < n; i++) o[i] = Math.tanh(src[i]!);
      return o;
    case 'log':
      for (let i = 0; i < n; i++) o[i] = Math.log(src[i]!);
      return o;
    default: {
      const f = unaryFn(op);
      for (let i = 0; i < n; i++) o[i] = f(src[i]!);
      return o;
    }
  }
}

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
    case 'pow':
      return (a, b) => a ** b;
    case 'maximum':
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b));
    case 'minimum':
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b));
    case 'atan2':
      return Math.atan2;
    case 'eq':
      return (a, b) => (a === b ? 1 : 0);
    case 'ne':
      return (a, b) => (a !== b ? 1 : 0);
    case 'lt':
      return (a, b) => (a < b ? 1 : 0);
    case 'le':
      return (a, b) => (a <= b ? 1 : 0);
    case 'gt':
      return (a, b) => (a > b ? 1 : 0);
    case 'ge':
      return (a, b) => (a >= b ? 1 : 0);
    case 'and':
      return (a, b) => (a !== 0 && b !== 0 ? 1 : 0);
    case 'or':
      return (a, b) => (a !== 0 || b !== 0 ? 1 : 0);
    case 'xor':
      return (a, b) => ((a !== 0) !== (b !== 0) ? 1 : 0);
  }
}

function binaryContiguous(op: BinaryOp, a: TypedArray, b: TypedArray, o: TypedArray): void {
  const n = o.length;
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) o[i] = a[i]! + b[i]!;
      return;
    case 'sub':
      for (let i = 0; i < n; i++) o[i] = a[i]! - b[i]!;
      return;
    case 'mul':
      for (let i = 0; i < n; i++) o[i] = a[i]! * b[i]!;
      return;
    case 'div':
      for (let i = 0; i < n; i++) o[i] = a[i]! / b[i]!;
      return;
    default: {
      const f = binaryFn(op);
      for (let i = 0; i < n; i++) o[i] = f(a[i]!, b[i]!);
    }
  }
}

/** Applies a binary op to two views already broadcast to `shape`. */
export function binaryKernel(op: BinaryOp, a: View, b: View, shape: Shape, out: DType): TypedArray {
  const n = numelOf(shape);
  const o = allocArray(out, n);
  const sa = broadcastStrides(a, shape);
  const sb = broadcastStrides(b, shape);
  const A = arr(a);
  const B = arr(b);
  if (
    isContiguous(shape, sa) &&
    isContiguous(shape, sb) &&
    numelOf(a.shape) === n &&
    numelOf(b.shape) === n
  ) {
    binaryContiguous(op, A.subarray(a.offset, a.offset + n), B.subarray(b.offset, b.offset + n), o);
    return o;
  }
  const { shape: cs, strides } = coalesce(shape, [sa, sb]);
  const f = binaryFn(op);
  const fast = op === 'add' || op === 'sub' || op === 'mul' || op === 'div';
  forEachRow(cs, strides, [a.offset, b.offset], (base, offs, inner, st) => {
    let p = offs[0]!;
    let q = offs[1]!;
    const s0 = st[0]!;
    const s1 = st[1]!;
    if (fast) {
      if (op === 'add') for (let i = 0; i < inner; i++, p += s0, q += s1) o[base + i] = A[p]! + B[q]!;
      else if (op === 'mul') for (let i = 0; i < inner; i++, p += s0, q += s1) o[base + i] = A[p]! * B[q]!;
      else if (op === 'sub') for (let i = 0; i < inner; i++, p += s0, q += s1) o[base + i] = A[p]! - B[q]!;
      else for (let i = 0; i < inner; i++, p += s0, q += s1) o[base + i] = A[p]! / B[q]!;
    } else {
      for (let i = 0; i < inner; i++, p += s0, q += s1) o[base + i] = f(A[p]!, B[q]!);
    }
  });
  return o;
}

/** `cond ? a : b` over views broadcast to `shape`. */
export function whereKernel(cond: View, a: View, b: View, shape: Shape, out: DType): TypedArray {
  const o = allocArray(out, numelOf(shape));
  const C = arr(cond);
  const A = arr(a);
  const B = arr(b);
  const { shape: cs, strides } = coalesce(shape, [
    broadcastStrides(cond, shape),
    broadcastStrides(a, shape),
    broadcastStrides(b, shape),
  ]);
  forEachRow(cs, strides, [cond.offset, a.offset, b.offset], (base, offs, inner, st) => {
    let c = offs[0]!;
    let p = offs[1]!;
    let q = offs[2]!;
    for (let i = 0; i < inner; i++, c += st[0]!, p += st[1]!, q += st[2]!) o[base + i] = C[c] ? A[p]! : B[q]!;
  });
  return o;
}
