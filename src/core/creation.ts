/**
 * Tensor creation: from data, constant fills, ranges and random sampling.
 * @module
 */
import { getBackend } from '../backends/backend.js';
import { allocArray, type DType, dtypeOfArray, isFloating, type TypedArray } from './dtype.js';
import { DTypeError, ValueError } from './errors.js';
import { defaultGenerator, type Generator } from './random.js';
import { checkShape, fmt, numelOf, type Shape } from './shape.js';
import { type NestedArray, Tensor } from './tensor.js';

/** Options shared by creation functions. */
export interface CreateOptions {
  /** Element type (float32 unless said otherwise). */
  dtype?: DType;
  /** Make the new tensor a leaf that requires grad. */
  requiresGrad?: boolean;
}

/** Options of random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** Stream to draw from (the default generator, seeded by `manualSeed`, otherwise). */
  generator?: Generator;
}

function finish(data: TypedArray, shape: Shape, opts: CreateOptions, op: string): Tensor {
  const t = new Tensor(getBackend().fromArray(data), shape);
  if (opts.requiresGrad) {
    if (!isFloating(t.dtype)) {
      throw new DTypeError(`${op}: only floating tensors can require gradients (dtype ${t.dtype})`);
    }
    t.requiresGrad = true;
  }
  return t;
}

function inferNested(data: NestedArray, op: string): { shape: number[]; flat: (number | boolean)[] } {
  const shape: number[] = [];
  let d: NestedArray = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    if (d.length === 0) break;
    d = d[0]!;
  }
  const flat: (number | boolean)[] = [];
  const walk = (x: NestedArray, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(x)) throw new ValueError(`${op}: ragged nested array (too deep at depth ${depth})`);
      if (typeof x !== 'number' && typeof x !== 'boolean') {
        throw new ValueError(`${op}: expected numbers or booleans, got ${typeof x}`);
      }
      flat.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new ValueError(
        `${op}: ragged nested array: expected length ${shape[depth]} at depth ${depth}, got ${Array.isArray(x) ? x.length : 'a scalar'}`,
      );
    }
    for (const y of x) walk(y, depth + 1);
  };
  walk(data, 0);
  return { shape, flat };
}

/**
 * A tensor from nested arrays, a number/boolean, or a typed array with an explicit shape.
 * dtype is inferred like PyTorch's (booleans -> bool, all integers -> int32, otherwise float32) unless given.
 */
export function tensor(
  data: NestedArray | TypedArray,
  options: CreateOptions & { shape?: Shape } = {},
): Tensor {
  if (ArrayBuffer.isView(data)) {
    const shape = options.shape ?? [data.length];
    checkShape('tensor', shape);
    if (numelOf(shape) !== data.length) {
      throw new ValueError(
        `tensor: shape ${fmt(shape)} needs ${numelOf(shape)} elements, the array has ${data.length}`,
      );
    }
    const own = dtypeOfArray(data);
    const dtype = options.dtype ?? own;
    const arr = allocArray(dtype, data.length);
    if (dtype === 'bool') for (let i = 0; i < data.length; i++) arr[i] = data[i] ? 1 : 0;
    else if (dtype === 'int32' && own !== 'int32')
      for (let i = 0; i < data.length; i++) arr[i] = Math.trunc(data[i]!);
    else arr.set(data);
    return finish(arr, shape, options, 'tensor');
  }
  const { shape, flat } = inferNested(data, 'tensor');
  let dtype = options.dtype;
  if (!dtype) {
    if (flat.length && flat.every((v) => typeof v === 'boolean')) dtype = 'bool';
    else if (
      flat.length &&
      flat.every((v) => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31)
    )
      dtype = 'int32';
    else dtype = 'float32';
  }
  if (options.shape && numelOf(options.shape) === flat.length)
    shape.splice(0, shape.length, ...options.shape);
  const arr = allocArray(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    const x = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    arr[i] = dtype === 'bool' ? (x ? 1 : 0) : dtype === 'int32' ? Math.trunc(x) : x;
  }
  return finish(arr, shape, options, 'tensor');
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number | boolean, options: CreateOptions = {}): Tensor {
  checkShape('full', shape);
  const dtype = options.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  const arr = allocArray(dtype, numelOf(shape));
  if (value) arr.fill(typeof value === 'boolean' ? 1 : value);
  return finish(arr, shape, options, 'full');
}

/** A tensor of zeros. */
export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** A tensor of uninitialised (here: zero) values, for API parity. */
export function empty(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** Zeros with `like`'s shape and dtype (unless overridden). */
export function zerosLike(like: Tensor, options: CreateOptions = {}): Tensor {
  return full(like.shape, 0, { dtype: like.dtype, ...options });
}

/** Ones with `like`'s shape and dtype (unless overridden). */
export function onesLike(like: Tensor, options: CreateOptions = {}): Tensor {
  return full(like.shape, 1, { dtype: like.dtype, ...options });
}

/** `value` with `like`'s shape and dtype (unless overridden). */
export function fullLike(like: Tensor, value: number, options: CreateOptions = {}): Tensor {
  return full(like.shape, value, { dtype: like.dtype, ...options });
}

/** Values start, start+step, ... below end (int32 when all arguments are integers, else float32). */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step))
    throw new ValueError(`arange: step must be a non-zero finite number, got ${step}`);
  if ((end - start) / step < 0 && end !== start) {
    throw new ValueError(
      `arange: upper bound and step sign are inconsistent (start ${start}, end ${end}, step ${step})`,
    );
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = options.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const arr = allocArray(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return finish(arr, [n], options, 'arange');
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new ValueError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const arr = allocArray(options.dtype ?? 'float32', steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) arr[i] = i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step;
  return finish(arr, [steps], options, 'linspace');
}

/** Identity matrix n x m (m = n by default). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  checkShape('eye', [n, m]);
  const arr = allocArray(options.dtype ?? 'float32', n * m);
  for (let i = 0; i < Math.min(n, m); i++) arr[i * m + i] = 1;
  return finish(arr, [n, m], options, 'eye');
}

function floatDtype(op: string, options: CreateOptions): DType {
  const dtype = options.dtype ?? 'float32';
  if (!isFloating(dtype)) throw new DTypeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  return dtype;
}

/** Uniform samples in [0, 1). */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape('rand', shape);
  const dtype = floatDtype('rand', options);
  const g = options.generator ?? defaultGenerator;
  const arr = allocArray(dtype, numelOf(shape));
  if (dtype === 'float32') for (let i = 0; i < arr.length; i++) arr[i] = g.random24();
  else for (let i = 0; i < arr.length; i++) arr[i] = g.random();
  return finish(arr, shape, options, 'rand');
}

/** Standard normal samples. */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape('randn', shape);
  const dtype = floatDtype('randn', options);
  const arr = allocArray(dtype, numelOf(shape));
  (options.generator ?? defaultGenerator).fillNormal(arr);
  return finish(arr, shape, options, 'randn');
}

/** Uniform integers in [low, high) (int32). */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape('randint', shape);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new ValueError(`randint: need integers low < high, got low=${low}, high=${high}`);
  }
  const g = options.generator ?? defaultGenerator;
  const arr = allocArray(options.dtype ?? 'int32', numelOf(shape));
  for (let i = 0; i < arr.length; i++) arr[i] = g.randint(low, high);
  return finish(arr, shape, { ...options, requiresGrad: false }, 'randint');
}

/** Samples 0/1 with probabilities `p` (a tensor of probabilities, or a number with a shape). */
export function bernoulli(p: Tensor | number, options: RandomOptions & { shape?: Shape } = {}): Tensor {
  const g = options.generator ?? defaultGenerator;
  const probs = typeof p === 'number' ? null : p.dataSync();
  const shape = typeof p === 'number' ? (options.shape ?? []) : p.shape;
  const n = numelOf(shape);
  const dtype = options.dtype ?? (typeof p === 'number' ? 'float32' : p.dtype);
  const arr = allocArray(dtype, n);
  for (let i = 0; i < n; i++) {
    const pi = probs ? probs[i]! : (p as number);
    if (!(pi >= 0 && pi <= 1))
      throw new ValueError(`bernoulli: probability ${pi} at element ${i} is outside [0, 1]`);
    arr[i] = g.random() < pi ? 1 : 0;
  }
  return finish(arr, shape, { ...options, requiresGrad: false }, 'bernoulli');
}

/** A random permutation of 0..n-1 (int32). */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0)
    throw new ValueError(`randperm: n must be a non-negative integer, got ${n}`);
  const g = options.generator ?? defaultGenerator;
  const arr = allocArray(options.dtype ?? 'int32', n);
  for (let i = 0; i < n; i++) arr[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.randint(0, i + 1);
    const t = arr[i]!;
    arr[i] = arr[j]!;
    arr[j] = t;
  }
  return finish(arr, [n], { ...options, requiresGrad: false }, 'randperm');
}
