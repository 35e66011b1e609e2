/**
 * The `wasm` backend: the CPU backend's storage and kernels, with float32 matrix products computed by a
 * WebAssembly SIMD SGEMM (assembly/gemm.ts). Select it with `setBackend('wasm')`; the default stays `cpu`.
 *
 * This first version keeps tensor data in JS typed arrays (the storages are `CpuStorage`s owned by this
 * backend, so every CPU kernel and the optimizers' in-place fast paths work on them unchanged) and copies
 * the operands of each float32 matmul into the kernels' linear memory and the product back out. Every
 * other kernel, and float64 or integer products, run the CPU backend's TypeScript code.
 *
 * Where WebAssembly or its 128-bit SIMD is missing, or the kernels cannot be instantiated, creating the
 * backend prints one warning and returns a CPU backend instead, so `setBackend('wasm')` never fails.
 * @module
 */
import type { DType } from '../../core/dtype.js';
import type { Backend, Storage, View } from '../backend.js';
import { createCpuBackend } from '../cpu/index.js';
import { CpuStorage } from '../cpu/storage.js';
import { wasmUnsupportedReason } from './detect.js';
import { WasmKernels } from './kernels.js';
import { wasmMatmul } from './matmul.js';

export { wasmSimdSupported, wasmUnsupportedReason } from './detect.js';
export { WasmKernels } from './kernels.js';
export { wasmMatmul } from './matmul.js';

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

/** Options of {@link createWasmBackend} (for tests and embedders). */
export interface WasmBackendOptions {
  /** Called with the one-line notice when the backend falls back to the CPU (default `console.warn`). */
  warn?: (message: string) => void;
}

/**
 * Creates the `wasm` backend, or, where WebAssembly SIMD is unavailable or the kernels fail to
 * instantiate, warns once and returns a new CPU backend (named `cpu`).
 */
export function createWasmBackend(options: WasmBackendOptions = {}): Backend {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const fallBack = (why: string): Backend => {
    warn(`neurite: ${why}; setBackend('wasm') falls back to the 'cpu' backend`);
    return createCpuBackend();
  };
  const reason = wasmUnsupportedReason();
  if (reason !== null) return fallBack(reason);
  let kernels: WasmKernels;
  try {
    kernels = new WasmKernels();
  } catch (e) {
    return fallBack(`the WebAssembly kernels failed to load (${e instanceof Error ? e.message : String(e)})`);
  }
  const cpu = createCpuBackend();
  const backend: Backend = {
    ...delegateTo(cpu, () => backend),
    name: 'wasm',
    matmul(a: View, b: View, out: DType): Storage {
      if (out !== 'float32') return adopt(backend, cpu.matmul(a, b, out)) as Storage;
      let data: Float32Array;
      try {
        data = wasmMatmul(kernels, a, b);
      } catch (e) {
        // The linear memory could not grow that far: the TypeScript kernel needs no extra copy.
        if (!(e instanceof RangeError)) throw e;
        return adopt(backend, cpu.matmul(a, b, out)) as Storage;
      }
      return new CpuStorage(backend, 'float32', data);
    },
  };
  return backend;
}
