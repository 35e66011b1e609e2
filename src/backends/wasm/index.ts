/**
 * The `wasm` backend: the CPU backend's storage and kernels, with float32 matrix products computed by a
 * WebAssembly SIMD SGEMM (assembly/gemm.ts). It is the default backend wherever it loads (created on
 * first use; `setBackend('cpu')` selects the TypeScript backend instead).
 *
 * This first version keeps tensor data in JS typed arrays (the storages are `CpuStorage`s owned by this
 * backend, so every CPU kernel and the optimizers' in-place fast paths work on them unchanged) and copies
 * the operands of each float32 matmul into the kernels' linear memory and the product back out. Every
 * other kernel, and float64 or integer products, run the CPU backend's TypeScript code.
 *
 * Large float32 products are split over worker threads sharing the kernels' memory (src/backends/wasm/
 * pool.ts) in Node, with `setNumThreads(n)` (default: the available cores, at most 8); the workers start
 * on the first product that is large enough, or up front with `await initWasmThreads()`.
 *
 * Where WebAssembly or its 128-bit SIMD is missing, or the kernels cannot be instantiated, creating the
 * backend prints a one-line notice and returns a CPU backend instead, so neither the default nor
 * `setBackend('wasm')` ever fails. Where the engine refuses to compile the kernels synchronously (a
 * browser's main thread), the registry's factory ({@link loadWasmBackend}) compiles them asynchronously
 * and the `cpu` backend serves until then (`await ready()` waits). Where shared memory or worker threads
 * are missing it runs single-threaded, silently. A product whose operands do not fit in the linear
 * memory (2 GiB at most, see MAX_MEMORY_BYTES) throws an OutOfMemoryError naming the op, the shapes
 * and the bytes.
 * @module
 */
import type { DType } from '../../core/dtype.js';
import { OutOfMemoryError } from '../../core/errors.js';
import {
  type Backend,
  getBackend,
  type Pool2dWindow,
  type Storage,
  type View,
  type Window2d,
} from '../backend.js';
import { createCpuBackend } from '../cpu/index.js';
import { arr, CpuStorage } from '../cpu/storage.js';
import { wasmBatchNormBackward, wasmBatchNormForward, wasmBatchNormStats } from './batchnorm.js';
import {
  isMaxPool2x2,
  type Threads,
  wasmConv2d,
  wasmConv2dBackwardInput,
  wasmConv2dBackwardWeight,
  wasmConv2dMaxPool2x2,
  wasmConv2dMaxPool2x2Backward,
  wasmConvApplies,
} from './conv.js';
import { wasmThreadsUnsupportedReason, wasmUnsupportedReason } from './detect.js';
import { wasmElementwiseKernels } from './elementwise.js';
import { precompileKernels, WasmKernels } from './kernels.js';
import { wasmLstmLayer } from './lstm.js';
import { wasmMatmul, wasmMatmulFixedRight } from './matmul.js';
import { GemmPool, getNumThreads, setNumThreads, threadPoolUnsupportedReason } from './pool.js';

export {
  enableWasmRelaxedSimd,
  wasmRelaxedSimdSupported,
  wasmSimdSupported,
  wasmThreadsUnsupportedReason,
  wasmUnsupportedReason,
} from './detect.js';
export { WasmKernels } from './kernels.js';
export { wasmMatmul, wasmMatmulFixedRight } from './matmul.js';
export { GemmPool, getNumThreads, setNumThreads, threadPoolUnsupportedReason } from './pool.js';

/** The thread pool of each wasm backend (created on first use; absent where threads are unavailable). */
const poolOf = new WeakMap<Backend, () => GemmPool | null>();

/** The kernels (and so the linear memory) of each wasm backend. */
const kernelsOf = new WeakMap<Backend, WasmKernels>();

/**
 * Bytes of WebAssembly linear memory that a `wasm` backend holds now (it grows to the largest working
 * set seen and never shrinks); 0 for any other backend.
 */
export function wasmMemoryBytes(backend: Backend = getBackend()): number {
  return kernelsOf.get(backend)?.byteLength ?? 0;
}

/** The worker pool of a `wasm` backend (created if needed), or null when it runs single-threaded. */
export function wasmThreadPool(backend: Backend = getBackend()): GemmPool | null {
  return poolOf.get(backend)?.() ?? null;
}

/**
 * Starts the worker threads of the current `wasm` backend now (instead of on the first large product)
 * and waits until they are ready; `threads` also sets {@link setNumThreads}. Resolves to the number of
 * threads products will use: 1 when the current backend is not `wasm` or threads are unavailable here.
 */
export async function initWasmThreads(threads?: number): Promise<number> {
  if (threads !== undefined) setNumThreads(threads);
  const pool = wasmThreadPool();
  if (pool === null) return 1;
  const n = getNumThreads();
  await pool.start(n - 1);
  return n;
}

/**
 * Re-homes what a CPU kernel returned onto `owner`: storages (alone or as the values of a result
 * object such as `{ values, indices }`) become `CpuStorage`s of `owner` sharing the same array, so ops
 * on the result dispatch to `owner` again. Anything else (typed arrays from `read`, void) passes through.
 */
function adopt(owner: Backend, result: unknown): unknown {
  if (result instanceof CpuStorage) return new CpuStorage(owner, result.dtype, result.data);
  if (typeof result === 'object' && result !== null && !ArrayBuffer.isView(result)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(result)) {
      out[key] = value instanceof CpuStorage ? new CpuStorage(owner, value.dtype, value.data) : value;
    }
    return out;
  }
  return result;
}

/**
 * Every kernel of `cpu`, with results re-homed onto the backend that `owner()` returns. Built from the
 * CPU backend's own properties, so kernels added to the Backend interface later are delegated too.
 */
function delegateTo(cpu: Backend, owner: () => Backend): Backend {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cpu)) {
    if (typeof value === 'function') {
      const kernel = value as (...args: unknown[]) => unknown;
      out[key] = (...args: unknown[]): unknown => adopt(owner(), kernel.apply(cpu, args));
    } else {
      out[key] = value;
    }
  }
  // The object has every member of `cpu` (a Backend) with the same signatures.
  return out as unknown as Backend;
}

/** Shapes for messages: `[2, 3]`. */
function shapeText(v: View): string {
  return `[${v.shape.join(', ')}]`;
}

/**
 * Runs a wasm kernel of `op`. When its operands do not fit in the linear memory, rethrows the
 * OutOfMemoryError of `WasmKernels.reserve` with the op and the operands (`what()`) in its message.
 */
function inWasm<T>(op: string, what: () => string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof OutOfMemoryError)) throw e;
    const message = e.message.replace(' of linear memory', ` of linear memory for ${what()}`);
    throw new OutOfMemoryError(`${op}: ${message}`, e.requestedBytes);
  }
}

/** Options of {@link createWasmBackend} (for tests and embedders). */
export interface WasmBackendOptions {
  /** Called with the one-line notice when the backend falls back to the CPU (default `console.warn`). */
  warn?: (message: string) => void;
  /** The kernels to use (default: new ones; e.g. with a small `maxBytes`, for tests). */
  kernels?: WasmKernels;
}

/** Text of an error for a notice. */
function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The one-line notice, then a new CPU backend. */
function fallBackToCpu(options: WasmBackendOptions, why: string): Backend {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  warn(`neurite: ${why}; the 'wasm' backend falls back to the 'cpu' backend`);
  return createCpuBackend();
}

/**
 * The `wasm` backend as the registry creates it: {@link createWasmBackend}, except where the engine
 * refuses to compile the kernels synchronously but can asynchronously (a browser's main thread): then a
 * promise of the backend, compiled in the background, while the `cpu` backend serves (see `ready`).
 */
export function loadWasmBackend(options: WasmBackendOptions = {}): Backend | Promise<Backend> {
  if (options.kernels !== undefined || wasmUnsupportedReason() !== null) return createWasmBackend(options);
  let kernels: WasmKernels;
  try {
    kernels = new WasmKernels();
  } catch (e) {
    if (typeof WebAssembly.compile !== 'function') return createWasmBackend(options);
    return precompileKernels().then(
      () => createWasmBackend(options),
      (err: unknown) =>
        fallBackToCpu(
          options,
          `the WebAssembly kernels failed to compile (${errorText(err)}; synchronously: ${errorText(e)})`,
        ),
    );
  }
  return createWasmBackend({ ...options, kernels });
}

/**
 * Creates the `wasm` backend, or, where WebAssembly SIMD is unavailable or the kernels fail to
 * instantiate, prints a one-line notice and returns a new CPU backend (named `cpu`).
 */
export function createWasmBackend(options: WasmBackendOptions = {}): Backend {
  const reason = wasmUnsupportedReason();
  if (reason !== null) return fallBackToCpu(options, reason);
  let kernels: WasmKernels;
  try {
    kernels = options.kernels ?? new WasmKernels();
  } catch (e) {
    return fallBackToCpu(options, `the WebAssembly kernels failed to load (${errorText(e)})`);
  }
  const cpu = createCpuBackend();
  let pool: GemmPool | null | undefined;
  /** Why this backend has no worker pool (null: it has one), and whether that was said. */
  let noPool: string | null = null;
  let noPoolSaid = false;
  const getPool = (): GemmPool | null => {
    if (pool === undefined) {
      noPool = kernels.shared
        ? threadPoolUnsupportedReason()
        : (wasmThreadsUnsupportedReason() ?? 'the kernels were loaded without a shared memory');
      pool = noPool === null ? new GemmPool(kernels) : null;
    }
    // One line, once, when more threads are asked for (or are the default) than can run here.
    if (pool === null && !noPoolSaid && getNumThreads() > 1) {
      noPoolSaid = true;
      (options.warn ?? ((m: string) => console.warn(m)))(
        `neurite: ${noPool}; the 'wasm' backend runs on one thread`,
      );
    }
    return pool;
  };
  const threading = (): Threads => {
    const threads = getNumThreads();
    return { pool: threads > 1 ? getPool() : null, threads };
  };
  /** A float32 result computed in wasm (see inWasm), as a storage of this backend. */
  const inWasmStorage = (op: string, what: () => string, run: () => Float32Array): Storage =>
    new CpuStorage(backend, 'float32', inWasm(op, what, run));
  const backend: Backend = {
    ...delegateTo(cpu, () => backend),
    ...wasmElementwiseKernels(
      kernels,
      cpu,
      () => backend,
      (r) => adopt(backend, r),
    ),
    name: 'wasm',
    matmul(a: View, b: View, out: DType): Storage {
      if (out !== 'float32') return adopt(backend, cpu.matmul(a, b, out)) as Storage;
      const { pool, threads } = threading();
      return inWasmStorage(
        'matmul',
        () => `float32 ${shapeText(a)} x ${shapeText(b)}`,
        () => wasmMatmul(kernels, a, b, pool, threads),
      );
    },
    matmulFixedRight(b: View, out: DType): (a: View) => Storage {
      if (out !== 'float32') return (a) => backend.matmul(a, b, out);
      const { pool, threads } = threading();
      const product = wasmMatmulFixedRight(kernels, b, pool, threads);
      return (a) =>
        inWasmStorage(
          'matmul',
          () => `float32 ${shapeText(a)} x ${shapeText(b)}`,
          () => product(a),
        );
    },
    lstmLayer(x, wih, whh, bias, h0, c0, reverse, keep) {
      return wasmLstmLayer(kernels, threading(), x, wih, whh, bias, h0, c0, reverse, keep);
    },
    conv2d(x: View, weight: View, bias: View | null, w: Window2d, groups: number): Storage {
      if (!wasmConvApplies(groups, x, weight, bias)) {
        return adopt(backend, cpu.conv2d(x, weight, bias, w, groups)) as Storage;
      }
      return inWasmStorage(
        'conv2d',
        () => `float32 input ${shapeText(x)}, weight ${shapeText(weight)}`,
        () => wasmConv2d(kernels, threading(), x, weight, bias, w),
      );
    },
    batchNormStats(x: View) {
      const r = wasmBatchNormStats(kernels, x);
      if (r === null) return adopt(backend, cpu.batchNormStats(x)) as { mean: Storage; variance: Storage };
      return {
        mean: new CpuStorage(backend, 'float32', r.mean),
        variance: new CpuStorage(backend, 'float32', r.variance),
      };
    },
    batchNormForward(x: View, mean: View, invstd: View, weight: View | null, bias: View | null): Storage {
      const r = wasmBatchNormForward(kernels, x, mean, invstd, weight, bias);
      if (r === null) return adopt(backend, cpu.batchNormForward(x, mean, invstd, weight, bias)) as Storage;
      return new CpuStorage(backend, 'float32', r);
    },
    batchNormBackward(grad: View, x: View, mean: View, invstd: View, weight: View | null) {
      const r = wasmBatchNormBackward(kernels, grad, x, mean, invstd, weight);
      if (r === null) {
        return adopt(backend, cpu.batchNormBackward(grad, x, mean, invstd, weight)) as {
          dx: Storage;
          dweight: Storage;
          dbias: Storage;
        };
      }
      const own = (a: Float32Array) => new CpuStorage(backend, 'float32', a);
      return { dx: own(r.dx), dweight: own(r.dweight), dbias: own(r.dbias) };
    },
    conv2dMaxPool2d(x: View, weight: View, bias: View | null, w: Window2d, pw: Pool2dWindow) {
      if (!wasmConvApplies(1, x, weight, bias) || !isMaxPool2x2(w, pw)) return null;
      const r = inWasm(
        'conv2d + maxPool2d',
        () => `float32 input ${shapeText(x)}, weight ${shapeText(weight)}`,
        () => wasmConv2dMaxPool2x2(kernels, threading(), x, weight, bias, w, pw),
      );
      return {
        values: new CpuStorage(backend, 'float32', r.values),
        indices: new CpuStorage(backend, 'int32', r.indices),
      };
    },
    conv2dMaxPool2dBackward(grad, indices, x, weight, w, pw, needs) {
      if (!wasmConvApplies(1, grad, x, weight) || !(arr(indices) instanceof Int32Array)) return null;
      if (!isMaxPool2x2(w, pw)) return null;
      const r = inWasm(
        'conv2d + maxPool2d backward',
        () => `float32 grad ${shapeText(grad)}, input ${shapeText(x)}, weight ${shapeText(weight)}`,
        () => wasmConv2dMaxPool2x2Backward(kernels, threading(), grad, indices, pw, x, weight, w, needs),
      );
      if (r === null) return null;
      const own = (a: Float32Array | null) => (a === null ? null : new CpuStorage(backend, 'float32', a));
      return { input: own(r.input), weight: own(r.weight), bias: own(r.bias) };
    },
    conv2dBackwardInput(grad: View, weight: View, w: Window2d, groups: number): Storage {
      if (!wasmConvApplies(groups, grad, weight)) {
        return adopt(backend, cpu.conv2dBackwardInput(grad, weight, w, groups)) as Storage;
      }
      return inWasmStorage(
        'conv2d backward (input)',
        () => `float32 grad ${shapeText(grad)}, weight ${shapeText(weight)}`,
        () => wasmConv2dBackwardInput(kernels, threading(), grad, weight, w),
      );
    },
    conv2dBackwardWeight(grad: View, x: View, w: Window2d, groups: number): Storage {
      if (!wasmConvApplies(groups, grad, x)) {
        return adopt(backend, cpu.conv2dBackwardWeight(grad, x, w, groups)) as Storage;
      }
      return inWasmStorage(
        'conv2d backward (weight)',
        () => `float32 grad ${shapeText(grad)}, input ${shapeText(x)}`,
        () => wasmConv2dBackwardWeight(kernels, threading(), grad, x, w),
      );
    },
  };
  poolOf.set(backend, getPool);
  kernelsOf.set(backend, kernels);
  return backend;
}
