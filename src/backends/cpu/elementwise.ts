/**
 * Elementwise CPU kernels: copy/cast, assign, fill, unary, binary, where.
 * @module
 */
import { allocArrayUninit, type DType, type TypedArray } from '../../core/dtype.js';
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
  const out = allocArrayUninit(dtypeOf(src), n); // copyInto writes every element
  copyInto(out, 0, x);
  return out;
}

function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

/** Rows at least this long with unit stride are copied with `TypedArray.set` (a memcpy) when no conversion is needed. */
const MIN_BLOCK_COPY = 32;

/** Copies view `x` into `out` starting at `outOff`, row-major, converting by assignment. */
export function copyInto(out: TypedArray, outOff: number, x: View): void {
  const src = arr(x);
  const { shape, strides } = coalesce(x.shape, [x.strides]);
  if (out.constructor === src.constructor) {
    forEachRow(shape, strides, [x.offset], (o, offs, inner, st) => {
      let p = offs[0]!;
      const s = st[0]!;
      const base = outOff + o;
      if (s === 1 && inner >= MIN_BLOCK_COPY) out.set(src.subarray(p, p + inner), base);
      else for (let i = 0; i < inner; i++, p += s) out[base + i] = src[p]!;
    });
    return;
  }
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

// ---------------------------------------------------------------------------------------------
// Unary kernels. Hot ops on float arrays get their own loops (no call per element); every loop
// site only ever sees Float32Array/Float64Array, so V8 keeps its element accesses fast.

const LOG2E = Math.LOG2E;
/** ln 2 split so that k * LN2_HI is exact for the |k| < 2^11 used here (fdlibm's constants). */
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
/** 1.5 * 2^52: x + ROUND_MAGIC - ROUND_MAGIC is x rounded to the nearest integer (|x| < 2^51). */
const ROUND_MAGIC = 6755399441055744;
/** Powers 2^k for k in [-POW2_BIAS, POW2_BIAS), indexed by k + POW2_BIAS. */
const POW2_BIAS = 160;
const POW2 = new Float64Array(2 * POW2_BIAS);
for (let i = 0; i < POW2.length; i++) POW2[i] = 2 ** (i - POW2_BIAS);

/**
 * e^x in doubles for -105 < x < 105 (the caller checks the range), accurate to a relative 1e-8, far
 * below float32's 6e-8 ulp: x = k ln2 + r with |r| <= ln2/2, e^r by its degree-7 Taylor polynomial,
 * times 2^k from a table (no libm call).
 */
function expCore(x: number): number {
  // k = round(x / ln 2): adding 1.5 * 2^52 rounds to an integer (Math.round is much slower here).
  const k = x * LOG2E + ROUND_MAGIC - ROUND_MAGIC;
  const r = x - k * LN2_HI - k * LN2_LO;
  const p =
    1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040)))))));
  return p * POW2[(k | 0) + POW2_BIAS]!;
}

/**
 * e^x - 1 in doubles for -105 < x < 105, accurate to a relative 1e-9 also near 0 (where e^x - 1
 * would cancel): with x = k ln2 + r as in `expCore`, e^x - 1 = 2^k (e^r - 1) - (1 - 2^k), and
 * e^r - 1 = r (1 + r/2 + ...) by its degree-9 Taylor polynomial. Keeps the sign of ±0.
 */
function expm1Core(x: number): number {
  const k = x * LOG2E + ROUND_MAGIC - ROUND_MAGIC;
  const r = x - k * LN2_HI - k * LN2_LO;
  const q =
    r *
    (1 +
      r *
        (0.5 +
          r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040 + r * (1 / 40320))))))));
  const s = POW2[(k | 0) + POW2_BIAS]!;
  return s * q - (1 - s);
}

/**
 * exp into a float32 array: `expCore` in doubles, rounded by the store. Beyond the range where
 * float32 results are finite and non-zero the result is Infinity or 0 (so exp(inf) = inf,
 * exp(-inf) = 0); NaN stays NaN.
 */
function expFloat32(src: Float32Array, o: Float32Array): void {
  const n = o.length;
  for (let i = 0; i < n; i++) {
    const x = src[i]!;
    if (x > -105 && x < 89) o[i] = expCore(x);
    else if (x >= 89) o[i] = Number.POSITIVE_INFINITY;
    else if (x <= -105) o[i] = 0;
    else o[i] = Number.NaN;
  }
}

/**
 * Logistic sigmoid into a float32 array: 1 / (1 + e^-x) with `expCore` in doubles (where e^-x cannot
 * overflow). No branch depends on the sign of x: on data of mixed signs a mispredicted branch per
 * element makes such a loop several times slower. sigmoid(-inf) = 0, sigmoid(inf) = 1, NaN stays NaN.
 */
function sigmoidFloat32(src: Float32Array, o: Float32Array): void {
  const n = o.length;
  for (let i = 0; i < n; i++) {
    const t = -src[i]!;
    // Beyond ±105 the result rounds to 0 or 1 in float32 (e^-105 is below half the smallest denormal).
    let e: number;
    if (t > -105 && t < 105) e = expCore(t);
    else if (t <= -105) e = 0;
    else e = t >= 105 ? Number.POSITIVE_INFINITY : t; // t is NaN otherwise
    o[i] = 1 / (1 + e);
  }
}

/**
 * tanh into a float32 array: tanh x = -m / (2 + m) with m = e^(-2x) - 1 (`expm1Core`, which keeps
 * ±0 and is accurate near 0), with no branch on the sign of x. From |x| = 9 on, tanh x rounds to ±1
 * in float32. NaN stays NaN.
 */
function tanhFloat32(src: Float32Array, o: Float32Array): void {
  const n = o.length;
  for (let i = 0; i < n; i++) {
    const x = src[i]!;
    if (x > -9 && x < 9) {
      const m = expm1Core(-2 * x);
      o[i] = -m / (2 + m);
    } else {
      o[i] = x > 0 ? 1 : x < 0 ? -1 : x;
    }
  }
}

/** The 32-bit words of a float32 array (same memory). */
function words(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** Float32 bit pattern of -Infinity as an int32: sign-set words at or below it are negative numbers, above it negative NaNs. */
const NEG_INF_BITS = -8388608;
/** Float32 bit pattern of the smallest positive normal number, 2^-126. */
const MIN_NORMAL_BITS = 0x00800000;
/** Float32 bit pattern of +Infinity: positive words up to it are numbers, above it NaNs. */
const POS_INF_BITS = 0x7f800000;
/** Float32 bit pattern of sqrt(1/2) (rounded down). */
const SQRT_HALF_BITS = 0x3f3504f3;

/**
 * Natural log into a float32 array. A positive normal x is split as 2^e * m with m in
 * [sqrt(1/2), sqrt(2)) (e from the bit pattern, m = x * 2^-e exactly); then
 * log x = e ln2 + 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.172, by its series to s^11
 * (relative error < 1e-10). Zero, negative, subnormal, infinite and NaN inputs use Math.log.
 */
function logFloat32(src: Float32Array, o: Float32Array): void {
  const w = words(src);
  const n = o.length;
  for (let i = 0; i < n; i++) {
    const b = w[i]!;
    if (b >= MIN_NORMAL_BITS && b < POS_INF_BITS) {
      const e = (b - SQRT_HALF_BITS) >> 23;
      const m = src[i]! * POW2[POW2_BIAS - e]!;
      const s = (m - 1) / (m + 1);
      const s2 = s * s;
      const atanh = s * (1 + s2 * (1 / 3 + s2 * (1 / 5 + s2 * (1 / 7 + s2 * (1 / 9 + s2 * (1 / 11))))));
      o[i] = e * Math.LN2 + 2 * atanh;
    } else {
      o[i] = Math.log(src[i]!);
    }
  }
}

/**
 * max(x, 0) on float32 data without branches (V8 compiles a float comparison or Math.max to a
 * branch, which mispredicts on about half of the elements of a typical activation and made the loop
 * ~5x slower): negative numbers, -0 and -Infinity become +0; NaN (of either sign) and non-negative
 * values are kept, like Math.max(x, 0).
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

/** A loop applying one unary op from x into o (same length). */
type UnaryLoop<A> = (x: A, o: A) => void;

/**
 * The hot unary ops on float32 data: one small function with one loop each, no call per element.
 * Each loop only ever sees Float32Array (float64 has its own table below): V8 compiles a typed-array
 * access for the array types it has seen there, and a loop serving several types runs up to several
 * times slower (dozens of times once it has seen more than four). exp, sigmoid, tanh and log use
 * approximations accurate to well below float32's resolution
 * (at most 1 ulp from the libm result rounded to float32, exact on special values); the others give
 * exactly what the generic per-element function gives.
 */
const FLOAT32_UNARY: Partial<Record<UnaryOp, UnaryLoop<Float32Array>>> = {
  exp: expFloat32,
  sigmoid: sigmoidFloat32,
  tanh: tanhFloat32,
  log: logFloat32,
  relu: reluFloat32,
  neg: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = -x[i]!;
  },
  abs: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = Math.abs(x[i]!);
  },
  square: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! * x[i]!;
  },
  sqrt: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = Math.sqrt(x[i]!);
  },
  rsqrt: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = 1 / Math.sqrt(x[i]!);
  },
  reciprocal: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = 1 / x[i]!;
  },
};

/** The same ops on float64 data, with the libm functions: exactly the generic per-element results. */
const FLOAT64_UNARY: Partial<Record<UnaryOp, UnaryLoop<Float64Array>>> = {
  exp: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = Math.exp(x[i]!);
  },
  sigmoid: (x, o) => {
    for (let i = 0; i < o.length; i++) {
      const v = x[i]!;
      o[i] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    }
  },
  tanh: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = Math.tanh(x[i]!);
  },
  log: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = Math.log(x[i]!);
  },
  relu: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = Math.max(x[i]!, 0);
  },
  neg: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = -x[i]!;
  },
  abs: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = Math.abs(x[i]!);
  },
  square: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! * x[i]!;
  },
  sqrt: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = Math.sqrt(x[i]!);
  },
  rsqrt: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = 1 / Math.sqrt(x[i]!);
  },
  reciprocal: (x, o) => {
    for (let i = 0; i < o.length; i++) o[i] = 1 / x[i]!;
  },
};

/** ReLU backward: grad where out > 0, else 0; both views of one shape (any strides). */
export function reluBackwardKernel(grad: View, out: View): TypedArray {
  const G = contiguousData(grad);
  const Y = contiguousData(out);
  const n = G.length;
  const o = allocArrayUninit(dtypeOf(G), n); // both loops write every element
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
  const o = allocArrayUninit(out, n); // every loop below writes every element
  if (src instanceof Float32Array && o instanceof Float32Array) {
    const loop = FLOAT32_UNARY[op];
    if (loop) {
      loop(src, o);
      return o;
    }
  } else if (src instanceof Float64Array && o instanceof Float64Array) {
    const loop = FLOAT64_UNARY[op];
    if (loop) {
      loop(src, o);
      return o;
    }
  }
  const f = unaryFn(op);
  for (let i = 0; i < n; i++) o[i] = f(src[i]!);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Binary kernels.

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
      // Math.max/min give NaN when either argument is NaN, and order -0 below +0.
      return Math.max;
    case 'minimum':
      return Math.min;
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

/** The binary ops with their own float loops. */
type ArithOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';

function isArith(op: BinaryOp): op is ArithOp {
  return op === 'add' || op === 'sub' || op === 'mul' || op === 'div' || op === 'maximum' || op === 'minimum';
}

/**
 * o[i] = a[i] op b[i] over whole arrays of one length. The three loops for contiguous and scalar
 * operands take float32 arrays only (see `FLOAT32_UNARY` on why), and index from 0: V8 runs such a
 * loop about 20% faster than one with offsets, so rows elsewhere in an array are passed as subarrays.
 */
function arithVV(op: ArithOp, a: Float32Array, b: Float32Array, o: Float32Array): void {
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
    case 'maximum':
      for (let i = 0; i < n; i++) o[i] = Math.max(a[i]!, b[i]!);
      return;
    case 'minimum':
      for (let i = 0; i < n; i++) o[i] = Math.min(a[i]!, b[i]!);
  }
}

/** o[i] = a[i] op s (float32). */
function arithVS(op: ArithOp, a: Float32Array, s: number, o: Float32Array): void {
  const n = o.length;
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) o[i] = a[i]! + s;
      return;
    case 'sub':
      for (let i = 0; i < n; i++) o[i] = a[i]! - s;
      return;
    case 'mul':
      for (let i = 0; i < n; i++) o[i] = a[i]! * s;
      return;
    case 'div':
      for (let i = 0; i < n; i++) o[i] = a[i]! / s;
      return;
    case 'maximum':
      for (let i = 0; i < n; i++) o[i] = Math.max(a[i]!, s);
      return;
    case 'minimum':
      for (let i = 0; i < n; i++) o[i] = Math.min(a[i]!, s);
  }
}

/** o[i] = s op b[i] (float32). add, mul, maximum and minimum commute exactly, so they reuse `arithVS`. */
function arithSV(op: ArithOp, s: number, b: Float32Array, o: Float32Array): void {
  const n = o.length;
  switch (op) {
    case 'sub':
      for (let i = 0; i < n; i++) o[i] = s - b[i]!;
      return;
    case 'div':
      for (let i = 0; i < n; i++) o[i] = s / b[i]!;
      return;
    default:
      arithVS(op, b, s, o);
  }
}

/** Arrays `arithStrided` takes (all three of one type); int32 results wrap like any int32 store. */
type ArithArray = Float32Array | Float64Array | Int32Array;

/** o[po + i] = A[pa + i * sa] op B[pb + i * sb] for i < n, any strides. */
function arithStrided(
  op: ArithOp,
  A: ArithArray,
  pa: number,
  sa: number,
  B: ArithArray,
  pb: number,
  sb: number,
  o: ArithArray,
  po: number,
  n: number,
): void {
  const end = po + n;
  let p = pa;
  let q = pb;
  switch (op) {
    case 'add':
      for (let j = po; j < end; j++, p += sa, q += sb) o[j] = A[p]! + B[q]!;
      return;
    case 'sub':
      for (let j = po; j < end; j++, p += sa, q += sb) o[j] = A[p]! - B[q]!;
      return;
    case 'mul':
      for (let j = po; j < end; j++, p += sa, q += sb) o[j] = A[p]! * B[q]!;
      return;
    case 'div':
      for (let j = po; j < end; j++, p += sa, q += sb) o[j] = A[p]! / B[q]!;
      return;
    case 'maximum':
      for (let j = po; j < end; j++, p += sa, q += sb) o[j] = Math.max(A[p]!, B[q]!);
      return;
    case 'minimum':
      for (let j = po; j < end; j++, p += sa, q += sb) o[j] = Math.min(A[p]!, B[q]!);
  }
}

/**
 * Rows shorter than this go through `arithStrided` rather than subarrays and the loops from 0
 * (three subarrays cost about as much as the offsets do over ~200 elements).
 */
const MIN_SLICED_ROW = 256;

/** `x` itself when it is exactly [p, p + n), else that subarray. */
function row(x: Float32Array, p: number, n: number): Float32Array {
  return p === 0 && x.length === n ? x : x.subarray(p, p + n);
}

/** One float32 output row: contiguous and scalar (stride 0) operands get their own loops. */
function arithRowFloat32(
  op: ArithOp,
  A: Float32Array,
  pa: number,
  sa: number,
  B: Float32Array,
  pb: number,
  sb: number,
  o: Float32Array,
  po: number,
  n: number,
): void {
  const sliced = n >= MIN_SLICED_ROW || n === o.length;
  if (sliced && sa === 1 && sb === 1) arithVV(op, row(A, pa, n), row(B, pb, n), row(o, po, n));
  else if (sliced && sa === 1 && sb === 0) arithVS(op, row(A, pa, n), B[pb]!, row(o, po, n));
  else if (sliced && sa === 0 && sb === 1) arithSV(op, A[pa]!, row(B, pb, n), row(o, po, n));
  else arithStrided(op, A, pa, sa, B, pb, sb, o, po, n);
}

/** Applies a binary op to two views already broadcast to `shape`. */
export function binaryKernel(op: BinaryOp, a: View, b: View, shape: Shape, out: DType): TypedArray {
  const o = allocArrayUninit(out, numelOf(shape)); // the rows of forEachRow cover every element
  const A = arr(a);
  const B = arr(b);
  // Merging dims leaves the common broadcast patterns as rows with unit or zero inner strides:
  // same shape -> one contiguous row; x op scalar -> one row with a zero stride; [N, C] op [C] ->
  // N rows; [N, C, H, W] op [1, C, 1, 1] -> N * C rows of H * W, each with one scalar.
  const { shape: cs, strides } = coalesce(shape, [broadcastStrides(a, shape), broadcastStrides(b, shape)]);
  const offsets = [a.offset, b.offset];
  if (isArith(op)) {
    if (A instanceof Float32Array && B instanceof Float32Array && o instanceof Float32Array) {
      forEachRow(cs, strides, offsets, (base, offs, inner, st) =>
        arithRowFloat32(op, A, offs[0]!, st[0]!, B, offs[1]!, st[1]!, o, base, inner),
      );
      return o;
    }
    if (
      (A instanceof Float64Array && B instanceof Float64Array && o instanceof Float64Array) ||
      (A instanceof Int32Array && B instanceof Int32Array && o instanceof Int32Array)
    ) {
      forEachRow(cs, strides, offsets, (base, offs, inner, st) =>
        arithStrided(op, A, offs[0]!, st[0]!, B, offs[1]!, st[1]!, o, base, inner),
      );
      return o;
    }
  }
  const f = binaryFn(op);
  forEachRow(cs, strides, offsets, (base, offs, inner, st) => {
    const s0 = st[0]!;
    const s1 = st[1]!;
    for (let i = 0, p = offs[0]!, q = offs[1]!; i < inner; i++, p += s0, q += s1)
      o[base + i] = f(A[p]!, B[q]!);
  });
  return o;
}

/** `cond ? a : b` over views broadcast to `shape`. */
export function whereKernel(cond: View, a: View, b: View, shape: Shape, out: DType): TypedArray {
  const o = allocArrayUninit(out, numelOf(shape)); // the rows of forEachRow cover every element
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
