/**
 * A second instance of the kernels on an ordinary (non-shared) linear memory, for the float32 products
 * that run on the calling thread alone (src/backends/wasm/matmul.ts).
 *
 * V8 copies into and out of a SharedArrayBuffer on a slow path (about 3x slower than an ordinary
 * ArrayBuffer: ~15 us against ~4 us per 400 KB in, measured on Node 20), so a product that no worker
 * thread will touch is cheaper to run on memory of its own. The instance is the build without threads,
 * with or without relaxed SIMD as the backend's kernels, so it computes the same bits as they do (the
 * same AssemblyScript code; the split of a threaded product does not change its results either, see
 * src/backends/wasm/job.ts). Its memory is kept small: products whose working set is over
 * {@link PRIVATE_MAX_BYTES} stay in the backend's memory (they pay for their copies many times over in
 * multiply-adds anyway), so the private memory never grows past that.
 * @module
 */
import { WasmKernels } from './kernels.js';

/**
 * Largest working set (operands, product and workspace, in bytes) of a product run in the private
 * instance; also the limit that instance's memory grows to (64 MiB).
 */
export const PRIVATE_MAX_BYTES = 64 << 20;

/** The private instance of each set of shared kernels: null where it cannot be created. */
const privateOf = new WeakMap<WasmKernels, WasmKernels | null>();

/**
 * Kernels on an ordinary memory computing what `kernels` computes: `kernels` itself when its memory is
 * not shared; else a private instance (created on first use, the same relaxed-SIMD choice), or null
 * where it cannot be created (e.g. an engine that refuses to compile the other build synchronously), in
 * which case callers keep using `kernels`.
 */
export function privateKernels(kernels: WasmKernels): WasmKernels | null {
  if (!kernels.shared) return kernels;
  let own = privateOf.get(kernels);
  if (own === undefined) {
    try {
      own = new WasmKernels({ shared: false, relaxed: kernels.relaxed, maxBytes: PRIVATE_MAX_BYTES });
    } catch {
      own = null;
    }
    privateOf.set(kernels, own);
  }
  return own;
}
