/**
 * Batch normalisation on float32 data for the `wasm` backend (assembly/batchnorm.ts): batch statistics,
 * the normalisation and its backward, the same bits as the TypeScript kernels of src/backends/cpu/nn.ts
 * (every per-channel sum keeps its order; the kernels just sum several channels at once and do the
 * elementwise parts two doubles at a time). The operands are copied into the private, non-shared
 * instance of the kernels (src/backends/wasm/private-kernels.ts: cheaper copies) and the results out.
 * Each function returns null where it does not apply (other dtypes, fewer than
 * `batchNormLimits.minElements` elements, or more data than that instance may hold): the caller then runs
 * the CPU kernel.
 * @module
 */
import { allocArrayUninit } from '../../core/dtype.js';
import { OutOfMemoryError } from '../../core/errors.js';
import type { View } from '../backend.js';
import { contiguousData } from '../cpu/elementwise.js';
import { ncs, vec } from '../cpu/nn.js';
import { arr } from '../cpu/storage.js';
import { HEAP_BASE, type WasmKernels } from './kernels.js';
import { PRIVATE_MAX_BYTES, privateKernels } from './private-kernels.js';

/** Tensors below this many elements stay on the CPU kernels (the copies would cost more). Mutable for tests. */
export const batchNormLimits = { minElements: 1 << 14 };

function align16(x: number): number {
  return Math.ceil(x / 16) * 16;
}

/** Whether every view holds float32 data. */
function float32(...views: View[]): boolean {
  return views.every((v) => arr(v) instanceof Float32Array);
}

/** The float32 data of a view in row-major order. */
function rows(v: View): Float32Array {
  return contiguousData(v) as Float32Array;
}

/** The private kernels and their memory, grown to `bytes` from HEAP_BASE, or null. */
function memoryFor(
  kernels: WasmKernels,
  numel: number,
  bytes: number,
): { k: WasmKernels; heap: Float32Array } | null {
  if (numel < batchNormLimits.minElements || HEAP_BASE + bytes > PRIVATE_MAX_BYTES) return null;
  const k = privateKernels(kernels);
  if (k === null) return null;
  try {
    return { k, heap: k.reserve(HEAP_BASE + bytes) };
  } catch (e) {
    if (e instanceof OutOfMemoryError) return null;
    throw e;
  }
}

/** Per-channel mean and biased variance of float32 x [N, C, ...] (float32 [C] each), or null. */
export function wasmBatchNormStats(
  kernels: WasmKernels,
  x: View,
): { mean: Float32Array; variance: Float32Array } | null {
  const [N, C, S] = ncs(x);
  const numel = N * C * S;
  const xAt = HEAP_BASE;
  const mAt = align16(xAt + 4 * numel);
  const vAt = mAt + 8 * C;
  const mem = float32(x) && numel > 0 ? memoryFor(kernels, numel, vAt + 8 * C - HEAP_BASE) : null;
  if (!mem) return null;
  mem.heap.set(rows(x), xAt >> 2);
  mem.k.kernelExports.bnStatsF32(xAt, N, C, S, mAt, vAt);
  const buf = mem.heap.buffer;
  return {
    mean: Float32Array.from(new Float64Array(buf, mAt, C)),
    variance: Float32Array.from(new Float64Array(buf, vAt, C)),
  };
}

/** (x - mean[c]) * invstd[c] * weight[c] + bias[c] over float32 x [N, C, ...] (weight/bias null: 1/0), or null. */
export function wasmBatchNormForward(
  kernels: WasmKernels,
  x: View,
  mean: View,
  invstd: View,
  weight: View | null,
  bias: View | null,
): Float32Array | null {
  const [N, C, S] = ncs(x);
  const numel = N * C * S;
  const xAt = HEAP_BASE;
  const oAt = align16(xAt + 4 * numel);
  const pAt = align16(oAt + 4 * numel);
  const mem = float32(x) && numel > 0 ? memoryFor(kernels, numel, pAt + 24 * C - HEAP_BASE) : null;
  if (!mem) return null;
  const m = vec(mean, 0) as Float64Array;
  const is = vec(invstd, 1) as Float64Array;
  const w = vec(weight, 1);
  const b = vec(bias, 0);
  const params = new Float64Array(mem.heap.buffer, pAt, 3 * C);
  for (let c = 0; c < C; c++) {
    params[3 * c] = m[c]!;
    params[3 * c + 1] = is[c]! * (typeof w === 'number' ? w : w[c]!);
    params[3 * c + 2] = typeof b === 'number' ? b : b[c]!;
  }
  mem.heap.set(rows(x), xAt >> 2);
  mem.k.kernelExports.bnForwardF32(xAt, oAt, N, C, S, pAt);
  const out = allocArrayUninit('float32', numel) as Float32Array;
  out.set(mem.heap.subarray(oAt >> 2, (oAt >> 2) + numel));
  return out;
}

/**
 * Backward of training-mode batch norm on float32 data (see batchNormBackwardKernel): dx [N, C, ...],
 * dweight and dbias [C], or null.
 */
export function wasmBatchNormBackward(
  kernels: WasmKernels,
  grad: View,
  x: View,
  mean: View,
  invstd: View,
  weight: View | null,
): { dx: Float32Array; dweight: Float32Array; dbias: Float32Array } | null {
  const [N, C, S] = ncs(x);
  const numel = N * C * S;
  const gAt = HEAP_BASE;
  const xAt = align16(gAt + 4 * numel);
  const dAt = align16(xAt + 4 * numel);
  const mAt = align16(dAt + 4 * numel);
  const sgAt = mAt + 8 * C;
  const sgxAt = sgAt + 8 * C;
  const pAt = sgxAt + 8 * C;
  const mem = float32(grad, x) && numel > 0 ? memoryFor(kernels, numel, pAt + 32 * C - HEAP_BASE) : null;
  if (!mem) return null;
  const buf = mem.heap.buffer;
  const m = vec(mean, 0) as Float64Array;
  const is = vec(invstd, 1) as Float64Array;
  const w = vec(weight, 1);
  new Float64Array(buf, mAt, C).set(m);
  mem.heap.set(rows(grad), gAt >> 2);
  mem.heap.set(rows(x), xAt >> 2);
  const k = mem.k.kernelExports;
  k.bnBackwardSumsF32(gAt, xAt, N, C, S, mAt, sgAt, sgxAt);
  const sg = new Float64Array(buf, sgAt, C);
  const sgx = new Float64Array(buf, sgxAt, C);
  const params = new Float64Array(buf, pAt, 4 * C);
  const dweight = new Float32Array(C);
  const dbias = new Float32Array(C);
  const count = N * S;
  for (let c = 0; c < C; c++) {
    const isc = is[c]!;
    dbias[c] = sg[c]!;
    dweight[c] = sgx[c]! * isc;
    params[4 * c] = isc * (typeof w === 'number' ? w : w[c]!);
    params[4 * c + 1] = sg[c]! / count;
    params[4 * c + 2] = m[c]!;
    params[4 * c + 3] = (sgx[c]! * isc * isc) / count;
  }
  k.bnBackwardDxF32(gAt, xAt, dAt, N, C, S, pAt);
  const dx = allocArrayUninit('float32', numel) as Float32Array;
  dx.set(mem.heap.subarray(dAt >> 2, (dAt >> 2) + numel));
  return { dx, dweight, dbias };
}
