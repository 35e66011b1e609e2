/**
 * ReLU (forward and backward) and 2x2 max pooling with stride 2 (forward and backward) on float32 data
 * in WebAssembly SIMD (assembly/elementwise.ts), for large tensors: chunk by chunk (see
 * `elementwiseLimits`), the operands are copied into the kernels' linear memory (a memcpy each), the
 * kernel runs on this thread, and the results are copied out into fresh arrays allocated without a zero
 * fill (allocArrayUninit). With the copies that is 3-4x faster than the TypeScript loops on the
 * activations of a convolutional network (the kernels themselves take a fifth of the time; splitting
 * them over the worker threads would save little), and the results are the same, bit for bit (NaN
 * payloads aside). Each function returns null where it does not apply (another dtype, a small tensor,
 * another window, an index outside its window, or no linear memory to spare), and the backend then runs
 * the CPU kernel.
 * @module
 */
import { allocArrayUninit } from '../../core/dtype.js';
import { OutOfMemoryError } from '../../core/errors.js';
import { numelOf } from '../../core/shape.js';
import type { Backend, Pool2dWindow, Storage, View } from '../backend.js';
import { contiguousData } from '../cpu/elementwise.js';
import { arr, CpuStorage } from '../cpu/storage.js';
import { HEAP_BASE, type WasmKernels } from './kernels.js';

/**
 * Limits of these kernels (mutable for tests): `minElements`, fewest elements (of the input, or of the
 * gradient for the backward passes) for which they run in wasm: below it the copies and the call cost
 * about what the TypeScript loop does, and leaving the linear memory alone keeps what matmulFixedRight
 * placed there valid; `chunkBytes`, most bytes of operands and results in linear memory at once: larger
 * tensors go through in chunks (of elements, or of whole planes for pooling), which bounds the memory and
 * keeps each chunk in cache between its copy in, the kernel and its copy out.
 */
export const elementwiseLimits = { minElements: 1 << 15, chunkBytes: 1 << 20 };

function align16(x: number): number {
  return Math.ceil(x / 16) * 16;
}

function numel(v: View): number {
  return numelOf(v.shape);
}

/** Grows the memory for `bytes` from HEAP_BASE; null when it cannot (the caller falls back to the CPU). */
function reserve(kernels: WasmKernels, bytes: number): Float32Array | null {
  try {
    return kernels.reserve(bytes);
  } catch (e) {
    if (e instanceof OutOfMemoryError) return null;
    throw e;
  }
}

/** Elements per chunk of an elementwise kernel with `operands` float operands in linear memory (a multiple of 4). */
function chunkOf(operands: number): number {
  return Math.max(4, Math.floor(elementwiseLimits.chunkBytes / (16 * operands)) * 4);
}

/** max(x, 0) of a float32 view as a fresh contiguous array (see reluFloat32 in the CPU backend), or null. */
export function wasmRelu(kernels: WasmKernels, x: View): Float32Array | null {
  const n = numel(x);
  if (!(arr(x) instanceof Float32Array) || n < elementwiseLimits.minElements) return null;
  const step = Math.min(n, chunkOf(1));
  const at = HEAP_BASE;
  const heap = reserve(kernels, at + 4 * step);
  if (heap === null) return null;
  const src = contiguousData(x) as Float32Array;
  const out = allocArrayUninit('float32', n) as Float32Array;
  const a = at >> 2;
  for (let s = 0; s < n; s += step) {
    const e = Math.min(n, s + step);
    heap.set(src.subarray(s, e), a);
    kernels.kernelExports.reluF32(at, e - s);
    out.set(heap.subarray(a, a + e - s), s);
  }
  return out;
}

/** ReLU backward: `grad` where `out` > 0, else 0 (float32 views of one shape), or null. */
export function wasmReluBackward(kernels: WasmKernels, grad: View, out: View): Float32Array | null {
  const n = numel(grad);
  if (!(arr(grad) instanceof Float32Array) || !(arr(out) instanceof Float32Array)) return null;
  if (n < elementwiseLimits.minElements) return null;
  const step = Math.min(n, chunkOf(2));
  const gAt = HEAP_BASE;
  const yAt = align16(gAt + 4 * step);
  const heap = reserve(kernels, yAt + 4 * step);
  if (heap === null) return null;
  const G = contiguousData(grad) as Float32Array;
  const Y = contiguousData(out) as Float32Array;
  const result = allocArrayUninit('float32', n) as Float32Array;
  const g = gAt >> 2;
  for (let s = 0; s < n; s += step) {
    const e = Math.min(n, s + step);
    heap.set(G.subarray(s, e), g);
    heap.set(Y.subarray(s, e), yAt >> 2);
    kernels.kernelExports.reluBackwardF32(gAt, yAt, e - s);
    result.set(heap.subarray(g, g + e - s), s);
  }
  return result;
}

/** Whether `w` is a 2x2 window with stride 2 (no padding or dilation) whose windows all lie inside the input. */
export function is2x2(w: Pool2dWindow): boolean {
  return (
    !w.adaptive &&
    w.kh === 2 &&
    w.kw === 2 &&
    w.sh === 2 &&
    w.sw === 2 &&
    w.ph === 0 &&
    w.pw === 0 &&
    w.dh === 1 &&
    w.dw === 1 &&
    2 * w.outH <= w.inH &&
    2 * w.outW <= w.inW
  );
}

/** Planes per chunk of a pooling kernel whose planes take `floats` floats of linear memory each (at least 1). */
function planesOf(floats: number, planes: number): number {
  return Math.max(1, Math.min(planes, Math.floor(elementwiseLimits.chunkBytes / (4 * floats))));
}

/** 2x2 max pooling with stride 2 of a float32 [N, C, H, W] view: values and flat in-plane indices, or null. */
export function wasmMaxPool2x2(
  kernels: WasmKernels,
  x: View,
  w: Pool2dWindow,
): { values: Float32Array; indices: Int32Array } | null {
  const n = numel(x);
  if (!is2x2(w) || !(arr(x) instanceof Float32Array) || n < elementwiseLimits.minElements) return null;
  const planes = x.shape[0]! * x.shape[1]!;
  const HW = w.inH * w.inW;
  const ohw = w.outH * w.outW;
  const step = planesOf(HW + 2 * ohw, planes);
  const xAt = HEAP_BASE;
  const vAt = align16(xAt + 4 * step * HW);
  const iAt = align16(vAt + 4 * step * ohw);
  const heap = reserve(kernels, iAt + 4 * step * ohw);
  if (heap === null) return null;
  const ints = new Int32Array(heap.buffer);
  const X = contiguousData(x) as Float32Array;
  const m = planes * ohw;
  const values = allocArrayUninit('float32', m) as Float32Array;
  const indices = allocArrayUninit('int32', m) as Int32Array;
  for (let p = 0; p < planes; p += step) {
    const q = Math.min(planes, p + step);
    heap.set(X.subarray(p * HW, q * HW), xAt >> 2);
    kernels.kernelExports.maxPool2x2F32(xAt, vAt, iAt, q - p, w.inH, w.inW, w.outH, w.outW);
    values.set(heap.subarray(vAt >> 2, (vAt >> 2) + (q - p) * ohw), p * ohw);
    indices.set(ints.subarray(iAt >> 2, (iAt >> 2) + (q - p) * ohw), p * ohw);
  }
  return { values, indices };
}

/**
 * Backward of 2x2 max pooling with stride 2: grad (float32) and indices (int32), both [N, C, outH, outW],
 * to the [N, C, inH, inW] input gradient, or null (also when some index lies outside its window).
 */
export function wasmMaxPool2x2Backward(
  kernels: WasmKernels,
  grad: View,
  indices: View,
  w: Pool2dWindow,
): Float32Array | null {
  const m = numel(grad);
  if (!is2x2(w) || !(arr(grad) instanceof Float32Array) || !(arr(indices) instanceof Int32Array)) return null;
  if (m < elementwiseLimits.minElements / 4) return null;
  const planes = grad.shape[0]! * grad.shape[1]!;
  const HW = w.inH * w.inW;
  const ohw = w.outH * w.outW;
  const step = planesOf(HW + 2 * ohw, planes);
  const gAt = HEAP_BASE;
  const iAt = align16(gAt + 4 * step * ohw);
  const oAt = align16(iAt + 4 * step * ohw);
  const heap = reserve(kernels, oAt + 4 * step * HW);
  if (heap === null) return null;
  const ints = new Int32Array(heap.buffer);
  const G = contiguousData(grad) as Float32Array;
  const I = contiguousData(indices) as Int32Array;
  const out = allocArrayUninit('float32', planes * HW) as Float32Array;
  for (let p = 0; p < planes; p += step) {
    const q = Math.min(planes, p + step);
    heap.set(G.subarray(p * ohw, q * ohw), gAt >> 2);
    ints.set(I.subarray(p * ohw, q * ohw), iAt >> 2);
    const inside = kernels.kernelExports.maxPool2x2BackwardF32(
      gAt,
      iAt,
      oAt,
      q - p,
      w.inH,
      w.inW,
      w.outH,
      w.outW,
    );
    if (inside !== 1) return null;
    out.set(heap.subarray(oAt >> 2, (oAt >> 2) + (q - p) * HW), p * HW);
  }
  return out;
}

/**
 * The kernels of the `wasm` backend that run here where they apply and otherwise delegate to `cpu`
 * (whose results are re-homed by `adopt`); `backend()` is the backend their storages belong to.
 */
export function wasmElementwiseKernels(
  kernels: WasmKernels,
  cpu: Backend,
  backend: () => Backend,
  adopt: (result: unknown) => unknown,
): Pick<Backend, 'unary' | 'reluBackward' | 'maxPool2d' | 'maxPool2dBackward'> {
  const wrap = (data: Float32Array | Int32Array): Storage =>
    new CpuStorage(backend(), data instanceof Int32Array ? 'int32' : 'float32', data);
  return {
    unary(op, x, out) {
      const r = op === 'relu' && out === 'float32' ? wasmRelu(kernels, x) : null;
      return r !== null ? wrap(r) : (adopt(cpu.unary(op, x, out)) as Storage);
    },
    reluBackward(grad, out) {
      const r = wasmReluBackward(kernels, grad, out);
      return r !== null ? wrap(r) : (adopt(cpu.reluBackward(grad, out)) as Storage);
    },
    maxPool2d(x, w) {
      const r = wasmMaxPool2x2(kernels, x, w);
      if (r !== null) return { values: wrap(r.values), indices: wrap(r.indices) };
      return adopt(cpu.maxPool2d(x, w)) as { values: Storage; indices: Storage };
    },
    maxPool2dBackward(grad, indices, w) {
      const r = wasmMaxPool2x2Backward(kernels, grad, indices, w);
      return r !== null ? wrap(r) : (adopt(cpu.maxPool2dBackward(grad, indices, w)) as Storage);
    },
  };
}
