/**
 * Reductions over all, one, several or negative dims (with keepdim), each with its gradient: sum,
 * mean, prod, max/min (with indices), amax/amin, var/std, logsumexp, argmax/argmin, norm; plus the
 * scans cumsum and cumprod.
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import type { ReduceOp } from '../backends/backend.js';
import { arange } from '../core/creation.js';
import { type DType, isFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { fmt, normDim, normDims } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { fromStorage, record, requireFloat } from './util.js';
import { makeView } from './views.js';

/** Options of reductions. */
export interface ReduceOptions {
  /** Keep reduced dims as size 1. */
  keepdim?: boolean;
  /** Cast the input to this dtype first (sum/mean/prod). */
  dtype?: DType;
}

/** Runs a reduction kernel (no autograd); returns the result with or without kept dims. */
export function reduceRaw(op: ReduceOp, x: Tensor, dims: readonly number[], keepdim: boolean): Tensor {
  if (x.ndim === 0) dims = []; // dim 0 / -1 of a 0-d tensor reduces nothing
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
  const dims = reduceDims('sum', x, dim);
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
  const dims = reduceDims('mean', src, dim);
  let count = 1;
  for (const d of dims) count *= src.shape[d]!;
  return sum(src, dims, { keepdim: options.keepdim ?? false }).div(count);
}

/** Options of reductions that only take keepdim. */
export interface KeepdimOptions {
  /** Keep reduced dims as size 1. */
  keepdim?: boolean;
}

/** Result of `max`/`min` along a dim (PyTorch's namedtuple): the values and their int32 indices. */
export interface MinMaxResult {
  /** The extreme values. */
  values: Tensor;
  /** Index of each value along the reduced dim (int32; the first one at ties). */
  indices: Tensor;
}

/** Options of `variance`/`std`. */
export interface VarOptions {
  /** Dims to reduce (all when omitted). */
  dim?: number | readonly number[];
  /** Divide by N - 1 (true, the default) or N (false). Ignored when `correction` is given. */
  unbiased?: boolean;
  /** Divide by N - correction (overrides `unbiased`). */
  correction?: number;
  /** Keep reduced dims as size 1. */
  keepdim?: boolean;
}

/** Options of the scans `cumsum`/`cumprod`. */
export interface ScanOptions {
  /** Cast the input to this dtype first. */
  dtype?: DType;
}

/** Normalised dims for a reduction of `x` (all when undefined; a 0-d tensor reduces nothing). */
function reduceDims(op: string, x: Tensor, dim: number | readonly number[] | undefined): number[] {
  const dims = normDims(op, dim, x.ndim);
  return x.ndim === 0 ? [] : dims;
}

/** Output shape of reducing `dims` of `shape`. */
function reducedShape(shape: readonly number[], dims: readonly number[], keepdim: boolean): number[] {
  return keepdim ? keptShape(shape, dims) : shape.filter((_, i) => !dims.includes(i));
}

/** Throws for ops without an identity (max, min, argmax, ...) when a reduced dim has size 0. */
function checkNonEmpty(op: string, x: Tensor, dims: readonly number[], all: boolean): void {
  if (all && x.numel() === 0) {
    throw new ValueError(
      `${op}: cannot reduce an empty tensor (shape ${fmt(x.shape)}): the op has no identity; pass a dim`,
    );
  }
  for (const d of dims) {
    if (x.shape[d] === 0) {
      throw new ValueError(
        `${op}: cannot reduce over dim ${d} of size 0 (shape ${fmt(x.shape)}): the op has no identity`,
      );
    }
  }
}

/** Product over `dim` (all dims when omitted). Gradient is exact with zeros in the input. */
export function prod(x: Tensor, dim?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  const src = options.dtype && options.dtype !== x.dtype ? x.to(options.dtype) : x;
  const dims = reduceDims('prod', src, dim);
  const keepdim = options.keepdim ?? false;
  const out = reduceRaw('prod', src, dims, keepdim);
  const kept = keptShape(src.shape, dims);
  return record(
    out,
    'Prod',
    [src],
    (g) => {
      const gk = keepdim ? g : g.reshape(kept);
      const ok = keepdim ? out : out.reshape(kept);
      const isZero = src.eq(0);
      if (!hasTrue(isZero)) return [gk.mul(ok).div(src)];
      // Slices without zeros: out / x. Slices with one zero: only the zero gets the product of the others.
      const nonZero = isZero.logicalNot();
      const nz = isZero.sum(dims, { keepdim: true });
      const safe = src.where(nonZero, 1);
      const others = prod(safe, dims, { keepdim: true });
      const oneZero = gk.mul(others).where(isZero.logicalAnd(nz.eq(1)), 0);
      return [gk.mul(ok).div(safe).where(nz.eq(0), oneZero)];
    },
    [src],
  );
}

function hasTrue(mask: Tensor): boolean {
  const d = mask.dataSync();
  for (let i = 0; i < d.length; i++) if (d[i]) return true;
  return false;
}

/** amax/amin (and the no-dim max/min): the gradient is split evenly among ties. */
function extremum(
  op: 'max' | 'min',
  name: string,
  x: Tensor,
  dims: readonly number[],
  keepdim: boolean,
  all: boolean,
): Tensor {
  checkNonEmpty(name.toLowerCase(), x, dims, all);
  const out = reduceRaw(op, x, dims, keepdim);
  const kept = keptShape(x.shape, dims);
  return record(
    out,
    name,
    [x],
    (g) => {
      const gk = keepdim ? g : g.reshape(kept);
      const mask = x.eq(keepdim ? out : out.reshape(kept));
      const count = mask.sum(dims, { keepdim: true });
      return [gk.div(count).where(mask, 0)];
    },
    [x, out],
  );
}

/** max or min along one dim, with indices; the gradient goes to the selected index. */
function extremumDim(op: 'max' | 'min', x: Tensor, dim: number, keepdim: boolean): MinMaxResult {
  const d = normDim(op, dim, x.ndim);
  const dims = x.ndim === 0 ? [] : [d];
  checkNonEmpty(op, x, dims, false);
  const values = reduceRaw(op, x, dims, keepdim);
  const indices = reduceRaw(op === 'max' ? 'argmax' : 'argmin', x, dims, keepdim);
  const kept = keptShape(x.shape, dims);
  const inShape = x.shape;
  record(
    values,
    op === 'max' ? 'Max' : 'Min',
    [x],
    (g) => {
      if (inShape.length === 0) return [g];
      const gk = keepdim ? g : g.reshape(kept);
      const ik = keepdim ? indices : indices.reshape(kept);
      const pos = arange(0, inShape[d]!, 1, { dtype: 'int32' }).reshape(
        inShape.map((s, i) => (i === d ? s : 1)),
      );
      return [gk.where(pos.eq(ik), 0).expand(inShape)];
    },
    [indices],
  );
  return { values, indices };
}

/**
 * Maximum. Without `dim`: the overall maximum as a 0-d tensor (gradient split evenly among ties).
 * With `dim`: `{ values, indices }` along that dim (gradient to the selected index). With a tensor:
 * the elementwise `maximum`. NaN propagates.
 */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, options?: KeepdimOptions): MinMaxResult;
export function max(x: Tensor, other: Tensor): Tensor;
export function max(x: Tensor, dim?: number | Tensor, options: KeepdimOptions = {}): Tensor | MinMaxResult {
  if (dim instanceof Tensor) return x.maximum(dim);
  if (dim === undefined) return extremum('max', 'Max', x, reduceDims('max', x, undefined), false, true);
  return extremumDim('max', x, dim, options.keepdim ?? false);
}

/**
 * Minimum. Without `dim`: the overall minimum as a 0-d tensor (gradient split evenly among ties).
 * With `dim`: `{ values, indices }` along that dim (gradient to the selected index). With a tensor:
 * the elementwise `minimum`. NaN propagates.
 */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, options?: KeepdimOptions): MinMaxResult;
export function min(x: Tensor, other: Tensor): Tensor;
export function min(x: Tensor, dim?: number | Tensor, options: KeepdimOptions = {}): Tensor | MinMaxResult {
  if (dim instanceof Tensor) return x.minimum(dim);
  if (dim === undefined) return extremum('min', 'Min', x, reduceDims('min', x, undefined), false, true);
  return extremumDim('min', x, dim, options.keepdim ?? false);
}

/** Maximum over one or several dims (all when omitted); the gradient is split evenly among ties. */
export function amax(x: Tensor, dim?: number | readonly number[], options: KeepdimOptions = {}): Tensor {
  return extremum('max', 'Amax', x, reduceDims('amax', x, dim), options.keepdim ?? false, dim === undefined);
}

/** Minimum over one or several dims (all when omitted); the gradient is split evenly among ties. */
export function amin(x: Tensor, dim?: number | readonly number[], options: KeepdimOptions = {}): Tensor {
  return extremum('min', 'Amin', x, reduceDims('amin', x, dim), options.keepdim ?? false, dim === undefined);
}

/** Index of the maximum (int32): over the flattened tensor without `dim`, else along `dim`. First index at ties. */
export function argmax(x: Tensor, dim?: number, options: KeepdimOptions = {}): Tensor {
  return argExtremum('argmax', x, dim, options.keepdim ?? false);
}

/** Index of the minimum (int32): over the flattened tensor without `dim`, else along `dim`. First index at ties. */
export function argmin(x: Tensor, dim?: number, options: KeepdimOptions = {}): Tensor {
  return argExtremum('argmin', x, dim, options.keepdim ?? false);
}

function argExtremum(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (dim === undefined) {
    checkNonEmpty(op, x, [], true);
    const flat = reduceRaw(op, x.detach().reshape([-1]), [0], false);
    return keepdim ? flat.reshape(x.shape.map(() => 1)) : flat;
  }
  const d = normDim(op, dim, x.ndim);
  const dims = x.ndim === 0 ? [] : [d];
  checkNonEmpty(op, x, dims, false);
  return reduceRaw(op, x, dims, keepdim);
}

interface VarParts {
  dims: number[];
  keepdim: boolean;
  divisor: number;
  kept: number[];
}

function varParts(
  op: string,
  x: Tensor,
  dimOrOptions: number | readonly number[] | VarOptions | undefined,
  options: VarOptions,
): VarParts {
  requireFloat(op, x);
  const opts: VarOptions =
    typeof dimOrOptions === 'number' || Array.isArray(dimOrOptions)
      ? { ...options, dim: dimOrOptions as number | readonly number[] }
      : { ...((dimOrOptions as VarOptions | undefined) ?? {}), ...options };
  const dims = reduceDims(op, x, opts.dim);
  const correction = opts.correction ?? (opts.unbiased === false ? 0 : 1);
  if (!Number.isFinite(correction))
    throw new ValueError(`${op}: correction must be finite, got ${correction}`);
  let n = 1;
  for (const d of dims) n *= x.shape[d]!;
  return {
    dims,
    keepdim: opts.keepdim ?? false,
    divisor: Math.max(0, n - correction),
    kept: keptShape(x.shape, dims),
  };
}

/** Sum of squared deviations from the mean over `dims`, kept, divided by `divisor` (no autograd). */
function varRaw(x: Tensor, p: VarParts): Tensor {
  return noGrad(() => {
    // Two-pass with a corrected mean: constant slices give exactly 0 (so std's gradient there is 0).
    const m = x.mean(p.dims, { keepdim: true });
    const m2 = m.add(x.sub(m).mean(p.dims, { keepdim: true }));
    const dev = x.sub(m2);
    return dev.mul(dev).sum(p.dims, { keepdim: p.keepdim }).div(p.divisor);
  });
}

/**
 * Variance over `dim` (all dims when omitted) dividing by N - correction (N - 1 by default;
 * `unbiased: false` or `correction: 0` gives N). Needs a floating tensor. Exported as `var` too.
 * Accepts `variance(x, { dim, keepdim })` or `variance(x, dim, { keepdim })`.
 */
export function variance(
  x: Tensor,
  dimOrOptions?: number | readonly number[] | VarOptions,
  options: VarOptions = {},
): Tensor {
  const p = varParts('var', x, dimOrOptions, options);
  const out = varRaw(x, p);
  return record(
    out,
    'Var',
    [x],
    (g) => {
      const gk = p.keepdim ? g : g.reshape(p.kept);
      const dev = x.sub(x.mean(p.dims, { keepdim: true }));
      return [gk.mul(dev).mul(2 / p.divisor)];
    },
    [x],
  );
}

export { variance as var };

/**
 * Standard deviation: sqrt of `variance` with the same options. The gradient is 0 where the result
 * is 0 (as in PyTorch). Needs a floating tensor.
 */
export function std(
  x: Tensor,
  dimOrOptions?: number | readonly number[] | VarOptions,
  options: VarOptions = {},
): Tensor {
  const p = varParts('std', x, dimOrOptions, options);
  const out = noGrad(() => varRaw(x, p).sqrt());
  return record(
    out,
    'Std',
    [x],
    (g) => {
      const gk = p.keepdim ? g : g.reshape(p.kept);
      const ok = p.keepdim ? out : out.reshape(p.kept);
      const nonzero = ok.ne(0);
      const dev = x.sub(x.mean(p.dims, { keepdim: true }));
      return [gk.mul(dev).div(ok.where(nonzero, 1).mul(p.divisor)).where(nonzero, 0)];
    },
    [x, out],
  );
}

/**
 * log(sum(exp(x))) over `dim` (all dims when omitted), computed stably by subtracting the maximum.
 * Needs a floating tensor.
 */
export function logsumexp(x: Tensor, dim?: number | readonly number[], options: KeepdimOptions = {}): Tensor {
  requireFloat('logsumexp', x);
  const dims = reduceDims('logsumexp', x, dim);
  const keepdim = options.keepdim ?? false;
  const kept = keptShape(x.shape, dims);
  const out = noGrad(() => {
    let m = dims.some((d) => x.shape[d] === 0)
      ? x.sum(dims, { keepdim: true })
      : reduceRaw('max', x, dims, true);
    m = m.where(m.isinf().logicalNot(), 0);
    const s = x.sub(m).exp().sum(dims, { keepdim: true }).log().add(m);
    return keepdim ? s : s.reshape(reducedShape(x.shape, dims, false));
  });
  return record(
    out,
    'Logsumexp',
    [x],
    (g) => {
      const gk = keepdim ? g : g.reshape(kept);
      const ok = keepdim ? out : out.reshape(kept);
      return [gk.mul(x.sub(ok).exp())];
    },
    [x, out],
  );
}

/**
 * Vector p-norm over `dim` (all dims when omitted): p = 2 (default, also 'fro'), 1, Infinity (max
 * |x|), -Infinity (min |x|), 0 (count of non-zeros) or any other number: (sum |x|^p)^(1/p). The
 * gradient of the 2-norm (and other p) is 0 where the norm is 0, as in PyTorch. Needs a floating tensor.
 */
export function norm(
  x: Tensor,
  p: number | 'fro' = 2,
  dim?: number | readonly number[],
  options: KeepdimOptions = {},
): Tensor {
  requireFloat('norm', x);
  const ord = p === 'fro' ? 2 : p;
  if (typeof ord !== 'number' || Number.isNaN(ord)) {
    throw new ValueError(`norm: p must be a number or 'fro', got ${String(p)}`);
  }
  const dims = reduceDims('norm', x, dim);
  const keepdim = options.keepdim ?? false;
  if (ord === Number.POSITIVE_INFINITY) return extremum('max', 'Norm', x.abs(), dims, keepdim, false);
  if (ord === Number.NEGATIVE_INFINITY) return extremum('min', 'Norm', x.abs(), dims, keepdim, false);
  if (ord === 1) return x.abs().sum(dims, { keepdim });
  const kept = keptShape(x.shape, dims);
  const inShape = x.shape;
  if (ord === 0) {
    const out = noGrad(() => x.ne(0).to(x.dtype).sum(dims, { keepdim }));
    return record(out, 'Norm', [x], (g) => [(keepdim ? g : g.reshape(kept)).mul(0).expand(inShape)]);
  }
  const out = noGrad(() =>
    ord === 2
      ? x.mul(x).sum(dims, { keepdim }).sqrt()
      : x
          .abs()
          .pow(ord)
          .sum(dims, { keepdim })
          .pow(1 / ord),
  );
  return record(
    out,
    'Norm',
    [x],
    (g) => {
      const gk = keepdim ? g : g.reshape(kept);
      const ok = keepdim ? out : out.reshape(kept);
      const nonzero = ok.ne(0);
      const safe = ok.where(nonzero, 1);
      const num = ord === 2 ? x : x.sign().mul(x.abs().pow(ord - 1));
      const den = ord === 2 ? safe : safe.pow(ord - 1);
      return [gk.mul(num).div(den).where(nonzero, 0)];
    },
    [x, out],
  );
}

/** `x` reversed along `d` (a view with a negative stride), differentiable. */
function flipView(x: Tensor, d: number): Tensor {
  const n = x.shape[d]!;
  if (n <= 1) return x;
  const strides = x.strides.slice();
  strides[d] = -strides[d]!;
  return makeView(x, x.shape, strides, x.offset + (n - 1) * x.strides[d]!, 'Flip', (g) => flipView(g, d));
}

/** Sum of x[j] for j >= i along `d` (reverse cumulative sum), differentiable. */
function reverseCumsum(x: Tensor, d: number): Tensor {
  return flipView(cumsum(flipView(x, d), d), d).contiguous();
}

function scanInput(op: string, x: Tensor, dim: number, options: ScanOptions): [Tensor, number] {
  const src = options.dtype && options.dtype !== x.dtype ? x.to(options.dtype) : x;
  const d = normDim(op, dim, src.ndim);
  return [src, src.ndim === 0 ? 0 : d];
}

/** Inclusive cumulative sum along `dim` (bool/int32 give int32). */
export function cumsum(x: Tensor, dim: number, options: ScanOptions = {}): Tensor {
  const [src, d] = scanInput('cumsum', x, dim, options);
  const out = fromStorage(src.storage.backend.cumulative('sum', src, d), src.shape);
  return record(out, 'Cumsum', [src], (g) => [src.ndim === 0 ? g : reverseCumsum(g, d)]);
}

/**
 * Inclusive cumulative product along `dim` (bool/int32 give int32). The gradient is exact also
 * when the input has zeros.
 */
export function cumprod(x: Tensor, dim: number, options: ScanOptions = {}): Tensor {
  const [src, d] = scanInput('cumprod', x, dim, options);
  const out = fromStorage(src.storage.backend.cumulative('prod', src, d), src.shape);
  return record(
    out,
    'Cumprod',
    [src],
    (g) => {
      if (src.ndim === 0 || src.shape[d]! <= 1) return [g];
      const isZero = src.eq(0);
      if (!hasTrue(isZero)) return [reverseCumsum(g.mul(out), d).div(src)];
      // Before the first zero of a line: sum_{j>=i} g_j out_j / x_i. At the first zero: the same sum
      // with that zero replaced by 1 in the products. After it: 0 (every product holds the zero).
      const zerosSoFar = cumsum(isZero, d);
      const before = zerosSoFar.eq(0);
      const firstZero = isZero.logicalAnd(zerosSoFar.eq(1));
      const safe = src.where(isZero.logicalNot(), 1);
      const a = reverseCumsum(g.mul(out), d).div(safe).where(before, 0);
      const skipped = cumprod(src.where(firstZero.logicalNot(), 1), d);
      const b = reverseCumsum(g.mul(skipped), d).where(firstZero, 0);
      return [a.add(b)];
    },
    [src, out],
  );
}

declare module '../core/tensor.js' {
  interface Tensor {
    /** Sum over dims (all when omitted). */
    sum(dim?: number | readonly number[], options?: ReduceOptions): Tensor;
    /** Mean over dims (all when omitted). */
    mean(dim?: number | readonly number[], options?: ReduceOptions): Tensor;
    /** Product over dims (all when omitted). */
    prod(dim?: number | readonly number[], options?: ReduceOptions): Tensor;
    /** Overall maximum (0-d). */
    max(): Tensor;
    /** Maximum along a dim with indices. */
    max(dim: number, options?: KeepdimOptions): MinMaxResult;
    /** Elementwise maximum with another tensor. */
    max(other: Tensor): Tensor;
    /** Overall minimum (0-d). */
    min(): Tensor;
    /** Minimum along a dim with indices. */
    min(dim: number, options?: KeepdimOptions): MinMaxResult;
    /** Elementwise minimum with another tensor. */
    min(other: Tensor): Tensor;
    /** Maximum over dims (all when omitted). */
    amax(dim?: number | readonly number[], options?: KeepdimOptions): Tensor;
    /** Minimum over dims (all when omitted). */
    amin(dim?: number | readonly number[], options?: KeepdimOptions): Tensor;
    /** Index of the maximum (flattened without dim). */
    argmax(dim?: number, options?: KeepdimOptions): Tensor;
    /** Index of the minimum (flattened without dim). */
    argmin(dim?: number, options?: KeepdimOptions): Tensor;
    /** Variance (`{ dim, unbiased, correction, keepdim }`). */
    var(dimOrOptions?: number | readonly number[] | VarOptions, options?: VarOptions): Tensor;
    /** Standard deviation (`{ dim, unbiased, correction, keepdim }`). */
    std(dimOrOptions?: number | readonly number[] | VarOptions, options?: VarOptions): Tensor;
    /** Stable log(sum(exp(this))) over dims. */
    logsumexp(dim?: number | readonly number[], options?: KeepdimOptions): Tensor;
    /** Vector p-norm over dims. */
    norm(p?: number | 'fro', dim?: number | readonly number[], options?: KeepdimOptions): Tensor;
    /** Cumulative sum along a dim. */
    cumsum(dim: number, options?: ScanOptions): Tensor;
    /** Cumulative product along a dim. */
    cumprod(dim: number, options?: ScanOptions): Tensor;
  }
}

Tensor.prototype.sum = function (dim, options) {
  return sum(this, dim, options);
};
Tensor.prototype.mean = function (dim, options) {
  return mean(this, dim, options);
};

const RP = Tensor.prototype;
RP.prod = function (dim, options) {
  return prod(this, dim, options);
};
RP.max = function (this: Tensor, dim?: number | Tensor, options?: KeepdimOptions) {
  return max(this, dim as number, options);
} as Tensor['max'];
RP.min = function (this: Tensor, dim?: number | Tensor, options?: KeepdimOptions) {
  return min(this, dim as number, options);
} as Tensor['min'];
RP.amax = function (dim, options) {
  return amax(this, dim, options);
};
RP.amin = function (dim, options) {
  return amin(this, dim, options);
};
RP.argmax = function (dim, options) {
  return argmax(this, dim, options);
};
RP.argmin = function (dim, options) {
  return argmin(this, dim, options);
};
RP.var = function (dimOrOptions, options) {
  return variance(this, dimOrOptions, options);
};
RP.std = function (dimOrOptions, options) {
  return std(this, dimOrOptions, options);
};
RP.logsumexp = function (dim, options) {
  return logsumexp(this, dim, options);
};
RP.norm = function (p, dim, options) {
  return norm(this, p, dim, options);
};
RP.cumsum = function (dim, options) {
  return cumsum(this, dim, options);
};
RP.cumprod = function (dim, options) {
  return cumprod(this, dim, options);
};
