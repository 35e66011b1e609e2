/**
 * conv2d forward and both backward passes (input and weight gradients) for float32 in WebAssembly
 * (assembly/conv.ts): the operands are copied into the kernels' linear memory once per call, and the
 * samples are split into chunks that the calling thread and the worker pool (src/backends/wasm/pool.ts)
 * claim; a chunk runs, per sample and in the thread's own scratch, a zero-padded copy of the sample,
 * im2col and the SGEMM (or the SGEMM, col2im and a copy out of the padded planes):
 * - forward: out_n [Cout, L] = W [Cout, K] x cols_n [K, L] (+ bias);
 * - input gradient: cols_n = W^T x grad_n, then col2im;
 * - weight gradient: the samples go in a fixed number of chunks (not depending on the thread count), each
 *   summing grad_n [Cout, L] x cols_n^T [L, K] into its own partial dW; the partials are then summed in
 *   order (by an SGEMM with a row of ones), so results are the same, bit for bit, on any number of threads.
 * Where the packed operands fit `convLimits.packBytes` the kernels run fused (see assembly/conv.ts): the
 * forward packs the weights once per call and the forward and weight gradient pack each sample's columns
 * for the micro-kernels straight from its padded copy (no im2col buffer); the input gradient packs W^T
 * once per chunk of samples instead of once per sample.
 * K = C kh kw, L = outH outW. With fewer sample chunks than threads (small batches), the chunks also
 * split each sample's work: by blocks of output rows (forward) or of input channels (gradients), which
 * changes no sum either. Samples go in groups whose data fit `convLimits.groupBytes`, so the linear
 * memory stays bounded for big batches. Only groups = 1 is handled here (the callers fall back to the CPU
 * kernels).
 * @module
 */
import { allocArrayUninit } from '../../core/dtype.js';
import { isContiguous, numelOf } from '../../core/shape.js';
import type { Pool2dWindow, View, Window2d } from '../backend.js';
import { copyInto } from '../cpu/elementwise.js';
import { arr } from '../cpu/storage.js';
import { is2x2 } from './elementwise.js';
import { PARALLEL_MIN_FLOPS } from './job.js';
import { HEAP_BASE, type WasmKernels } from './kernels.js';
import { type GemmPool, JOB } from './pool.js';

/** Word offsets of the argument block that `convChunk` reads (kept in sync with A_* in assembly/conv.ts). */
const ARG = {
  C: 0,
  H: 1,
  W: 2,
  cout: 3,
  kh: 4,
  kw: 5,
  sh: 6,
  sw: 7,
  ph: 8,
  pw: 9,
  dh: 10,
  dw: 11,
  outH: 12,
  outW: 13,
  x: 14,
  wt: 15,
  bias: 16,
  out: 17,
  grad: 18,
  nb: 19,
  size: 20,
  blocks: 21,
  colsBytes: 22,
  padBytes: 23,
  HP: 24,
  WP: 25,
  pass: 26,
  fast: 27,
  apack: 28,
  kb: 29,
  ncb: 30,
} as const;
/** Words of the argument block; its last word holds the float 1 (the ones row of the partial sums). */
const ARG_WORDS = 32;
const ONE_WORD = ARG_WORDS - 1;

/** Job kinds (JOB.kind) of assembly/conv.ts. */
const FORWARD = 1;
const INPUT_GRAD = 2;
const WEIGHT_GRAD = 3;
/** Packs the weights of a fused forward (kind 1 with ARG.fast), on the calling thread, before the job. */
const PACK_WEIGHTS = 4;
/** Most depth of a k slice of the fused forward (gemm.ts's KC). */
const KC = 384;
/** Most output positions (columns) of a block of packed columns of the fused forward. */
const NCB = 512;
type Kind = typeof FORWARD | typeof INPUT_GRAD | typeof WEIGHT_GRAD;

/** Sample chunks per thread of the forward and input-gradient jobs (more balance a busy machine). */
const SAMPLE_CHUNKS_PER_THREAD = 8;

/**
 * Size limits of the wasm conv kernels (mutable for tests): `groupBytes`, most bytes of input, gradient
 * and output samples held in linear memory at once; `partials`, most partial weight gradients (sample
 * chunks) per group, and `partialBytes`, most bytes they may take together; `passBytes`, most bytes of
 * columns a thread builds at once (the SGEMM then reads them from cache): bigger samples go in passes
 * over blocks of output rows (forward) or input channels (gradients) (unfused kernels only); `packBytes`,
 * most bytes of packed operands of the fused kernels (0 turns them off): the forward's packed weights,
 * the input gradient's packed W^T block, the weight gradient's packed gradient slice.
 */
export const convLimits = {
  groupBytes: 64 << 20,
  partials: 8,
  partialBytes: 32 << 20,
  passBytes: 2 << 20,
  packBytes: 8 << 20,
};

function align16(x: number): number {
  return Math.ceil(x / 16) * 16; // not `(x + 15) & ~15`: sizes past 2 GiB must not wrap around
}

/** Sizes of one convolution. */
interface Geom {
  C: number;
  cout: number;
  khkw: number;
  K: number;
  L: number;
  HW: number;
  /** Height and width of a zero-padded input plane (every window reads inside it). */
  HP: number;
  WP: number;
  w: Window2d;
}

function geom(C: number, cout: number, w: Window2d): Geom {
  const khkw = w.kh * w.kw;
  const HP = Math.max(w.inH + 2 * w.ph, (w.outH - 1) * w.sh + (w.kh - 1) * w.dh + 1);
  const WP = Math.max(w.inW + 2 * w.pw, (w.outW - 1) * w.sw + (w.kw - 1) * w.dw + 1);
  return { C, cout, khkw, K: C * khkw, L: w.outH * w.outW, HW: w.inH * w.inW, HP, WP, w };
}

/** How a group of samples runs: threads, samples per chunk, blocks per sample chunk, workspace. */
interface ConvPlan {
  /**
   * Fused kernels (ARG.fast): the forward with the weights packed once per call (at ARG.apack) and each
   * sample's columns packed straight from its padded copy, KB steps of k and NCB columns at a time (no
   * im2col buffer); the weight gradient likewise (KB positions at a time); the input gradient with W^T
   * packed once per chunk (NCB columns of the gradient at a time).
   */
  fast: boolean;
  /** Depth of the k slices of the fused forward and weight gradient. */
  kb: number;
  /** Columns per block of packed B of the fused kernels. */
  ncb: number;
  threads: number;
  size: number;
  blocks: number;
  /** Output rows (forward) or input channels (gradients) per pass. */
  pass: number;
  chunks: number;
  /**
   * Bytes of columns at the start of each thread's workspace, then of padded input planes (the SGEMM
   * workspace follows); each with 16 bytes of slack.
   */
  colsBytes: number;
  padBytes: number;
  /** Bytes of workspace per thread. */
  stride: number;
}

/** Bytes of the packed weights of a fused forward (an upper bound of gemm.ts's padded rows). */
function packedWeightBytes(g: Geom): number {
  return align16(4 * (g.cout + 8) * g.K);
}

/** Whether the forward runs fused (see ConvPlan.fast): the packed weights fit `convLimits.packBytes`. */
function fusedForward(g: Geom): boolean {
  return packedWeightBytes(g) <= convLimits.packBytes;
}

/** Partial weight gradients of a group of nb samples (does not depend on the thread count). */
function partialCount(g: Geom, nb: number): number {
  const fit = Math.floor(convLimits.partialBytes / (4 * Math.max(1, g.cout * g.K)));
  return Math.max(1, Math.min(nb, convLimits.partials, fit));
}

function planConv(
  kernels: WasmKernels,
  kind: Kind,
  g: Geom,
  nb: number,
  pool: GemmPool | null,
  threads: number,
): ConvPlan {
  const { w } = g;
  const flops = 2 * nb * g.cout * g.K * g.L;
  const t = pool !== null && threads > 1 && flops >= PARALLEL_MIN_FLOPS ? threads : 1;
  const size =
    kind === WEIGHT_GRAD
      ? Math.ceil(nb / partialCount(g, nb))
      : Math.ceil(nb / Math.min(nb, t === 1 ? 1 : t * SAMPLE_CHUNKS_PER_THREAD));
  const sampleChunks = Math.ceil(nb / size);
  const extent = kind === FORWARD ? w.outH : g.C;
  const blocks =
    t > 1 && sampleChunks < 2 * t ? Math.max(1, Math.min(extent, Math.ceil((2 * t) / sampleChunks))) : 1;
  const per = Math.ceil(extent / blocks);
  // Rows (forward) or channels per pass, and the columns of one pass.
  const unit = 4 * (kind === FORWARD ? g.K * w.outW : g.khkw * g.L);
  const pass = Math.max(1, Math.min(per, Math.floor(convLimits.passBytes / Math.max(1, unit))));
  const planes = 4 * per * g.HP * g.WP;
  /** The plan, given what differs between the paths (workspace per thread = cols + pad + work). */
  const plan = (
    fast: boolean,
    kb: number,
    ncb: number,
    passOf: number,
    colsBytes: number,
    padBytes: number,
    workBytes = 0,
  ): ConvPlan => ({
    fast,
    kb,
    ncb,
    threads: t,
    size,
    blocks,
    pass: passOf,
    chunks: sampleChunks * blocks,
    colsBytes,
    padBytes,
    stride: colsBytes + padBytes + workBytes,
  });
  /** The depth of a k block over `len`: equal slices of at most KC, a multiple of 4. */
  const kBlock = (len: number): number =>
    Math.min(KC, Math.ceil(Math.ceil(len / Math.ceil(len / KC)) / 4) * 4);
  if (
    kind === WEIGHT_GRAD &&
    4 * (g.cout + 8) * KC <= convLimits.packBytes &&
    planes <= convLimits.passBytes
  ) {
    // Fused weight gradient: the gradient packed per KB positions, the columns straight from the padded
    // planes of the block's channels (all of them at once, within the pass budget), NCB at a time.
    const kb = kBlock(g.L);
    const n = per * g.khkw;
    const ncb = Math.min(NCB, Math.ceil(n / 8) * 8);
    const colsBytes = align16(256 + 4 * n + 16 + 4 * (g.cout + 8) * kb + 4 * kb * ncb);
    return plan(true, kb, ncb, per, colsBytes, align16(planes + 16));
  }
  if (
    kind === INPUT_GRAD &&
    pass >= per &&
    g.cout <= KC &&
    4 * (per * g.khkw + 8) * g.cout <= convLimits.packBytes
  ) {
    // Input gradient with W^T packed once per chunk (one pass over the block's channels).
    const ncb = Math.min(NCB, Math.ceil(g.L / 8) * 8);
    const colsBytes = align16(unit * pass + 16);
    const padBytes = align16(4 * pass * g.HP * g.WP + 16);
    const work = 256 + 4 * (per * g.khkw + 8) * g.cout + 4 * g.cout * ncb;
    return plan(true, 0, ncb, pass, colsBytes, padBytes, align16(work));
  }
  if (kind === FORWARD && fusedForward(g)) {
    const kb = kBlock(g.K);
    const ncb = Math.min(NCB, Math.ceil((per * w.outW) / 8) * 8);
    // Tile buffer and column offsets (256 bytes), k offsets, packed columns; padded planes (+ slack for
    // the vector loads of micro-panels that span two rows).
    const colsBytes = align16(256 + 4 * g.K + 16 + 4 * kb * ncb);
    return plan(true, kb, ncb, per, colsBytes, align16(4 * g.C * g.HP * g.WP + 64));
  }
  let work: number;
  if (kind === FORWARD) work = kernels.sgemmWorkspace(g.cout, pass * w.outW, g.K);
  else if (kind === INPUT_GRAD) work = kernels.sgemmWorkspace(pass * g.khkw, g.L, g.cout);
  else work = kernels.sgemmWorkspace(g.cout, pass * g.khkw, g.L);
  const colsBytes = align16(unit * pass + 16);
  const padBytes = align16(4 * (kind === FORWARD ? g.C : pass) * g.HP * g.WP + 16);
  return plan(false, 0, 0, pass, colsBytes, padBytes, align16(work));
}

/** Samples per group for `perSample` floats of data each. */
function groupSize(N: number, perSample: number): number {
  return Math.max(1, Math.min(N, Math.floor(convLimits.groupBytes / (4 * Math.max(1, perSample)))));
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

/**
 * Copies the elements of `v` (float32 into a Float32Array view of the memory, int32 into an Int32Array
 * one), in row-major order, to byte address `at`: one `set` when contiguous.
 */
function place(heap: Float32Array | Int32Array, at: number, v: View): void {
  const numel = numelOf(v.shape);
  if (numel === 0) return;
  if (isContiguous(v.shape, v.strides)) heap.set(arr(v).subarray(v.offset, v.offset + numel), at >> 2);
  else copyInto(heap, at >> 2, v);
}

/** Writes the argument block at `at` (pointers are byte addresses; 0 when unused). */
function writeArgs(
  kernels: WasmKernels,
  at: number,
  g: Geom,
  p: { x: number; wt: number; bias: number; out: number; grad: number; apack?: number },
): Int32Array {
  const a = new Int32Array(kernels.memory.buffer, at, ARG_WORDS);
  const { w } = g;
  a[ARG.C] = g.C;
  a[ARG.H] = w.inH;
  a[ARG.W] = w.inW;
  a[ARG.cout] = g.cout;
  a[ARG.kh] = w.kh;
  a[ARG.kw] = w.kw;
  a[ARG.sh] = w.sh;
  a[ARG.sw] = w.sw;
  a[ARG.ph] = w.ph;
  a[ARG.pw] = w.pw;
  a[ARG.dh] = w.dh;
  a[ARG.dw] = w.dw;
  a[ARG.outH] = w.outH;
  a[ARG.outW] = w.outW;
  a[ARG.x] = p.x;
  a[ARG.wt] = p.wt;
  a[ARG.bias] = p.bias;
  a[ARG.out] = p.out;
  a[ARG.grad] = p.grad;
  a[ARG.HP] = g.HP;
  a[ARG.WP] = g.WP;
  a[ARG.apack] = p.apack ?? 0;
  new Float32Array(a.buffer, at, ARG_WORDS)[ONE_WORD] = 1;
  return a;
}

/**
 * Runs the conv job of `kind` on `nb` samples as planned, with the workspace at `work`; `meanwhile` runs
 * on this thread while the workers start on the job (see GemmPool.run), or first when it runs alone.
 */
function runConv(
  kernels: WasmKernels,
  pool: GemmPool | null,
  kind: Kind,
  args: Int32Array,
  nb: number,
  plan: ConvPlan,
  work: number,
  what: () => string,
  meanwhile?: () => void,
): void {
  args[ARG.nb] = nb;
  args[ARG.size] = plan.size;
  args[ARG.blocks] = plan.blocks;
  args[ARG.colsBytes] = plan.colsBytes;
  args[ARG.padBytes] = plan.padBytes;
  args[ARG.pass] = plan.pass;
  args[ARG.fast] = plan.fast ? 1 : 0;
  args[ARG.kb] = plan.kb;
  args[ARG.ncb] = plan.ncb;
  const job = kernels.jobWords();
  job[JOB.kind] = kind;
  job[JOB.args] = args.byteOffset;
  if (plan.threads > 1 && pool !== null) {
    pool.run(plan.chunks, work, plan.stride, plan.threads, what(), 'wasm conv2d', meanwhile);
  } else {
    meanwhile?.();
    for (let i = 0; i < plan.chunks; i++) kernels.runChunk(i, work);
  }
}

/** One forward or input-gradient call laid out in linear memory (see runByGroups). */
interface GroupRun {
  kind: Kind;
  args: Int32Array;
  N: number;
  nb0: number;
  full: ConvPlan;
  last: ConvPlan;
  workAt: number;
  what: () => string;
  /** The memory's view (it cannot grow while the call runs). */
  heap: Float32Array;
  outAt: number;
  perSample: number;
}

/**
 * Where the groups' outputs of `runByGroups` go: `allocate` runs while the first group computes (the
 * result arrays), `take(n0, nb)` after each group (samples [n0, n0 + nb), whose outputs are in memory).
 */
interface GroupSink {
  allocate(): void;
  take(n0: number, nb: number): void;
}

/**
 * Runs a forward or input-gradient job over a batch of N samples in groups of nb0 (`full` plans a whole
 * group, `last` the final one): `load(n0, nb)` places a group's operand, then each group's output
 * (`perSample` floats a sample at byte `outAt`) is copied into the result, a fresh array allocated while
 * the first group runs, or handed to `sink` instead when one is given.
 */
function runByGroups(
  kernels: WasmKernels,
  pool: GemmPool | null,
  { kind, args, N, nb0, full, last, workAt, what, heap, outAt, perSample }: GroupRun,
  load: (n0: number, nb: number) => void,
  sink?: GroupSink,
): Float32Array {
  const o = outAt >> 2;
  let result: Float32Array = new Float32Array(0);
  const out: GroupSink = sink ?? {
    allocate: () => {
      result = mappedArray(N * perSample);
    },
    take: (n0, nb) => result.set(heap.subarray(o, o + nb * perSample), n0 * perSample),
  };
  for (let n0 = 0; n0 < N; n0 += nb0) {
    const nb = Math.min(nb0, N - n0);
    load(n0, nb);
    const plan = nb === nb0 ? full : last;
    runConv(kernels, pool, kind, args, nb, plan, workAt, what, n0 === 0 ? out.allocate : undefined);
    out.take(n0, nb);
  }
  return result;
}

/**
 * A new Float32Array of n floats for a result that will be written whole: without a zero fill
 * (allocArrayUninit), and with one word written per 4 KiB so that the page faults of fresh memory are
 * taken here, while the workers compute, rather than in the copy out.
 */
function mappedArray(n: number): Float32Array {
  const out = allocArrayUninit('float32', n) as Float32Array;
  for (let i = 0; i < n; i += 1024) out[i] = 0;
  return out;
}

/** A new array holding the n floats at byte `at` (`new` + `set`: slicing a view of shared memory is slower in V8). */
function copyOut(heap: Float32Array, at: number, n: number): Float32Array {
  const out = allocArrayUninit('float32', n) as Float32Array;
  out.set(heap.subarray(at >> 2, (at >> 2) + n));
  return out;
}

/** Plans for a batch of N samples in groups of nb0: the first group's and the last one's. */
function plans(
  kernels: WasmKernels,
  kind: Kind,
  g: Geom,
  N: number,
  nb0: number,
  pool: GemmPool | null,
  threads: number,
): { full: ConvPlan; last: ConvPlan; bytes: number } {
  const full = planConv(kernels, kind, g, nb0, pool, threads);
  const rest = N % nb0;
  const last = rest === 0 ? full : planConv(kernels, kind, g, rest, pool, threads);
  return { full, last, bytes: Math.max(full.threads * full.stride, last.threads * last.stride) };
}

/** Threading context of a call: the pool (or null) and the thread count asked for. */
export interface Threads {
  pool: GemmPool | null;
  threads: number;
}

/** Whether the wasm conv kernels handle these operands (float32 storages, no groups). */
export function wasmConvApplies(groups: number, ...views: (View | null)[]): boolean {
  return groups === 1 && views.every((v) => v === null || arr(v) instanceof Float32Array);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * conv2d forward: x [N, C, inH, inW], weight [Cout, C, kh, kw], bias [Cout] or null -> [N, Cout, outH, outW].
 * @throws OutOfMemoryError when the linear memory cannot hold the operands; Error when a worker thread
 * fails or dies (see GemmPool.run).
 */
export function wasmConv2d(
  kernels: WasmKernels,
  threads: Threads,
  x: View,
  weight: View,
  bias: View | null,
  w: Window2d,
): Float32Array {
  return convForward(kernels, threads, x, weight, bias, w, null).out;
}

/**
 * conv2d forward followed by 2x2 max pooling with stride 2 (`pool`, over the conv's output: see
 * `isMaxPool2x2`): the conv's output is pooled in linear memory, group by group, and never copied out.
 * Returns the pooled values [N, Cout, pool.outH, pool.outW] and their flat in-plane indices, the same
 * bits as `wasmConv2d` followed by `wasmMaxPool2x2`.
 * @throws like wasmConv2d.
 */
export function wasmConv2dMaxPool2x2(
  kernels: WasmKernels,
  threads: Threads,
  x: View,
  weight: View,
  bias: View | null,
  w: Window2d,
  pool: Pool2dWindow,
): { values: Float32Array; indices: Int32Array } {
  const { values, indices } = convForward(kernels, threads, x, weight, bias, w, pool);
  return { values, indices };
}

/** Whether `p` is a 2x2 max pool with stride 2 (no padding or dilation) over the whole [outH, outW] output of `w`. */
export function isMaxPool2x2(w: Window2d, p: Pool2dWindow): boolean {
  return p.inH === w.outH && p.inW === w.outW && p.outH >= 1 && p.outW >= 1 && is2x2(p);
}

/** The conv2d forward, its output copied out (`pool` null) or max-pooled in place first (see wasmConv2dMaxPool2x2). */
function convForward(
  kernels: WasmKernels,
  { pool, threads }: Threads,
  x: View,
  weight: View,
  bias: View | null,
  w: Window2d,
  pw: Pool2dWindow | null,
): { out: Float32Array; values: Float32Array; indices: Int32Array } {
  const [N, C] = x.shape as [number, number];
  const g = geom(C, weight.shape[0]!, w);
  const { cout, K, L, HW } = g;
  const ohw = pw === null ? 0 : pw.outH * pw.outW;
  if (N * cout * L === 0) {
    const out = new Float32Array(pw === null ? N * cout * L : 0);
    return { out, values: new Float32Array(N * cout * ohw), indices: new Int32Array(N * cout * ohw) };
  }
  const nb0 = groupSize(N, C * HW + cout * L + 2 * cout * ohw);
  const { full, last, bytes } = plans(kernels, FORWARD, g, N, nb0, pool, threads);
  const argsAt = HEAP_BASE;
  const wAt = align16(argsAt + 4 * ARG_WORDS);
  const bAt = align16(wAt + 4 * cout * K);
  const xAt = align16(bAt + 4 * cout);
  const outAt = align16(xAt + 4 * nb0 * C * HW);
  const vAt = align16(outAt + 4 * nb0 * cout * L);
  const iAt = align16(vAt + 4 * nb0 * cout * ohw);
  const packAt = align16(iAt + 4 * nb0 * cout * ohw);
  const workAt = packAt + (full.fast ? packedWeightBytes(g) : 0);
  const heap = kernels.reserve(workAt + bytes);
  place(heap, wAt, weight);
  if (bias) place(heap, bAt, bias);
  const args = writeArgs(kernels, argsAt, g, {
    x: xAt,
    wt: wAt,
    bias: bias ? bAt : 0,
    out: outAt,
    grad: 0,
    apack: full.fast ? packAt : 0,
  });
  const what = () => `a conv2d of a ${shapeText(x.shape)} input with a ${shapeText(weight.shape)} weight`;
  if (full.fast) {
    // Once per call, on this thread: pack the weights where every thread reads them.
    args[ARG.kb] = full.kb;
    const job = kernels.jobWords();
    job[JOB.kind] = PACK_WEIGHTS;
    job[JOB.args] = args.byteOffset;
    kernels.runChunk(0, workAt);
  }
  const run: GroupRun = {
    kind: FORWARD,
    args,
    N,
    nb0,
    full,
    last,
    workAt,
    what,
    heap,
    outAt,
    perSample: cout * L,
  };
  const load = (n0: number, nb: number) => place(heap, xAt, samples(x, n0, nb));
  if (pw === null) {
    return { out: runByGroups(kernels, pool, run, load), values: EMPTY_F32, indices: EMPTY_I32 };
  }
  let values: Float32Array = EMPTY_F32;
  let indices: Int32Array = EMPTY_I32;
  const ints = new Int32Array(heap.buffer);
  const per = cout * ohw;
  runByGroups(kernels, pool, run, load, {
    allocate: () => {
      values = mappedArray(N * per);
      indices = allocArrayUninit('int32', N * per) as Int32Array;
    },
    take: (n0, nb) => {
      kernels.kernelExports.maxPool2x2F32(outAt, vAt, iAt, nb * cout, w.outH, w.outW, pw.outH, pw.outW);
      values.set(heap.subarray(vAt >> 2, (vAt >> 2) + nb * per), n0 * per);
      indices.set(ints.subarray(iAt >> 2, (iAt >> 2) + nb * per), n0 * per);
    },
  });
  return { out: EMPTY_F32, values, indices };
}

const EMPTY_F32 = new Float32Array(0);
const EMPTY_I32 = new Int32Array(0);

/**
 * Where a conv2d backward pass reads the gradient of the conv's output: a [N, Cout, outH, outW] view, or
 * `pooled`, the gradient of a 2x2 max pool with stride 2 over that output (see isMaxPool2x2) with the
 * pool's int32 `indices`: each group's gradient is then scattered in linear memory (the pool's backward,
 * never returned).
 */
export type ConvGrad = View | { pooled: View; indices: View; pool: Pool2dWindow };

/** Thrown inside a pooled backward when an index lies outside its window (the caller falls back). */
class IndexOutsideWindow extends Error {}

/** Floats per sample of the pooled gradient and indices a ConvGrad needs in linear memory (0 when dense). */
function pooledFloats(grad: ConvGrad, cout: number): number {
  return 'pooled' in grad ? 2 * cout * grad.pool.outH * grad.pool.outW : 0;
}

/**
 * Returns `load(n0, nb)`, which writes samples [n0, n0 + nb) of the output gradient, dense, at byte `gAt`
 * (for a pooled gradient, through scratch space at `scratchAt`: pooled values, then indices).
 */
function gradLoader(
  kernels: WasmKernels,
  heap: Float32Array,
  grad: ConvGrad,
  gAt: number,
  scratchAt: number,
  nb0: number,
  cout: number,
): (n0: number, nb: number) => void {
  if (!('pooled' in grad)) return (n0, nb) => place(heap, gAt, samples(grad, n0, nb));
  const { pooled, indices, pool } = grad;
  const ohw = pool.outH * pool.outW;
  const idxAt = align16(scratchAt + 4 * nb0 * cout * ohw);
  const ints = new Int32Array(heap.buffer);
  return (n0, nb) => {
    place(heap, scratchAt, samples(pooled, n0, nb));
    place(ints, idxAt, samples(indices, n0, nb));
    const inside = kernels.kernelExports.maxPool2x2BackwardF32(
      scratchAt,
      idxAt,
      gAt,
      nb * cout,
      pool.inH,
      pool.inW,
      pool.outH,
      pool.outW,
    );
    if (inside !== 1) throw new IndexOutsideWindow();
  };
}

/**
 * Gradient of conv2d w.r.t. its input: grad [N, Cout, outH, outW] (or pooled, see ConvGrad), weight
 * [Cout, C, kh, kw] -> [N, C, inH, inW].
 * @throws OutOfMemoryError when the linear memory cannot hold the operands; Error when a worker thread
 * fails or dies (see GemmPool.run).
 */
export function wasmConv2dBackwardInput(
  kernels: WasmKernels,
  { pool, threads }: Threads,
  grad: ConvGrad,
  weight: View,
  w: Window2d,
): Float32Array {
  const N = gradSamples(grad).shape[0]!;
  const g = geom(weight.shape[1]!, weight.shape[0]!, w);
  const { C, cout, K, L, HW } = g;
  if (N * C * HW === 0 || L === 0) return new Float32Array(N * C * HW);
  const nb0 = groupSize(N, C * HW + cout * L + pooledFloats(grad, cout));
  const { full, last, bytes } = plans(kernels, INPUT_GRAD, g, N, nb0, pool, threads);
  const argsAt = HEAP_BASE;
  const wAt = align16(argsAt + 4 * ARG_WORDS);
  const gAt = align16(wAt + 4 * cout * K);
  const outAt = align16(gAt + 4 * nb0 * cout * L);
  const scratchAt = align16(outAt + 4 * nb0 * C * HW);
  const workAt = align16(scratchAt + 4 * nb0 * pooledFloats(grad, cout) + 16);
  const heap = kernels.reserve(workAt + bytes);
  place(heap, wAt, weight);
  const args = writeArgs(kernels, argsAt, g, { x: 0, wt: wAt, bias: 0, out: outAt, grad: gAt });
  const what = () => `a conv2d input gradient of a ${shapeText(convOutShape(grad, cout, w))} gradient`;
  const run: GroupRun = {
    kind: INPUT_GRAD,
    args,
    N,
    nb0,
    full,
    last,
    workAt,
    what,
    heap,
    outAt,
    perSample: C * HW,
  };
  return runByGroups(kernels, pool, run, gradLoader(kernels, heap, grad, gAt, scratchAt, nb0, cout));
}

/** The view of a ConvGrad that holds its samples (the pooled gradient, or the gradient itself). */
function gradSamples(grad: ConvGrad): View {
  return 'pooled' in grad ? grad.pooled : grad;
}

/** The shape of the conv's output gradient that `grad` stands for. */
function convOutShape(grad: ConvGrad, cout: number, w: Window2d): number[] {
  return [gradSamples(grad).shape[0]!, cout, w.outH, w.outW];
}

/**
 * Gradient of conv2d w.r.t. its weight: grad [N, Cout, outH, outW], x [N, C, inH, inW] -> [Cout, C, kh, kw].
 * @throws OutOfMemoryError when the linear memory cannot hold the operands; Error when a worker thread
 * fails or dies (see GemmPool.run).
 */
export function wasmConv2dBackwardWeight(
  kernels: WasmKernels,
  threads: Threads,
  grad: View,
  x: View,
  w: Window2d,
): Float32Array {
  return backwardWeight(kernels, threads, grad, x, w, false).weight;
}

/**
 * The weight gradient (see wasmConv2dBackwardWeight) and, with `withBias`, the bias gradient: the sum of
 * the output gradient over samples and positions, in float64 in the order of the TypeScript reduction
 * (the same bits as `grad.sum([0, 2, 3])` on the CPU kernels), computed on this thread while the workers
 * run each group.
 */
function backwardWeight(
  kernels: WasmKernels,
  { pool, threads }: Threads,
  grad: ConvGrad,
  x: View,
  w: Window2d,
  withBias: boolean,
): { weight: Float32Array; bias: Float32Array | null } {
  const [N, C] = x.shape as [number, number];
  const cout = gradSamples(grad).shape[1]!;
  const g = geom(C, cout, w);
  const { K, L, HW } = g;
  const n = cout * K;
  const bias = withBias ? new Float32Array(cout) : null;
  if (n === 0) return { weight: new Float32Array(0), bias };
  if (N * L === 0) return { weight: new Float32Array(n), bias };
  const nb0 = groupSize(N, C * HW + cout * L + pooledFloats(grad, cout));
  const { full, last, bytes } = plans(kernels, WEIGHT_GRAD, g, N, nb0, pool, threads);
  const parts = partialCount(g, nb0);
  const argsAt = HEAP_BASE;
  const xAt = align16(argsAt + 4 * ARG_WORDS);
  const gAt = align16(xAt + 4 * nb0 * C * HW);
  const partAt = align16(gAt + 4 * nb0 * cout * L);
  const dwAt = align16(partAt + 4 * parts * n);
  const accAt = align16(dwAt + 4 * n);
  const scratchAt = align16(accAt + 8 * cout);
  const workAt = align16(scratchAt + 4 * nb0 * pooledFloats(grad, cout) + 16);
  const reduceBytes = align16(kernels.sgemmWorkspace(1, n, parts));
  const heap = kernels.reserve(workAt + Math.max(bytes, reduceBytes));
  const acc = new Float64Array(heap.buffer, accAt, cout);
  acc.fill(0);
  const args = writeArgs(kernels, argsAt, g, { x: xAt, wt: 0, bias: 0, out: partAt, grad: gAt });
  const what = () => `a conv2d weight gradient of a ${shapeText(x.shape)} input`;
  const loadGrad = gradLoader(kernels, heap, grad, gAt, scratchAt, nb0, cout);
  const finish = (weight: Float32Array) => {
    if (bias) for (let c = 0; c < cout; c++) bias[c] = acc[c]!;
    return { weight, bias };
  };
  for (let n0 = 0; n0 < N; n0 += nb0) {
    const nb = Math.min(nb0, N - n0);
    place(heap, xAt, samples(x, n0, nb));
    loadGrad(n0, nb);
    const plan = nb === nb0 ? full : last;
    const sums = bias ? () => kernels.kernelExports.channelSumsF64(gAt, nb, cout, L, 0, accAt) : undefined;
    runConv(kernels, pool, WEIGHT_GRAD, args, nb, plan, workAt, what, sums);
    const count = Math.ceil(nb / plan.size);
    if (count === 1 && N === nb) return finish(copyOut(heap, partAt, n));
    // dW (+)= the partials, summed in order: a [1, count] row of ones times the [count, n] partials.
    const one = argsAt + 4 * ONE_WORD;
    kernels.sgemm(1, n, count, one, 0, 0, partAt, n, 1, dwAt, n, n0 > 0, workAt);
  }
  return finish(copyOut(heap, dwAt, n));
}

/**
 * The gradients of `maxPool2d(conv2d(x, weight, bias), pool)` (a 2x2 pool with stride 2, see
 * isMaxPool2x2) from the pooled output's gradient and the pool's indices, without the conv output's
 * gradient ever leaving linear memory: the input gradient (`needs.input`), the weight gradient and, with
 * it, the bias gradient (`needs.bias`). The same bits as the pool's backward followed by the conv's
 * backward kernels and `sum([0, 2, 3])`; null when some index lies outside its window (then the caller
 * runs those).
 */
export function wasmConv2dMaxPool2x2Backward(
  kernels: WasmKernels,
  threads: Threads,
  grad: View,
  indices: View,
  pool: Pool2dWindow,
  x: View,
  weight: View,
  w: Window2d,
  needs: { input: boolean; weight: boolean; bias: boolean },
): { input: Float32Array | null; weight: Float32Array | null; bias: Float32Array | null } | null {
  const source: ConvGrad = { pooled: grad, indices, pool };
  try {
    const input = needs.input ? wasmConv2dBackwardInput(kernels, threads, source, weight, w) : null;
    if (!needs.weight && !needs.bias) return { input, weight: null, bias: null };
    const r = backwardWeight(kernels, threads, source, x, w, needs.bias);
    return { input, weight: needs.weight ? r.weight : null, bias: r.bias };
  } catch (e) {
    if (e instanceof IndexOutsideWindow) return null;
    throw e;
  }
}
