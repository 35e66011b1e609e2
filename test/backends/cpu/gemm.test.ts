import { describe, expect, it } from 'vitest';
import { batchedGemm, type FloatArray, gemm } from '../../../src/backends/cpu/gemm.js';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Small seeded PRNG (mulberry32) returning uniform values in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomArray(Ctor: Ctor, len: number, rand: () => number): FloatArray {
  const x = new Ctor(len);
  for (let i = 0; i < len; i++) x[i] = rand() * 2 - 1;
  return x;
}

interface Operand {
  data: FloatArray;
  off: number;
  rs: number;
  cs: number;
}

/** Reference: C[i * n + j] (+)= sum_p A(i, p) * B(p, j), summed in doubles. */
function naive(
  m: number,
  n: number,
  k: number,
  A: Operand,
  B: Operand,
  c: Float64Array,
  accumulate: boolean,
) {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += A.data[A.off + i * A.rs + p * A.cs]! * B.data[B.off + p * B.rs + j * B.cs]!;
      }
      c[i * n + j] = accumulate ? c[i * n + j]! + s : s;
    }
  }
}

/** Checks |got - want| <= tol * (|want| + sum |a||b| scale) element-wise, with a readable failure. */
function expectClose(got: FloatArray, gotOff: number, want: Float64Array, scale: Float64Array, tol: number) {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[gotOff + i]! - want[i]!) / (scale[i]! + 1e-30);
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  if (!(worst <= tol)) {
    expect.fail(`max relative error ${worst} > ${tol} at ${at}: got ${got[gotOff + at]}, want ${want[at]}`);
  }
}

/** Error scale per element: |C0| + sum_p |A(i,p)| |B(p,j)| (bounds the rounding error of any summation order). */
function errorScale(m: number, n: number, k: number, A: Operand, B: Operand, c0: Float64Array | null) {
  const s = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let t = c0 ? Math.abs(c0[i * n + j]!) : 0;
      for (let p = 0; p < k; p++) {
        t += Math.abs(A.data[A.off + i * A.rs + p * A.cs]! * B.data[B.off + p * B.rs + j * B.cs]!);
      }
      s[i * n + j] = t;
    }
  }
  return s;
}

const TYPES: [string, Ctor, number][] = [
  ['f32', Float32Array, 1e-5],
  ['f64', Float64Array, 1e-12],
];

type Layout = 'rowmajor' | 'transA' | 'transB' | 'transBoth' | 'strided' | 'negative';

/**
 * Builds A (m x k) and B (k x n) in the given layout inside larger random buffers, so that any stray read
 * or write outside the logical matrices would show up as a mismatch.
 */
function makeOperands(Ctor: Ctor, m: number, n: number, k: number, layout: Layout, rand: () => number) {
  const pad = 5;
  let A: Operand;
  let B: Operand;
  switch (layout) {
    case 'rowmajor':
      A = { data: randomArray(Ctor, m * k + 2 * pad, rand), off: pad, rs: k, cs: 1 };
      B = { data: randomArray(Ctor, k * n + 2 * pad, rand), off: pad, rs: n, cs: 1 };
      break;
    case 'transA':
      A = { data: randomArray(Ctor, m * k + 2 * pad, rand), off: pad, rs: 1, cs: m };
      B = { data: randomArray(Ctor, k * n + 2 * pad, rand), off: pad, rs: n, cs: 1 };
      break;
    case 'transB':
      A = { data: randomArray(Ctor, m * k + 2 * pad, rand), off: pad, rs: k, cs: 1 };
      B = { data: randomArray(Ctor, k * n + 2 * pad, rand), off: pad, rs: 1, cs: k };
      break;
    case 'transBoth':
      A = { data: randomArray(Ctor, m * k + 2 * pad, rand), off: pad, rs: 1, cs: m };
      B = { data: randomArray(Ctor, k * n + 2 * pad, rand), off: pad, rs: 1, cs: k };
      break;
    case 'strided':
      // Every other element, with padded rows.
      A = { data: randomArray(Ctor, m * (2 * k + 3) + 2 * pad, rand), off: pad, rs: 2 * k + 3, cs: 2 };
      B = { data: randomArray(Ctor, k * (3 * n + 1) + 2 * pad, rand), off: pad, rs: 3 * n + 1, cs: 3 };
      break;
    case 'negative':
      // Rows of A and columns of B walked backwards.
      A = { data: randomArray(Ctor, m * k + 2 * pad, rand), off: pad + (m - 1) * k, rs: -k, cs: 1 };
      B = { data: randomArray(Ctor, k * n + 2 * pad, rand), off: pad + (n - 1), rs: n, cs: -1 };
      break;
  }
  return { A, B };
}

function check(
  Ctor: Ctor,
  tol: number,
  m: number,
  n: number,
  k: number,
  layout: Layout,
  accumulate: boolean,
  seed: number,
) {
  const rand = rng(seed);
  const { A, B } = makeOperands(Ctor, m, n, k, layout, rand);
  const cOff = 3;
  const c = randomArray(Ctor, cOff + m * n + 4, rand);
  const before = Float64Array.from(c);
  const c0 = Float64Array.from(c.subarray(cOff, cOff + m * n));
  const want = Float64Array.from(c0);
  naive(m, n, k, A, B, want, accumulate);
  gemm(m, n, k, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, c, cOff, accumulate);
  expectClose(c, cOff, want, errorScale(m, n, k, A, B, accumulate ? c0 : null), tol);
  // Nothing outside C was touched.
  for (let i = 0; i < cOff; i++) expect(c[i]).toBe(before[i]);
  for (let i = cOff + m * n; i < c.length; i++) expect(c[i]).toBe(before[i]);
}

describe('gemm', () => {
  for (const [name, Ctor, tol] of TYPES) {
    describe(name, () => {
      it('matches the naive loop on edge sizes', () => {
        const shapes: [number, number, number][] = [
          [1, 1, 1],
          [1, 1, 7],
          [2, 3, 1],
          [5, 7, 3],
          [7, 5, 3],
          [3, 2, 9],
          [8, 8, 8],
          [9, 9, 9],
          [17, 33, 65],
          [33, 17, 2],
          [64, 64, 64],
          [65, 31, 130],
        ];
        let seed = 1;
        for (const [m, n, k] of shapes) {
          for (const accumulate of [false, true]) check(Ctor, tol, m, n, k, 'rowmajor', accumulate, seed++);
        }
      });

      it('handles vector-like shapes (m or n of 1 or 2)', () => {
        let seed = 100;
        for (const [m, n, k] of [
          [1, 50, 40],
          [50, 1, 40],
          [1, 1, 300],
          [1, 200, 3],
          [2, 40, 30],
          [40, 2, 30],
          [2, 2, 50],
        ] as [number, number, number][]) {
          for (const layout of ['rowmajor', 'transBoth'] as Layout[])
            check(Ctor, tol, m, n, k, layout, false, seed++);
        }
      });

      it('supports transposed, strided and negative strides', () => {
        let seed = 200;
        for (const layout of ['transA', 'transB', 'transBoth', 'strided', 'negative'] as Layout[]) {
          for (const [m, n, k] of [
            [5, 7, 3],
            [17, 33, 65],
            [40, 23, 19],
          ] as [number, number, number][]) {
            check(Ctor, tol, m, n, k, layout, seed % 2 === 0, seed++);
          }
        }
      });

      it('crosses the k, m and n block boundaries', () => {
        // k > KC (512) splits k; m > MC (128) and n with remainders exercise every edge-tile case.
        check(Ctor, tol, 131, 47, 1030, 'rowmajor', false, 300);
        check(Ctor, tol, 131, 47, 1030, 'transA', true, 301);
        check(Ctor, tol, 4, 3100, 5, 'rowmajor', false, 302);
        check(Ctor, tol, 4, 3100, 5, 'transB', true, 303);
      });

      it('matches the naive loop on random shapes', () => {
        const rand = rng(7);
        const dim = () => (rand() < 0.25 ? 1 : 1 + Math.floor(rand() * 70));
        const layouts: Layout[] = ['rowmajor', 'transA', 'transB', 'transBoth', 'strided', 'negative'];
        for (let t = 0; t < 40; t++) {
          const layout = layouts[Math.floor(rand() * layouts.length)]!;
          check(Ctor, tol, dim(), dim(), dim(), layout, rand() < 0.5, 1000 + t);
        }
      });

      it('zeroes C for k = 0 and leaves it when accumulating', () => {
        const c = new Ctor([1, 2, 3, 4, 5, 6, 7]);
        const empty = new Ctor(0);
        gemm(2, 3, 0, empty, 0, 0, 1, empty, 0, 3, 1, c, 1, true);
        expect(Array.from(c)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        gemm(2, 3, 0, empty, 0, 0, 1, empty, 0, 3, 1, c, 1, false);
        expect(Array.from(c)).toEqual([1, 0, 0, 0, 0, 0, 0]);
      });

      it('does nothing for m = 0 or n = 0', () => {
        const a = new Ctor([1, 2, 3, 4]);
        const c = new Ctor([9, 9, 9]);
        gemm(0, 3, 2, a, 0, 2, 1, a, 0, 1, 1, c, 0, false);
        gemm(3, 0, 2, a, 0, 2, 1, a, 0, 1, 1, c, 0, false);
        gemm(0, 0, 0, a, 0, 2, 1, a, 0, 1, 1, c, 0, false);
        expect(Array.from(c)).toEqual([9, 9, 9]);
      });

      it('uses zero strides as broadcasts', () => {
        // A with aCs = 0: every row is a constant; B with bRs = 0: every column is a constant.
        const rand = rng(11);
        const m = 6;
        const n = 5;
        const k = 4;
        const A: Operand = { data: randomArray(Ctor, m, rand), off: 0, rs: 1, cs: 0 };
        const B: Operand = { data: randomArray(Ctor, n, rand), off: 0, rs: 0, cs: 1 };
        const want = new Float64Array(m * n);
        naive(m, n, k, A, B, want, false);
        const c = new Ctor(m * n);
        gemm(m, n, k, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, c, 0, false);
        expectClose(c, 0, want, errorScale(m, n, k, A, B, null), tol);
      });
    });
  }
});

describe('batchedGemm', () => {
  for (const [name, Ctor, tol] of TYPES) {
    it(`${name}: broadcasts batch stride 0 and accumulates`, () => {
      const rand = rng(42);
      const batch = 4;
      for (const [m, n, k] of [
        [5, 7, 3],
        [17, 33, 65],
        [1, 9, 4],
      ] as [number, number, number][]) {
        for (const [aBs, bBs] of [
          [m * k, k * n],
          [0, k * n],
          [m * k, 0],
          [0, 0],
        ]) {
          for (const accumulate of [false, true]) {
            const aOff = 2;
            const bOff = 1;
            const cOff = 3;
            const a = randomArray(Ctor, aOff + Math.max(1, batch * aBs) + m * k, rand);
            const b = randomArray(Ctor, bOff + Math.max(1, batch * bBs) + k * n, rand);
            const c = randomArray(Ctor, cOff + batch * m * n, rand);
            // A transposed inside each batch (rs = 1, cs = m); B row-major.
            const want = Float64Array.from(c.subarray(cOff));
            const scale = new Float64Array(batch * m * n);
            for (let q = 0; q < batch; q++) {
              const A: Operand = { data: a, off: aOff + q * aBs, rs: 1, cs: m };
              const B: Operand = { data: b, off: bOff + q * bBs, rs: n, cs: 1 };
              const wq = want.subarray(q * m * n, (q + 1) * m * n);
              const c0 = accumulate ? Float64Array.from(wq) : null;
              naive(m, n, k, A, B, wq, accumulate);
              scale.set(errorScale(m, n, k, A, B, c0), q * m * n);
            }
            batchedGemm(batch, m, n, k, a, aOff, aBs, 1, m, b, bOff, bBs, n, 1, c, cOff, accumulate);
            expectClose(c, cOff, want, scale, tol);
          }
        }
      }
    });
  }

  it('does nothing for batch = 0', () => {
    const c = new Float32Array([5, 5]);
    batchedGemm(0, 1, 2, 1, c, 0, 0, 1, 1, c, 0, 0, 2, 1, c, 0, false);
    expect(Array.from(c)).toEqual([5, 5]);
  });
});
