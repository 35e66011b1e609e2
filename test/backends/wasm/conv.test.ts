/**
 * conv2d forward and backward kernels of the `wasm` backend (src/backends/wasm/conv.ts) against the CPU
 * backend's: strides, padding, dilation, bias or none, non-contiguous inputs, batches split into groups by
 * the column budget, float64 and grouped convolutions (delegated to the CPU kernels), and the same results
 * with 1 and 2 threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, View, Window2d } from '../../../src/backends/backend.js';
import { createCpuBackend } from '../../../src/backends/cpu/index.js';
import { CpuStorage } from '../../../src/backends/cpu/storage.js';
import {
  createWasmBackend,
  getNumThreads,
  initWasmThreads,
  setNumThreads,
} from '../../../src/backends/wasm/index.js';
import { getBackend, setBackend } from '../../../src/index.js';

const cpu = createCpuBackend();
const wasm = createWasmBackend();

function rand(n: number, seed: number, f64 = false): Float32Array | Float64Array {
  const out = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.731 + seed * 1.37) * Math.cos(i * 0.113 + seed);
  return out;
}

/** A contiguous view (or, with `transposed`, one whose last two dims are swapped in memory). */
function view(be: Backend, data: Float32Array | Float64Array, shape: number[], transposed = false): View {
  const st = new CpuStorage(be, data instanceof Float64Array ? 'float64' : 'float32', data);
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  if (transposed) {
    // The last two dims read column-major: the view of a [.., W, H] block transposed.
    const r = shape.length;
    strides[r - 1] = shape[r - 2]!;
    strides[r - 2] = 1;
  }
  return { storage: st, shape, strides, offset: 0 };
}

function win(
  inH: number,
  inW: number,
  kh: number,
  kw: number,
  o: { s?: number; p?: number; d?: number } = {},
): Window2d {
  const { s = 1, p = 0, d = 1 } = o;
  return {
    inH,
    inW,
    kh,
    kw,
    sh: s,
    sw: s,
    ph: p,
    pw: p,
    dh: d,
    dw: d,
    outH: Math.floor((inH + 2 * p - d * (kh - 1) - 1) / s) + 1,
    outW: Math.floor((inW + 2 * p - d * (kw - 1) - 1) / s) + 1,
  };
}

function data(s: unknown): Float32Array | Float64Array {
  return (s as CpuStorage).data as Float32Array | Float64Array;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  let scale = 1e-6;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst / scale).toBeLessThan(2e-5);
}

interface ConvCase {
  N: number;
  C: number;
  H: number;
  W: number;
  cout: number;
  k: number;
  s?: number;
  p?: number;
  d?: number;
  bias?: boolean;
  transposed?: boolean;
}

/** Forward and both backward kernels of `be` on the case's inputs. */
function run(be: Backend, c: ConvCase, f64 = false): (Float32Array | Float64Array)[] {
  const w = win(c.H, c.W, c.k, c.k, c);
  const x = view(be, rand(c.N * c.C * c.H * c.W, 1, f64), [c.N, c.C, c.H, c.W], c.transposed);
  const wt = view(be, rand(c.cout * c.C * c.k * c.k, 2, f64), [c.cout, c.C, c.k, c.k]);
  const b = c.bias ? view(be, rand(c.cout, 3, f64), [c.cout]) : null;
  const g = view(be, rand(c.N * c.cout * w.outH * w.outW, 4, f64), [c.N, c.cout, w.outH, w.outW]);
  return [
    data(be.conv2d(x, wt, b, w, 1)),
    data(be.conv2dBackwardInput(g, wt, w, 1)),
    data(be.conv2dBackwardWeight(g, x, w, 1)),
  ];
}

/** Runs the case on both backends and compares; returns the wasm results. */
function compare(c: ConvCase, f64 = false): (Float32Array | Float64Array)[] {
  const want = run(cpu, c, f64);
  const got = run(wasm, c, f64);
  for (let i = 0; i < 3; i++) expectClose(got[i]!, want[i]!);
  return got;
}

describe('wasm conv2d kernels', () => {
  let previous: Backend;
  let threads: number;
  beforeAll(() => {
    previous = getBackend();
    threads = getNumThreads();
  });
  afterAll(() => {
    setNumThreads(threads);
    setBackend(previous.name);
  });

  it('match the CPU kernels: stride, padding, dilation, bias, 1x1 kernels, non-contiguous input', () => {
    const cases: ConvCase[] = [
      { N: 2, C: 1, H: 7, W: 6, cout: 3, k: 3 },
      { N: 3, C: 2, H: 9, W: 8, cout: 5, k: 3, p: 1, bias: true },
      { N: 2, C: 3, H: 11, W: 10, cout: 4, k: 3, s: 2, p: 2, bias: true },
      { N: 1, C: 2, H: 12, W: 12, cout: 3, k: 3, d: 2, p: 1 },
      { N: 4, C: 5, H: 5, W: 5, cout: 6, k: 1, bias: true },
      { N: 2, C: 3, H: 8, W: 8, cout: 4, k: 3, p: 1, transposed: true, bias: true },
      { N: 2, C: 1, H: 3, W: 3, cout: 2, k: 5, p: 1 }, // kernel larger than the input
    ];
    for (const c of cases) compare(c);
  });

  it('the MNIST CNN layers (batch 64) match, with 1 and with 2 threads bit for bit', async () => {
    await initWasmThreads(2);
    const layers: ConvCase[] = [
      { N: 64, C: 1, H: 28, W: 28, cout: 32, k: 5, p: 2, bias: true },
      { N: 64, C: 32, H: 14, W: 14, cout: 64, k: 5, p: 2, bias: true },
    ];
    compare({ ...layers[1]!, N: 4 });
    for (const c of layers) {
      setNumThreads(2);
      const two = c.C === 1 ? compare(c) : run(wasm, c);
      setNumThreads(1);
      const one = run(wasm, c);
      for (let i = 0; i < 3; i++) {
        // (toEqual on arrays this long is slow: count the differing elements instead)
        let differ = 0;
        for (let q = 0; q < one[i]!.length; q++) if (two[i]![q] !== one[i]![q]) differ++;
        expect(two[i]!.length).toBe(one[i]!.length);
        expect(differ).toBe(0);
      }
    }
  });

  it('splits big batches into groups that fit the column budget (32 MB)', () => {
    // 576 x 3136 floats of columns per sample (7.2 MB): groups of 4, the last one of 2.
    compare({ N: 6, C: 64, H: 56, W: 56, cout: 4, k: 3, p: 1, bias: true });
  });

  it('float64 and grouped convolutions run the CPU kernels on wasm storages', () => {
    compare({ N: 2, C: 2, H: 6, W: 6, cout: 3, k: 3, p: 1, bias: true }, true);
    const w = win(6, 6, 3, 3);
    const x = view(wasm, rand(2 * 4 * 36, 5), [2, 4, 6, 6]);
    const wt = view(wasm, rand(6 * 2 * 9, 6), [6, 2, 3, 3]);
    const out = wasm.conv2d(x, wt, null, w, 2);
    expect(out.backend).toBe(wasm);
    const want = cpu.conv2d(
      view(cpu, data(x.storage), [2, 4, 6, 6]),
      view(cpu, data(wt.storage), [6, 2, 3, 3]),
      null,
      w,
      2,
    );
    expectClose(data(out), data(want));
  });
});
