/**
 * The compiled WebAssembly kernels (assembly/*.ts, embedded by scripts/build-wasm.ts) and the linear
 * memory they work in.
 *
 * The memory is created here and imported by the module (`env.memory`). Where the runtime has shared
 * WebAssembly memory (SharedArrayBuffer; in browsers only when cross-origin isolated), the kernels use the
 * build compiled for a shared memory, so worker threads (src/backends/wasm/pool.ts) can instantiate the
 * same module on the same memory; elsewhere the plain build with an ordinary memory. Where the engine
 * validates relaxed SIMD, the kernels use the relaxed-SIMD variant of that build (fused multiply-add in the
 * SGEMM micro-kernel; Node 20 needs `--experimental-wasm-relaxed-simd`, see enableWasmRelaxedSimd in
 * detect.ts), unless `NEURITE_WASM_RELAXED=0` or the `relaxed` option says otherwise. The memory starts at
 * 1 MiB and grows on demand to the largest working set seen so far (WebAssembly memory never shrinks);
 * bytes [CONTROL_AT, HEAP_BASE) hold the thread pool's control words and job block, and each call lays
 * its operands out from HEAP_BASE upwards, so nothing else is kept in it between calls.
 * @module
 */
import { formatBytes, OutOfMemoryError } from '../../core/errors.js';
import { decodeBase64 } from './base64.js';
import { wasmRelaxedSimdSupported, wasmThreadsUnsupportedReason } from './detect.js';
import {
  KERNELS_RELAXED_THREADS_WASM_BASE64,
  KERNELS_RELAXED_WASM_BASE64,
  KERNELS_THREADS_WASM_BASE64,
  KERNELS_WASM_BASE64,
} from './kernels.generated.js';

/** The exports of the kernel module (signatures of assembly/index.ts; pointers are byte offsets). */
export interface KernelExports {
  sgemm(
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
    accumulate: number,
    work: number,
  ): void;
  sgemmWorkspace(m: number, n: number, k: number): number;
  runChunk(job: number, i: number, work: number): void;
  // assembly/optim.ts (src/backends/wasm/optim.ts): float32 arrays at byte addresses, n, then scalars
  sgdStep(p: number, g: number, n: number, ...scalars: number[]): void;
  sgdMomentumStep(p: number, g: number, b: number, n: number, ...scalars: number[]): void;
  adamStep(p: number, g: number, m: number, v: number, n: number, ...scalars: number[]): void;
  // assembly/lstm.ts (src/backends/wasm/lstm.ts)
  lstmForwardStep(
    B: number,
    H: number,
    z: number,
    bias: number,
    cPrev: number,
    c: number,
    tc: number,
    h: number,
  ): void;
  lstmBackwardStep(
    B: number,
    H: number,
    act: number,
    cPrev: number,
    tc: number,
    dh: number,
    dh2: number,
    dc: number,
    db: number,
  ): void;
  lstmMath(fn: number, src: number, bias: number, dst: number, n: number): void;
  // assembly/elementwise.ts (see src/backends/wasm/elementwise.ts)
  reluF32(x: number, n: number): void;
  reluBackwardF32(g: number, y: number, n: number): void;
  maxPool2x2F32(
    x: number,
    v: number,
    i: number,
    planes: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
  ): void;
  maxPool2x2BackwardF32(
    g: number,
    i: number,
    o: number,
    planes: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
  ): number;
  channelSumsF64(x: number, n: number, c: number, s: number, mean: number, sums: number): void;
  // assembly/batchnorm.ts (see src/backends/wasm/batchnorm.ts)
  bnStatsF32(x: number, n: number, c: number, s: number, mean: number, variance: number): void;
  bnForwardF32(x: number, out: number, n: number, c: number, s: number, params: number): void;
  bnBackwardSumsF32(
    g: number,
    x: number,
    n: number,
    c: number,
    s: number,
    mean: number,
    sg: number,
    sgx: number,
  ): void;
  bnBackwardDxF32(g: number, x: number, dx: number, n: number, c: number, s: number, params: number): void;
}

const PAGE = 65536;
/** Maximum size of a shared memory in pages (4 GiB; it must be declared up front, the module's too). */
export const SHARED_MAX_PAGES = 65536;
/**
 * Largest working set `reserve` hands out: 2 GiB, half the 4 GiB a 32-bit WebAssembly memory can reach,
 * because the TypeScript side computes addresses and float indices with 32-bit signed integer operations
 * (`>> 2`), which are wrong from 2 GiB on.
 */
export const MAX_MEMORY_BYTES = 32768 * PAGE;
/** Byte address of the thread pool's control words (address 0, which would hide null-pointer mistakes, stays unused). */
export const CONTROL_AT = 64;
/** Byte address of the job block that `runChunk` reads (JOB_WORDS i32 words). */
export const JOB_AT = 192;
/** Words of the job block. */
export const JOB_WORDS = 20;
/** First byte handed out to operands. */
export const HEAP_BASE = 320;

/**
 * The four builds of the kernels (scripts/build-wasm.ts): ordinary or shared memory, each with or without
 * relaxed SIMD.
 */
type BuildKey = 'plain' | 'threads' | 'relaxed' | 'relaxedThreads';

/** The base64 binary of each build. */
const BINARIES: Readonly<Record<BuildKey, string>> = {
  plain: KERNELS_WASM_BASE64,
  threads: KERNELS_THREADS_WASM_BASE64,
  relaxed: KERNELS_RELAXED_WASM_BASE64,
  relaxedThreads: KERNELS_RELAXED_THREADS_WASM_BASE64,
};

function buildKey(threads: boolean, relaxed: boolean): BuildKey {
  if (relaxed) return threads ? 'relaxedThreads' : 'relaxed';
  return threads ? 'threads' : 'plain';
}

const compiled: Partial<Record<BuildKey, WebAssembly.Module>> = {};

/**
 * The compiled kernel module of one build (compiled once per process, synchronously): `threads` for a
 * shared memory, `relaxed` for the relaxed-SIMD kernels (the engine must validate relaxed SIMD).
 */
export function kernelModule(threads: boolean, relaxed = false): WebAssembly.Module {
  const key = buildKey(threads, relaxed);
  let mod = compiled[key];
  if (!mod) {
    mod = new WebAssembly.Module(decodeBase64(BINARIES[key]));
    compiled[key] = mod;
  }
  return mod;
}

/**
 * The builds compiled so far in this process (each once), in the order compiled: whether each is the
 * shared-memory build and whether it is the relaxed-SIMD one. For reports such as the CLI's start-up line.
 */
export function compiledKernelBuilds(): { shared: boolean; relaxed: boolean }[] {
  return (Object.keys(compiled) as BuildKey[]).map((key) => ({
    shared: key === 'threads' || key === 'relaxedThreads',
    relaxed: key === 'relaxed' || key === 'relaxedThreads',
  }));
}

/**
 * Whether kernels created without a `relaxed` option use the relaxed-SIMD build: when the engine
 * validates relaxed SIMD (wasmRelaxedSimdSupported) and the environment variable `NEURITE_WASM_RELAXED`
 * is not `0` (read where `process.env` exists).
 */
export function relaxedByDefault(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.NEURITE_WASM_RELAXED === '0') return false;
  return wasmRelaxedSimdSupported();
}

/** The build that `options` select: shared memory or not, relaxed SIMD or not. */
function selectBuild(options: WasmKernelsOptions): { shared: boolean; relaxed: boolean } {
  return {
    shared: options.shared ?? wasmThreadsUnsupportedReason() === null,
    relaxed: options.relaxed ?? relaxedByDefault(),
  };
}

/**
 * Compiles, asynchronously, the kernel module that `new WasmKernels(options)` instantiates, so that
 * constructing it afterwards compiles nothing: for engines that refuse to compile synchronously (a
 * browser's main thread refusing modules over 4 KB). Rejects where the engine cannot compile it.
 */
export async function precompileKernels(options: WasmKernelsOptions = {}): Promise<void> {
  const { shared, relaxed } = selectBuild(options);
  const key = buildKey(shared, relaxed);
  if (compiled[key]) return;
  const mod = await WebAssembly.compile(decodeBase64(BINARIES[key]));
  compiled[key] ??= mod;
}

/** Options of {@link WasmKernels}. */
export interface WasmKernelsOptions {
  /**
   * Use the shared-memory build (needed by worker threads). Default: when the runtime supports it.
   * `true` where it is unsupported throws.
   */
  shared?: boolean;
  /**
   * Use the relaxed-SIMD build (fused multiply-add). Default: {@link relaxedByDefault} (when the engine
   * validates relaxed SIMD and `NEURITE_WASM_RELAXED` is not `0`). `true` where relaxed SIMD does not
   * validate throws; `false` forces the plain SIMD build (for comparisons).
   */
  relaxed?: boolean;
  /**
   * Largest size in bytes that `reserve` may grow the memory to (default and at most MAX_MEMORY_BYTES,
   * 2 GiB; the memory starts at 1 MiB whatever this says). For tests and embedders.
   */
  maxBytes?: number;
}

/** One instance of the kernels with its own linear memory. */
export class WasmKernels {
  /** The module's linear memory (grown by `reserve`). */
  readonly memory: WebAssembly.Memory;
  /** Whether `memory` is shared (the threads build), so worker threads can run on it. */
  readonly shared: boolean;
  /** Whether this is the relaxed-SIMD build (fused multiply-add in the SGEMM micro-kernel). */
  readonly relaxed: boolean;
  /** The compiled module these kernels instantiate (for worker threads to instantiate it too). */
  readonly module: WebAssembly.Module;
  /** Largest size in bytes that `reserve` grows the memory to (see WasmKernelsOptions.maxBytes). */
  readonly maxBytes: number;
  private readonly exports: KernelExports;
  private f32: Float32Array;
  /**
   * Count of `reserve` calls: each call lays out its operands from HEAP_BASE afresh, so whatever an
   * earlier call left in the memory is valid only while this count has not moved (see
   * `wasmMatmulFixedRight`).
   */
  layouts = 0;

  /**
   * Compiles (once) and instantiates the kernels.
   * @throws when the engine cannot compile or instantiate them (no SIMD, a browser's limit on synchronous
   * compilation on the main thread, a content security policy without `wasm-unsafe-eval`).
   */
  constructor(options: WasmKernelsOptions = {}) {
    const build = selectBuild(options);
    if (options.relaxed === true && !wasmRelaxedSimdSupported()) {
      throw new Error(
        'WasmKernels: relaxed SIMD is not supported here (Node 20: --experimental-wasm-relaxed-simd)',
      );
    }
    this.shared = build.shared;
    this.maxBytes = Math.min(options.maxBytes ?? MAX_MEMORY_BYTES, MAX_MEMORY_BYTES);
    this.memory = this.shared
      ? new WebAssembly.Memory({ initial: 16, maximum: SHARED_MAX_PAGES, shared: true })
      : new WebAssembly.Memory({ initial: 16 });
    let module: WebAssembly.Module;
    try {
      module = kernelModule(this.shared, build.relaxed);
    } catch (e) {
      // A relaxed build the probe accepted but the engine does not compile: the plain build, unless asked.
      if (!build.relaxed || options.relaxed === true) throw e;
      build.relaxed = false;
      module = kernelModule(this.shared, false);
    }
    this.relaxed = build.relaxed;
    this.module = module;
    const instance = new WebAssembly.Instance(this.module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as KernelExports;
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** Size of the linear memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Grows the memory to at least `bytes` bytes and returns a float32 view of all of it (views taken
   * before a growth are detached, so take a new one after every `reserve`).
   * @throws OutOfMemoryError (message `out of WebAssembly memory: needs <bytes> of linear memory (...)`)
   * when `bytes` is over `maxBytes` or the engine refuses to grow the memory that far.
   */
  reserve(bytes: number): Float32Array {
    this.layouts++;
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      const needs = `out of WebAssembly memory: needs ${formatBytes(bytes)} of linear memory`;
      if (bytes > this.maxBytes) {
        throw new OutOfMemoryError(`${needs} (limit ${formatBytes(this.maxBytes)})`, bytes);
      }
      try {
        this.memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        throw new OutOfMemoryError(
          `${needs} (the engine could not grow it past ${formatBytes(have)}: ${e.message}; limit ${formatBytes(this.maxBytes)})`,
          bytes,
        );
      }
      this.f32 = new Float32Array(this.memory.buffer);
    } else if (this.f32.buffer !== this.memory.buffer) {
      this.f32 = new Float32Array(this.memory.buffer);
    }
    return this.f32;
  }

  /** Bytes of scratch `sgemm` needs for an m x n x k product. */
  sgemmWorkspace(m: number, n: number, k: number): number {
    return this.exports.sgemmWorkspace(m, n, k);
  }

  /**
   * C = A * B (or C += A * B), float32, on data in the linear memory: A(i, p) at byte
   * `a + 4 * (i * aRs + p * aCs)`, B(p, j) at `b + 4 * (p * bRs + j * bCs)`, C(i, j) at
   * `c + 4 * (i * ldc + j)`; strides in elements, any sign. `work`: 16-byte aligned, at least
   * `sgemmWorkspace(m, n, k)` bytes, disjoint from A, B and C. The caller keeps every address in bounds.
   */
  sgemm(
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
    work: number,
  ): void {
    this.exports.sgemm(m, n, k, a, aRs, aCs, b, bRs, bCs, c, ldc, accumulate ? 1 : 0, work);
  }

  /** A view of the job block at JOB_AT (JOB_WORDS words; take a new one after the memory grows). */
  jobWords(): Int32Array {
    return new Int32Array(this.memory.buffer, JOB_AT, JOB_WORDS);
  }

  /**
   * Runs chunk `i` of the job in the job block at JOB_AT, of any kind (an SGEMM or a conv2d job, see
   * assembly/parallel.ts), with the workspace at `work`.
   */
  runChunk(i: number, work: number): void {
    this.exports.runChunk(JOB_AT, i, work);
  }

  /** The module's exports, for kernels without a wrapper here (assembly/lstm.ts, see src/backends/wasm/lstm.ts). */
  get kernelExports(): KernelExports {
    return this.exports;
  }
}
