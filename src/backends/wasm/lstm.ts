/**
 * A whole float32 LSTM layer (one direction) in the kernels' linear memory: the `wasm` backend's
 * `lstmLayer` (see Backend.lstmLayer and `lstmLayer` in src/nn/functional/rnn-cell.ts).
 *
 * Forward: the operands are laid out once per call; the input projection x_t W_ihᵀ goes into the gate
 * buffer Z [T, B, 4H] by segments of steps (SGEMMs run by the worker pool, src/backends/wasm/job.ts, while
 * this thread runs the steps of the segment before); each step adds h_{t-1} W_hhᵀ to its slice of Z with
 * an accumulating SGEMM (on this thread unless large, see STEP_PARALLEL_MIN_FLOPS) and runs the cell kernel
 * (assembly/lstm.ts), which adds the bias, activates the gates in place and writes c_t, tanh(c_t) and h_t
 * into their sequences. Nothing is copied between steps; at the end the h sequence and the final state
 * are copied out once (and, when `lstmOptions` says so, the activated gates, the c sequence and tanh(c)).
 *
 * Backward: per step (last first) the cell kernel turns the gates of the step into the gradient of its
 * pre-activations dZ_t in place, updates dc and adds dZ_t's rows to the bias gradient, and one SGEMM gives
 * dh_{t-1} = dZ_t W_hh; the gradients of x, W_ih and W_hh are SGEMMs over segments of steps, which the
 * worker threads run while this thread goes on with the next segment.
 * Any other kernel call may lay out its own operands in the memory in between (see `WasmKernels.layouts`):
 * backward then copies those back in, or recomputes them (see `lstmOptions`).
 * @module
 */
import { OutOfMemoryError } from '../../core/errors.js';
import type { LstmLayerRun, View } from '../backend.js';
import { copyInto } from '../cpu/elementwise.js';
import { arr } from '../cpu/storage.js';
import type { Threads } from './conv.js';
import { type GemmJob, type JobPlan, PARALLEL_MIN_FLOPS, planBytes, planJob, runJob } from './job.js';
import { HEAP_BASE, type WasmKernels } from './kernels.js';

function align16(x: number): number {
  return Math.ceil(x / 16) * 16;
}

/** Byte addresses of the layer's buffers (the same for forward and backward, so backward can reuse). */
interface Layout {
  whh: number;
  wih: number;
  bias: number;
  x: number;
  z: number;
  hs: number;
  cs: number;
  tc: number;
  gOut: number;
  dh: number;
  dc: number;
  dx: number;
  dwih: number;
  dwhh: number;
  db: number;
  /** Workspace of the products this thread runs while the pool runs another (see `direct`). */
  own: number;
  work: number;
  end: number;
}

/** Dimensions of a layer. */
interface Dims {
  T: number;
  B: number;
  I: number;
  H: number;
}

function layout(d: Dims, workBytes: number, ownBytes: number): Layout {
  const { T, B, I, H } = d;
  const G = 4 * H;
  const sizes: [keyof Layout, number][] = [
    ['whh', G * H],
    ['wih', G * I],
    ['bias', G],
    ['x', T * B * I],
    ['z', T * B * G],
    ['hs', (T + 1) * B * H],
    ['cs', (T + 1) * B * H],
    ['tc', T * B * H],
    ['gOut', T * B * H],
    ['dh', B * H],
    ['dc', B * H],
    ['dx', T * B * I],
    ['dwih', G * I],
    ['dwhh', G * H],
    ['db', G],
    ['own', ownBytes / 4],
  ];
  const out = {} as Layout;
  let at = HEAP_BASE;
  for (const [name, floats] of sizes) {
    out[name] = at;
    at = align16(at + 4 * floats);
  }
  out.work = at;
  out.end = at + workBytes;
  return out;
}

/** A product C = A B with C rows contiguous (ldc); operands by byte address and element strides. */
function gemm(
  m: number,
  n: number,
  k: number,
  a: number,
  aRs: number,
  aCs: number,
  b: number,
  bRs: number,
  bCs: number,
  c: number,
  ldc: number,
  accumulate: boolean,
): GemmJob {
  return { m, n, k, a, aRs, aCs, b, bRs, bCs, c, ldc, accumulate, batch: 1, aBs: 0, bBs: 0, cBs: 0 };
}

/** The products of a layer (addresses from `L`; `t` selects the step of the per-step ones). */
function jobs(d: Dims, L: Layout, reverse: boolean) {
  const { T, B, I, H } = d;
  const G = 4 * H;
  const TB = T * B;
  const BH = B * H;
  const BG = B * G;
  const prevSlot = (t: number): number => (reverse ? t + 1 : t);
  return {
    /** Z = X W_ihᵀ. */
    proj: () => gemm(TB, G, I, L.x, I, 1, L.wih, 1, I, L.z, G, false),
    /** Z_t = x_t W_ihᵀ for t0 <= t < t1. */
    projRows: (t0: number, t1: number) =>
      gemm((t1 - t0) * B, G, I, L.x + 4 * t0 * B * I, I, 1, L.wih, 1, I, L.z + 4 * t0 * BG, G, false),
    /** Z += H_prev W_hhᵀ, all steps at once (the states before each step, in time order). */
    rec: () => gemm(TB, G, H, L.hs + 4 * (reverse ? 1 : 0) * BH, H, 1, L.whh, 1, H, L.z, G, true),
    /** Z_t += h_{t-1} W_hhᵀ. */
    step: (t: number) =>
      gemm(B, G, H, L.hs + 4 * prevSlot(t) * BH, H, 1, L.whh, 1, H, L.z + 4 * t * BG, G, true),
    /** dh = dZ_t W_hh. */
    back: (t: number) => gemm(B, H, G, L.z + 4 * t * BG, G, 1, L.whh, H, 1, L.dh, H, false),
    /** dx_t = dZ_t W_ih for t0 <= t < t1. */
    projBack: (t0: number, t1: number) =>
      gemm((t1 - t0) * B, I, G, L.z + 4 * t0 * BG, G, 1, L.wih, I, 1, L.dx + 4 * t0 * B * I, I, false),
    /** dW_ih (+)= dZ_tᵀ x_t summed over steps t0 <= t < t1. */
    partIh: (t0: number, t1: number, accumulate: boolean) =>
      gemm(G, I, (t1 - t0) * B, L.z + 4 * t0 * BG, 1, G, L.x + 4 * t0 * B * I, I, 1, L.dwih, I, accumulate),
    /** dW_hh (+)= dZ_tᵀ h_{t-1} summed over steps t0 <= t < t1. */
    part: (t0: number, t1: number, accumulate: boolean) =>
      gemm(
        G,
        H,
        (t1 - t0) * B,
        L.z + 4 * t0 * BG,
        1,
        G,
        L.hs + 4 * prevSlot(t0) * BH,
        H,
        1,
        L.dwhh,
        H,
        accumulate,
      ),
  };
}

/**
 * Smallest per-step product (2 B 4H H flops) split over threads. Below it the steps' products run on the
 * calling thread: measured with B 32, H 128 (4.2 MFLOP, 1.5 times PARALLEL_MIN_FLOPS) on the 2-core dev
 * machine under load 4-5, interleaved in one process, a training step took a median 32-34 ms with the
 * per-step products on one thread against 39-41 ms split in 4 or 2 chunks over 2 threads (best steps
 * 20-22 ms either way): waking a worker and waiting for its chunk 100 times per step cost more than it
 * saved. The worker threads run the products over segments of steps (input projection, gradients of x and
 * the weights) meanwhile instead (see SEGMENTS).
 */
export const STEP_PARALLEL_MIN_FLOPS = 4 * PARALLEL_MIN_FLOPS;

/**
 * Segments of the time loops: while this thread runs the steps of one segment, the worker threads project
 * the inputs of the next one (forward) or compute the gradients of x and of the weights from the one
 * before (backward); see `wasmLstmLayer`. Only where the per-step products run on this thread (see
 * STEP_PARALLEL_MIN_FLOPS). Measured on the 2-core dev machine (T 50, B 32, H 128, 2 threads, interleaved
 * in one process against the same code with the products over all steps after the loops): a training step
 * took a median 21.4 against 23.2 ms (best 14.3 against 16.6) under load 3.3, but 26.5 against 24.7 ms in
 * a run under load 3.7: the overlap needs the second core.
 */
const SEGMENTS = 8;

/** Plans every product of a layer; returns the plans and the workspace bytes they need. */
function plans(kernels: WasmKernels, { pool, threads }: Threads, d: Dims, reverse: boolean) {
  const j = jobs(d, layout(d, 0, 0), reverse);
  const plan = (job: GemmJob): JobPlan => planJob(kernels, job, pool, threads);
  const stepPool = 2 * d.B * 4 * d.H * d.H >= STEP_PARALLEL_MIN_FLOPS ? pool : null;
  const stepPlan = (job: GemmJob): JobPlan => planJob(kernels, job, stepPool, threads);
  const p = {
    proj: plan(j.proj()),
    /** The projection of one segment of steps (the last may be shorter). */
    projSeg: plan(j.projRows(0, Math.min(d.T, Math.ceil(d.T / SEGMENTS)))),
    rec: plan(j.rec()),
    step: stepPlan(j.step(0)),
    back: stepPlan(j.back(0)),
    /** The W_hh gradient of one segment of steps (the last may be shorter). */
    part: plan(j.part(0, Math.min(d.T, Math.ceil(d.T / SEGMENTS)), false)),
    partIh: plan(j.partIh(0, Math.min(d.T, Math.ceil(d.T / SEGMENTS)), false)),
    partDx: plan(j.projBack(0, Math.min(d.T, Math.ceil(d.T / SEGMENTS)))),
  };
  const bytes = Math.max(...Object.values(p).map(planBytes));
  const G = 4 * d.H;
  const own = align16(Math.max(kernels.sgemmWorkspace(d.B, G, d.H), kernels.sgemmWorkspace(d.B, d.H, G)));
  return { p, bytes, own };
}

/**
 * Runs `job` on this thread alone with the workspace at `work`, without the job block (which a job of
 * the pool may be using meanwhile).
 */
function direct(kernels: WasmKernels, job: GemmJob, work: number): void {
  const { m, n, k, a, aRs, aCs, b, bRs, bCs, c, ldc, accumulate } = job;
  kernels.sgemm(m, n, k, a, aRs, aCs, b, bRs, bCs, c, ldc, accumulate, work);
}

/** Copies view `v` (any strides, float32 or not) contiguously into `heap` at byte `at`. */
function put(heap: Float32Array, at: number, v: View): void {
  const src = arr(v);
  let contiguous = src instanceof Float32Array;
  let stride = 1;
  for (let i = v.shape.length - 1; i >= 0 && contiguous; i--) {
    if (v.shape[i]! !== 1 && v.strides[i] !== stride) contiguous = false;
    stride *= v.shape[i]!;
  }
  if (contiguous) heap.set((src as Float32Array).subarray(v.offset, v.offset + stride), at >> 2);
  else copyInto(heap, at >> 2, v);
}

/** A fresh copy of `n` floats of `heap` at byte `at` (`new` + `set`: slicing shared memory is slow in V8). */
function take(heap: Float32Array, at: number, n: number): Float32Array {
  const out = new Float32Array(n);
  out.set(heap.subarray(at >> 2, (at >> 2) + n));
  return out;
}

/** Reserves `bytes`, naming the layer in the OutOfMemoryError when the memory cannot grow that far. */
function reserve(kernels: WasmKernels, bytes: number, d: Dims): Float32Array {
  try {
    return kernels.reserve(bytes);
  } catch (e) {
    if (!(e instanceof OutOfMemoryError)) throw e;
    const what = `for an LSTM layer of T ${d.T}, batch ${d.B}, input ${d.I}, hidden ${d.H}`;
    throw new OutOfMemoryError(
      `lstmLayer: ${e.message.replace(' of linear memory', ` of linear memory ${what}`)}`,
      e.requestedBytes,
    );
  }
}

/**
 * Whether the layer copies out, for its backward, the activated gates and the c sequence (`always`), or
 * leaves them in linear memory and recomputes them when another kernel call has laid out the memory in
 * between (`never`: two SGEMMs over all steps and the cell kernels again, bit for bit the same values).
 * `auto` (the default) starts without copies and copies from the first backward that had to recompute on
 * those kernels on: a single layer trained alone is never disturbed, while stacked or bidirectional layers
 * disturb each other on every step. Mutable, for tests.
 */
export const lstmOptions: { copyOut: 'auto' | 'always' | 'never' } = { copyOut: 'auto' };

/** Kernels on which a backward had to recompute (`auto` copies out on those). */
const disturbed = new WeakSet<WasmKernels>();

/**
 * Runs an LSTM layer (see Backend.lstmLayer): x [T, B, I], wih [4H, I], whh [4H, H], bias [4H] or null,
 * h0, c0 [B, H] or null; float32 results. With `keep`, the result's `backward` computes the gradients.
 * @throws OutOfMemoryError when the linear memory cannot hold the layer; Error when a worker fails.
 */
export function wasmLstmLayer(
  kernels: WasmKernels,
  threads: Threads,
  x: View,
  wih: View,
  whh: View,
  bias: View | null,
  h0: View | null,
  c0: View | null,
  reverse: boolean,
  keep: boolean,
): LstmLayerRun {
  const [T, B, I] = x.shape as [number, number, number];
  const H = whh.shape[1]!;
  const G = 4 * H;
  const d: Dims = { T, B, I, H };
  const BH = B * H;
  const BG = B * G;
  const { pool } = threads;
  const { p, bytes, own } = plans(kernels, threads, d, reverse);
  const L = layout(d, bytes, own);
  const J = jobs(d, L, reverse);
  const ex = kernels.kernelExports;
  const slot0 = reverse ? T : 0;
  const h0At = L.hs + 4 * slot0 * BH;
  const c0At = L.cs + 4 * slot0 * BH;

  /** Lays out the weights, x, the bias and c0 (and h0 unless the h sequence is put in whole later). */
  const layIn = (heap: Float32Array, withH0: boolean): void => {
    put(heap, L.whh, whh);
    put(heap, L.wih, wih);
    put(heap, L.x, x);
    if (bias) put(heap, L.bias, bias);
    else heap.fill(0, L.bias >> 2, (L.bias >> 2) + G);
    if (withH0 && h0) put(heap, h0At, h0);
    else if (withH0) heap.fill(0, h0At >> 2, (h0At >> 2) + BH);
    if (c0) put(heap, c0At, c0);
    else heap.fill(0, c0At >> 2, (c0At >> 2) + BH);
  };
  /** The cell kernel of step t (Z_t complete but for the bias). */
  const cell = (t: number): void => {
    const prev = reverse ? t + 1 : t;
    const own = reverse ? t : t + 1;
    ex.lstmForwardStep(
      B,
      H,
      L.z + 4 * t * BG,
      L.bias,
      L.cs + 4 * prev * BH,
      L.cs + 4 * own * BH,
      L.tc + 4 * t * BH,
      L.hs + 4 * own * BH,
    );
  };

  let heap = reserve(kernels, L.end, d);
  const layoutId = kernels.layouts;
  layIn(heap, true);
  // The input projection goes by segments of steps: while this thread runs the steps of one segment
  // (their products on this thread, outside the job block), the pool projects the next segment's inputs
  // (each element the same sum as in one product over all steps). Where the per-step products are split
  // over threads themselves, one after the other.
  const overlap = p.step.threads === 1 && p.back.threads === 1;
  const seg = Math.ceil(T / SEGMENTS);
  /** The projection of the inputs of steps n0 <= n < n1 (in processing order). */
  const projection = (n0: number, n1: number): GemmJob =>
    reverse ? J.projRows(T - n1, T - n0) : J.projRows(n0, n1);
  /** Steps n0 to n1 - 1 of the time loop. */
  const forwardSteps = (n0: number, n1: number, alone: boolean): void => {
    for (let n = n0; n < n1; n++) {
      const t = reverse ? T - 1 - n : n;
      if (n > 0 || h0) {
        if (alone) direct(kernels, J.step(t), L.own);
        else runJob(kernels, pool, p.step, J.step(t), L.work);
      }
      cell(t);
    }
  };
  runJob(kernels, pool, p.projSeg, projection(0, Math.min(T, seg)), L.work);
  for (let n0 = 0; n0 < T; n0 += seg) {
    const n1 = Math.min(T, n0 + seg);
    const next = n1 < T ? projection(n1, Math.min(T, n1 + seg)) : null;
    if (next && overlap) {
      runJob(kernels, pool, p.projSeg, next, L.work, () => forwardSteps(n0, n1, true));
      // With one thread runJob does not call `meanwhile`.
      if (p.projSeg.threads === 1) forwardSteps(n0, n1, true);
    } else {
      forwardSteps(n0, n1, false);
      if (next) runJob(kernels, pool, p.projSeg, next, L.work);
    }
  }
  const last = reverse ? 0 : T;
  const hAll = take(heap, L.hs, (T + 1) * BH);
  const hN = hAll.slice(last * BH, (last + 1) * BH);
  const cN = take(heap, L.cs + 4 * last * BH, BH);
  if (!keep) return { h: hAll, hN, cN, backward: null };
  const copy = lstmOptions.copyOut === 'always' || (lstmOptions.copyOut === 'auto' && disturbed.has(kernels));
  const acts = copy ? take(heap, L.z, T * BG) : null;
  const cAll = copy ? take(heap, L.cs, (T + 1) * BH) : null;
  const tcAll = copy ? take(heap, L.tc, T * BH) : null;

  /** The gradients [x, wih, whh, bias, h0, c0] (see LstmLayerRun.backward). */
  const backward = (
    gOut: View | null,
    gH: View | null,
    gC: View | null,
    needs: readonly boolean[],
  ): (Float32Array | null)[] => {
    // The forward's buffers are still in place when no kernel call has laid out the memory since (this
    // reserve counts as one: the gates become their gradients in place, so a second backward lays in).
    const intact = kernels.layouts === layoutId;
    heap = reserve(kernels, L.end, d);
    if (!intact && acts && cAll && tcAll) {
      layIn(heap, false);
      heap.set(acts, L.z >> 2);
      heap.set(hAll, L.hs >> 2);
      heap.set(cAll, L.cs >> 2);
      heap.set(tcAll, L.tc >> 2);
    } else if (!intact) {
      // Recompute the gates and the c sequence: Z = X W_ihᵀ + H_prev W_hhᵀ over all steps at once (each
      // element summed as in the per-step products), then the cell kernel step by step.
      if (lstmOptions.copyOut === 'auto') disturbed.add(kernels);
      layIn(heap, false);
      heap.set(hAll, L.hs >> 2);
      runJob(kernels, pool, p.proj, J.proj(), L.work);
      runJob(kernels, pool, p.rec, J.rec(), L.work);
      for (let n = 0; n < T; n++) cell(reverse ? T - 1 - n : n);
    }
    // Without a gradient of the output, every step reads the same block of zeros.
    if (gOut) put(heap, L.gOut, gOut);
    else heap.fill(0, L.gOut >> 2, (L.gOut >> 2) + BH);
    if (gH) put(heap, L.dh, gH);
    else heap.fill(0, L.dh >> 2, (L.dh >> 2) + BH);
    if (gC) put(heap, L.dc, gC);
    else heap.fill(0, L.dc >> 2, (L.dc >> 2) + BH);
    const needH0 = h0 !== null && needs[4] === true;
    heap.fill(0, L.db >> 2, (L.db >> 2) + G);
    /** Steps n1 - 1 down to n0 of the time loop (n counts the steps processed in forward order). */
    const steps = (n1: number, n0: number, alone: boolean): void => {
      for (let n = n1 - 1; n >= n0; n--) {
        const t = reverse ? T - 1 - n : n;
        const prev = reverse ? t + 1 : t;
        const g = gOut ? L.gOut + 4 * t * BH : L.gOut;
        ex.lstmBackwardStep(
          B,
          H,
          L.z + 4 * t * BG,
          L.cs + 4 * prev * BH,
          L.tc + 4 * t * BH,
          L.dh,
          g,
          L.dc,
          L.db,
        );
        if (n === 0 && !needH0) continue;
        if (alone) direct(kernels, J.back(t), L.own);
        else runJob(kernels, pool, p.back, J.back(t), L.work);
      }
    };
    // The gradients of x, W_ih and W_hh go by segments of steps (those of the weights summed segment
    // after segment), each as soon as the loop has passed the segment: while this thread runs the steps
    // of a segment (their products on this thread, outside the job block), the pool runs the products of
    // the segment before, one per part of the segment's steps (the same sums with or without threads).
    // Where the per-step products are split over threads themselves, one after the other.
    const queue: [JobPlan, GemmJob][] = [];
    /** `job` on the pool while this thread runs steps n1 - 1 down to n0 (or one after the other). */
    const alongside = (job: [JobPlan, GemmJob] | undefined, n1: number, n0: number): void => {
      if (job && overlap) {
        runJob(kernels, pool, job[0], job[1], L.work, () => steps(n1, n0, true));
        // With one thread runJob does not call `meanwhile`.
        if (job[0].threads === 1) steps(n1, n0, true);
      } else {
        if (job) runJob(kernels, pool, job[0], job[1], L.work);
        steps(n1, n0, false);
      }
    };
    for (let n1 = T; n1 > 0; n1 -= seg) {
      const n0 = Math.max(0, n1 - seg);
      const parts = Math.max(1, queue.length);
      for (let k = 0; k < parts; k++) {
        const hi = n1 - Math.round(((n1 - n0) * k) / parts);
        const lo = n1 - Math.round(((n1 - n0) * (k + 1)) / parts);
        alongside(queue.shift(), hi, lo);
      }
      const [t0, t1] = reverse ? [T - n1, T - n0] : [n0, n1];
      const first = n1 === T;
      if (needs[2]) queue.push([p.part, J.part(t0, t1, !first)]);
      if (needs[1]) queue.push([p.partIh, J.partIh(t0, t1, !first)]);
      if (needs[0]) queue.push([p.partDx, J.projBack(t0, t1)]);
    }
    for (const [plan, job] of queue) runJob(kernels, pool, plan, job, L.work);
    const grads: (Float32Array | null)[] = [null, null, null, null, null, null];
    if (needs[0]) grads[0] = take(heap, L.dx, T * B * I);
    if (needs[1]) grads[1] = take(heap, L.dwih, G * I);
    if (needs[2]) grads[2] = take(heap, L.dwhh, G * H);
    if (bias && needs[3]) grads[3] = take(heap, L.db, G);
    if (needH0) grads[4] = take(heap, L.dh, BH);
    if (c0 && needs[5]) grads[5] = take(heap, L.dc, BH);
    return grads;
  };
  return { h: hAll, hN, cN, backward };
}
