/**
 * Batched float32 matrix products through the WebAssembly SGEMM, for tensors whose data lives in JS
 * typed arrays: the operands are copied into the kernels' linear memory, multiplied there, and the
 * product is copied out into a fresh Float32Array.
 *
 * Operands keep their strides: a float32 operand is copied as the contiguous range of its storage that
 * the view can reach (one `TypedArray.set`, i.e. a memcpy) and the kernel reads it with the view's own
 * strides, so transposed, broadcast and flipped operands need no transpose. Only views whose reachable
 * range is much larger than their element count (sparse slices) or whose storage is not float32 are
 * gathered element by element into a contiguous block instead.
 *
 * Large products are split over the worker pool when one is given (src/backends/wasm/job.ts); this
 * thread then allocates the result while the workers compute. Products of moderate size (see
 * ADAPTIVE_MAX_FLOPS) are split only while that measures faster than one thread, which it is not on busy
 * cores. Products that run on this thread alone do so in a private instance of the kernels on an
 * ordinary, non-shared memory (src/backends/wasm/private-kernels.ts), where V8 copies operands in and
 * results out about three times faster than to and from a shared one.
 * @module
 */
import { allocArrayUninit } from '../../core/dtype.js';
import type { View } from '../backend.js';
import { copyInto } from '../cpu/elementwise.js';
import { arr } from '../cpu/storage.js';
import { type GemmJob, type JobPlan, PARALLEL_MIN_FLOPS, planBytes, planJob, runJob } from './job.js';
import { HEAP_BASE, type WasmKernels } from './kernels.js';
import type { GemmPool } from './pool.js';
import { PRIVATE_MAX_BYTES, privateKernels } from './private-kernels.js';

export { PARALLEL_MIN_FLOPS } from './job.js';

/** A [B, rows, cols] operand placed in linear memory. */
interface Placed {
  /** Byte address of element (0, 0, 0). */
  ptr: number;
  /** Element strides: between matrices (0: broadcast), rows, columns. */
  bs: number;
  rs: number;
  cs: number;
}

/** How an operand gets into linear memory. */
interface Plan {
  /** Floats it occupies there. */
  floats: number;
  /** Copy the storage range [lo, lo + floats) verbatim (else gather the view contiguously). */
  verbatim: boolean;
  lo: number;
  /** Number of matrices to copy when gathering (1 when the batch is broadcast). */
  batches: number;
}

/** A verbatim copy may be at most this many times larger than the view (plus slack) before gathering. */
const SPARSE_FACTOR = 2;
const SPARSE_SLACK = 4096;

/** Rounds a byte address up to a multiple of 16. */
function align16(x: number): number {
  return Math.ceil(x / 16) * 16; // not `(x + 15) & ~15`: sizes past 2 GiB must not wrap around
}

/** The batch stride that the kernels use: 0 when there is one matrix or the batch is broadcast. */
function batchStride(v: View): number {
  return v.shape[0]! === 1 ? 0 : v.strides[0]!;
}

function plan(v: View): Plan {
  const [B, r, c] = v.shape as [number, number, number];
  const bs = batchStride(v);
  const batches = bs === 0 ? 1 : B;
  const numel = batches * r * c;
  // The lowest and highest storage index the view reaches (strides may be negative).
  const reaches = [(batches - 1) * bs, (r - 1) * v.strides[1]!, (c - 1) * v.strides[2]!];
  let lo = v.offset;
  let hi = v.offset;
  for (const reach of reaches) {
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  const range = hi - lo + 1;
  if (arr(v) instanceof Float32Array && range <= SPARSE_FACTOR * numel + SPARSE_SLACK) {
    return { floats: range, verbatim: true, lo, batches };
  }
  return { floats: numel, verbatim: false, lo: 0, batches };
}

/** Copies operand `v` into `heap` at byte address `at` following `p`; returns where its elements are. */
function place(heap: Float32Array, at: number, v: View, p: Plan): Placed {
  const [, r, c] = v.shape as [number, number, number];
  const e = at >> 2;
  if (p.verbatim) {
    const src = arr(v) as Float32Array;
    heap.set(src.subarray(p.lo, p.lo + p.floats), e);
    return { ptr: at + 4 * (v.offset - p.lo), bs: batchStride(v), rs: v.strides[1]!, cs: v.strides[2]! };
  }
  const one: View =
    p.batches === v.shape[0]
      ? v
      : { storage: v.storage, shape: [p.batches, r, c], strides: v.strides, offset: v.offset };
  copyInto(heap, e, one);
  return { ptr: at, bs: p.batches === 1 ? 0 : r * c, rs: c, cs: 1 };
}

/**
 * A new Float32Array of n floats for a result that is then written whole: without the zero fill of `new`
 * (allocArrayUninit: about 0.1 ms per MB), and with one word written per 4 KiB so that the page faults of
 * fresh memory are taken here, which callers do while the worker threads compute (see `runJob`'s
 * `meanwhile`), rather than in the copy out. Its contents are unspecified until written.
 */
export function freshArray(n: number): Float32Array {
  const out = allocArrayUninit('float32', n) as Float32Array;
  for (let i = 0; i < n; i += 1024) out[i] = 0;
  return out;
}

/** The job of an m x n x k product (batch of `batch`, C at byte `c`, contiguous rows); operands set later. */
function productJob(m: number, n: number, k: number, c: number, batch: number, cBs: number): GemmJob {
  return {
    m,
    n,
    k,
    a: 0,
    aRs: 0,
    aCs: 0,
    b: 0,
    bRs: 0,
    bCs: 0,
    c,
    ldc: n,
    accumulate: false,
    batch,
    aBs: 0,
    bBs: 0,
    cBs,
  };
}

/**
 * Products from PARALLEL_MIN_FLOPS up to this many flops (2 m n k, summed over a batch) run split over
 * the worker threads or on the calling thread alone, whichever has been measured faster for their shape
 * lately (see `threadChoice`): at these sizes threads save at most a third of the time on idle cores
 * (the MLP's 32 x 784 x 128 products: ~85 us on 2 threads against ~125 us on 1), and on busy cores a
 * worker that is descheduled while it holds a chunk makes the product wait for it, slower than one thread.
 * Both ways compute the same bits (see src/backends/wasm/job.ts), so the choice never changes a result.
 */
export const ADAPTIVE_MAX_FLOPS = 16 * PARALLEL_MIN_FLOPS;
/** Split runs of a shape before it is first run on one thread (the default way stays the split). */
const WARM_SPLIT = 8;
/** Runs of a shape on one thread before the two ways are compared. */
const WARM_SERIAL = 4;
/** The first runs of each way are not timed (compilation, worker start-up, memory growth). */
const UNTIMED = 2;
/**
 * Every this many calls of a shape, RETRY_RUN calls run the way that is not the faster one, to follow
 * changes in load (the first of them is not timed: it may find the workers asleep); every RETRY_EVERY_FAR
 * calls when that way is more than twice as slow (a split on busy cores: up to ~4x).
 */
const RETRY_EVERY = 48;
const RETRY_EVERY_FAR = 128;
const RETRY_RUN = 3;
/** Weight of a new timing in a way's running mean (the mean, outliers included, is what counts). */
const MEAN_WEIGHT = 1 / 8;
/** Times over this many times the faster way's mean are counted as this many times it (see `record`). */
const OUTLIER = 4;
/** The table of shapes is cleared when it holds this many (a workload with ever-changing shapes). */
const MAX_SHAPES = 256;

/** The timings of one product shape (and thread count) run both ways. */
class ThreadChoice {
  /** The way the current call runs. */
  threaded = true;
  /** Whether the current call's time is left out (the first call of a retry of the other way). */
  private untimed = false;
  /**
   * Calls since the last retry run of the other way began (it starts one when this reaches the retry
   * period); starts as if a retry had just ended, so the first calls after the warm-up go the faster way.
   */
  private sinceRetry = RETRY_RUN - 1;
  /** Runs and running mean of the milliseconds per call: [on one thread, split]. */
  private readonly runs = [0, 0];
  private readonly mean = [0, 0];

  /** Picks the way of the next call. */
  next(): this {
    const [serial, split] = this.runs as [number, number];
    if (split < WARM_SPLIT) this.threaded = true;
    else if (serial < WARM_SERIAL) this.threaded = false;
    else {
      const [one, two] = this.mean as [number, number];
      const splitFaster = two <= one;
      const every = Math.max(one, two) > 2 * Math.min(one, two) ? RETRY_EVERY_FAR : RETRY_EVERY;
      // A counter of its own (not the call count modulo `every`): when `every` changes, a retry is
      // delayed, never skipped.
      if (++this.sinceRetry >= every) this.sinceRetry = 0;
      this.threaded = this.sinceRetry < RETRY_RUN ? !splitFaster : splitFaster;
      this.untimed = this.sinceRetry === 0;
    }
    return this;
  }

  /**
   * Records the time of the call `next` chose the way of (operands in, product, result out). A time over
   * OUTLIER times the faster way's mean counts as that much: this thread being descheduled (a GC pause, a
   * busy core) hits either way, and one such pause of milliseconds would otherwise decide many calls.
   */
  record(ms: number): void {
    const w = this.threaded ? 1 : 0;
    const r = ++this.runs[w]!;
    if (r <= UNTIMED || this.untimed) return;
    if (r === UNTIMED + 1) {
      this.mean[w] = ms;
      return;
    }
    let fastest = this.mean[w]!;
    if (this.runs[1 - w]! > UNTIMED) fastest = Math.min(fastest, this.mean[1 - w]!);
    const t = Math.min(ms, OUTLIER * fastest);
    this.mean[w] = this.mean[w]! + MEAN_WEIGHT * (t - this.mean[w]!);
  }
}

/** The timings of each product shape in the adaptive range (see ADAPTIVE_MAX_FLOPS). */
const choices = new Map<string, ThreadChoice>();

/** The way `job` (planned split over `threads`) runs this time, or null to split it without timing. */
function threadChoice(job: GemmJob, threads: number): ThreadChoice | null {
  if (2 * job.batch * job.m * job.n * job.k >= ADAPTIVE_MAX_FLOPS) return null;
  const key = `${job.m} ${job.n} ${job.k} ${job.batch} ${threads}`;
  let c = choices.get(key);
  if (c === undefined) {
    if (choices.size >= MAX_SHAPES) choices.clear();
    c = new ThreadChoice();
    choices.set(key, c);
  }
  return c.next();
}

/**
 * The product of a [B, m, k] and b [B, k, n] (any strides; a batch of size 1 or batch stride 0
 * broadcasts) as a fresh contiguous [B, m, n] Float32Array. Inputs of other dtypes are converted.
 * With a `pool` and `threads` > 1, large products are split over worker threads; those in the adaptive
 * range (see ADAPTIVE_MAX_FLOPS) only while splitting them measures faster, unless `adaptive` is false
 * (then every product from PARALLEL_MIN_FLOPS up is split, as tests of the split want). Products run on
 * this thread alone use the private instance of the kernels on an ordinary memory where there is one
 * (see src/backends/wasm/private-kernels.ts). The result does not depend on any of these choices.
 * @throws RangeError when the linear memory cannot grow to hold the operands; Error when a worker thread
 * fails or dies during the product (see GemmPool.run).
 */
export function wasmMatmul(
  kernels: WasmKernels,
  a: View,
  b: View,
  pool: GemmPool | null = null,
  threads = 1,
  adaptive = true,
): Float32Array {
  const [B, m, k] = a.shape as [number, number, number];
  const n = b.shape[2]!;
  const total = B * m * n;
  if (total === 0) return new Float32Array(0);
  if (k === 0) return new Float32Array(total);
  const pa = plan(a);
  const pb = plan(b);
  // One product instead of B when B is shared and A's matrices are stacked rows (e.g. a Linear layer
  // applied to [batch, seq, in]): C's matrices are stacked rows too.
  const aBs = batchStride(a);
  const fold = B > 1 && batchStride(b) === 0 && aBs === m * a.strides[1]!;
  const rows = fold ? B * m : m;
  const batches = fold ? 1 : B;
  const aAt = HEAP_BASE;
  const bAt = align16(aAt + 4 * pa.floats);
  const cAt = align16(bAt + 4 * pb.floats);
  const wAt = align16(cAt + 4 * total);
  const job = productJob(rows, n, k, cAt, batches, m * n);
  let p = planJob(kernels, job, pool, threads);
  // A product that threads might speed up only a little is timed both ways and run the faster way.
  const choice = adaptive && p.threads > 1 ? threadChoice(job, p.threads) : null;
  if (choice !== null && !choice.threaded) p = planJob(kernels, job, null, 1);
  const started = choice === null ? 0 : performance.now();
  // On this thread alone, in the private instance (copies to an ordinary memory are ~3x cheaper).
  let run = kernels;
  if (p.threads === 1 && wAt + planBytes(p) <= Math.min(PRIVATE_MAX_BYTES, kernels.maxBytes)) {
    run = privateKernels(kernels) ?? kernels;
  }
  const heap = run.reserve(wAt + planBytes(p));
  const A = place(heap, aAt, a, pa);
  const Bp = place(heap, bAt, b, pb);
  job.a = A.ptr;
  job.aRs = A.rs;
  job.aCs = A.cs;
  job.aBs = A.bs;
  job.b = Bp.ptr;
  job.bRs = Bp.rs;
  job.bCs = Bp.cs;
  job.bBs = Bp.bs;
  const out = runAndCopyOut(run, heap, p.threads > 1 ? pool : null, p, job, wAt, total);
  if (choice !== null) choice.record(performance.now() - started);
  return out;
}

/** Runs `job` and returns its C ([total] floats at job.c) as a fresh array; `heap`: the memory's current view. */
function runAndCopyOut(
  kernels: WasmKernels,
  heap: Float32Array,
  pool: GemmPool | null,
  p: JobPlan,
  job: GemmJob,
  wAt: number,
  total: number,
): Float32Array {
  // Split over threads, this thread allocates the result while the workers compute, and maps its pages
  // (a fresh array costs a page fault per 4 KiB on first write: milliseconds for megabytes in some VMs).
  let out: Float32Array | null = null;
  runJob(kernels, pool, p, job, wAt, () => {
    out = freshArray(total);
  });
  // (A new array + `set` rather than `slice`: slicing a view of shared memory is up to 3x slower in V8.)
  const result = out ?? (allocArrayUninit('float32', total) as Float32Array);
  result.set(heap.subarray(job.c >> 2, (job.c >> 2) + total));
  return result;
}

/**
 * Products `a` x `b` for many left operands `a` and one right operand `b`, both batch-1 views
 * ([1, m, k] and [1, k, n], any strides): `b` is copied into linear memory once, and again only when
 * another kernel call has laid out its own operands there in between (so the per-step products of a
 * recurrence, with nothing else in between, copy the weight once). `b`'s data must not change while the
 * returned function is in use. Each call returns a fresh contiguous [m, n] Float32Array.
 * @throws OutOfMemoryError when the linear memory cannot hold the operands; Error when a worker fails.
 */
export function wasmMatmulFixedRight(
  kernels: WasmKernels,
  b: View,
  pool: GemmPool | null = null,
  threads = 1,
): (a: View) => Float32Array {
  const [, k, n] = b.shape as [number, number, number];
  const pb = plan(b);
  const bAt = HEAP_BASE;
  let placed: Placed | null = null;
  let layout = -1;
  return (a: View): Float32Array => {
    const m = a.shape[1]!;
    if (a.shape[0] !== 1 || a.shape[2] !== k) {
      throw new Error(
        `wasmMatmulFixedRight: expected a [1, m, ${k}] left operand, got [${a.shape.join(', ')}]`,
      );
    }
    const total = m * n;
    if (total === 0) return new Float32Array(0);
    if (k === 0) return new Float32Array(total);
    const pa = plan(a);
    const aAt = align16(bAt + 4 * pb.floats);
    const cAt = align16(aAt + 4 * pa.floats);
    const wAt = align16(cAt + 4 * total);
    const job = productJob(m, n, k, cAt, 1, 0);
    const p = planJob(kernels, job, pool, threads);
    const keep = placed !== null && kernels.layouts === layout;
    const heap = kernels.reserve(wAt + planBytes(p));
    layout = kernels.layouts;
    if (!keep) placed = place(heap, bAt, b, pb);
    const A = place(heap, aAt, a, pa);
    const B = placed!;
    Object.assign(job, { a: A.ptr, aRs: A.rs, aCs: A.cs, b: B.ptr, bRs: B.rs, bCs: B.cs });
    return runAndCopyOut(kernels, heap, pool, p, job, wAt, total);
  };
}
