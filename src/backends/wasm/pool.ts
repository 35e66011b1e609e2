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
 * FINISHED, which the main thread waits on. Once every chunk is done the main thread closes CLAIM (chunk
 * index CLOSED under the same tag), so that a thread still holding that job's SEQ cannot claim anything
 * while the main thread writes the next job (it would otherwise see the new CHUNKS under the old tag).
 *
 * Hand-off: a worker that runs out of chunks polls SEQ for `spinMs` (0.2 ms) before it sleeps in
 * `Atomics.wait`, so the products of a training step, a fraction of a millisecond apart, start without a
 * futex wake-up. On busy cores (other processes) a polling worker that finds it was descheduled sleeps at
 * once.
 *
 * Faults: a chunk that throws in a worker is counted as failed; a worker that exits in the middle of a
 * chunk (process.exit, an uncaught error) reports that chunk as failed from its `exit` handler. The op
 * then throws an Error naming the worker and the product, and a dead worker is replaced (spawned again
 * before the next threaded product). A watchdog throws instead of waiting for ever when no chunk finishes
 * for `stallMs`. A worker that is not running yet (they boot asynchronously, in about 50-100 ms) simply
 * claims nothing: the main thread does the work meanwhile.
 *
 * The main entry must not import Node built-ins, so `node:worker_threads` and `node:os` are reached only
 * through `process.getBuiltinModule` (Node >= 20.16), at run time, when it exists. In browsers the workers
 * are Web Workers started from a blob: URL and sent the module and the memory in a message; that needs a
 * cross-origin isolated page (COOP/COEP headers, for SharedArrayBuffer), and elsewhere products run on one
 * thread. A browser's main thread may not block in `Atomics.wait`, so there it polls for the workers'
 * last chunks instead; a Web Worker that dies cannot say so, so the stall watchdog covers it.
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
/**
 * Milliseconds a worker polls for the next job before it sleeps in Atomics.wait (default of
 * GemmPoolOptions.spinMs): longer than the gaps between the products of a small training step (about
 * 0.1 ms between the two large products of the MLP step, whose other kernels and optimizer step run in
 * between), and short, because on busy cores a polling worker takes CPU time from the main thread
 * (measured on the 2-core dev machine under load 5-7, MLP training steps: 0.2 ms did better than 0.3 ms,
 * and 1 ms made them slower on average than 0.2 ms).
 */
const WORKER_SPIN_MS = 0.2;
/** A gap in milliseconds between two polls of a spinning worker that shows it was descheduled. */
const PREEMPTED_MS = 0.05;
/** Milliseconds the main thread polls for the workers' last chunks before it sleeps in Atomics.wait. */
const MAIN_SPIN_MS = 2;

/** FAIL_CODE of a chunk that threw (as opposed to the exit code of a worker that died). */
const THREW = -1000;
/** Chunk index of a closed CLAIM word: no chunk can be claimed (see the protocol above). */
const CLOSED = 0xfffff;

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

/**
 * The loop every worker runs, as the body of `work(init, ready, exit)`: `init` holds the module, the
 * memory and the worker's parameters, `ready()` tells the main thread it is running, `exit(code)` ends the
 * worker abruptly (fault injection for tests). `current` (declared by the host code) is the chunk being
 * computed, -1 between chunks.
 */
const WORKER_LOOP = `
const { module, memory, tid, controlAt, controlWords, jobAt, spinMs } = init;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
ctl = new Int32Array(memory.buffer, controlAt, controlWords);
ready();
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
      if (mode === 1) exit(7);
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
  // tens of microseconds a futex wake-up costs. A gap between two polls means this thread was
  // descheduled: the cores are busy with other work, where a spinning worker only delays its own next
  // chunk (it has used up its share), so it sleeps at once.
  let last = performance.now();
  const until = last + spinMs;
  while (Atomics.load(ctl, ${SEQ}) === seq) {
    const now = performance.now();
    if (now >= until || now - last > ${PREEMPTED_MS}) break;
    last = now;
  }
  Atomics.wait(ctl, ${SEQ}, seq);
}
`;

/** Reports the failure of the current chunk (`code`: THREW, or an exit code) and wakes the main thread. */
const WORKER_FAIL = `
let ctl = null;
let current = -1;
const fail = (code) => {
  Atomics.compareExchange(ctl, ${FAIL_TID}, 0, init.tid);
  Atomics.compareExchange(ctl, ${FAIL_CODE}, 0, code);
  Atomics.add(ctl, ${FAILED}, 1);
  Atomics.add(ctl, ${FINISHED}, 1);
  Atomics.notify(ctl, ${FINISHED});
};
`;

/**
 * The code of a Node worker (CommonJS, evaluated by `new Worker(code, { eval: true })`). A worker that
 * exits in the middle of a chunk reports it from its `exit` handler.
 */
const NODE_WORKER_SOURCE = `'use strict';
const { workerData: init, parentPort } = process.getBuiltinModule('node:worker_threads');
${WORKER_FAIL}
process.on('exit', (code) => {
  if (current >= 0) {
    current = -1;
    fail(code === 0 ? 1 : code);
  }
});
const ready = () => parentPort.postMessage('ready');
const exit = (code) => process.exit(code);
${WORKER_LOOP}`;

/**
 * The code of a Web Worker (a classic script from a blob: URL), started by a message with the same `init`
 * as a Node worker's workerData. A Web Worker cannot exit in the middle of its loop, so an injected exit
 * reports the chunk as failed by the exit code itself and then leaves the loop for good, as does an
 * uncaught exception (reported with code 1, like a Node worker's exit); the pool then replaces the worker.
 */
const WEB_WORKER_SOURCE = `'use strict';
self.onmessage = (event) => {
  self.onmessage = null;
  const init = event.data;
  ${WORKER_FAIL}
  const ready = () => self.postMessage('ready');
  const exit = (code) => {
    current = -1;
    fail(code);
    throw new Error('worker exit ' + code);
  };
  try {
    ${WORKER_LOOP}
  } catch (e) {
    // the loop is over (as a Node worker's thread would be): report the chunk it held, like a Node exit
    if (current >= 0) {
      current = -1;
      fail(1);
    }
    throw e;
  }
};
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

/** The Web Worker API of a browser (or of a worker inside one), or null. */
interface WebWorkerApi {
  Worker: new (url: string, options?: { name?: string }) => WebWorkerLike;
  createObjectURL: (blob: Blob) => string;
}

/** The parts of a Web Worker used here. */
interface WebWorkerLike {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((event: unknown) => void) | null;
  onerror: ((event: { message?: string; preventDefault?: () => void }) => void) | null;
}

/** The Web Worker API outside Node, or null. */
function webWorkers(): WebWorkerApi | null {
  if (nodeProcess() !== undefined) return null;
  const g = globalThis as {
    Worker?: WebWorkerApi['Worker'];
    Blob?: unknown;
    URL?: { createObjectURL?: (blob: Blob) => string };
  };
  if (typeof g.Worker !== 'function' || typeof g.Blob !== 'function') return null;
  const create = g.URL?.createObjectURL;
  if (typeof create !== 'function') return null;
  return { Worker: g.Worker, createObjectURL: (blob) => create.call(g.URL, blob) };
}

/** Why this runtime cannot run the SGEMM worker pool, or null when it can. Never throws. */
export function threadPoolUnsupportedReason(): string | null {
  try {
    if (nodeProcess() !== undefined) {
      return workerThreads() === null ? 'node:worker_threads is not reachable (needs Node >= 20.16)' : null;
    }
    if (webWorkers() === null) return 'Web Workers (with Blob URLs) are not available here';
    if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
      return 'the page is not cross-origin isolated (COOP/COEP headers), so it cannot share memory with Web Workers';
    }
    return null;
  } catch (e) {
    return `worker threads are not available (${e instanceof Error ? e.message : String(e)})`;
  }
}

/**
 * Whether this thread may block in `Atomics.wait` (not on a browser's main thread, where only polling
 * is allowed). Checked once.
 */
let blockingAllowed: boolean | undefined;
function canBlock(): boolean {
  if (blockingAllowed === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockingAllowed = true;
    } catch {
      blockingAllowed = false;
    }
  }
  return blockingAllowed;
}

/** Cores available to this process (Node's `os.availableParallelism`), or 1 when unknown. */
function cores(): number {
  try {
    const os = nodeProcess()?.getBuiltinModule?.('node:os') as
      | { availableParallelism?: () => number; cpus?: () => unknown[] }
      | undefined;
    const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
    const n = os?.availableParallelism?.() ?? os?.cpus?.().length ?? nav?.hardwareConcurrency ?? 1;
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
 * Where worker threads are unavailable (see {@link threadPoolUnsupportedReason}: e.g. a browser page that is
 * not cross-origin isolated) products stay single-threaded whatever is set.
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
  /** A Node worker_threads Worker, or a Web Worker. */
  worker: NodeWorker | WebWorkerLike;
  /** Resolves once the worker has instantiated the kernels and entered its loop. */
  ready: Promise<void>;
  dead: boolean;
  /** The last `error` event (an uncaught exception in the worker), for error messages. */
  error: string | null;
}

/** A slot for a worker just started, and the function that resolves its `ready`. */
function newSlot(worker: Slot['worker']): [Slot, () => void] {
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  return [{ worker, ready, dead: false, error: null }, resolveReady];
}

/** Options of {@link GemmPool} (for tests). */
export interface GemmPoolOptions {
  /** Milliseconds without any finished chunk after which a product gives up (default 60 s). */
  stallMs?: number;
  /** Milliseconds an idle worker polls for the next job before it sleeps (default 0.2; for benchmarks). */
  spinMs?: number;
}

/** A worker pool bound to one set of kernels (one shared memory). */
export class GemmPool {
  private readonly ctl: Int32Array;
  private readonly slots: (Slot | null)[] = [];
  private readonly stallMs: number;
  private readonly spinMs: number;

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
    this.spinMs = options.spinMs ?? WORKER_SPIN_MS;
    pools.add(this);
  }

  /** Number of worker threads started (alive or booting). */
  get workers(): number {
    return this.slots.filter((s) => s !== null && !s.dead).length;
  }

  /** The Node Worker objects (for tests: to terminate one behind the pool's back); none in browsers. */
  workerObjects(): NodeWorker[] {
    return this.slots
      .filter((s): s is Slot => s !== null && !s.dead)
      .map((s) => s.worker)
      .filter((w): w is NodeWorker => 'threadId' in w);
  }

  /** What a worker needs to start: the module, the memory and its parameters (see WORKER_LOOP). */
  private initOf(tid: number): Record<string, unknown> {
    return {
      module: this.kernels.module,
      memory: this.kernels.memory,
      tid,
      controlAt: CONTROL_AT,
      controlWords: CONTROL_WORDS,
      jobAt: JOB_AT,
      spinMs: this.spinMs,
    };
  }

  /** The blob: URL of the Web Worker script (made once per pool). */
  private webWorkerUrl: string | null = null;

  /** Starts a Web Worker (browsers): it boots asynchronously and claims chunks once running. */
  private spawnWeb(tid: number, web: WebWorkerApi): Slot {
    this.webWorkerUrl ??= web.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new web.Worker(this.webWorkerUrl, { name: `neurite-wasm-${tid}` });
    const [slot, resolveReady] = newSlot(worker);
    worker.onmessage = () => resolveReady();
    worker.onerror = (e) => {
      slot.error = e.message ?? 'error in the worker';
      e.preventDefault?.();
    };
    worker.postMessage(this.initOf(tid));
    return slot;
  }

  private spawn(tid: number): Slot {
    const wt = workerThreads();
    if (wt === null) {
      const web = webWorkers();
      if (web !== null) return this.spawnWeb(tid, web);
      throw new Error('GemmPool: neither node:worker_threads nor Web Workers are reachable');
    }
    const worker = new wt.Worker(NODE_WORKER_SOURCE, { eval: true, workerData: this.initOf(tid) });
    worker.unref();
    const [slot, resolveReady] = newSlot(worker);
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
   * when all are done. `what` describes the job (or makes the description, called only for an error) and
   * `op` names the caller for error messages. `meanwhile`, when
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
    what: string | (() => string),
    op = 'wasm matmul',
    meanwhile?: () => void,
  ): void {
    const describe = (): string => (typeof what === 'string' ? what : what());
    if (chunks >= CLOSED) throw new Error(`GemmPool: too many chunks (${chunks})`);
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
    const block = canBlock();
    while (seen < chunks) {
      if (block) Atomics.wait(ctl, FINISHED, seen, 100);
      const now = Atomics.load(ctl, FINISHED);
      if (now !== seen) {
        seen = now;
        since = performance.now();
      } else if (performance.now() - since > this.stallMs) {
        // Nothing finished for too long: stop every worker (they are started again for the next product).
        Atomics.store(ctl, CLAIM, (tag << 20) | CLOSED);
        this.trim(0);
        throw new Error(
          `${op}: worker threads stopped responding during ${describe()} (${chunks - seen} of ${chunks} chunks ` +
            `unfinished after ${this.stallMs} ms); the workers were restarted`,
        );
      }
    }
    Atomics.store(ctl, CLAIM, (tag << 20) | CLOSED);
    if (mainError !== null) throw mainError;
    if (Atomics.load(ctl, FAILED) > 0) {
      const tid = Atomics.load(ctl, FAIL_TID);
      const code = Atomics.load(ctl, FAIL_CODE);
      const slot = this.slots[tid - 1];
      const detail = slot?.error ? `: ${slot.error}` : '';
      if (code === THREW) {
        throw new Error(`${op}: worker thread ${tid} failed during ${describe()}${detail}`);
      }
      // The worker died: replace it now (its thread is gone or going).
      if (slot) void slot.worker.terminate();
      this.slots[tid - 1] = null;
      this.ensure(threads - 1);
      throw new Error(
        `${op}: worker thread ${tid} died (exit code ${code}) during ${describe()}; ` +
          'it has been replaced, the call can be retried',
      );
    }
  }
}
