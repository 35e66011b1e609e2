/**
 * The compiled WebAssembly kernels (assembly/*.ts, embedded by scripts/build-wasm.ts) and the linear
 * memory they work in.
 *
 * The memory is created here and imported by the module (`env.memory`). Where the runtime has shared
 * WebAssembly memory (SharedArrayBuffer; in browsers only when cross-origin isolated), the kernels use the
 * build compiled for a shared memory, so worker threads (src/backends/wasm/pool.ts) can instantiate the
 * same module on the same memory; elsewhere the plain build with an ordinary memory. The memory starts at
 * 1 MiB and grows on demand to the largest working set seen so far (WebAssembly memory never shrinks);
 * bytes [CONTROL_AT, HEAP_BASE) hold the thread pool's control words and job block, and each call lays
 * its operands out from HEAP_BASE upwards, so nothing else is kept in it between calls.
 * @module
 */
import { decodeBase64 } from './base64.js';
import { wasmThreadsUnsupportedReason } from './detect.js';
import { KERNELS_THREADS_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels.generated.js';

/** The exports of the kernel module (signatures of assembly/index.ts; pointers are byte offsets). */
interface KernelExports {
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
  sgemmChunk(job: number, i: number, work: number): void;
}

const PAGE = 65536;
/** Maximum size of a shared memory in pages (4 GiB; it must be declared up front, the module's too). */
export const SHARED_MAX_PAGES = 65536;
/** Byte address of the thread pool's control words (address 0, which would hide null-pointer mistakes, stays unused). */
export const CONTROL_AT = 64;
/** Byte address of the job block that `sgemmChunk` reads (JOB_WORDS i32 words). */
export const JOB_AT = 192;
/** Words of the job block. */
export const JOB_WORDS = 18;
/** First byte handed out to operands. */
export const HEAP_BASE = 320;

const compiled: { plain?: WebAssembly.Module; threads?: WebAssembly.Module } = {};

/** The compiled kernel module of one build (compiled once per process, synchronously). */
export function kernelModule(threads: boolean): WebAssembly.Module {
  const key = threads ? 'threads' : 'plain';
  let mod = compiled[key];
  if (!mod) {
    mod = new WebAssembly.Module(decodeBase64(threads ? KERNELS_THREADS_WASM_BASE64 : KERNELS_WASM_BASE64));
    compiled[key] = mod;
  }
  return mod;
}

/** Options of {@link WasmKernels}. */
export interface WasmKernelsOptions {
  /**
   * Use the shared-memory build (needed by worker threads). Default: when the runtime supports it.
   * `true` where it is unsupported throws.
   */
  shared?: boolean;
}

/** One instance of the kernels with its own linear memory. */
export class WasmKernels {
  /** The module's linear memory (grown by `reserve`). */
  readonly memory: WebAssembly.Memory;
  /** Whether `memory` is shared (the threads build), so worker threads can run on it. */
  readonly shared: boolean;
  /** The compiled module these kernels instantiate (for worker threads to instantiate it too). */
  readonly module: WebAssembly.Module;
  private readonly exports: KernelExports;
  private f32: Float32Array;

  /**
   * Compiles (once) and instantiates the kernels.
   * @throws when the engine cannot compile or instantiate them (no SIMD, a browser's limit on synchronous
   * compilation on the main thread, a content security policy without `wasm-unsafe-eval`).
   */
  constructor(options: WasmKernelsOptions = {}) {
    this.shared = options.shared ?? wasmThreadsUnsupportedReason() === null;
    this.memory = this.shared
      ? new WebAssembly.Memory({ initial: 16, maximum: SHARED_MAX_PAGES, shared: true })
      : new WebAssembly.Memory({ initial: 16 });
    this.module = kernelModule(this.shared);
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
   * @throws RangeError when the engine refuses to grow the memory that far.
   */
  reserve(bytes: number): Float32Array {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      this.memory.grow(Math.ceil((bytes - have) / PAGE));
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

  /** Runs chunk `i` of the job block at JOB_AT (see assembly/parallel.ts) with the workspace at `work`. */
  sgemmChunk(i: number, work: number): void {
    this.exports.sgemmChunk(JOB_AT, i, work);
  }
}
