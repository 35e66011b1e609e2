/**
 * The multi-threaded WebAssembly SGEMM (src/backends/wasm/pool.ts): products split over worker threads
 * that share the kernels' memory give exactly the single-threaded result (each element is summed in the
 * same order), for odd sizes, strided / transposed / broadcast operands and batches; the thread count can
 * change between products; a worker that dies or fails mid-product makes the op throw a clear error (no
 * hang) and is replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, View } from '../../../src/backends/backend.js';
import { CpuStorage } from '../../../src/backends/cpu/storage.js';
import {
  createWasmBackend,
  GemmPool,
  getNumThreads,
  initWasmThreads,
  setNumThreads,
  threadPoolUnsupportedReason,
  WasmKernels,
  wasmMatmul,
  wasmThreadPool,
  wasmThreadsUnsupportedReason,
} from '../../../src/backends/wasm/index.js';
import { PARALLEL_MIN_FLOPS } from '../../../src/backends/wasm/matmul.js';
import * as neurite from '../../../src/index.js';
import { getBackend, setBackend } from '../../../src/index.js';

/** Seeded uniform values in [-1, 1) (mulberry32). */
function fill(x: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    x[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return x;
}

const backend = createWasmBackend();

/** A [B, r, c] view of fresh random data laid out as `kind` says. */
function operand(
  kind: 'row' | 'col' | 'bcast' | 'sliced',
  B: number,
  r: number,
  c: number,
  seed: number,
): View {
  const st = (n: number) => new CpuStorage(backend, 'float32', fill(new Float32Array(n), seed));
  switch (kind) {
    case 'row':
      return { storage: st(B * r * c), shape: [B, r, c], strides: [r * c, c, 1], offset: 0 };
    case 'col': // each matrix stored transposed
      return { storage: st(B * r * c), shape: [B, r, c], strides: [r * c, 1, r], offset: 0 };
    case 'bcast': // one matrix shared by the batch
      return { storage: st(r * c), shape: [B, r, c], strides: [0, c, 1], offset: 0 };
    case 'sliced': // every other row and column of a bigger block, starting at (1, 1)
      return {
        storage: st(B * (2 * r + 1) * (2 * c + 1)),
        shape: [B, r, c],
        strides: [(2 * r + 1) * (2 * c + 1), 2 * (2 * c + 1), 2],
        offset: 2 * c + 2,
      };
  }
}

/** Element (q, i, j) of a view. */
function at(v: View, q: number, i: number, j: number): number {
  const data = (v.storage as CpuStorage).data as Float32Array;
  return data[v.offset + q * v.strides[0]! + i * v.strides[1]! + j * v.strides[2]!]!;
}

/** Checks a product against float64 sums (relative to sum |a b|). */
function expectProduct(got: Float32Array, a: View, b: View): void {
  const [B, m, k] = a.shape as [number, number, number];
  const n = b.shape[2]!;
  let worst = 0;
  for (let q = 0; q < B; q++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let scale = 1e-30;
        for (let p = 0; p < k; p++) {
          const x = at(a, q, i, p) * at(b, q, p, j);
          s += x;
          scale += Math.abs(x);
        }
        worst = Math.max(worst, Math.abs(got[(q * m + i) * n + j]! - s) / scale);
      }
    }
  }
  expect(worst).toBeLessThan(1e-5);
}

const unsupported = wasmThreadsUnsupportedReason() ?? threadPoolUnsupportedReason();

describe.skipIf(unsupported !== null)('multi-threaded wasm sgemm', () => {
  const kernels = new WasmKernels();
  const pool = new GemmPool(kernels);

  beforeAll(async () => {
    await pool.start(2);
  });
  afterAll(() => {
    pool.close();
  });

  it('uses a shared memory and the threads build', () => {
    expect(kernels.shared).toBe(true);
    expect(kernels.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(pool.workers).toBe(2);
  });

  it('splits rows, columns and batches over the threads and matches the single-threaded result bit for bit', () => {
    const cases: [string, string, number, number, number, number][] = [
      // kindA, kindB, B, m, k, n
      ['row', 'row', 1, 171, 131, 97], // rows split, odd sizes
      ['row', 'row', 1, 37, 217, 263], // columns split
      ['col', 'sliced', 1, 123, 145, 121], // transposed A, strided B
      ['sliced', 'col', 1, 61, 179, 203],
      ['row', 'bcast', 7, 63, 101, 49], // batch with a broadcast operand
      ['col', 'row', 5, 65, 130, 51],
      ['row', 'row', 9, 1, 901, 300], // one row per matrix: batch split
      ['row', 'row', 1, 3000, 701, 1], // a matrix-vector product: rows split
    ];
    const before = pool.chunkCounts();
    for (const [ka, kb, B, m, k, n] of cases) {
      const a = operand(ka as 'row', B, m, k, m + k);
      const b = operand(kb as 'row', B, k, n, k + n);
      expect(2 * B * m * n * k).toBeGreaterThanOrEqual(Math.max(PARALLEL_MIN_FLOPS, 2 * 128 ** 3));
      const one = wasmMatmul(kernels, a, b);
      for (const threads of [2, 3]) {
        const many = wasmMatmul(kernels, a, b, pool, threads);
        expect(many).toEqual(one);
      }
      expectProduct(one, a, b);
    }
    const after = pool.chunkCounts();
    // Every thread computed chunks (workers that were ready claimed some of the work).
    expect(after[0]! - before[0]!).toBeGreaterThan(0);
    expect(after[1]! - before[1]! + after[2]! - before[2]!).toBeGreaterThan(0);
  });

  it('splits the MLP and LSTM training products (transposed weights, 32 rows) exactly, into fresh arrays', () => {
    const cases: [string, string, number, number, number][] = [
      // kindA, kindB, m, k, n
      ['row', 'col', 32, 784, 128], // X W1^T
      ['row', 'col', 32, 128, 512], // h W_hh^T
      ['row', 'row', 32, 512, 128], // dz W_hh
      ['col', 'row', 128, 32, 784], // dH^T X
      ['row', 'col', 37, 333, 250], // a result length that is no multiple of a page
    ];
    for (const [ka, kb, m, k, n] of cases) {
      const a = operand(ka as 'row', 1, m, k, m + 3 * k);
      const b = operand(kb as 'row', 1, k, n, k + 5 * n);
      expect(2 * m * n * k).toBeGreaterThanOrEqual(PARALLEL_MIN_FLOPS);
      const one = wasmMatmul(kernels, a, b);
      const many = wasmMatmul(kernels, a, b, pool, 2);
      expect(many).toEqual(one);
      // The result is the caller's own array, not a view of the (reused) linear memory.
      expect(many.buffer).toBeInstanceOf(ArrayBuffer);
      expect(many.byteOffset).toBe(0);
      expect(many.buffer.byteLength).toBe(4 * m * n);
      expectProduct(many, a, b);
    }
  });

  it('follows thread-count changes: trims and restarts workers', async () => {
    const a = operand('row', 1, 200, 110, 1);
    const b = operand('row', 1, 110, 100, 2);
    const one = wasmMatmul(kernels, a, b);
    await pool.start(3);
    expect(pool.workers).toBe(3);
    expect(wasmMatmul(kernels, a, b, pool, 4)).toEqual(one);
    pool.trim(1);
    expect(pool.workers).toBe(1);
    expect(wasmMatmul(kernels, a, b, pool, 2)).toEqual(one);
    await pool.start(2);
    expect(pool.workers).toBe(2);
  });

  /** Runs products until the fault fires (a worker may lose the race for chunks to the main thread). */
  function productUntilError(a: View, b: View): Error {
    for (let tries = 0; tries < 50; tries++) {
      try {
        wasmMatmul(kernels, a, b, pool, 3);
      } catch (e) {
        return e as Error;
      }
    }
    throw new Error('the injected fault never fired');
  }

  for (const mode of ['exit', 'throw'] as const) {
    it(`a worker that dies mid-product (${mode}) fails the op with a clear error and is replaced`, async () => {
      await pool.start(2);
      const a = operand('row', 1, 400, 300, 3);
      const b = operand('row', 1, 300, 200, 4);
      const one = wasmMatmul(kernels, a, b);
      const victim = pool.workerObjects()[0]!;
      pool.injectFault(1, mode);
      const err = productUntilError(a, b);
      expect(err.message).toMatch(
        /wasm matmul: worker thread 1 died \(exit code \d+\) during a \[400, 300\] x \[300, 200\] product; it has been replaced/,
      );
      // A replacement was started at once; the next products are right again, with or without it ready.
      expect(pool.workerObjects()[0]).not.toBe(victim);
      expect(wasmMatmul(kernels, a, b, pool, 3)).toEqual(one);
      await pool.start(2);
      expect(pool.workers).toBe(2);
      expect(wasmMatmul(kernels, a, b, pool, 3)).toEqual(one);
    });
  }

  it('a worker terminated while idle is replaced on the next product', async () => {
    await pool.start(2);
    const victim = pool.workerObjects()[1]!;
    await victim.terminate();
    await new Promise((r) => setTimeout(r, 10)); // let the pool see the exit event
    expect(pool.workers).toBe(1);
    const a = operand('row', 1, 160, 120, 5);
    const b = operand('row', 1, 120, 110, 6);
    expect(wasmMatmul(kernels, a, b, pool, 3)).toEqual(wasmMatmul(kernels, a, b));
    expect(pool.workers).toBe(2);
  });
});

describe.skipIf(unsupported !== null)('wasm backend threads', () => {
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

  it('setNumThreads validates its argument and defaults to the available cores', () => {
    // Exported from the main entry too.
    expect(neurite.setNumThreads).toBe(setNumThreads);
    expect(neurite.initWasmThreads).toBe(initWasmThreads);
    expect(getNumThreads()).toBeGreaterThanOrEqual(1);
    expect(() => setNumThreads(0)).toThrow(/setNumThreads: expected an integer >= 1, got 0/);
    expect(() => setNumThreads(1.5)).toThrow(/got 1.5/);
  });

  it('kernels without a shared memory run on one thread, with a one-line notice once when more are asked for', () => {
    const messages: string[] = [];
    const b = createWasmBackend({
      kernels: new WasmKernels({ shared: false }),
      warn: (m) => messages.push(m),
    });
    setNumThreads(1);
    expect(wasmThreadPool(b)).toBeNull();
    expect(messages).toEqual([]); // one thread asked for: nothing is missing
    setNumThreads(2);
    const a = new CpuStorage(b, 'float32', new Float32Array(300 * 300).fill(1));
    const v: View = { storage: a, shape: [1, 300, 300], strides: [90000, 300, 1], offset: 0 };
    const c = b.read(b.matmul(v, v, 'float32')) as Float32Array;
    expect(c[0]).toBe(300);
    expect(wasmThreadPool(b)).toBeNull();
    expect(messages).toEqual([
      "neurite: the kernels were loaded without a shared memory; the 'wasm' backend runs on one thread",
    ]);
  });

  it('large float32 products on the wasm backend run on the pool; small ones and 1 thread stay serial', async () => {
    setBackend('wasm');
    expect(await initWasmThreads(2)).toBe(2);
    const pool = wasmThreadPool()!;
    expect(pool.workers).toBe(1);
    const be = getBackend();
    const a = operand('row', 1, 200, 150, 7);
    const b = operand('row', 1, 150, 100, 8);
    const av = { ...a, storage: new CpuStorage(be, 'float32', (a.storage as CpuStorage).data) };
    const bv = { ...b, storage: new CpuStorage(be, 'float32', (b.storage as CpuStorage).data) };
    const c0 = pool.chunkCounts().reduce((x, y) => x + y, 0);
    const c = (be.matmul(av, bv, 'float32') as CpuStorage).data as Float32Array;
    expectProduct(c, a, b);
    const c1 = pool.chunkCounts().reduce((x, y) => x + y, 0);
    expect(c1).toBeGreaterThan(c0);
    // A small product is not split.
    be.matmul({ ...av, shape: [1, 20, 20] }, { ...bv, shape: [1, 20, 20] }, 'float32');
    expect(pool.chunkCounts().reduce((x, y) => x + y, 0)).toBe(c1);
    setNumThreads(1);
    expect(pool.workers).toBe(0);
    expect((be.matmul(av, bv, 'float32') as CpuStorage).data).toEqual(c);
    expect(pool.chunkCounts().reduce((x, y) => x + y, 0)).toBe(c1);
    expect(await initWasmThreads()).toBe(1);
  });
});
