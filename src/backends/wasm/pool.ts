/**
 * Worker threads for the WebAssembly kernels: a pool of Node `worker_threads` that instantiate the
 * kernels' shared-memory build on the same `WebAssembly.Memory` as the main thread, and run chunks of a
 * job that the main thread publishes in that memory: of a product (row or column blocks of C, or groups of
 * the products of a batch; src/backends/wasm/job.ts) or of a conv2d (groups of samples, or blocks of one;
 * src/backends/wasm/conv.ts). The main thread computes chunks too and then blocks in `Atomics.wait` until
 * every chunk is done, so kernels stay synchronous like the rest of the backend.
 *
 * Protocol (Int32 control words at CONTROL_AT, the job block at JOB_AT, both in the shared memory): the
 * main thread writes the job, resets the counters, stores CLAIM = (seq tag << 20 | 0) and bumps SEQ, on
 * which idle workers wait. Every thread claims chunk indices by compare-and-swap on CLAIM; a claim only
 * succeeds while CLAIM still carries the tag of the job whose SEQ the thread read, so a thread that woke
 * late never runs a chunk of a newer job with stale parameters. Each finished (or failed) chunk bumps
 * FINISHED, which the main thread waits on.
 *
 * Faults: a chunk that throws in a worker is counted as failed; a worker that exits in the middle of a
 * chunk (process.exit, an uncaught error) reports that chunk as failed from its `exit` handler. The op
 * then throws an Error naming the worker and the product, and a dead worker is replaced (spawned again
 * before the next threaded product). A watchdog throws instead of waiting for ever when no chunk finishes
 * for `stallMs`. A worker that is not running yet (they boot asynchronously, in about 50-100 ms) simply
 * claims nothing: the main thread does the work meanwhile.
 *
 * The main entry must not import Node built-ins, so `node:worker_threads` and `node:os` are reached only
 * through `process.getBuiltinModule` (Node >= 20.16), at run time, when it exists. Browsers (Web Workers,
 * which also need cross-origin isolation and cannot block the main thread) run single-threaded for now.
 * @module
 */
import type { Worker as NodeWorker } from 'node:worker_threads';
import { ValueError } from '../../core/errors.js';
import { CONTROL_AT, JOB_AT, type WasmKernels } from './kernels.js';

/** Control word indices (Int32Array at CONTROL_AT). */
const SEQ = 0;
const CLAIM = 1;
const FINISHED = 2;
const FAILED = 3;
const FAIL_TID = 4;
const FAIL_CODE = 5;
const CHUNKS = 6;
const WORK_BASE = 7;
const WORK_STRIDE = 8;
const FAULT_TID = 9;
const FAULT_MODE = 10;
/** Words 16..31: chunks computed by thread 0..15 since the pool started (statistics for tests). */
const STATS = 16;
const CONTROL_WORDS = 32;
/** Milliseconds a worker polls for the next job before it sleeps in Atomics.wait. */
const WORKER_SPIN_MS = 0.2;
/** Milliseconds the main thread polls for the workers' last chunks before it sleeps in Atomics.wait. */
const MAIN_SPIN_MS = 2;

/** FAIL_CODE of a chunk that threw (as opposed to the exit code of a worker that died). */
const THREW = -1000;

/**
 * Word offsets of the job block read by `runChunk` (assembly/parallel.ts): `kind` 0 is an SGEMM whose
 * parameters are the other words (`sgemmChunk`); kinds 1-3 are conv2d jobs (assembly/conv.ts) whose
 * argument block is at byte address `args`.
 */
export const JOB = {
  m: 0,
  n: 1,
  k: 2,
  a: 3,
  aRs: 4,
  aCs: 5,
  b: 6,
  bRs: 7,
  bCs: 8,
  c: 9,
  ldc: 10,
  acc: 11,
  aBs: 12,
  bBs: 13,
  cBs: 14,
  batch: 15,
  mode: 16,
  size: 17,
  kind: 18,
  args: 19,
} as const;

/** Chunk kinds (JOB.mode): groups of whole products of a batch, row blocks of C, column blocks of C. */
export const MODE_BATCH = 0;
export const MODE_ROWS = 1;
export const MODE_COLS = 2;

/** The code each worker runs (CommonJS, evaluated by `new Worker(code, { eval: true })`). */
const WORKER_SOURCE = `'use strict';
const { workerData, parentPort } = process.getBuiltinModule('node:worker_threads');
const { module, memory, tid, controlAt, controlWords, jobAt } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, controlAt, controlWords);
let current = -1;
const fail = (code) => {
  Atomics.compareExchange(ctl, ${FAIL_TID}, 0, tid);
  Atomics.compareExchange(ctl, ${FAIL_CODE}, 0, code);
  Atomics.add(ctl, ${FAILED}, 1);
  Atomics.add(ctl, ${FINISHED}, 1);
  Atomics.notify(ctl, ${FINISHED});
};
process.on('exit', (code) => {
  if (current >= 0) {
    current = -1;
    fail(code === 0 ? 1 : code);
  }
});
parentPort.postMessage('ready');
for (;;) {
  const seq = Atomics.load(ctl, ${SEQ});
  const tag = seq & 0xfff;
  const chunks = Atomics.load(ctl, ${CHUNKS});
  const work = Atomics.load(ctl, ${WORK_BASE}) + tid * Atomics.load(ctl, ${WORK_STRIDE});
  for (;;) {
    const w = Atomics.load(ctl, ${CLAIM});
    const i = w & 0xfffff;
    if (w >>> 20 !== tag || i >= chunks) break;
    if (Atomics.compareExchange(ctl, ${CLAIM}, w, w + 1) !== w) continue;
    current = i;
    if (Atomics.load(ctl, ${FAULT_TID}) === tid) {
      const mode = Atomics.load(ctl, ${FAULT_MODE});
      Atomics.store(ctl, ${FAULT_TID}, 0);
      if (mode === 1) process.exit(7);
      if (mode === 2) throw new Error('injected fault');
    }
    try {
      ex.runChunk(jobAt, i, work);
      current = -1;
      if (tid < 16) Atomics.add(ctl, ${STATS} + tid, 1);
      Atomics.add(ctl, ${FINISHED}, 1);
      Atomics.notify(ctl, ${FINISHED});
    } catch (e) {
      current = -1;
      fail(${THREW});
    }
  }
  // Spin a little before sleeping: back-to-back products (a training step) then start without the
  // tens of microseconds a futex wake-up costs.
  const until = performance.now() + ${WORKER_SPIN_MS};
  while (Atomics.load(ctl, ${SEQ}) === seq && performance.now() < until) {}
  Atomics.wait(ctl, ${SEQ}, seq);
}
`;

/** The parts of Node's `process` used here, looked up at run time (absent in browsers). */
interface NodeProcessLike {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcessLike | undefined {
  const p = (globalThis as { process?: NodeProcessLike }).process;
  return p && typeof p === 'object' && typeof p.versions?.node === 'string' ? p : undefined;
}

/** Node's worker_threads module, or null outside Node (or on a Node without `process.getBuiltinModule`). */
function workerThreads(): typeof import('node:worker_threads') | null {
  try {
    const mod = nodeProcess()?.getBuiltinModule?.('node:worker_threads');
    return (mod as typeof import('node:worker_threads') | undefined) ?? null;
  } catch {
    return null;
  }
}

/** Why this runtime cannot run the SGEMM worker pool, or null when it can. Never throws. */
export function threadPoolUnsupportedReason(): string | null {
  if (nodeProcess() === undefined) return 'worker threads are only used in Node for now';
  if (workerThreads() === null) return 'node:worker_threads is not reachable (needs Node >= 20.16)';
  return null;
}

/** Cores available to this process (Node's `os.availableParallelism`), or 1 when unknown. */
function cores(): number {
  try {
    const os = nodeProcess()?.getBuiltinModule?.('node:os') as
      | { availableParallelism?: () => number; cpus?: () => unknown[] }
      | undefined;
    const n = os?.availableParallelism?.() ?? os?.cpus?.().length ?? 1;
    return Math.max(1, Math.floor(n));
  } catch {
    return 1;
  }
}

/** Most threads used by default (more cores than this rarely pay for one product). */
const DEFAULT_MAX_THREADS = 8;

let requested: number | null = null;

/**
 * Sets how many threads (the calling thread included) the `wasm` backend uses for a large float32 matrix
 * product. 1 turns threading off; the default is the number of available cores (at most 8). Takes effect
 * on the next product; extra worker threads are stopped, missing ones are started when next needed.
 * Where worker threads are unavailable (browsers, for now) products stay single-threaded whatever is set.
 * @throws ValueError when `n` is not an integer >= 1.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new ValueError(`setNumThreads: expected an integer >= 1, got ${n}`);
  }
  requested = n;
  for (const pool of pools) pool.trim(n - 1);
}

/** The number of threads set by {@link setNumThreads} (or the default: available cores, at most 8). */
export function getNumThreads(): number {
  return requested ?? Math.min(DEFAULT_MAX_THREADS, cores());
}

/** Live pools, so that setNumThreads can stop surplus workers. */
const pools = new Set<GemmPool>();

/** One worker of a pool. */
interface Slot {
  worker: NodeWorker;
  /** Resolves once the worker has instantiated the kernels and entered its loop. */
  ready: Promise<void>;
  dead: boolean;
  /** The last `error` event (an uncaught exception in the worker), for error messages. */
  error: string | null;
}

/** Options of {@link GemmPool} (for tests). */
export interface GemmPoolOptions {
  /** Milliseconds without any finished chunk after which a product gives up (default 60 s). */
  stallMs?: number;
}

/** A worker pool bound to one set of kernels (one shared memory). */
export class GemmPool {
  private readonly ctl: Int32Array;
  private readonly slots: (Slot | null)[] = [];
  private readonly stallMs: number;

  /** @throws Error when the kernels' memory is not shared or worker threads are unavailable. */
  constructor(
    private readonly kernels: WasmKernels,
    options: GemmPoolOptions = {},
  ) {
    if (!kernels.shared) throw new Error('GemmPool: the kernels do not use a shared memory');
    const why = threadPoolUnsupportedReason();
    if (why !== null) throw new Error(`GemmPool: ${why}`);
    // The first pages never move (a shared memory is reserved at its maximum size), so these views stay
    // valid when the memory grows.
    this.ctl = new Int32Array(kernels.memory.buffer, CONTROL_AT, CONTROL_WORDS);
    this.stallMs = options.stallMs ?? 60_000;
    pools.add(this);
  }

  /** Number of worker threads started (alive or booting). */
  get workers(): number {
    return this.slots.filter((s) => s !== null && !s.dead).length;
  }

  /** The Node Worker objects (for tests: to terminate one behind the pool's back). */
  workerObjects(): NodeWorker[] {
    return this.slots.filter((s): s is Slot => s !== null && !s.dead).map((s) => s.worker);
  }

  private spawn(tid: number): Slot {
    const wt = workerThreads();
    if (wt === null) throw new Error('GemmPool: node:worker_threads is not reachable');
    const worker = new wt.Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        module: this.kernels.module,
        memory: this.kernels.memory,
        tid,
        controlAt: CONTROL_AT,
        controlWords: CONTROL_WORDS,
        jobAt: JOB_AT,
      },
    });
    worker.unref();
    let resolveReady: () => void = () => {};
    const slot: Slot = {
      worker,
      ready: new Promise<void>((resolve) => {
        resolveReady = resolve;
      }),
      dead: false,
      error: null,
    };
    worker.once('message', () => resolveReady());
    // Without an 'error' listener an uncaught exception in the worker would crash the process.
    worker.on('error', (e: unknown) => {
      slot.error = e instanceof Error ? e.message : String(e);
    });
    worker.once('exit', () => {
      slot.dead = true;
      resolveReady();
      if (this.slots[tid - 1] === slot) this.slots[tid - 1] = null;
    });
    return slot;
  }

  /** Starts workers 1..count that are not running (they boot asynchronously). */
  private ensure(count: number): void {
    for (let t = 1; t <= count; t++) {
      const s = this.slots[t - 1];
      if (s === undefined || s === null || s.dead) this.slots[t - 1] = this.spawn(t);
    }
  }

  /** Starts `count` workers and resolves once all of them are ready to take chunks. */
  async start(count: number): Promise<void> {
    this.trim(count);
    this.ensure(count);
    await Promise.all(this.slots.slice(0, count).map((s) => s?.ready));
  }

  /** Stops workers beyond the first `count`. */
  trim(count: number): void {
    for (let t = this.slots.length; t > count; t--) {
      const s = this.slots[t - 1];
      if (s) void s.worker.terminate();
      this.slots.pop();
    }
  }

  /** Stops every worker and forgets the pool. */
  close(): void {
    this.trim(0);
    pools.delete(this);
  }

  /**
   * For tests: makes worker `tid` (1-based) fail in its next chunk, by exiting (`exit`) or by an uncaught
   * exception (`throw`).
   */
  injectFault(tid: number, mode: 'exit' | 'throw'): void {
    Atomics.store(this.ctl, FAULT_MODE, mode === 'exit' ? 1 : 2);
    Atomics.store(this.ctl, FAULT_TID, tid);
  }

  /** Chunks computed so far by thread 0 (this one), 1, ... 15 (for tests and benchmarks). */
  chunkCounts(): number[] {
    return Array.from(this.ctl.subarray(STATS, STATS + 16));
  }

  /**
   * Runs chunks 0..chunks-1 of the job in the job block (written with `kernels.jobWords()`) on `threads`
   * threads (this one included), thread t using the workspace at `workBase + t * workStride`, and returns
   * when all are done. `what` describes the job and `op` the caller for error messages. `meanwhile`, when
   * given, runs on this thread once the workers have been woken, before it claims chunks (work that
   * overlaps the job, such as allocating the result); what it throws is rethrown once every chunk is done.
   * @throws Error naming `op`, the worker and `what` when a chunk failed or a worker died (it is
   * replaced), or when no chunk finished for `stallMs`.
   */
  run(
    chunks: number,
    workBase: number,
    workStride: number,
    threads: number,
    what: string,
    op = 'wasm matmul',
    meanwhile?: () => void,
  ): void {
    if (chunks >= 1 << 20) throw new Error(`GemmPool: too many chunks (${chunks})`);
    this.trim(threads - 1);
    this.ensure(threads - 1);
    const ctl = this.ctl;
    const seq = (Atomics.load(ctl, SEQ) + 1) | 0;
    const tag = seq & 0xfff;
    Atomics.store(ctl, CHUNKS, chunks);
    Atomics.store(ctl, WORK_BASE, workBase);
    Atomics.store(ctl, WORK_STRIDE, workStride);
    Atomics.store(ctl, FINISHED, 0);
    Atomics.store(ctl, FAILED, 0);
    Atomics.store(ctl, FAIL_TID, 0);
    Atomics.store(ctl, FAIL_CODE, 0);
    Atomics.store(ctl, CLAIM, tag << 20);
    Atomics.store(ctl, SEQ, seq);
    Atomics.notify(ctl, SEQ);
    let mainError: unknown = null;
    if (meanwhile) {
      try {
        meanwhile();
      } catch (e) {
        mainError = e;
      }
    }
    // This thread works too (thread 0).
    for (;;) {
      const w = Atomics.load(ctl, CLAIM);
      const i = w & 0xfffff;
      if (i >= chunks) break;
      if (Atomics.compareExchange(ctl, CLAIM, w, w + 1) !== w) continue;
      try {
        this.kernels.runChunk(i, workBase);
        Atomics.add(ctl, STATS, 1);
      } catch (e) {
        mainError ??= e;
        Atomics.add(ctl, FAILED, 1);
      }
      Atomics.add(ctl, FINISHED, 1);
    }
    // Wait for the chunks that workers hold: poll briefly (they usually finish within microseconds of
    // this thread), then sleep.
    let seen = Atomics.load(ctl, FINISHED);
    let since = performance.now();
    const spinUntil = since + MAIN_SPIN_MS;
    while (seen < chunks && performance.now() < spinUntil) seen = Atomics.load(ctl, FINISHED);
    while (seen < chunks) {
      Atomics.wait(ctl, FINISHED, seen, 100);
      const now = Atomics.load(ctl, FINISHED);
      if (now !== seen) {
        seen = now;
        since = performance.now();
      } else if (performance.now() - since > this.stallMs) {
        // Nothing finished for too long: stop every worker (they are started again for the next product).
        this.trim(0);
        throw new Error(
          `${op}: worker threads stopped responding during ${what} (${chunks - seen} of ${chunks} chunks ` +
            `unfinished after ${this.stallMs} ms); the workers were restarted`,
        );
      }
    }
    if (mainError !== null) throw mainError;
    if (Atomics.load(ctl, FAILED) > 0) {
      const tid = Atomics.load(ctl, FAIL_TID);
      const code = Atomics.load(ctl, FAIL_CODE);
      const slot = this.slots[tid - 1];
      const detail = slot?.error ? `: ${slot.error}` : '';
      if (code === THREW) {
        throw new Error(`${op}: worker thread ${tid} failed during ${what}${detail}`);
      }
      // The worker died: replace it now (its thread is gone or going).
      if (slot) void slot.worker.terminate();
      this.slots[tid - 1] = null;
      this.ensure(threads - 1);
      throw new Error(
        `${op}: worker thread ${tid} died (exit code ${code}) during ${what}; ` +
          'it has been replaced, the call can be retried',
      );
    }
  }
}
