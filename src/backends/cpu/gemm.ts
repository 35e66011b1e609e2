/**
 * General matrix multiply (GEMM) for the CPU backend, in plain TypeScript.
 *
 * Design (the Goto/BLIS structure, adapted to what V8's optimizing compiler does well):
 * - Loop nest `jc` (NC columns of C) → `pc` (KC slice of k; pack B) → `ic` (MC rows; pack A) → `jr` (NR-wide
 *   micro-panel of B, stays in L1) → `ir` (MR-tall micro-panel of A, from L2) → micro-kernel.
 * - Packed panels live in module-level scratch arrays that are grown on demand and reused, so the hot path
 *   never allocates. Packing reads any (even 0 or negative) strides, so transposes and broadcasts are free.
 * - The micro-kernel keeps an MR x NR = 2 x 3 tile of C in local doubles, loads MR + NR packed values per
 *   step of k and does MR * NR multiply-adds. Accumulation is in doubles for both f32 and f64.
 * - Edge tiles (m % MR, n % NR) are zero-padded in the packed panels; only their valid part is stored.
 * - Tiny products and matrix-vector-like shapes (m or n < 3) skip packing and use a direct loop that keeps
 *   four dot products in registers (about 2x faster than packing when every element is used only once).
 *
 * Why these choices (each measured against the alternatives with variants of this file):
 * - Larger register tiles (3x4, 4x3, 4x4, 2x4, 2x6) are slower in V8: TurboFan schedules all the products of
 *   a step before the adds, so above ~13 live doubles it spills accumulators to the stack on every step.
 *   2x3 is the largest tile whose loop compiles without spills; it beat the best spilling tile (3x4) by ~25%.
 * - The packed panels are plain `number[]` arrays with PACKED_DOUBLE elements rather than Float64Arrays:
 *   V8 loads from them with one bounds check and no base/external-pointer arithmetic, which gives ~20% fewer
 *   instructions in the loop and ~30% more GFLOP/s. Float32 packing was no faster than double packing.
 * - Panel indices are masked (`& IDX_MASK`) once per step, so V8 can prove `i + 1`, `i + 2` do not overflow
 *   and drops the per-load overflow checks (~10%).
 * - KC = 512 beat 128/256/384 by a few percent; MC (64..256) and the jr/ir loop order made no measurable
 *   difference at this speed. NC = 1536 caps the packed-B scratch at ~6 MB. The tile goes through a small
 *   Float64Array on its way to C, which costs 12 extra memory accesses per 6144 flops at KC = 512.
 *
 * Measured with `npx tsx bench/gemm-micro.ts` on the 2-core AMD EPYC dev VM, Node 20.20, single thread,
 * square row-major products, GFLOP/s = 2 n^3 / wall time, median of the per-run medians of 8 runs:
 *
 *   n      f32    f64
 *   128    6.3    6.3
 *   512    6.7    6.7
 *   1024   6.8    6.75
 *
 * (TensorFlow.js's CPU backend: ~0.93 GFLOP/s.) The host is shared: in busy periods every number here,
 * and any other CPU-bound loop, runs ~1.6x slower (4.2-4.6 GFLOP/s); compare variants in the same period.
 *
 * @module
 */

/** A float buffer the CPU backend computes in. */
export type FloatArray = Float32Array | Float64Array;

/** Rows of the register tile (packed-A micro-panel height). */
const MR = 2;
/** Columns of the register tile (packed-B micro-panel width). */
const NR = 3;
/** Depth of a packed block (k slice). */
const KC = 512;
/** Rows of C per packed-A block (a multiple of MR). */
const MC = 128;
/** Columns of C per packed-B block (a multiple of NR). */
const NC = 1536;
/** Products with at most this many multiply-adds go straight to the direct loop (packing would dominate). */
const SMALL_WORK = 5 * 5 * 5;
/** Products with fewer rows or columns than this use the direct loop (matrix-vector like shapes). */
const DIRECT_DIM = 3;
/** Index mask: packed scratch never reaches 2^30 entries, and the mask lets V8 drop overflow checks. */
const IDX_MASK = 0x3fffffff;

/** Creates a PACKED_DOUBLE_ELEMENTS array of `n` zeros (never holey, never Smi-only). */
function doubleScratch(n: number): number[] {
  const s: number[] = [];
  for (let i = 0; i < n; i++) s.push(0.5);
  s.fill(0);
  return s;
}

let packedA: number[] = doubleScratch(MR * 16);
let packedB: number[] = doubleScratch(NR * 16);
/** The micro-kernel writes its MR x NR tile here (row-major). */
const tile = new Float64Array(MR * NR);

/** Packed-scratch length needed for `len` entries, rounded up so that slowly growing shapes do not thrash. */
function grownLength(current: number, len: number): number {
  return Math.max(len, Math.min(current * 2, KC * Math.max(MC, NC)));
}

/**
 * Packs the mc x kc block of A at (ic, pc) as MR-row micro-panels: panel r holds, for p = 0..kc-1, the MR
 * values A(ic + r*MR + i, pc + p). Rows past mc are zero.
 */
function packA(
  a: FloatArray,
  aOff: number,
  aRs: number,
  aCs: number,
  ic: number,
  mc: number,
  pc: number,
  kc: number,
  dst: number[],
): void {
  let d = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    let s0 = aOff + (ic + ir) * aRs + pc * aCs;
    if (ir + 1 < mc) {
      let s1 = s0 + aRs;
      for (let p = 0; p < kc; p++) {
        dst[d] = a[s0]!;
        dst[d + 1] = a[s1]!;
        d += 2;
        s0 += aCs;
        s1 += aCs;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        dst[d] = a[s0]!;
        dst[d + 1] = 0;
        d += 2;
        s0 += aCs;
      }
    }
  }
}

/**
 * Packs the kc x nc block of B at (pc, jc) as NR-column micro-panels: panel q holds, for p = 0..kc-1, the NR
 * values B(pc + p, jc + q*NR + j). Columns past nc are zero.
 */
function packB(
  b: FloatArray,
  bOff: number,
  bRs: number,
  bCs: number,
  jc: number,
  nc: number,
  pc: number,
  kc: number,
  dst: number[],
): void {
  let d = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = nc - jr;
    let s0 = bOff + pc * bRs + (jc + jr) * bCs;
    if (nr >= 3) {
      let s1 = s0 + bCs;
      let s2 = s1 + bCs;
      for (let p = 0; p < kc; p++) {
        dst[d] = b[s0]!;
        dst[d + 1] = b[s1]!;
        dst[d + 2] = b[s2]!;
        d += 3;
        s0 += bRs;
        s1 += bRs;
        s2 += bRs;
      }
    } else if (nr === 2) {
      let s1 = s0 + bCs;
      for (let p = 0; p < kc; p++) {
        dst[d] = b[s0]!;
        dst[d + 1] = b[s1]!;
        dst[d + 2] = 0;
        d += 3;
        s0 += bRs;
        s1 += bRs;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        dst[d] = b[s0]!;
        dst[d + 1] = 0;
        dst[d + 2] = 0;
        d += 3;
        s0 += bRs;
      }
    }
  }
}

/**
 * The 2x3 micro-kernel: tile = (A micro-panel at `ai`) * (B micro-panel at `bi`) over `kc` steps of k.
 * All six accumulators and the five loaded values fit in registers, so the loop compiles without spills.
 */
function kernel2x3(kc: number, ap: number[], ai: number, bp: number[], bi: number, out: Float64Array): void {
  let c00 = 0;
  let c01 = 0;
  let c02 = 0;
  let c10 = 0;
  let c11 = 0;
  let c12 = 0;
  const steps = kc & 0xffff;
  for (let p = 0; p < steps; p++) {
    // Masking tells V8 the indices are small, so `ai + 1` etc. need no overflow check.
    ai &= IDX_MASK;
    bi &= IDX_MASK;
    const b0 = bp[bi]!;
    const b1 = bp[bi + 1]!;
    const b2 = bp[bi + 2]!;
    const a0 = ap[ai]!;
    const a1 = ap[ai + 1]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    ai += 2;
    bi += 3;
  }
  out[0] = c00;
  out[1] = c01;
  out[2] = c02;
  out[3] = c10;
  out[4] = c11;
  out[5] = c12;
}

/**
 * C block (mc x nc at row ic, column jc of C) (+)= packed A block * packed B block. `add` keeps what C holds.
 */
function macroKernel(
  mc: number,
  nc: number,
  kc: number,
  ap: number[],
  bp: number[],
  c: FloatArray,
  cBlock: number,
  ldc: number,
  add: boolean,
): void {
  const t = tile;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    const bi = jr * kc;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = Math.min(MR, mc - ir);
      kernel2x3(kc, ap, ir * kc, bp, bi, t);
      const c0 = cBlock + ir * ldc + jr;
      if (mr === MR && nr === NR) {
        const c1 = c0 + ldc;
        if (add) {
          c[c0] = c[c0]! + t[0]!;
          c[c0 + 1] = c[c0 + 1]! + t[1]!;
          c[c0 + 2] = c[c0 + 2]! + t[2]!;
          c[c1] = c[c1]! + t[3]!;
          c[c1 + 1] = c[c1 + 1]! + t[4]!;
          c[c1 + 2] = c[c1 + 2]! + t[5]!;
        } else {
          c[c0] = t[0]!;
          c[c0 + 1] = t[1]!;
          c[c0 + 2] = t[2]!;
          c[c1] = t[3]!;
          c[c1 + 1] = t[4]!;
          c[c1 + 2] = t[5]!;
        }
      } else {
        for (let i = 0; i < mr; i++) {
          const ci = c0 + i * ldc;
          for (let j = 0; j < nr; j++) {
            const v = t[i * NR + j]!;
            c[ci + j] = add ? c[ci + j]! + v : v;
          }
        }
      }
    }
  }
}

/**
 * Direct loop without packing, for tiny products and matrix-vector shapes (where every element of the big
 * operand is used once, so packing it would cost as much as the product). C element (i, j) is at
 * `c[cOff + i * cRs + j * cCs]`. Each row of A is multiplied with four columns of B at a time.
 */
function gemmDirect(
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  aOff: number,
  aRs: number,
  aCs: number,
  b: FloatArray,
  bOff: number,
  bRs: number,
  bCs: number,
  c: FloatArray,
  cOff: number,
  cRs: number,
  cCs: number,
  accumulate: boolean,
): void {
  const bCs2 = 2 * bCs;
  const bCs3 = 3 * bCs;
  for (let i = 0; i < m; i++) {
    const aRow = aOff + i * aRs;
    const cRow = cOff + i * cRs;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let ai = aRow;
      let bi = bOff + j * bCs;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let p = 0; p < k; p++) {
        const av = a[ai]!;
        s0 += av * b[bi]!;
        s1 += av * b[bi + bCs]!;
        s2 += av * b[bi + bCs2]!;
        s3 += av * b[bi + bCs3]!;
        ai += aCs;
        bi += bRs;
      }
      const ci = cRow + j * cCs;
      if (accumulate) {
        c[ci] = c[ci]! + s0;
        c[ci + cCs] = c[ci + cCs]! + s1;
        c[ci + 2 * cCs] = c[ci + 2 * cCs]! + s2;
        c[ci + 3 * cCs] = c[ci + 3 * cCs]! + s3;
      } else {
        c[ci] = s0;
        c[ci + cCs] = s1;
        c[ci + 2 * cCs] = s2;
        c[ci + 3 * cCs] = s3;
      }
    }
    for (; j < n; j++) {
      let ai = aRow;
      let bi = bOff + j * bCs;
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += a[ai]! * b[bi]!;
        ai += aCs;
        bi += bRs;
      }
      const ci = cRow + j * cCs;
      c[ci] = accumulate ? c[ci]! + s : s;
    }
  }
}

/**
 * General matrix multiply: `C[m x n] = A[m x k] * B[k x n]`, or `C += A * B` when `accumulate` is set.
 *
 * C is row-major and contiguous (leading dimension `n`) starting at `cOff`. A element (i, p) is read from
 * `a[aOff + i * aRs + p * aCs]` and B element (p, j) from `b[bOff + p * bRs + j * bCs]`; strides may be any
 * integers (0 or negative included), so transposed operands and broadcasts need no copy. Products are
 * accumulated in doubles. With k = 0, C is zeroed (or left alone when accumulating); m = 0 or n = 0 is a no-op.
 *
 * @param m - rows of A and C.
 * @param n - columns of B and C.
 * @param k - columns of A = rows of B.
 * @param a - storage of A.
 * @param aOff - index of A(0, 0) in `a`.
 * @param aRs - stride between rows of A.
 * @param aCs - stride between columns of A.
 * @param b - storage of B.
 * @param bOff - index of B(0, 0) in `b`.
 * @param bRs - stride between rows of B.
 * @param bCs - stride between columns of B.
 * @param c - storage of C (written).
 * @param cOff - index of C(0, 0) in `c`.
 * @param accumulate - add the product to C instead of overwriting it.
 */
export function gemm(
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  aOff: number,
  aRs: number,
  aCs: number,
  b: FloatArray,
  bOff: number,
  bRs: number,
  bCs: number,
  c: FloatArray,
  cOff: number,
  accumulate: boolean,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) c.fill(0, cOff, cOff + m * n);
    return;
  }
  if (n < DIRECT_DIM && n < m) {
    // Few columns: C^T = B^T A^T has few rows, which the direct loop handles best.
    gemmDirect(n, m, k, b, bOff, bCs, bRs, a, aOff, aCs, aRs, c, cOff, 1, n, accumulate);
    return;
  }
  if (m < DIRECT_DIM || m * n * k <= SMALL_WORK) {
    gemmDirect(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, n, 1, accumulate);
    return;
  }
  const kcMax = Math.min(KC, k);
  const needA = kcMax * Math.min(MC, Math.ceil(m / MR) * MR);
  const needB = kcMax * Math.min(NC, Math.ceil(n / NR) * NR);
  if (packedA.length < needA) packedA = doubleScratch(grownLength(packedA.length, needA));
  if (packedB.length < needB) packedB = doubleScratch(grownLength(packedB.length, needB));
  const ap = packedA;
  const bp = packedB;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const add = accumulate || pc > 0;
      packB(b, bOff, bRs, bCs, jc, nc, pc, kc, bp);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(a, aOff, aRs, aCs, ic, mc, pc, kc, ap);
        macroKernel(mc, nc, kc, ap, bp, c, cOff + ic * n + jc, n, add);
      }
    }
  }
}

/**
 * A batch of independent GEMMs: for q in 0..batch-1, `C_q = A_q * B_q` (or `C_q += A_q * B_q`), where
 * A_q starts at `aOff + q * aBatchStride`, B_q at `bOff + q * bBatchStride` and C_q at `cOff + q * m * n`
 * (C batches are contiguous). A batch stride of 0 broadcasts that operand over the batch. Other parameters
 * are as in {@link gemm}.
 *
 * @param batch - number of matrix products.
 * @param aBatchStride - distance between consecutive A matrices (0 = broadcast).
 * @param bBatchStride - distance between consecutive B matrices (0 = broadcast).
 */
export function batchedGemm(
  batch: number,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  aOff: number,
  aBatchStride: number,
  aRs: number,
  aCs: number,
  b: FloatArray,
  bOff: number,
  bBatchStride: number,
  bRs: number,
  bCs: number,
  c: FloatArray,
  cOff: number,
  accumulate: boolean,
): void {
  const cStride = m * n;
  for (let q = 0; q < batch; q++) {
    gemm(
      m,
      n,
      k,
      a,
      aOff + q * aBatchStride,
      aRs,
      aCs,
      b,
      bOff + q * bBatchStride,
      bRs,
      bCs,
      c,
      cOff + q * cStride,
      accumulate,
    );
  }
}
