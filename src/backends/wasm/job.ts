/**
 * A (batched) float32 product on operands already in the kernels' linear memory, run as chunks of
 * `sgemmChunk` (assembly/parallel.ts) on the calling thread alone or split over the worker pool
 * (src/backends/wasm/pool.ts): a batch by groups of whole products, a single product (or a batch summed
 * into one C) by blocks of rows of C (when m >= n; each thread then packs all of B, k n copies per thread
 * against m n k / threads multiply-adds) or of columns. Every chunk computes each element of C with the
 * same sequence of operations, so the result does not depend on the split.
 * @module
 */
import type { WasmKernels } from './kernels.js';
import { type GemmPool, JOB, MODE_BATCH, MODE_COLS, MODE_ROWS } from './pool.js';

/**
 * Smallest product (2 m n k flops, summed over a batch) split over threads: below it waking the workers
 * (tens of microseconds) costs more than it saves.
 */
export const PARALLEL_MIN_FLOPS = 2 * 112 * 112 * 112;
/** Chunks per thread of a split product (more balance the load on a busy machine, but each repacks). */
const CHUNKS_PER_THREAD = 2;
/**
 * Register tile of the kernel (assembly/gemm.ts: MR x NR, MR_RELAXED x NR in the relaxed-SIMD build): row
 * blocks are multiples of the tile's rows, column blocks of NR.
 */
const MR = 5;
const MR_RELAXED = 6;
const NR = 8;

/**
 * C_q (+)= A_q B_q for q < batch: A_q(i, p) at byte `a + 4 * (q * aBs + i * aRs + p * aCs)`, B_q(p, j) at
 * `b + 4 * (q * bBs + p * bRs + j * bCs)`, C_q(i, j) at `c + 4 * (q * cBs + i * ldc + j)`. With cBs = 0 and
 * batch > 1 the products are summed into one C.
 */
export interface GemmJob {
  m: number;
  n: number;
  k: number;
  a: number;
  aRs: number;
  aCs: number;
  b: number;
  bRs: number;
  bCs: number;
  c: number;
  ldc: number;
  accumulate: boolean;
  batch: number;
  aBs: number;
  bBs: number;
  cBs: number;
}

/** How a job runs: chunk kind and size, number of chunks and threads, workspace per thread. */
export interface JobPlan {
  mode: number;
  size: number;
  chunks: number;
  threads: number;
  /** Bytes of workspace per thread (a multiple of 16). */
  stride: number;
  /**
   * Bytes of workspace to reserve: enough for this plan and for the plan of the same job with a smaller
   * batch (which may run on fewer threads with bigger blocks).
   */
  bytes: number;
}

function align16(x: number): number {
  return Math.ceil(x / 16) * 16; // not `(x + 15) & ~15`: sizes past 2 GiB must not wrap around
}

/** Plans `job` for up to `threads` threads (1 when no pool is given or the product is small). */
export function planJob(kernels: WasmKernels, job: GemmJob, pool: GemmPool | null, threads: number): JobPlan {
  const { m, n, k, batch } = job;
  const serial = align16(kernels.sgemmWorkspace(m, n, k));
  const flops = 2 * batch * m * n * k;
  const t = pool !== null && threads > 1 && flops >= PARALLEL_MIN_FLOPS ? threads : 1;
  const summed = job.cBs === 0 && batch > 1;
  if (t === 1) {
    const size = summed ? m : batch;
    return {
      mode: summed ? MODE_ROWS : MODE_BATCH,
      size,
      chunks: 1,
      threads: 1,
      stride: serial,
      bytes: serial,
    };
  }
  const target = t * CHUNKS_PER_THREAD;
  let mode: number;
  let size: number;
  let stride: number;
  let chunks: number;
  if (batch > 1 && !summed) {
    mode = MODE_BATCH;
    size = Math.ceil(batch / Math.min(batch, target));
    stride = serial;
    chunks = Math.ceil(batch / size);
  } else if (m >= n) {
    // Row blocks of whole register tiles (6 rows in the relaxed-SIMD build, 5 in the other).
    const mr = kernels.relaxed ? MR_RELAXED : MR;
    mode = MODE_ROWS;
    size = Math.max(mr, Math.ceil(m / target / mr) * mr);
    stride = align16(kernels.sgemmWorkspace(size, n, k));
    chunks = Math.ceil(m / size);
  } else {
    mode = MODE_COLS;
    size = Math.max(NR, Math.ceil(n / target / NR) * NR);
    stride = align16(kernels.sgemmWorkspace(m, size, k));
    chunks = Math.ceil(n / size);
  }
  return { mode, size, chunks, threads: t, stride, bytes: Math.max(serial, t * stride) };
}

/** Bytes of workspace a plan needs (for all its threads). */
export function planBytes(plan: JobPlan): number {
  return plan.bytes;
}

/** Describes a product for error messages. */
function describe(job: GemmJob): string {
  const { m, n, k, batch } = job;
  return `a ${batch > 1 ? `${batch} x ` : ''}[${m}, ${k}] x [${k}, ${n}] product`;
}

/** The job block view of each set of kernels (`kernels.jobWords()` allocates a view per call). */
const jobWordsOf = new WeakMap<WasmKernels, Int32Array>();

/** The job block of `kernels`, a view taken again only after a memory growth detached the old one. */
function jobWords(kernels: WasmKernels): Int32Array {
  let w = jobWordsOf.get(kernels);
  if (w === undefined || w.length === 0) {
    w = kernels.jobWords();
    jobWordsOf.set(kernels, w);
  }
  return w;
}

/**
 * Runs `job` as planned, with the workspace at `work` (16-byte aligned, `planBytes(plan)` bytes, in
 * memory the caller reserved). Every address must be in bounds. `meanwhile`, when given, runs on this
 * thread while the workers start on a split job (see GemmPool.run); it is not called when the job runs
 * on this thread alone.
 * @throws Error when a worker thread fails or dies during the product (see GemmPool.run).
 */
export function runJob(
  kernels: WasmKernels,
  pool: GemmPool | null,
  plan: JobPlan,
  job: GemmJob,
  work: number,
  meanwhile?: () => void,
): void {
  const w = jobWords(kernels);
  w[JOB.m] = job.m;
  w[JOB.n] = job.n;
  w[JOB.k] = job.k;
  w[JOB.a] = job.a;
  w[JOB.aRs] = job.aRs;
  w[JOB.aCs] = job.aCs;
  w[JOB.b] = job.b;
  w[JOB.bRs] = job.bRs;
  w[JOB.bCs] = job.bCs;
  w[JOB.c] = job.c;
  w[JOB.ldc] = job.ldc;
  w[JOB.acc] = job.accumulate ? 1 : 0;
  w[JOB.aBs] = job.aBs;
  w[JOB.bBs] = job.bBs;
  w[JOB.cBs] = job.cBs;
  w[JOB.batch] = job.batch;
  w[JOB.mode] = plan.mode;
  w[JOB.size] = plan.size;
  w[JOB.kind] = 0;
  if (plan.threads > 1 && pool !== null) {
    pool.run(plan.chunks, work, plan.stride, plan.threads, () => describe(job), 'wasm matmul', meanwhile);
  } else {
    for (let i = 0; i < plan.chunks; i++) kernels.runChunk(i, work);
  }
}
