/**
 * The backend interface: kernels on raw storage. Ops (shape and dtype logic, autograd) live in
 * `src/ops` and call these kernels; a new backend (WebAssembly, WebGPU) implements this interface only.
 * Every kernel returns fresh contiguous (row-major) storage unless it says otherwise.
 * @module
 */
import type { DType, TypedArray } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';

/** A flat buffer of elements owned by a backend. Views (tensors) share storages. */
export interface Storage {
  /** The backend that owns the buffer. */
  readonly backend: Backend;
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
  /** Bumped by every in-place write; autograd compares it with the version it saved. */
  version: number;
}

/** A strided window onto a storage (every Tensor is one). Strides may be 0 (broadcast) or negative. */
export interface View {
  readonly storage: Storage;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
}

/** Elementwise unary kernels. */
export type UnaryOp =
  | 'neg'
  | 'abs'
  | 'exp'
  | 'log'
  | 'log1p'
  | 'expm1'
  | 'sqrt'
  | 'rsqrt'
  | 'square'
  | 'reciprocal'
  | 'sin'
  | 'cos'
  | 'tan'
  | 'asin'
  | 'acos'
  | 'atan'
  | 'sinh'
  | 'cosh'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'erf'
  | 'floor'
  | 'ceil'
  | 'round'
  | 'trunc'
  | 'sign'
  | 'not'
  | 'isnan'
  | 'isinf';

/** Elementwise binary kernels (inputs already broadcast to the output shape). */
export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'atan2'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'and'
  | 'or'
  | 'xor';

/** Reduction kernels. `argmax`/`argmin` return int32 indices into the reduced dimension. */
export type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin';

// ---------------------------------------------------------------------------------------------
// nn kernels: geometry types (convolution and pooling on NCHW tensors)

/**
 * Geometry of a 2-d sliding window over an [N, C, inH, inW] input producing an outH x outW grid.
 * `ph`/`pw` are the top/left padding; the bottom/right padding is implied by the output size, so
 * asymmetric padding (padding 'same' with an even kernel) needs no special case.
 */
export interface Window2d {
  /** Input height and width. */
  readonly inH: number;
  readonly inW: number;
  /** Output height and width. */
  readonly outH: number;
  readonly outW: number;
  /** Kernel height and width. */
  readonly kh: number;
  readonly kw: number;
  /** Strides. */
  readonly sh: number;
  readonly sw: number;
  /** Top and left padding. */
  readonly ph: number;
  readonly pw: number;
  /** Dilations. */
  readonly dh: number;
  readonly dw: number;
}

/** A pooling window: a `Window2d`, or adaptive windows, plus average-pooling divisor rules. */
export interface Pool2dWindow extends Window2d {
  /** Adaptive pooling: window o spans [floor(o*in/out), ceil((o+1)*in/out)); kernel/stride/padding are ignored. */
  readonly adaptive: boolean;
  /** Average pooling: count padded positions in the divisor (PyTorch's count_include_pad). */
  readonly countIncludePad: boolean;
  /** Average pooling: divide by this instead (0: not set). */
  readonly divisorOverride: number;
}

/** The kernels a backend provides. */
export interface Backend {
  /** Registry name, e.g. `cpu`. */
  readonly name: string;

  /** Zero-filled storage. */
  alloc(dtype: DType, length: number): Storage;
  /** Storage holding `data` (the backend may adopt the array without copying; callers must not reuse it). */
  fromArray(data: TypedArray): Storage;
  /** The whole storage as a typed array (may be the live buffer: callers must not write to it). */
  read(storage: Storage): TypedArray;

  /** Contiguous copy of a view, converted to `dtype`. */
  copy(x: View, dtype: DType): Storage;
  /** Writes `src` (broadcast to `dst.shape`, converted to dst's dtype) into the view `dst`, in place. */
  assign(dst: View, src: View): void;
  /** Writes `value` into every element of the view `dst`, in place. */
  fill(dst: View, value: number): void;

  /** `op` applied elementwise; result has x's shape and dtype `out`. */
  unary(op: UnaryOp, x: View, out: DType): Storage;
  /** `op(a, b)` elementwise; a and b are views already broadcast (stride 0) to `shape`; inputs are read as-is. */
  binary(op: BinaryOp, a: View, b: View, shape: Shape, out: DType): Storage;
  /** `cond ? a : b` with all three broadcast to `shape`. */
  where(cond: View, a: View, b: View, shape: Shape, out: DType): Storage;
  /** Reduces `dims` (sorted, distinct) away; result shape is x's shape without them (dtype: int32 for arg ops, else x's). */
  reduce(op: ReduceOp, x: View, dims: readonly number[]): Storage;
  /** Inclusive cumulative sum/product along `dim`; result has x's shape. */
  cumulative(op: 'sum' | 'prod', x: View, dim: number): Storage;

  /** Batched matrix product: a is [B, m, k], b is [B, k, n] (any strides, batch stride 0 broadcasts); result [B, m, n]. */
  matmul(a: View, b: View, out: DType): Storage;

  /** out[...i, j, k...] = x[...i, index[...i,j,k...], k...] along `dim`; index int32 with index.shape (may be smaller than x's in other dims). */
  gather(x: View, dim: number, index: View): Storage;
  /**
   * Copies `base` (contiguous) then, along `dim`, writes (`reduce` 'none') or adds ('add') src[pos] at
   * position index[pos]; index and src share a shape. Result has base's shape.
   */
  scatter(base: View, dim: number, index: View, src: View, reduce: 'none' | 'add'): Storage;
  /** Selects entries of a 1-d int32 `index` along `dim`. */
  indexSelect(x: View, dim: number, index: View): Storage;
  /** Copy of `base` with src's slices added at positions `index` (1-d int32) along `dim` (index_add). */
  indexAdd(base: View, dim: number, index: View, src: View): Storage;

  // -------------------------------------------------------------------------------------------
  // nn kernels (convolution and pooling; x is [N, C, H, W] with any strides, results contiguous)

  /** im2col: the [N, C*kh*kw, outH*outW] matrix of input patches (row c*kh*kw + i*kw + j), zeros in the padding. */
  im2col(x: View, w: Window2d): Storage;
  /** col2im, the adjoint of im2col: sums the [N, C*kh*kw, outH*outW] columns back into [N, C, inH, inW]. */
  col2im(cols: View, w: Window2d): Storage;
  /** Max pooling: values [N, C, outH, outW] and int32 indices (flat h*inW + w within each plane; NaN wins). */
  maxPool2d(x: View, w: Pool2dWindow): { values: Storage; indices: Storage };
  /** Adjoint of max pooling: adds grad [N, C, outH, outW] into [N, C, inH, inW] at `indices`. */
  maxPool2dBackward(grad: View, indices: View, w: Pool2dWindow): Storage;
  /** Average pooling [N, C, outH, outW]. */
  avgPool2d(x: View, w: Pool2dWindow): Storage;
  /** Adjoint of average pooling: spreads grad [N, C, outH, outW] over the windows into [N, C, inH, inW]. */
  avgPool2dBackward(grad: View, w: Pool2dWindow): Storage;

  /**
   * 2-d convolution (cross-correlation) of x [N, C, inH, inW] with weight [Cout, C/groups, kh, kw]
   * plus an optional bias [Cout]; result [N, Cout, outH, outW].
   */
  conv2d(x: View, weight: View, bias: View | null, w: Window2d, groups: number): Storage;
  /** Gradient of conv2d w.r.t. its input: grad [N, Cout, outH, outW] -> [N, weight.shape[1]*groups, inH, inW]. */
  conv2dBackwardInput(grad: View, weight: View, w: Window2d, groups: number): Storage;
  /** Gradient of conv2d w.r.t. its weight: grad [N, Cout, outH, outW] and x -> [Cout, C/groups, kh, kw]. */
  conv2dBackwardWeight(grad: View, x: View, w: Window2d, groups: number): Storage;
  /** ReLU's backward: grad where out > 0, else 0 (out is the ReLU output, of grad's shape; result dtype grad's). */
  reluBackward(grad: View, out: View): Storage;
  /** Per-channel mean and biased variance of x [N, C, ...] over every dim but 1; each [C], x's dtype. */
  batchNormStats(x: View): { mean: Storage; variance: Storage };
  /** (x - mean[c]) * invstd[c] * weight[c] + bias[c] over x [N, C, ...] (null weight/bias: 1/0); x's shape. */
  batchNormForward(x: View, mean: View, invstd: View, weight: View | null, bias: View | null): Storage;
  /**
   * Backward of batch norm with batch statistics (`mean`/`invstd` of x, from the forward pass): the
   * gradients of x (x's shape), of the weight and of the bias ([C] each) for output gradient `grad`.
   */
  batchNormBackward(
    grad: View,
    x: View,
    mean: View,
    invstd: View,
    weight: View | null,
  ): { dx: Storage; dweight: Storage; dbias: Storage };
}

const registry = new Map<string, () => Backend>();
const instances = new Map<string, Backend>();
let current: Backend | null = null;
let currentName = 'cpu';

/** Registers a backend factory under `name` (created lazily on first use). */
export function registerBackend(name: string, factory: () => Backend): void {
  registry.set(name, factory);
  instances.delete(name);
  if (current && current.name === name) current = null;
}

/** Names of all registered backends. */
export function listBackends(): string[] {
  return [...registry.keys()];
}

function instantiate(name: string): Backend {
  let b = instances.get(name);
  if (!b) {
    const factory = registry.get(name);
    if (!factory) {
      throw new ValueError(
        `setBackend: unknown backend '${name}' (registered: ${listBackends().join(', ') || 'none'})`,
      );
    }
    b = factory();
    instances.set(name, b);
  }
  return b;
}

/** Makes `name` the backend new tensors are created on. */
export function setBackend(name: string): void {
  current = instantiate(name);
  currentName = name;
}

/** The backend new tensors are created on (the TypeScript `cpu` backend by default). */
export function getBackend(): Backend {
  if (!current) current = instantiate(currentName);
  return current;
}
