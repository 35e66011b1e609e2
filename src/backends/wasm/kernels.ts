/**
 * The compiled WebAssembly kernels (assembly/*.ts, embedded by scripts/build-wasm.ts) and the linear
 * memory they work in.
 *
 * The memory is created here and imported by the module (`env.memory`), so later steps can hand the same
 * memory (shared) to worker threads. It starts at 1 MiB and grows on demand to the largest working set
 * seen so far (WebAssembly memory never shrinks); each call lays its operands out from byte 64 upwards,
 * so nothing is kept in it between calls.
 * @module
 */
import { decodeBase64 } from './base64.js';
import { KERNELS_WASM_BASE64 } from './kernels.generated.js';

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
}

const PAGE = 65536;
/** First byte handed out (keeps address 0, which would hide null-pointer mistakes, unused). */
export const HEAP_BASE = 64;

let compiled: WebAssembly.Module | null = null;

/** The compiled kernel module (compiled once per process, synchronously). */
function kernelModule(): WebAssembly.Module {
  if (!compiled) compiled = new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64));
  return compiled;
}

/** One instance of the kernels with its own linear memory. */
export class WasmKernels {
  /** The module's linear memory (grown by `reserve`). */
  readonly memory: WebAssembly.Memory;
  private readonly exports: KernelExports;
  private f32: Float32Array;

  /**
   * Compiles (once) and instantiates the kernels.
   * @throws when the engine cannot compile or instantiate them (no SIMD, a browser's limit on synchronous
   * compilation on the main thread, a content security policy without `wasm-unsafe-eval`).
   */
  constructor() {
    this.memory = new WebAssembly.Memory({ initial: 16 });
    const instance = new WebAssembly.Instance(kernelModule(), { env: { memory: this.memory } });
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
}
