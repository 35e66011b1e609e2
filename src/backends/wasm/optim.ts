/**
 * The float32 update loops of the optimizers (`SGD`, `Adam`, `AdamW`) in WebAssembly (assembly/optim.ts),
 * for parameters of the `wasm` backend. The kernels compute exactly what the TypeScript loops of
 * src/optim compute (bit-identical float32 results), about twice as fast.
 *
 * The kernels run in an instance of their own with a private linear memory of 1 MiB (not the backend's,
 * so the matmul layouts and worker threads never see it): the arrays are copied in a chunk of
 * {@link OPTIM_CHUNK} elements at a time (a memcpy each, while the chunk stays in the L2 cache), updated
 * there, and the written ones copied back. Each function returns false, having touched nothing, where
 * the kernels cannot be loaded (no WebAssembly SIMD, or no build that the engine compiles), and the
 * caller runs its TypeScript loop instead.
 * @module
 */
import { wasmUnsupportedReason } from './detect.js';
import {
  compiledKernelBuilds,
  HEAP_BASE,
  type KernelExports,
  relaxedByDefault,
  WasmKernels,
} from './kernels.js';

/** Elements of each array per chunk copied into linear memory (4 arrays x 32 KiB). */
export const OPTIM_CHUNK = 8192;

/**
 * Smallest parameter (in elements) that the optimizers update through these kernels; smaller ones stay
 * in TypeScript, where the copies and the call would cost more than they save.
 */
export const OPTIM_WASM_MIN = 512;

/** Bytes between the chunks of consecutive arrays in linear memory. */
const SLOT = OPTIM_CHUNK * 4;

/** The loaded kernels: their exports and a float32 view of their memory. */
interface Loaded {
  readonly x: Pick<KernelExports, 'sgdStep' | 'sgdMomentumStep' | 'adamStep'>;
  readonly heap: Float32Array;
  /** `heap`'s full chunk of slot i (reused to copy a whole chunk back without a new view). */
  readonly slots: Float32Array[];
}

/** The kernels once loaded; null where they cannot be; undefined before the first try. */
let loaded: Loaded | null | undefined;

/** Instantiates the build (`shared` memory or not, `relaxed` SIMD or not) on a memory of its own. */
function instantiate(shared: boolean, relaxed: boolean): Loaded | null {
  const own = new WasmKernels({ shared, relaxed, maxBytes: slotAt(4) });
  const x = own.kernelExports;
  if (typeof x.adamStep !== 'function') return null;
  const heap = own.reserve(slotAt(4)); // within the first MiB: the memory never grows
  const slots = [0, 1, 2, 3].map((i) => heap.subarray(slotAt(i) >> 2, (slotAt(i) >> 2) + OPTIM_CHUNK));
  return { x, heap, slots };
}

/**
 * The kernels on a memory of their own, or null where they cannot be loaded. An ordinary memory where
 * possible (copies into a shared memory run about three times slower), so a build without threads,
 * compiled here if the backend uses the threads build (about 20 KB of wasm, ~2 ms); where the engine
 * refuses to compile synchronously (a browser's main thread), a build the backend already compiled.
 */
function load(): Loaded | null {
  if (wasmUnsupportedReason() !== null) return null;
  const builds = (relaxedByDefault() ? [true, false] : [false]).map((relaxed) => ({
    shared: false,
    relaxed,
  }));
  builds.push(...compiledKernelBuilds());
  for (const { shared, relaxed } of builds) {
    try {
      return instantiate(shared, relaxed);
    } catch {
      // the next build, or the TypeScript loops
    }
  }
  return null;
}

/** Byte address of slot i (8-byte aligned). */
function slotAt(i: number): number {
  return HEAP_BASE + i * SLOT;
}

/** The kernels, loaded on first use; null where they cannot be. */
function kernels(): Loaded | null {
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** True where the kernels load (WebAssembly SIMD available), so the functions below do the update. */
export function optimKernelsAvailable(): boolean {
  return kernels() !== null;
}

/**
 * Runs `kernel(c)` over `arrays` (at most 4) a chunk of at most OPTIM_CHUNK elements at a time: array i
 * is copied to slot i, and those of the first `written` arrays copied back after. Returns false, doing
 * nothing, unless the arrays all have the same length.
 */
function chunked(
  k: Loaded,
  arrays: readonly Float32Array[],
  written: number,
  kernel: (count: number) => void,
): boolean {
  const n = arrays[0]!.length;
  for (const a of arrays) if (a.length !== n) return false;
  const { heap, slots } = k;
  for (let o = 0; o < n; o += OPTIM_CHUNK) {
    const c = Math.min(OPTIM_CHUNK, n - o);
    const whole = o === 0 && c === n;
    for (let i = 0; i < arrays.length; i++) {
      const a = arrays[i]!;
      heap.set(whole ? a : a.subarray(o, o + c), slotAt(i) >> 2);
    }
    kernel(c);
    for (let i = 0; i < written; i++) {
      const at = slotAt(i) >> 2;
      arrays[i]!.set(c === OPTIM_CHUNK ? slots[i]! : heap.subarray(at, at + c), o);
    }
  }
  return true;
}

/**
 * Plain SGD on float32 arrays of one length: `p -= slr·g` without weight decay (`wd` 0; slr = ±lr), else
 * `p -= lr·(sign·g + wd·p)`. Returns false (nothing done) where the kernels are unavailable or the
 * lengths differ.
 */
export function wasmSgdStep(p: Float32Array, g: Float32Array, sign: number, wd: number, lr: number): boolean {
  const k = kernels();
  if (!k) return false;
  const slr = sign * lr;
  const l2 = wd === 0 ? 0 : 1;
  return chunked(k, [p, g], 1, (c) => k.x.sgdStep(slotAt(0), slotAt(1), c, slr, sign, wd, lr, l2));
}

/** The scalars of {@link wasmSgdMomentumStep} (the momentum loop's). */
export interface SgdMomentumScalars {
  /** -1 to maximise, else 1. */
  sign: number;
  /** L2 weight decay added to the gradient. */
  wd: number;
  /** Learning rate. */
  lr: number;
  /** Momentum factor. */
  momentum: number;
  /** 1 - dampening. */
  keep: number;
  /** Nesterov momentum. */
  nesterov: boolean;
  /** The first step: the buffer starts as the gradient. */
  first: boolean;
}

/**
 * SGD with momentum on float32 arrays of one length (parameter p, gradient g, buffer b):
 * `d = sign·g + wd·p; b = first ? d : momentum·b + keep·d; p -= lr·(nesterov ? d + momentum·b : b)`.
 * Returns false (nothing done) where the kernels are unavailable or the lengths differ.
 */
export function wasmSgdMomentumStep(
  p: Float32Array,
  g: Float32Array,
  b: Float32Array,
  s: SgdMomentumScalars,
): boolean {
  const k = kernels();
  if (!k) return false;
  const flags = (s.wd === 0 ? 0 : 1) | (s.nesterov ? 2 : 0) | (s.first ? 4 : 0);
  // slots: p, b (written back), g
  return chunked(k, [p, b, g], 2, (c) =>
    k.x.sgdMomentumStep(slotAt(0), slotAt(2), slotAt(1), c, s.sign, s.wd, s.lr, s.momentum, s.keep, flags),
  );
}

/** The scalars of {@link wasmAdamStep} (the Adam loop's). */
export interface AdamScalars {
  /** -1 to maximise, else 1. */
  sign: number;
  /** L2 weight decay added to the gradient (0 for AdamW). */
  wd: number;
  /** Factor applied to p before the update (1 - lr·wd for AdamW, else 1). */
  decay: number;
  /** Decay rate of the first moment. */
  beta1: number;
  /** Decay rate of the second moment. */
  beta2: number;
  /** 1 - beta1. */
  c1: number;
  /** 1 - beta2. */
  c2: number;
  /** sqrt(1 - beta2^t). */
  bc2sqrt: number;
  /** Added to the denominator. */
  eps: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
}

/**
 * Adam/AdamW (no AMSGrad) on float32 arrays of one length: `gi = sign·g + wd·p`; `m = β1·m + c1·gi`,
 * `v = β2·v + c2·gi²` (stored as float32); `p = p·decay - stepSize·m / (sqrt(v)/bc2sqrt + eps)`.
 * Returns false (nothing done) where the kernels are unavailable or the lengths differ.
 */
export function wasmAdamStep(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  s: AdamScalars,
): boolean {
  const k = kernels();
  if (!k) return false;
  const l2 = s.wd === 0 ? 0 : 1;
  // slots: p, m, v (written back), g
  return chunked(k, [p, m, v, g], 3, (c) =>
    k.x.adamStep(
      slotAt(0),
      slotAt(3),
      slotAt(1),
      slotAt(2),
      c,
      s.sign,
      s.wd,
      s.decay,
      s.beta1,
      s.beta2,
      s.c1,
      s.c2,
      s.bc2sqrt,
      s.eps,
      s.stepSize,
      l2,
    ),
  );
}
