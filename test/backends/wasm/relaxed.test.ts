/**
 * The relaxed-SIMD builds of the WebAssembly kernels (f32x4.relaxed_madd, a 6 x 8 register tile) against
 * the plain SIMD builds (mul + add, 5 x 8) and a float64 reference: SGEMM with odd sizes crossing every
 * block and tile edge, transposed, strided and reversed operands, and accumulation, single-threaded and
 * split over worker threads; and the feature detection that picks the build: true once V8's
 * `--experimental-wasm-relaxed-simd` is set in this process, and, in a child process without the flag, in
 * agreement with whether the embedded relaxed build validates (false on Node 20), with the plain build
 * picked then.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import type { View } from '../../../src/backends/backend.js';
import { CpuStorage } from '../../../src/backends/cpu/storage.js';
import { decodeBase64 } from '../../../src/backends/wasm/base64.js';
import {
  createWasmBackend,
  enableWasmRelaxedSimd,
  GemmPool,
  threadPoolUnsupportedReason,
  WasmKernels,
  wasmMatmul,
  wasmRelaxedSimdSupported,
  wasmThreadsUnsupportedReason,
} from '../../../src/backends/wasm/index.js';
import {
  KERNELS_RELAXED_THREADS_WASM_BASE64,
  KERNELS_RELAXED_WASM_BASE64,
} from '../../../src/backends/wasm/kernels.generated.js';
import { HEAP_BASE, relaxedByDefault } from '../../../src/backends/wasm/kernels.js';
import * as neurite from '../../../src/index.js';

// Before anything compiles a relaxed module (imports compile nothing): Node 20 has relaxed SIMD behind
// this flag. Newer Node versions validate relaxed SIMD without it; the flag is then harmless.
if (!wasmRelaxedSimdSupported()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const canShare = wasmThreadsUnsupportedReason() === null;

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

/** How an m x k (or k x n) operand is laid out in memory. */
type Layout = 'row' | 'col' | 'strided' | 'reversed';

/** Element strides (rs, cs) and the offset of element (0, 0) in a buffer of `size(r, c, layout)` floats. */
function layoutOf(layout: Layout, r: number, c: number): { rs: number; cs: number; at: number } {
  switch (layout) {
    case 'row':
      return { rs: c, cs: 1, at: 0 };
    case 'col':
      return { rs: 1, cs: r, at: 0 };
    case 'strided': // every other column of a row-major r x (2c + 1) block, from column 1
      return { rs: 2 * c + 1, cs: 2, at: 1 };
    case 'reversed': // rows and columns in reverse order
      return { rs: -c, cs: -1, at: r * c - 1 };
  }
}

function size(layout: Layout, r: number, c: number): number {
  return layout === 'strided' ? r * (2 * c + 1) : r * c;
}

interface Case {
  m: number;
  n: number;
  k: number;
  a: Layout;
  b: Layout;
  ldcPad: number;
  accumulate: boolean;
}

/**
 * Runs C (+)= A B with `kernels.sgemm` on seeded data and returns C next to the float64 reference and the
 * float64 sum of |A(i, p) B(p, j)| of each element (the scale of its rounding error).
 */
function runCase(kernels: WasmKernels, t: Case, seed: number) {
  const { m, n, k } = t;
  const la = layoutOf(t.a, m, k);
  const lb = layoutOf(t.b, k, n);
  const ldc = n + t.ldcPad;
  const aData = fill(new Float32Array(size(t.a, m, k)), seed);
  const bData = fill(new Float32Array(size(t.b, k, n)), seed + 1);
  const c0 = fill(new Float32Array(m * ldc), seed + 2);
  const A = (i: number, p: number) => aData[la.at + i * la.rs + p * la.cs]!;
  const B = (p: number, j: number) => bData[lb.at + p * lb.rs + j * lb.cs]!;
  const ref = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = t.accumulate ? c0[i * ldc + j]! : 0;
      let abs = Math.abs(s);
      for (let p = 0; p < k; p++) {
        s += A(i, p) * B(p, j);
        abs += Math.abs(A(i, p) * B(p, j));
      }
      ref[i * n + j] = s;
      scale[i * n + j] = abs;
    }
  }
  // Layout in the linear memory: A, B, C, then the 16-byte aligned workspace.
  const aAt = HEAP_BASE;
  const bAt = aAt + 4 * aData.length;
  const cAt = bAt + 4 * bData.length;
  const work = (cAt + 4 * c0.length + 15) & ~15;
  const mem = kernels.reserve(work + kernels.sgemmWorkspace(m, n, k));
  mem.set(aData, aAt / 4);
  mem.set(bData, bAt / 4);
  mem.set(c0, cAt / 4);
  kernels.sgemm(
    m,
    n,
    k,
    aAt + 4 * la.at,
    la.rs,
    la.cs,
    bAt + 4 * lb.at,
    lb.rs,
    lb.cs,
    cAt,
    ldc,
    t.accumulate,
    work,
  );
  const out = kernels.reserve(0).slice(cAt / 4, cAt / 4 + m * ldc);
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    c.set(out.subarray(i * ldc, i * ldc + n), i * n);
    // the padding between rows of C is left alone
    for (let j = n; j < ldc; j++) expect(out[i * ldc + j]).toBe(c0[i * ldc + j]);
  }
  return { c, ref, scale };
}

/** |c - ref| within the float32 error bound of a k-term sum (k + 2 roundings of 2^-24 each, doubled). */
function expectClose(c: Float32Array, ref: Float64Array, scale: Float64Array, k: number, what: string): void {
  const u = 2 ** -24;
  let worst = 0;
  for (let i = 0; i < c.length; i++) {
    const err = Math.abs(c[i]! - ref[i]!);
    const bound = 2 * (k + 2) * u * scale[i]! + 1e-30;
    worst = Math.max(worst, err / bound);
  }
  expect(worst, `${what}: worst error / bound`).toBeLessThanOrEqual(1);
}

const CASES: Case[] = [
  { m: 1, n: 1, k: 1, a: 'row', b: 'row', ldcPad: 0, accumulate: false },
  { m: 6, n: 8, k: 3, a: 'row', b: 'row', ldcPad: 0, accumulate: false },
  { m: 5, n: 8, k: 7, a: 'col', b: 'row', ldcPad: 3, accumulate: true },
  { m: 7, n: 13, k: 5, a: 'strided', b: 'col', ldcPad: 1, accumulate: false },
  { m: 13, n: 9, k: 31, a: 'reversed', b: 'strided', ldcPad: 0, accumulate: true },
  { m: 37, n: 29, k: 385, a: 'row', b: 'reversed', ldcPad: 2, accumulate: false }, // k crosses KC = 384
  { m: 121, n: 17, k: 9, a: 'col', b: 'col', ldcPad: 0, accumulate: false }, // m crosses MC = 120
  { m: 11, n: 2053, k: 3, a: 'row', b: 'strided', ldcPad: 5, accumulate: true }, // n crosses NC = 2048
  { m: 64, n: 64, k: 64, a: 'row', b: 'row', ldcPad: 0, accumulate: false },
];

describe('wasm relaxed SIMD: detection', () => {
  it('is switched on and queried through the public entry point too', () => {
    expect(neurite.enableWasmRelaxedSimd).toBe(enableWasmRelaxedSimd);
    expect(neurite.wasmRelaxedSimdSupported).toBe(wasmRelaxedSimdSupported);
    expect(neurite.enableWasmRelaxedSimd()).toBe(true);
  });

  it('detects relaxed SIMD once the V8 flag is set, and the relaxed builds validate', () => {
    expect(wasmRelaxedSimdSupported()).toBe(true);
    expect(enableWasmRelaxedSimd()).toBe(true);
    expect(WebAssembly.validate(decodeBase64(KERNELS_RELAXED_WASM_BASE64))).toBe(true);
    expect(WebAssembly.validate(decodeBase64(KERNELS_RELAXED_THREADS_WASM_BASE64))).toBe(true);
  });

  it('picks the relaxed build by default, the plain one when asked or with NEURITE_WASM_RELAXED=0', () => {
    expect(new WasmKernels().relaxed).toBe(true);
    expect(new WasmKernels({ relaxed: false }).relaxed).toBe(false);
    expect(new WasmKernels({ relaxed: true, shared: false }).relaxed).toBe(true);
    const saved = process.env.NEURITE_WASM_RELAXED;
    process.env.NEURITE_WASM_RELAXED = '0';
    try {
      expect(relaxedByDefault()).toBe(false);
      expect(new WasmKernels().relaxed).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.NEURITE_WASM_RELAXED;
      else process.env.NEURITE_WASM_RELAXED = saved;
    }
    expect(relaxedByDefault()).toBe(true);
  });

  it('without the flag (a child process) detection agrees with validation and the plain build is picked', async () => {
    const script = [
      "import { decodeBase64 } from './src/backends/wasm/base64.ts';",
      "import { enableWasmRelaxedSimd, wasmRelaxedSimdSupported } from './src/backends/wasm/detect.ts';",
      "import { KERNELS_RELAXED_WASM_BASE64 } from './src/backends/wasm/kernels.generated.ts';",
      "import { WasmKernels } from './src/backends/wasm/kernels.ts';",
      'const validates = () => WebAssembly.validate(decodeBase64(KERNELS_RELAXED_WASM_BASE64));',
      'const before = { detected: wasmRelaxedSimdSupported(), validates: validates(), kernels: new WasmKernels().relaxed };',
      'let forced = null;',
      'try { new WasmKernels({ relaxed: true }); forced = "ok"; } catch (e) { forced = e.message; }',
      'const enabled = enableWasmRelaxedSimd();',
      'const after = { detected: wasmRelaxedSimdSupported(), validates: validates(), kernels: new WasmKernels().relaxed };',
      'console.log(JSON.stringify({ before, forced, enabled, after }));',
    ].join('\n');
    const env = { ...process.env };
    delete env.NEURITE_WASM_RELAXED;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: root, env },
    );
    const r = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(r.before.detected).toBe(r.before.validates);
    expect(r.before.kernels).toBe(r.before.detected);
    if (!r.before.detected) expect(r.forced).toMatch(/relaxed SIMD is not supported/);
    if (process.versions.node.startsWith('20.')) expect(r.before.detected).toBe(false);
    expect(r.enabled).toBe(true);
    expect(r.after).toEqual({ detected: true, validates: true, kernels: true });
  }, 60_000);
});

describe('wasm relaxed SIMD: SGEMM', () => {
  const builds = [false, ...(canShare ? [true] : [])].flatMap((shared) => [
    { shared, relaxed: false },
    { shared, relaxed: true },
  ]);
  const kernels = builds.map((b) => new WasmKernels(b));

  it.each(CASES.map((t, i) => [i, t] as const))('case %i %o: relaxed and plain match float64', (i, t) => {
    const results = kernels.map((kern) => runCase(kern, t, 100 + 7 * i));
    results.forEach((r, q) => {
      const b = builds[q]!;
      expect(kernels[q]!.relaxed).toBe(b.relaxed);
      expectClose(r.c, r.ref, r.scale, t.k, `${b.relaxed ? 'relaxed' : 'plain'}${b.shared ? ' shared' : ''}`);
    });
    // Same build, ordinary or shared memory: the same code, so the same bits.
    if (canShare) {
      expect(Array.from(results[2]!.c)).toEqual(Array.from(results[0]!.c));
      expect(Array.from(results[3]!.c)).toEqual(Array.from(results[1]!.c));
    }
  });
});

describe.runIf(threadPoolUnsupportedReason() === null)('wasm relaxed SIMD: worker threads', () => {
  const kernels = new WasmKernels({ shared: true, relaxed: true });
  const pool = new GemmPool(kernels);
  afterAll(() => pool.close());
  const backend = createWasmBackend();

  function view(r: number, c: number, seed: number): View {
    const data = fill(new Float32Array(r * c), seed);
    return {
      storage: new CpuStorage(backend, 'float32', data),
      shape: [1, r, c],
      strides: [r * c, c, 1],
      offset: 0,
    };
  }

  it('workers instantiate the relaxed build and split products to the single-threaded bits', async () => {
    await pool.start(1);
    const [m, n, k] = [203, 157, 301];
    const a = view(m, k, 5);
    const b = view(k, n, 6);
    const one = wasmMatmul(kernels, a, b);
    let two = wasmMatmul(kernels, a, b, pool, 2);
    // Chunks are claimed first come, first served: repeat until the worker has computed some.
    for (let r = 0; r < 50 && pool.chunkCounts()[1] === 0; r++) {
      expect(Array.from(two)).toEqual(Array.from(one));
      two = wasmMatmul(kernels, a, b, pool, 2);
    }
    expect(pool.chunkCounts()[1], 'chunks computed by the worker').toBeGreaterThan(0);
    expect(Array.from(two)).toEqual(Array.from(one));
    const A = (a.storage as CpuStorage).data as Float32Array;
    const B = (b.storage as CpuStorage).data as Float32Array;
    const ref = new Float64Array(m * n);
    const scale = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let abs = 0;
        for (let p = 0; p < k; p++) {
          s += A[i * k + p]! * B[p * n + j]!;
          abs += Math.abs(A[i * k + p]! * B[p * n + j]!);
        }
        ref[i * n + j] = s;
        scale[i * n + j] = abs;
      }
    }
    expectClose(two, ref, scale, k, 'relaxed, 2 threads');
  });
});
