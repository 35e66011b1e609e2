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

/** What Backend.lstmLayer returns (fresh arrays, owned by the caller). */
export interface LstmLayerRun {
  /**
   * The h states as T + 1 slots of [B, H]: the initial state in slot 0 (slot T when reversed), h_t of
   * step t in slot t + 1 (slot t when reversed).
   */
  h: Float32Array;
  /** The state after the last step processed, [B, H] each. */
  hN: Float32Array;
  cN: Float32Array;
  /**
   * With `keep`: the gradients [x, wih, whh, bias, h0, c0] (null where `needs` says false or the operand
   * was null) from those of the output [T, B, H], of hN and of cN (each may be null: zero).
   */
  backward:
    | ((
        gOut: View | null,
        gH: View | null,
        gC: View | null,
        needs: readonly boolean[],
      ) => (Float32Array | null)[])
    | null;
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

/** The window of a 2x2 max pool with stride 2 (no padding or dilation) over [inH, inW] planes. */
export function maxPool2x2Window(inH: number, inW: number): Pool2dWindow {
  return {
    inH,
    inW,
    outH: Math.floor(inH / 2),
    outW: Math.floor(inW / 2),
    kh: 2,
    kw: 2,
    sh: 2,
    sw: 2,
    ph: 0,
    pw: 0,
    dh: 1,
    dw: 1,
    adaptive: false,
    countIncludePad: false,
    divisorOverride: 0,
  };
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
  /**
   * Optional: prepares a sequence of products a x b with one right operand `b` ([1, k, n], any strides)
   * and left operands a [1, m, k], such as the per-step hidden-state products of a recurrent layer, so a
   * backend can keep `b` where its kernels read it. `b`'s data must not change while the returned
   * function is in use. Callers fall back to `matmul` where a backend lacks it.
   */
  matmulFixedRight?(b: View, out: DType): (a: View) => Storage;
  /**
   * Optional: a whole float32 LSTM layer in one direction, time loop and backward inside (`lstmLayer` in
   * src/nn/functional/rnn-cell.ts uses it where present, else its own loop): x [T, B, I] (T, B > 0),
   * wih [4H, I], whh [4H, H], bias [4H] (null: none), h0, c0 [B, H] (null: zeros), gates i, f, g, o; with
   * `reverse` the steps run from t = T - 1 down to 0. `keep`: also return the backward (which may be run
   * more than once). The operands' data must not change until the last backward.
   */
  lstmLayer?(
    x: View,
    wih: View,
    whh: View,
    bias: View | null,
    h0: View | null,
    c0: View | null,
    reverse: boolean,
    keep: boolean,
  ): LstmLayerRun;

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
  /**
   * Optional: conv2d (groups 1) followed by max pooling `pool` of its [N, Cout, outH, outW] output, without
   * the conv's output ever being returned: the pooled values and their int32 flat in-plane indices, the
   * same as `maxPool2d(conv2d(...), pool)`; null where the backend does not fuse this case (then callers
   * run the two kernels). Used by nn.Sequential for a Conv2d followed by a MaxPool2d.
   */
  conv2dMaxPool2d?(
    x: View,
    weight: View,
    bias: View | null,
    w: Window2d,
    pool: Pool2dWindow,
  ): { values: Storage; indices: Storage } | null;
  /**
   * Optional: the backward of `conv2dMaxPool2d`: from the pooled output's gradient `grad` and the pool's
   * `indices`, the gradients of x (`needs.input`), the weight (`needs.weight`) and the bias
   * (`needs.bias`: the sum of the conv output's gradient over every dim but 1), the same as the pool's
   * backward followed by the conv's backward kernels; null where the backend does not fuse this case.
   */
  conv2dMaxPool2dBackward?(
    grad: View,
    indices: View,
    x: View,
    weight: View,
    w: Window2d,
    pool: Pool2dWindow,
    needs: { input: boolean; weight: boolean; bias: boolean },
  ): { input: Storage | null; weight: Storage | null; bias: Storage | null } | null;
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

/**
 * Makes a backend. It may return a promise where the backend can only load asynchronously (WebAssembly
 * that a browser refuses to compile synchronously on its main thread); until the promise settles, the
 * next backend in line serves, and {@link ready} waits for it.
 */
export type BackendFactory = () => Backend | Promise<Backend>;

/** Options of {@link registerBackend}. */
export interface RegisterBackendOptions {
  /**
   * Makes the backend a candidate for the default: until `setBackend` is called, new tensors go to the
   * candidate with the highest priority that loads (`wasm` 2, `cpu` 1). Without one, only `setBackend`
   * selects the backend.
   */
  priority?: number;
}

interface Registered {
  readonly factory: BackendFactory;
  readonly priority: number | undefined;
}

const registry = new Map<string, Registered>();
const instances = new Map<string, Backend>();
/** Backends whose factory returned a promise that has not settled yet. */
const loading = new Map<string, Promise<unknown>>();
/** Backends whose factory failed while they were only a default candidate (never retried). */
const failed = new Set<string>();
/** The backend new tensors go to, resolved by `getBackend` (null: resolve again). */
let current: Backend | null = null;
/** The name given to `setBackend`, or null while the default applies. */
let chosen: string | null = null;

/**
 * Registers a backend factory under `name` (called lazily, on first use). A backend registered with a
 * `priority` competes to be the default (see {@link RegisterBackendOptions}).
 */
export function registerBackend(
  name: string,
  factory: BackendFactory,
  options: RegisterBackendOptions = {},
): void {
  registry.set(name, { factory, priority: options.priority });
  instances.delete(name);
  loading.delete(name);
  failed.delete(name);
  current = null;
}

/** Names of all registered backends. */
export function listBackends(): string[] {
  return [...registry.keys()];
}

/** The names `getBackend` tries in order: the chosen one, then the default candidates by priority. */
function lineup(): string[] {
  const candidates = [...registry]
    .filter(([, r]) => r.priority !== undefined)
    .sort(([, a], [, b]) => b.priority! - a.priority!)
    .map(([name]) => name);
  const order = candidates.length > 0 ? candidates : [...registry.keys()];
  return chosen === null ? order : [chosen, ...order.filter((n) => n !== chosen)];
}

/** The backend `name`, created if needed; null while it loads asynchronously or after it failed to. */
function load(name: string): Backend | null {
  const have = instances.get(name);
  if (have) return have;
  if (loading.has(name) || failed.has(name)) return null;
  const entry = registry.get(name);
  if (!entry) {
    throw new ValueError(
      `setBackend: unknown backend '${name}' (registered: ${listBackends().join(', ') || 'none'})`,
    );
  }
  const made = entry.factory();
  if (!(made instanceof Promise)) {
    instances.set(name, made);
    return made;
  }
  const settled = (): boolean => {
    const mine = registry.get(name) === entry && loading.get(name) === promise;
    if (mine) loading.delete(name);
    return mine;
  };
  const promise = made.then(
    (backend) => {
      if (!settled()) return;
      instances.set(name, backend);
      current = null; // the loaded backend may now take precedence
    },
    (e: unknown) => {
      if (!settled()) return;
      failed.add(name);
      current = null;
      console.warn(
        `neurite: the '${name}' backend failed to load (${e instanceof Error ? e.message : String(e)}); using the next backend in line`,
      );
    },
  );
  loading.set(name, promise);
  return null;
}

/**
 * Makes `name` the backend new tensors are created on, instead of the default. Where that backend
 * loads asynchronously (the `wasm` backend in a browser's main thread, see {@link ready}), the default
 * candidates serve until it has loaded.
 * @throws ValueError for an unregistered name; whatever the backend's factory throws.
 */
export function setBackend(name: string): void {
  const backend = load(name);
  chosen = name;
  current = backend;
}

/**
 * The backend new tensors are created on: the one given to {@link setBackend}, else the default, the
 * registered candidate of highest priority that loads (`wasm` where WebAssembly SIMD works, else the
 * TypeScript `cpu` backend). The first call creates it, so importing the library stays cheap.
 */
export function getBackend(): Backend {
  if (current) return current;
  for (const name of lineup()) {
    let backend: Backend | null;
    try {
      backend = load(name);
    } catch (e) {
      if (name === chosen || !registry.has(name)) throw e;
      failed.add(name);
      console.warn(
        `neurite: the '${name}' backend failed to load (${e instanceof Error ? e.message : String(e)}); using the next backend in line`,
      );
      continue;
    }
    if (backend) {
      current = backend;
      return backend;
    }
  }
  throw new ValueError(
    `getBackend: no backend could be loaded (registered: ${listBackends().join(', ') || 'none'})`,
  );
}

/**
 * Waits until the backends that load asynchronously have loaded (or failed to), then returns the
 * backend new tensors go to. Only needed where WebAssembly must be compiled asynchronously, as in a
 * browser's main thread: there, until the `wasm` backend has loaded, tensors are created on the `cpu`
 * backend (which mixes freely with it). In Node everything loads on first use and this resolves at once.
 * @example
 * await ready(); // before the first tensor, in a browser page
 */
export async function ready(): Promise<Backend> {
  getBackend();
  while (loading.size > 0) {
    await Promise.all(loading.values());
    getBackend();
  }
  return getBackend();
}
