/**
 * Small float32 products through the WebAssembly SGEMM and its worker pool (src/backends/wasm/matmul.ts,
 * job.ts, pool.ts): sizes of 1, 3, 5, 31, 33, 64 and 784 in every dimension, with row-major, transposed
 * and strided operands, split over threads or not, match a float64 reference and the single-threaded
 * result bit for bit; the planner cuts row blocks into whole register tiles of the build in use; many
 * consecutive jobs of different chunk counts (the case a stale claim would corrupt) stay exact. Products
 * on one thread run in the private non-shared instance (private-kernels.ts) with the shared kernels' bits
 * and the caller's memory limit; products of moderate size are run split or not as timed, same bits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { View } from '../../../src/backends/backend.js';
import { CpuStorage } from '../../../src/backends/cpu/storage.js';
import {
  createWasmBackend,
  GemmPool,
  threadPoolUnsupportedReason,
  WasmKernels,
  wasmMatmul,
  wasmThreadsUnsupportedReason,
} from '../../../src/backends/wasm/index.js';
import { type GemmJob, PARALLEL_MIN_FLOPS, planJob } from '../../../src/backends/wasm/job.js';
import { HEAP_BASE } from '../../../src/backends/wasm/kernels.js';
import { ADAPTIVE_MAX_FLOPS } from '../../../src/backends/wasm/matmul.js';
import { PRIVATE_MAX_BYTES, privateKernels } from '../../../src/backends/wasm/private-kernels.js';

const backend = createWasmBackend();

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

type Kind = 'row' | 'col' | 'strided' | 'colPadded';

/** A [1, r, c] view of random data: row-major, stored transposed, or every other row and column. */
function operand(kind: Kind, r: number, c: number, seed: number): View {
  const st = (n: number) => new CpuStorage(backend, 'float32', fill(new Float32Array(n), seed));
  switch (kind) {
    case 'row':
      return { storage: st(r * c), shape: [1, r, c], strides: [0, c, 1], offset: 0 };
    case 'col':
      return { storage: st(r * c), shape: [1, r, c], strides: [0, 1, r], offset: 0 };
    case 'colPadded': // stored transposed with 3 floats between columns, starting at 2 (a weight slice)
      return { storage: st(c * (r + 3) + 2), shape: [1, r, c], strides: [0, 1, r + 3], offset: 2 };
    case 'strided':
      return {
        storage: st((2 * r + 1) * (2 * c + 1)),
        shape: [1, r, c],
        strides: [0, 2 * (2 * c + 1), 2],
        offset: 2 * c + 3,
      };
  }
}

/** Checks a [m, n] product against float64 sums (error relative to sum |a b| per element). */
function expectProduct(got: Float32Array, a: View, b: View): void {
  const [, m, k] = a.shape as [number, number, number];
  const n = b.shape[2]!;
  const A = (a.storage as CpuStorage).data as Float32Array;
  const B = (b.storage as CpuStorage).data as Float32Array;
  expect(got.length).toBe(m * n);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let scale = 1e-30;
      for (let p = 0; p < k; p++) {
        const x =
          A[a.offset + i * a.strides[1]! + p * a.strides[2]!]! *
          B[b.offset + p * b.strides[1]! + j * b.strides[2]!]!;
        s += x;
        scale += Math.abs(x);
      }
      worst = Math.max(worst, Math.abs(got[i * n + j]! - s) / scale);
    }
  }
  expect(worst).toBeLessThan(1e-5);
}

/** Expects `got` to equal `want` bit for bit (a loop: toEqual on long arrays is slow). */
function expectSame(got: Float32Array, want: Float32Array): void {
  let same = got.length === want.length;
  for (let i = 0; same && i < got.length; i++) same = Object.is(got[i], want[i]);
  if (!same) expect(Array.from(got)).toEqual(Array.from(want));
}

/** Fills the linear memory past the control block with NaN, so that no product can reuse stale operands. */
function scramble(kernels: WasmKernels): void {
  const heap = kernels.reserve(kernels.byteLength);
  heap.fill(Number.NaN, HEAP_BASE >> 2);
}

/**
 * a x b computed by `kernels.sgemm` itself in `kernels`' own memory: each operand's whole storage copied
 * to the heap and read with the view's strides (what wasmMatmul did before products on one thread moved
 * to the private instance).
 */
function sgemmInPlace(kernels: WasmKernels, a: View, b: View): Float32Array {
  const [, m, k] = a.shape as [number, number, number];
  const n = b.shape[2]!;
  const A = (a.storage as CpuStorage).data as Float32Array;
  const B = (b.storage as CpuStorage).data as Float32Array;
  const at = (x: number) => Math.ceil(x / 16) * 16;
  const aAt = HEAP_BASE;
  const bAt = at(aAt + 4 * A.length);
  const cAt = at(bAt + 4 * B.length);
  const wAt = at(cAt + 4 * m * n);
  const heap = kernels.reserve(wAt + kernels.sgemmWorkspace(m, n, k));
  heap.set(A, aAt >> 2);
  heap.set(B, bAt >> 2);
  kernels.sgemm(
    ...([m, n, k, aAt + 4 * a.offset, a.strides[1]!, a.strides[2]!] as [
      number,
      number,
      number,
      number,
      number,
      number,
    ]),
    bAt + 4 * b.offset,
    b.strides[1]!,
    b.strides[2]!,
    cAt,
    n,
    false,
    wAt,
  );
  return heap.slice(cAt >> 2, (cAt >> 2) + m * n);
}

/** Every triple of `dims` whose product is at most `maxFlops` (keeps the float64 reference quick). */
function shapes(dims: number[], maxFlops: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const m of dims) {
    for (const n of dims) {
      for (const k of dims) if (2 * m * n * k <= maxFlops) out.push([m, n, k]);
    }
  }
  return out;
}

const DIMS = [1, 3, 5, 31, 33, 64, 784];

describe('small wasm products', () => {
  const kernels = new WasmKernels();

  it('match a float64 reference for sizes 1-784 in every dimension, any layout', () => {
    const kinds: [Kind, Kind][] = [
      ['row', 'row'],
      ['row', 'col'],
      ['col', 'row'],
      ['strided', 'col'],
    ];
    let count = 0;
    for (const [m, n, k] of shapes(DIMS, 2 * 64 * 784 * 33)) {
      const [ka, kb] = kinds[count++ % kinds.length]!;
      const a = operand(ka, m, k, m * 7 + k);
      const b = operand(kb, k, n, k * 5 + n);
      expectProduct(wasmMatmul(kernels, a, b), a, b);
    }
    expect(count).toBeGreaterThan(300);
  });

  it('plans row blocks as whole register tiles of the build in use (6 rows relaxed, 5 plain)', () => {
    const job: GemmJob = {
      m: 128,
      n: 64,
      k: 200,
      a: 0,
      aRs: 0,
      aCs: 0,
      b: 0,
      bRs: 0,
      bCs: 0,
      c: 0,
      ldc: 64,
      accumulate: false,
      batch: 1,
      aBs: 0,
      bBs: 0,
      cBs: 0,
    };
    const fakePool = {} as GemmPool; // planning only looks at whether there is one
    for (const relaxed of [false, true]) {
      const k = new WasmKernels({ relaxed: relaxed && kernels.relaxed, shared: false });
      const p = planJob(k, job, fakePool, 2);
      const mr = k.relaxed ? 6 : 5;
      expect(p.threads).toBe(2);
      expect(p.size % mr).toBe(0);
      expect(p.chunks * p.size).toBeGreaterThanOrEqual(job.m);
      expect((p.chunks - 1) * p.size).toBeLessThan(job.m);
      expect(p.bytes).toBeGreaterThanOrEqual(p.threads * p.stride);
      expect(p.bytes).toBeGreaterThanOrEqual(k.sgemmWorkspace(job.m, job.n, job.k));
    }
  });
});

describe.skipIf(wasmThreadsUnsupportedReason() !== null)('products on one thread, private instance', () => {
  const kernels = new WasmKernels({ shared: true });

  it('run in a private instance on an ordinary memory, bit for bit what the shared kernels compute', () => {
    const own = privateKernels(kernels)!;
    expect(own).not.toBeNull();
    expect(own.shared).toBe(false);
    expect(own.memory.buffer).toBeInstanceOf(ArrayBuffer);
    expect(own.relaxed).toBe(kernels.relaxed);
    expect(own.maxBytes).toBe(PRIVATE_MAX_BYTES);
    expect(privateKernels(kernels)).toBe(own); // one per set of kernels
    const plain = new WasmKernels({ shared: false });
    expect(privateKernels(plain)).toBe(plain); // already on an ordinary memory
    for (const [ka, kb, m, k, n] of [
      ['row', 'col', 32, 784, 128], // X W1^T
      ['col', 'row', 128, 32, 784], // dY1^T X
      ['row', 'row', 32, 10, 128], // dY2 W2
      ['col', 'row', 10, 32, 128], // dY2^T H
      ['strided', 'colPadded', 33, 129, 31],
      ['row', 'strided', 1, 300, 7],
      ['col', 'col', 61, 5, 203],
    ] as [Kind, Kind, number, number, number][]) {
      const a = operand(ka, m, k, m + 2 * k);
      const b = operand(kb, k, n, k + 3 * n);
      scramble(own);
      const layouts = kernels.layouts;
      const got = wasmMatmul(kernels, a, b);
      // The shared memory was not used at all.
      expect(kernels.layouts).toBe(layouts);
      expectSame(got, sgemmInPlace(kernels, a, b));
      expectProduct(got, a, b);
      // Fresh arrays of their own, not views of either memory.
      expect(got.buffer).toBeInstanceOf(ArrayBuffer);
      expect(got.buffer).not.toBe(own.memory.buffer);
      expect(got.length).toBe(m * n);
    }
  });

  it("keep to the caller's memory limit: a product over it does not move to the private memory", () => {
    const small = new WasmKernels({ shared: true, maxBytes: 1 << 20 });
    const a = operand('row', 300, 400, 1);
    expect(() => wasmMatmul(small, a, operand('row', 400, 300, 2))).toThrow(/out of WebAssembly memory/);
    // One within the limit runs in the private memory (the shared one is not laid out).
    const b = operand('row', 400, 40, 3);
    const x = operand('row', 100, 400, 4);
    const layouts = small.layouts;
    expectProduct(wasmMatmul(small, x, b), x, b);
    expect(small.layouts).toBe(layouts);
  });
});

const unsupported = wasmThreadsUnsupportedReason() ?? threadPoolUnsupportedReason();

describe.skipIf(unsupported !== null)('small wasm products on threads', () => {
  const kernels = new WasmKernels();
  const pool = new GemmPool(kernels);

  beforeAll(async () => {
    await pool.start(2);
  });
  afterAll(() => {
    pool.close();
  });

  it('split over 2 and 3 threads, give the single-threaded result bit for bit (sizes 1-784, any layout)', () => {
    const kinds: [Kind, Kind][] = [
      ['row', 'col'],
      ['col', 'row'],
      ['row', 'row'],
      ['strided', 'strided'],
    ];
    const before = pool.chunkCounts().reduce((x, y) => x + y, 0);
    let split = 0;
    let count = 0;
    // Every triple of DIMS large enough to be split (784 x 64 x 31 and up, each in every order).
    for (const [m, n, k] of shapes(DIMS, 2 * 784 * 64 * 64)) {
      if (2 * m * n * k < PARALLEL_MIN_FLOPS) continue;
      const [ka, kb] = kinds[count++ % kinds.length]!;
      const a = operand(ka, m, k, m + 3 * k);
      const b = operand(kb, k, n, k + 5 * n);
      const one = wasmMatmul(kernels, a, b);
      for (const threads of [2, 3]) {
        scramble(kernels);
        expectSame(wasmMatmul(kernels, a, b, pool, threads), one);
      }
      expectProduct(one, a, b);
      split++;
    }
    // The MLP training products: X W1^T, dY1^T X (k = 32), and odd neighbours.
    for (const [ka, kb, m, k, n] of [
      ['row', 'col', 32, 784, 128],
      ['col', 'row', 128, 32, 784],
      ['row', 'col', 31, 785, 129],
      ['col', 'row', 127, 33, 783],
    ] as [Kind, Kind, number, number, number][]) {
      const a = operand(ka, m, k, m + k);
      const b = operand(kb, k, n, n + k);
      const one = wasmMatmul(kernels, a, b);
      expectProduct(one, a, b);
      for (const threads of [2, 3]) {
        scramble(kernels);
        expectSame(wasmMatmul(kernels, a, b, pool, threads), one);
      }
    }
    expect(split).toBeGreaterThanOrEqual(20);
    // Transposed right operands (a Linear layer's weight, whole or a padded slice) and column counts that
    // leave a short last block.
    for (const [kb, m, k, n] of [
      ['col', 32, 784, 128],
      ['colPadded', 32, 784, 128],
      ['colPadded', 33, 512, 131],
      ['col', 5, 2049, 33],
      ['col', 64, 1000, 999],
    ] as [Kind, number, number, number][]) {
      const a = operand('row', m, k, m * k);
      const b = operand(kb, k, n, k * n);
      const one = wasmMatmul(kernels, a, b);
      expectProduct(one, a, b);
      for (const threads of [2, 3]) {
        scramble(kernels);
        expectSame(wasmMatmul(kernels, a, b, pool, threads), one);
      }
    }
    expect(pool.chunkCounts().reduce((x, y) => x + y, 0)).toBeGreaterThan(before);
  });

  it('stay exact over many back-to-back jobs of different chunk counts', async () => {
    await pool.start(2);
    // Jobs alternate between 4-6 chunks (2 per thread) and the batch split of 9 products, so a claim
    // left over from one job would fall inside the next one's chunk range.
    const cases: [View, View, Float32Array][] = [];
    for (const [B, m, k, n] of [
      [1, 32, 784, 128],
      [9, 1, 901, 300],
      [1, 128, 32, 784],
      [1, 33, 64, 784],
    ] as [number, number, number, number][]) {
      const a = operand('row', B * m, k, B + m + k);
      const b = operand('col', k, n, B + n + k);
      const a3: View = B > 1 ? { ...a, shape: [B, m, k], strides: [m * k, k, 1] } : a;
      const b3: View = B > 1 ? { ...b, shape: [B, k, n], strides: [0, 1, k] } : b;
      cases.push([a3, b3, wasmMatmul(kernels, a3, b3)]);
    }
    for (let i = 0; i < 400; i++) {
      const [a, b, want] = cases[i % cases.length]!;
      // adaptive = false: every one of these jobs is split (none runs on this thread alone instead).
      expectSame(wasmMatmul(kernels, a, b, pool, i % 5 === 4 ? 3 : 2, false), want);
    }
  });
  it('time products in the adaptive range both ways after a few split runs, with the same bits either way', () => {
    const total = () => pool.chunkCounts().reduce((x, y) => x + y, 0);
    // A shape no other test uses (the timings are kept per shape and thread count).
    const a = operand('row', 32, 700, 11);
    const b = operand('col', 700, 131, 12);
    const flops = 2 * 32 * 700 * 131;
    expect(flops).toBeGreaterThanOrEqual(PARALLEL_MIN_FLOPS);
    expect(flops).toBeLessThan(ADAPTIVE_MAX_FLOPS);
    const one = wasmMatmul(kernels, a, b);
    expectProduct(one, a, b);
    const split: boolean[] = [];
    for (let i = 0; i < 160; i++) {
      const before = total();
      expectSame(wasmMatmul(kernels, a, b, pool, 2), one);
      split.push(total() > before);
    }
    // The first 8 runs are split, the next 4 run on this thread, then the faster way, and the other one
    // for 3 calls every 48 or 128 calls (the first retry starts at call 137 at the latest, whatever the
    // timings: a change of period between 48 and 128 delays a retry but never skips it).
    expect(split.slice(0, 8)).toEqual(Array(8).fill(true));
    expect(split.slice(8, 12)).toEqual(Array(4).fill(false));
    expect(new Set(split.slice(12)).size).toBe(2);
    // With adaptive = false, and above the adaptive range, every run is split.
    for (let i = 0; i < 12; i++) {
      const before = total();
      expectSame(wasmMatmul(kernels, a, b, pool, 2, false), one);
      expect(total()).toBeGreaterThan(before);
    }
    const big = [operand('row', 192, 384, 13), operand('row', 384, 320, 14)] as const;
    expect(2 * 192 * 384 * 320).toBeGreaterThanOrEqual(ADAPTIVE_MAX_FLOPS);
    const bigOne = wasmMatmul(kernels, big[0], big[1]);
    for (let i = 0; i < 12; i++) {
      const before = total();
      expectSame(wasmMatmul(kernels, big[0], big[1], pool, 2), bigOne);
      expect(total()).toBeGreaterThan(before);
    }
  });
});
