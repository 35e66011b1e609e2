/**
 * The WebAssembly SIMD SGEMM kernel (assembly/gemm.ts) against a naive float64 loop, in the plain build
 * (5 x 8 register tile) and, where the engine has relaxed SIMD (enabled here on Node 20), the relaxed one
 * (6 x 8): edge sizes around the register tiles (MR-row and 4-row tiles mixed, see fullRows), the
 * vectorised packing paths (contiguous rows of A, contiguous columns of B, k not a multiple of 4) and the
 * cache blocks (KC = 384, MC = 120, NC = 2048), any strides (transposed, padded, negative, zero),
 * accumulation, k = 0, empty products, and guard zones that catch stray writes.
 */
import { describe, expect, it } from 'vitest';
import { enableWasmRelaxedSimd } from '../../../src/backends/wasm/detect.js';
import { HEAP_BASE, WasmKernels } from '../../../src/backends/wasm/kernels.js';

/** Small seeded PRNG (mulberry32) returning uniform values in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** How an m x n operand is laid out in its data block. */
type Layout = 'row' | 'col' | 'padded' | 'flipped' | 'bcastRow' | 'bcastCol';

/** Data block size (floats) and (offset of element (0, 0), row stride, column stride) for a layout. */
function layout(l: Layout, r: number, c: number): { size: number; off: number; rs: number; cs: number } {
  switch (l) {
    case 'row':
      return { size: r * c, off: 0, rs: c, cs: 1 };
    case 'col':
      return { size: r * c, off: 0, rs: 1, cs: r };
    case 'padded':
      return { size: r * (c + 3) + 2, off: 2, rs: c + 3, cs: 1 };
    case 'flipped': // both dims reversed: (0, 0) is the last element
      return { size: r * c, off: r * c - 1, rs: -c, cs: -1 };
    case 'bcastRow': // every row is the same (row stride 0)
      return { size: c, off: 0, rs: 0, cs: 1 };
    case 'bcastCol': // every column is the same (column stride 0)
      return { size: r, off: 0, rs: 1, cs: 0 };
  }
}

const GUARD = 37; // floats of sentinel around C and after the workspace
const SENTINEL = -12345.5;

interface Case {
  m: number;
  n: number;
  k: number;
  la?: Layout;
  lb?: Layout;
  ldc?: number;
  accumulate?: boolean;
  seed?: number;
}

/** The builds under test: plain SIMD, and relaxed SIMD where the engine has it (Node 20: behind a flag). */
const BUILDS: [string, WasmKernels][] = [['plain', new WasmKernels({ relaxed: false })]];
if (enableWasmRelaxedSimd()) BUILDS.push(['relaxed', new WasmKernels({ relaxed: true })]);

/**
 * Runs one product in linear memory and checks it against float64 sums: |got - want| must stay below
 * 1e-5 * sum_p |a||b| + 1e-30 element-wise; sentinels around C (and in the ldc padding) must survive.
 */
function check(
  kernels: WasmKernels,
  { m, n, k, la = 'row', lb = 'row', ldc = n, accumulate = false, seed = 1 }: Case,
): void {
  const rand = rng(seed + m * 7919 + n * 104729 + k * 31);
  const A = layout(la, m, k);
  const B = layout(lb, k, n);
  const aAt = HEAP_BASE;
  const bAt = aAt + 4 * A.size + 16;
  const cAt = (bAt + 4 * B.size + 4 * GUARD + 15) & ~15;
  const cFloats = m === 0 ? 0 : (m - 1) * ldc + n;
  const wAt = (cAt + 4 * (cFloats + GUARD) + 15) & ~15;
  const ws = kernels.sgemmWorkspace(m, n, k);
  const heap = kernels.reserve(wAt + ws + 4 * GUARD);
  const a0 = aAt >> 2;
  const b0 = bAt >> 2;
  const c0 = cAt >> 2;
  for (let i = 0; i < A.size; i++) heap[a0 + i] = rand();
  for (let i = 0; i < B.size; i++) heap[b0 + i] = rand();
  heap.fill(SENTINEL, c0 - GUARD, c0 + cFloats + GUARD);
  const before = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const v = accumulate ? rand() : SENTINEL;
      heap[c0 + i * ldc + j] = v;
      before[i * n + j] = v;
    }
  }
  heap.fill(SENTINEL, (wAt + ws) >> 2, ((wAt + ws) >> 2) + GUARD);
  kernels.sgemm(m, n, k, aAt + 4 * A.off, A.rs, A.cs, bAt + 4 * B.off, B.rs, B.cs, cAt, ldc, accumulate, wAt);
  const h = new Float32Array(kernels.memory.buffer);
  let worst = 0;
  let where = '';
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = accumulate ? before[i * n + j]! : 0;
      let scale = Math.abs(s);
      for (let p = 0; p < k; p++) {
        const x = h[a0 + A.off + i * A.rs + p * A.cs]! * h[b0 + B.off + p * B.rs + j * B.cs]!;
        s += x;
        scale += Math.abs(x);
      }
      const err = Math.abs(h[c0 + i * ldc + j]! - s) / (scale + 1e-30);
      if (!(err <= worst)) {
        worst = err;
        where = `C(${i}, ${j}) = ${h[c0 + i * ldc + j]} want ${s}`;
      }
    }
  }
  expect(worst, where).toBeLessThan(1e-5);
  // Nothing outside the m x n window of C, nor past the workspace, was written.
  let stray = 0;
  for (let q = c0 - GUARD; q < c0 + cFloats + GUARD; q++) {
    const rel = q - c0;
    const inside = rel >= 0 && rel < cFloats && rel % ldc < n;
    if (!inside && h[q] !== SENTINEL) stray++;
  }
  for (let q = (wAt + ws) >> 2; q < ((wAt + ws) >> 2) + GUARD; q++) if (h[q] !== SENTINEL) stray++;
  expect(stray).toBe(0);
}

describe.each(BUILDS)('wasm sgemm kernel (%s build)', (_name, kernels) => {
  const run = (c: Case): void => check(kernels, c);
  it('is correct for every m, n, k around the 5 x 8 tile (1..17)', () => {
    const dims = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 16, 17];
    for (const m of dims) for (const n of dims) for (const k of [1, 2, 5, 8, 9, 17]) run({ m, n, k });
  });

  it('mixes MR-row and 4-row tiles for every m up to 40, with contiguous and transposed operands', () => {
    for (let m = 1; m <= 40; m++) {
      for (const n of [8, 10, 24]) {
        for (const k of [3, 4, 7, 130]) {
          for (const la of ['row', 'col'] as const) {
            for (const lb of ['row', 'col'] as const) run({ m, n, k, la, lb });
          }
        }
      }
    }
    // The last block of rows past MC = 120 holds few rows (4-row tiles there).
    for (const m of [122, 124, 126, 128, 131]) run({ m, n: 16, k: 9, la: 'row', lb: 'col' });
    run({ m: 32, n: 20, k: 390, la: 'row', lb: 'col', accumulate: true });
  });

  it('runs the MLP and LSTM training shapes (transposed weights read in place)', () => {
    run({ m: 32, n: 128, k: 784, la: 'row', lb: 'col' }); // X W1^T
    run({ m: 32, n: 512, k: 128, la: 'row', lb: 'col' }); // h W_hh^T
    run({ m: 32, n: 128, k: 512, la: 'row', lb: 'row' }); // dz W_hh
    run({ m: 128, n: 96, k: 32, la: 'col', lb: 'row' }); // dH^T X (fewer columns)
  });

  it('crosses the cache blocks: k around KC = 384, m around MC = 120, n around NC = 2048', () => {
    for (const k of [383, 384, 385, 769]) run({ m: 11, n: 13, k });
    for (const m of [119, 120, 121, 241]) run({ m, n: 9, k: 7 });
    for (const n of [2047, 2048, 2049]) run({ m: 6, n, k: 3 });
    run({ m: 127, n: 131, k: 400 });
  });

  it('reads transposed, padded, reversed and broadcast (stride 0) operands in place', () => {
    const layouts: Layout[] = ['row', 'col', 'padded', 'flipped', 'bcastRow', 'bcastCol'];
    for (const la of layouts) {
      for (const lb of layouts) {
        run({ m: 13, n: 19, k: 11, la, lb });
        run({ m: 5, n: 8, k: 390, la, lb });
      }
    }
  });

  it('accumulates into C (C += A B), also across k blocks, and honours ldc > n', () => {
    run({ m: 9, n: 10, k: 7, accumulate: true });
    run({ m: 12, n: 17, k: 500, accumulate: true, la: 'col', lb: 'col' });
    run({ m: 7, n: 9, k: 5, ldc: 14 });
    run({ m: 23, n: 33, k: 390, ldc: 40, accumulate: true, lb: 'col' });
  });

  it('k = 0 zeroes C (or leaves it when accumulating); m = 0 or n = 0 writes nothing', () => {
    run({ m: 6, n: 9, k: 0 });
    run({ m: 6, n: 9, k: 0, ldc: 12 });
    run({ m: 6, n: 9, k: 0, accumulate: true });
    run({ m: 0, n: 9, k: 4 });
    run({ m: 7, n: 0, k: 4 });
  });

  it('workspace grows with the blocks it packs and stays bounded for big products', () => {
    expect(kernels.sgemmWorkspace(1, 1, 1)).toBeGreaterThan(0);
    const big = kernels.sgemmWorkspace(100000, 100000, 100000);
    // One MC x KC block of A and one KC x NC block of B, whatever the problem size.
    expect(big).toBeLessThan(4 * 384 * (120 + 2048) + 1024);
    expect(kernels.sgemmWorkspace(3, 3, 1000)).toBeLessThan(kernels.sgemmWorkspace(300, 300, 1000));
  });

  it('grows its linear memory on demand and keeps old contents', () => {
    const k2 = new WasmKernels();
    const h = k2.reserve(1024);
    h[100] = 42;
    const before = k2.byteLength;
    const h2 = k2.reserve(before + 3 * 65536 + 1);
    expect(k2.byteLength).toBeGreaterThanOrEqual(before + 3 * 65536 + 1);
    expect(h2[100]).toBe(42);
    expect(h2.length * 4).toBe(k2.byteLength);
  });
});
