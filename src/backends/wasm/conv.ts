/**
 * conv2d forward and both backward passes (input and weight gradients) for float32 on the WebAssembly
 * SGEMM: the CPU backend's im2col / col2im (src/backends/cpu/nn.ts) write and read the column matrices
 * directly in the kernels' linear memory, and each group of samples is one batched GEMM job, split over
 * the worker pool when it is large enough (src/backends/wasm/job.ts):
 * - forward: out_n [Cout, L] = W [Cout, K] x cols_n [K, L] (+ bias, by starting C at the bias);
 * - input gradient: cols_n = W^T x grad_n, then col2im into the result;
 * - weight gradient: dW [Cout, K] = sum_n grad_n [Cout, L] x cols_n^T [L, K], one job summing the batch
 *   (split over rows or columns of dW).
 * K = C kh kw, L = outH outW. Samples go in groups whose columns fit COLS_BUDGET bytes, so the memory stays
 * bounded for big batches. Only groups = 1 is handled here (the callers fall back to the CPU kernels).
 * @module
 */
import type { View, Window2d } from '../backend.js';
import { copyInto } from '../cpu/elementwise.js';
import { col2imSample, im2colSample } from '../cpu/nn.js';
import { arr } from '../cpu/storage.js';
import { type GemmJob, planBytes, planJob, runJob } from './job.js';
import { HEAP_BASE, type WasmKernels } from './kernels.js';
import type { GemmPool } from './pool.js';

/** Most bytes of column matrices (im2col output) held in linear memory at once. */
const COLS_BUDGET = 32 << 20;

function align16(x: number): number {
  return (x + 15) & ~15;
}

/** Samples per group so that `perSample` floats of columns each stay within COLS_BUDGET. */
function groupSize(N: number, perSample: number): number {
  return Math.max(1, Math.min(N, Math.floor(COLS_BUDGET / (4 * Math.max(1, perSample)))));
}

/** Samples [n0, n0 + nb) of an [N, ...] view. */
function samples(v: View, n0: number, nb: number): View {
  return {
    storage: v.storage,
    shape: [nb, ...v.shape.slice(1)],
    strides: v.strides,
    offset: v.offset + n0 * v.strides[0]!,
  };
}

/** Whether the wasm conv kernels handle these operands (float32 storages, no groups). */
export function wasmConvApplies(groups: number, ...views: (View | null)[]): boolean {
  return groups === 1 && views.every((v) => v === null || arr(v) instanceof Float32Array);
}

/** Threading context of a call: the pool (or null) and the thread count asked for. */
export interface Threads {
  pool: GemmPool | null;
  threads: number;
}

/** conv2d forward: x [N, C, inH, inW], weight [Cout, C, kh, kw], bias [Cout] or null -> [N, Cout, outH, outW]. */
export function wasmConv2d(
  kernels: WasmKernels,
  { pool, threads }: Threads,
  x: View,
  weight: View,
  bias: View | null,
  w: Window2d,
): Float32Array {
  const [N, C] = x.shape as [number, number];
  const cout = weight.shape[0]!;
  const K = C * w.kh * w.kw;
  const L = w.outH * w.outW;
  const out = new Float32Array(N * cout * L);
  if (out.length === 0) return out;
  const X = arr(x);
  const [sN, sC, sH, sW] = x.strides as [number, number, number, number];
  const nb0 = groupSize(N, K * L);
  const wAt = HEAP_BASE;
  const colsAt = align16(wAt + 4 * cout * K);
  const outAt = align16(colsAt + 4 * nb0 * K * L);
  const workAt = align16(outAt + 4 * nb0 * cout * L);
  const job: GemmJob = {
    m: cout,
    n: L,
    k: K,
    a: wAt,
    aRs: K,
    aCs: 1,
    aBs: 0,
    b: colsAt,
    bRs: L,
    bCs: 1,
    bBs: K * L,
    c: outAt,
    ldc: L,
    cBs: cout * L,
    accumulate: bias !== null,
    batch: nb0,
  };
  const plan = planJob(kernels, job, pool, threads);
  const heap = kernels.reserve(workAt + planBytes(plan));
  copyInto(heap, wAt >> 2, weight);
  const Bv = bias ? (arr(bias) as Float32Array) : null;
  for (let n0 = 0; n0 < N; n0 += nb0) {
    const nb = Math.min(nb0, N - n0);
    for (let s = 0; s < nb; s++) {
      const cols = heap.subarray((colsAt >> 2) + s * K * L, (colsAt >> 2) + (s + 1) * K * L);
      im2colSample(X, x.offset + (n0 + s) * sN, sC, sH, sW, 0, C, w, cols);
      if (Bv && bias) {
        for (let c = 0; c < cout; c++) {
          const o = (outAt >> 2) + (s * cout + c) * L;
          heap.fill(Bv[bias.offset + c * bias.strides[0]!]!, o, o + L);
        }
      }
    }
    const p = nb === nb0 ? plan : planJob(kernels, { ...job, batch: nb }, pool, threads);
    runJob(kernels, pool, p, { ...job, batch: nb }, workAt);
    out.set(heap.subarray(outAt >> 2, (outAt >> 2) + nb * cout * L), n0 * cout * L);
  }
  return out;
}

/** Gradient of conv2d w.r.t. its input: grad [N, Cout, outH, outW] -> [N, C, inH, inW]. */
export function wasmConv2dBackwardInput(
  kernels: WasmKernels,
  { pool, threads }: Threads,
  grad: View,
  weight: View,
  w: Window2d,
): Float32Array {
  const N = grad.shape[0]!;
  const cout = weight.shape[0]!;
  const C = weight.shape[1]!;
  const K = C * w.kh * w.kw;
  const L = w.outH * w.outW;
  const HW = w.inH * w.inW;
  const out = new Float32Array(N * C * HW);
  if (out.length === 0 || L === 0) return out;
  const nb0 = groupSize(N, K * L);
  const wAt = HEAP_BASE;
  const gAt = align16(wAt + 4 * cout * K);
  const colsAt = align16(gAt + 4 * nb0 * cout * L);
  const workAt = align16(colsAt + 4 * nb0 * K * L);
  const job: GemmJob = {
    m: K,
    n: L,
    k: cout,
    a: wAt,
    aRs: 1,
    aCs: K,
    aBs: 0,
    b: gAt,
    bRs: L,
    bCs: 1,
    bBs: cout * L,
    c: colsAt,
    ldc: L,
    cBs: K * L,
    accumulate: false,
    batch: nb0,
  };
  const plan = planJob(kernels, job, pool, threads);
  const heap = kernels.reserve(workAt + planBytes(plan));
  copyInto(heap, wAt >> 2, weight);
  for (let n0 = 0; n0 < N; n0 += nb0) {
    const nb = Math.min(nb0, N - n0);
    copyInto(heap, gAt >> 2, samples(grad, n0, nb));
    const p = nb === nb0 ? plan : planJob(kernels, { ...job, batch: nb }, pool, threads);
    runJob(kernels, pool, p, { ...job, batch: nb }, workAt);
    for (let s = 0; s < nb; s++) {
      const cols = heap.subarray((colsAt >> 2) + s * K * L, (colsAt >> 2) + (s + 1) * K * L);
      col2imSample(cols, 0, C, w, out, (n0 + s) * C * HW);
    }
  }
  return out;
}

/** Gradient of conv2d w.r.t. its weight: grad [N, Cout, outH, outW], x [N, C, inH, inW] -> [Cout, C, kh, kw]. */
export function wasmConv2dBackwardWeight(
  kernels: WasmKernels,
  { pool, threads }: Threads,
  grad: View,
  x: View,
  w: Window2d,
): Float32Array {
  const [N, C] = x.shape as [number, number];
  const cout = grad.shape[1]!;
  const K = C * w.kh * w.kw;
  const L = w.outH * w.outW;
  if (cout * K === 0) return new Float32Array(0);
  if (N * L === 0) return new Float32Array(cout * K);
  const X = arr(x);
  const [sN, sC, sH, sW] = x.strides as [number, number, number, number];
  const nb0 = groupSize(N, K * L);
  const gAt = HEAP_BASE;
  const colsAt = align16(gAt + 4 * nb0 * cout * L);
  const dwAt = align16(colsAt + 4 * nb0 * K * L);
  const workAt = align16(dwAt + 4 * cout * K);
  const job: GemmJob = {
    m: cout,
    n: K,
    k: L,
    a: gAt,
    aRs: L,
    aCs: 1,
    aBs: cout * L,
    b: colsAt,
    bRs: 1,
    bCs: L,
    bBs: K * L,
    c: dwAt,
    ldc: K,
    cBs: 0,
    accumulate: false,
    batch: nb0,
  };
  const plan = planJob(kernels, job, pool, threads);
  const heap = kernels.reserve(workAt + planBytes(plan));
  for (let n0 = 0; n0 < N; n0 += nb0) {
    const nb = Math.min(nb0, N - n0);
    copyInto(heap, gAt >> 2, samples(grad, n0, nb));
    for (let s = 0; s < nb; s++) {
      const cols = heap.subarray((colsAt >> 2) + s * K * L, (colsAt >> 2) + (s + 1) * K * L);
      im2colSample(X, x.offset + (n0 + s) * sN, sC, sH, sW, 0, C, w, cols);
    }
    const j = { ...job, batch: nb, accumulate: n0 > 0 };
    runJob(kernels, pool, nb === nb0 ? plan : planJob(kernels, j, pool, threads), j, workAt);
  }
  return heap.slice(dwAt >> 2, (dwAt >> 2) + cout * K);
}
