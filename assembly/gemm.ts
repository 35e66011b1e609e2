// SGEMM with 128-bit WebAssembly SIMD: C[m x n] (+)= A[m x k] * B[k x n] on float32 data in linear memory.
//
// Loop nest (the Goto/BLIS structure): jc (NC columns of C; pack a KC x NC block of B) -> pc (KC slice
// of k) -> ic (MC rows of C; pack an MC x KC block of A) -> jr (NR-wide micro-panel of B, stays in L1)
// -> ir (MR-tall micro-panel of A, from L2) -> micro-kernel.
//
// Micro-kernel: an MR x NR = 5 x 8 tile of C in 10 f32x4 locals. Per step of k it loads one row of the
// B micro-panel (2 x f32x4), broadcasts each of the 5 values of A (v128.load32_splat) and does 10
// multiplies and 10 adds. V8 has 15 allocatable xmm registers for wasm (xmm15 is its scratch), and
// without fused multiply-add every product needs a temporary: 10 accumulators + 2 B vectors + 1
// broadcast + 1 product = 14 registers. Measured alternatives (bench/wasm-gemm.ts, n = 1024, GFLOP/s):
// 5x8 44, 3x12 39, 4x8 35, 12x4 36, 6x8 (12 accumulators, one spilled per step) 23-28, 6x8 with A
// packed twice to avoid the product temporary 36, 4x12 25; unrolling the k loop by 2 or 4 makes V8
// hoist loads and spill (24-33). KC 256 or 512 and MC 60-480 were within noise of each other.
//
// The relaxed-SIMD build (scripts/build-wasm.ts compiles this file with and without it;
// ASC_FEATURE_RELAXED_SIMD is a compile-time constant) uses f32x4.relaxed_madd, which V8 lowers to one
// vfmadd231ps into the accumulator where the CPU has FMA3: no product temporary, so a 6 x 8 tile fits
// (12 accumulators + 2 B vectors + 1 broadcast = 15 registers, no spill). Measured on the 2-core AMD EPYC
// dev machine, n = 1024, 1 thread, interleaved in one process: 5 x 8 with FMA is no faster than without
// (~48 both: mul + add use separate FMA and FADD ports there), 6 x 8 with FMA +6-7%; 6 x 8 with FMA and
// the k loop unrolled by 2 is slower (27).
//
// Pointers are byte addresses; strides are in elements and may be any i32 (0 or negative too): the
// address arithmetic wraps modulo 2^32 like the wasm32 address space, so transposed, broadcast and
// reversed operands are read in place and need no copy. Packed panels are zero-padded at the edges, so
// the micro-kernel always computes a full tile; only the valid part is written to C.

/** Rows of the register tile: 6 with fused multiply-add (relaxed-SIMD build), 5 without. */
// @ts-ignore: decorator
@inline const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
/** Columns of the register tile (two f32x4). */
// @ts-ignore: decorator
@inline const NR: i32 = 8;
/** Depth of a packed block (k slice). */
// @ts-ignore: decorator
@inline const KC: i32 = 384;
/** Rows of A per packed block (a multiple of MR, 5 and 6): 120 x 384 floats = 180 KB, well inside L2. */
// @ts-ignore: decorator
@inline const MC: i32 = 120;
/** Columns of B per packed block (a multiple of NR): 384 x 2048 floats = 3 MB. */
// @ts-ignore: decorator
@inline const NC: i32 = 2048;
/** Bytes of the tile buffer at the start of the workspace (MR x NR floats, at most 192, rounded up). */
// @ts-ignore: decorator
@inline const TILE_BYTES: i32 = 256;

/** Bytes of workspace `sgemm` needs for an m x n x k product (pass a 16-byte aligned block this large). */
export function sgemmWorkspace(m: i32, n: i32, k: i32): i32 {
  const kc = max(1, min(KC, k));
  const mc = min(MC, ((m + MR - 1) / MR) * MR);
  const nc = min(NC, ((n + NR - 1) / NR) * NR);
  return TILE_BYTES + (kc * mc + kc * nc) * 4;
}

/**
 * Packs the mc x kc block of A whose (0, 0) is at `a` into MR-row micro-panels at `dst`: panel r holds,
 * for p = 0..kc-1, the MR values A(r*MR + i, p). Rows past mc are zero.
 */
function packA(a: usize, rs: i32, cs: i32, mc: i32, kc: i32, dst: usize): void {
  const rsb = rs << 2;
  const csb = cs << 2;
  for (let ir = 0; ir < mc; ir += MR) {
    let s = a + <usize>(ir * rsb);
    if (ir + MR <= mc) {
      const s1 = <usize>rsb;
      const s2 = <usize>(2 * rsb);
      const s3 = <usize>(3 * rsb);
      const s4 = <usize>(4 * rsb);
      const s5 = <usize>(5 * rsb);
      for (let p = 0; p < kc; p++) {
        store<f32>(dst, load<f32>(s));
        store<f32>(dst, load<f32>(s + s1), 4);
        store<f32>(dst, load<f32>(s + s2), 8);
        store<f32>(dst, load<f32>(s + s3), 12);
        store<f32>(dst, load<f32>(s + s4), 16);
        if (MR == 6) store<f32>(dst, load<f32>(s + s5), 20);
        dst += <usize>(MR * 4);
        s += <usize>csb;
      }
    } else {
      const mr = mc - ir;
      for (let p = 0; p < kc; p++) {
        let i = 0;
        for (; i < mr; i++) store<f32>(dst + <usize>(i << 2), load<f32>(s + <usize>(i * rsb)));
        for (; i < MR; i++) store<f32>(dst + <usize>(i << 2), 0);
        dst += <usize>(MR * 4);
        s += <usize>csb;
      }
    }
  }
}

/**
 * Packs the kc x nc block of B whose (0, 0) is at `b` into NR-column micro-panels at `dst`: panel q holds,
 * for p = 0..kc-1, the NR values B(p, q*NR + j). Columns past nc are zero.
 */
function packB(b: usize, rs: i32, cs: i32, kc: i32, nc: i32, dst: usize): void {
  const rsb = rs << 2;
  const csb = cs << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    let s = b + <usize>(jr * csb);
    if (jr + NR <= nc && cs == 1) {
      // Rows of B are contiguous: two vector copies per step.
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(s));
        v128.store(dst, v128.load(s, 16), 16);
        dst += <usize>(NR * 4);
        s += <usize>rsb;
      }
    } else if (jr + NR <= nc) {
      for (let p = 0; p < kc; p++) {
        let t = s;
        store<f32>(dst, load<f32>(t));
        t += <usize>csb;
        store<f32>(dst, load<f32>(t), 4);
        t += <usize>csb;
        store<f32>(dst, load<f32>(t), 8);
        t += <usize>csb;
        store<f32>(dst, load<f32>(t), 12);
        t += <usize>csb;
        store<f32>(dst, load<f32>(t), 16);
        t += <usize>csb;
        store<f32>(dst, load<f32>(t), 20);
        t += <usize>csb;
        store<f32>(dst, load<f32>(t), 24);
        t += <usize>csb;
        store<f32>(dst, load<f32>(t), 28);
        dst += <usize>(NR * 4);
        s += <usize>rsb;
      }
    } else {
      const nr = nc - jr;
      for (let p = 0; p < kc; p++) {
        let j = 0;
        for (; j < nr; j++) store<f32>(dst + <usize>(j << 2), load<f32>(s + <usize>(j * csb)));
        for (; j < NR; j++) store<f32>(dst + <usize>(j << 2), 0);
        dst += <usize>(NR * 4);
        s += <usize>rsb;
      }
    }
  }
}

/**
 * acc + x * y on f32x4: one fused multiply-add (`f32x4.relaxed_madd`) in the relaxed-SIMD build
 * (`--enable relaxed-simd`), a multiply and an add otherwise. The condition is a compile-time constant,
 * so each build holds only its own branch.
 */
// @ts-ignore: decorator
@inline function madd(x: v128, y: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(x, y, acc);
  return f32x4.add(acc, f32x4.mul(x, y));
}

/** Stores (add = false) or adds (add = true) the f32x4 `v` at `p` (any alignment). */
// @ts-ignore: decorator
@inline function put(p: usize, v: v128, add: bool): void {
  v128.store(p, add ? f32x4.add(v128.load(p), v) : v);
}

/**
 * The MR x 8 micro-kernel: the C tile at `c` (row stride `ldcb` bytes) (+)= packed A micro-panel at `a`
 * times packed B micro-panel at `b`, over kc steps of k. Only the top-left mr x nr part is written; a
 * partial tile goes through the buffer at `tile`.
 */
function kernel(kc: i32, a: usize, b: usize, c: usize, ldcb: i32, add: bool, mr: i32, nr: i32, tile: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0);
  let c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0);
  let c51 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(a, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(a, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(a, 12);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    x = v128.load32_splat(a, 16);
    c40 = madd(x, b0, c40);
    c41 = madd(x, b1, c41);
    if (MR == 6) {
      x = v128.load32_splat(a, 20);
      c50 = madd(x, b0, c50);
      c51 = madd(x, b1, c51);
    }
    a += <usize>(MR * 4);
    b += <usize>(NR * 4);
  }
  if (mr == MR && nr == NR) {
    let r = c;
    put(r, c00, add);
    put(r + 16, c01, add);
    r += <usize>ldcb;
    put(r, c10, add);
    put(r + 16, c11, add);
    r += <usize>ldcb;
    put(r, c20, add);
    put(r + 16, c21, add);
    r += <usize>ldcb;
    put(r, c30, add);
    put(r + 16, c31, add);
    r += <usize>ldcb;
    put(r, c40, add);
    put(r + 16, c41, add);
    if (MR == 6) {
      r += <usize>ldcb;
      put(r, c50, add);
      put(r + 16, c51, add);
    }
    return;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  v128.store(tile, c40, 128);
  v128.store(tile, c41, 144);
  if (MR == 6) {
    v128.store(tile, c50, 160);
    v128.store(tile, c51, 176);
  }
  for (let i = 0; i < mr; i++) {
    const row = c + <usize>(i * ldcb);
    const t = tile + <usize>(i * NR * 4);
    for (let j = 0; j < nr; j++) {
      const q = row + <usize>(j << 2);
      const v = load<f32>(t + <usize>(j << 2));
      store<f32>(q, add ? load<f32>(q) + v : v);
    }
  }
}

/**
 * C = A * B (or C += A * B when `accumulate`), float32. A(i, p) is at `a + 4 * (i * aRs + p * aCs)`,
 * B(p, j) at `b + 4 * (p * bRs + j * bCs)` and C(i, j) at `c + 4 * (i * ldc + j)`. `work` is a 16-byte
 * aligned scratch block of at least `sgemmWorkspace(m, n, k)` bytes that overlaps none of A, B, C.
 * k = 0 zeroes C (or leaves it alone when accumulating); m = 0 or n = 0 does nothing.
 */
export function sgemm(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  aRs: i32,
  aCs: i32,
  b: usize,
  bRs: i32,
  bCs: i32,
  c: usize,
  ldc: i32,
  accumulate: bool,
  work: usize,
): void {
  if (m <= 0 || n <= 0) return;
  const ldcb = ldc << 2;
  if (k <= 0) {
    if (!accumulate) {
      for (let i = 0; i < m; i++) memory.fill(c + <usize>(i * ldcb), 0, <usize>(n << 2));
    }
    return;
  }
  const tile = work;
  const pa = work + <usize>TILE_BYTES;
  const pb = pa + <usize>(min(KC, k) * min(MC, ((m + MR - 1) / MR) * MR) * 4);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const add = accumulate || pc > 0;
      packB(b + <usize>((pc * bRs + jc * bCs) << 2), bRs, bCs, kc, nc, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a + <usize>((ic * aRs + pc * aCs) << 2), aRs, aCs, mc, kc, pa);
        const cBlock = c + <usize>((ic * ldc + jc) << 2);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = pb + <usize>(jr * kc * 4);
          const cCol = cBlock + <usize>(jr << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            kernel(kc, pa + <usize>(ir * kc * 4), bp, cCol + <usize>(ir * ldcb), ldcb, add, min(MR, mc - ir), nr, tile);
          }
        }
      }
    }
  }
}
