/**
 * Products with one right operand kept in linear memory across calls (wasmMatmulFixedRight, the wasm
 * backend's matmulFixedRight, used by the LSTM layer's per-step products).
 */
import { describe, expect, it } from 'vitest';
import type { View } from '../../../src/backends/backend.js';
import { CpuStorage } from '../../../src/backends/cpu/storage.js';
import {
  createWasmBackend,
  WasmKernels,
  wasmMatmul,
  wasmMatmulFixedRight,
} from '../../../src/backends/wasm/index.js';

const backend = createWasmBackend();

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** A [1, r, c] view of fresh random data; `transposed`: the data is stored as [c, r]. */
function operand(r: number, c: number, seed: number, transposed = false): View {
  const storage = new CpuStorage(backend, 'float32', random(r * c, seed));
  return { storage, shape: [1, r, c], strides: transposed ? [0, 1, r] : [r * c, c, 1], offset: 0 };
}

/** float64 reference product of [1, m, k] x [1, k, n] views. */
function reference(a: View, b: View): Float64Array {
  const [, m, k] = a.shape as [number, number, number];
  const n = b.shape[2]!;
  const A = (a.storage as CpuStorage).data;
  const B = (b.storage as CpuStorage).data;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s +=
          A[a.offset + i * a.strides[1]! + p * a.strides[2]!]! *
          B[b.offset + p * b.strides[1]! + j * b.strides[2]!]!;
      }
      out[i * n + j] = s;
    }
  }
  return out;
}

function expectClose(got: Float32Array, want: Float64Array, k: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThan(1e-6 * k + 1e-6);
}

describe('wasmMatmulFixedRight', () => {
  it('gives the products of many left operands with one (transposed) right operand', () => {
    const kernels = new WasmKernels();
    const b = operand(128, 200, 1, true);
    const product = wasmMatmulFixedRight(kernels, b);
    for (const [m, seed] of [
      [32, 2],
      [7, 3],
      [1, 4],
      [33, 5],
    ] as const) {
      const a = operand(m, 128, seed);
      expectClose(product(a), reference(a, b), 128);
    }
  });

  it('copies the right operand again after another kernel call laid out its operands in between', () => {
    const kernels = new WasmKernels();
    const b = operand(64, 48, 6);
    const product = wasmMatmulFixedRight(kernels, b);
    const a1 = operand(16, 64, 7);
    expectClose(product(a1), reference(a1, b), 64);
    // Another product overwrites the start of the heap where b was kept.
    const x = operand(40, 64, 8);
    const y = operand(64, 40, 9);
    expectClose(wasmMatmul(kernels, x, y), reference(x, y), 64);
    const a2 = operand(16, 64, 10);
    expectClose(product(a2), reference(a2, b), 64);
    const layouts = kernels.layouts;
    product(a2);
    expect(kernels.layouts).toBe(layouts + 1);
  });

  it('rejects a left operand of the wrong depth', () => {
    const product = wasmMatmulFixedRight(new WasmKernels(), operand(8, 4, 11));
    expect(() => product(operand(2, 5, 12))).toThrow(/expected a \[1, m, 8\] left operand, got \[1, 2, 5\]/);
  });

  it('is what the wasm backend hands out as matmulFixedRight (results on the wasm backend)', () => {
    const b = operand(32, 24, 13, true);
    const product = backend.matmulFixedRight!(b, 'float32');
    const a = operand(5, 32, 14);
    const out = product(a);
    expect(out.backend).toBe(backend);
    expectClose(backend.read(out) as Float32Array, reference(a, b), 32);
  });
});
