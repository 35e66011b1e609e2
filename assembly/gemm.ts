// SGEMM with 128-bit WebAssembly SIMD: C[m x n] (+)= A[m x k] * B[k x n] on float32 data in linear memory.
//
// Loop nest (the Goto/BLIS structure): jc (NC columns of C; pack a KC x NC block of B) -> pc (KC slice
// of k) -> ic (MC rows of C; pack an MC x KC block of A) -> jr (NR-wide micro-panel of B, stays in L1)
// -> ir (MR-tall micro-panel of A, from L2; 4-tall for the last rows of a block, see fullRows) ->
// micro-kernel.
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
// Small products (the MLP and LSTM training shapes, m = 32 rows: batch 32) added three things, measured
// with both builds, 1 thread, CPU time, interleaved in one process against the previous kernels
// (GFLOP/s, relaxed build; 2-core AMD EPYC under load 4-5): the last rows of a block go in 4-row tiles
// where MR-row tiles would leave rows empty (fullRows: m = 32 as 4 x 6 + 2 x 4 instead of 6 x 6, the
// 4 x 8 tile being nearly as fast as 6 x 8 with FMA); packing reads 4 steps of k at once and transposes
// 4 x 4 blocks in registers when rows of A or columns of B are contiguous (a Linear layer's weight read
// transposed in place), instead of gathering floats one by one; k is cut into slices of equal depth.
// 32 x 784 x 128 with B transposed 37 -> 45, 32 x 128 x 512 (B transposed) 39 -> 46, 32 x 512 x 128
// 39 -> 43, 10 x 32 x 128 31 -> 39; large products unchanged (~48).
//
// Pointers are byte addresses; strides are in elements and may be any i32 (0 or negative too): the
// address arithmetic wraps modulo 2^32 like the wasm32 address space, so transposed, broadcast and
// reversed operands are read in place and need no copy. Packed panels are zero-padded at the edges, so
// the micro-kernel always computes a full tile; only the valid part is written to C.
//
// The tile sizes, `fullRows`, `packA`, `packB`, `transposeStore` and the micro-kernels are exported for
// drivers that pack their operands themselves (assembly/conv.ts packs the weights once per call and
// builds B's micro-panels straight from the padded input image); `sgemm` itself is unchanged.

/** Rows of the register tile: 6 with fused multiply-add (relaxed-SIMD build), 5 without. */
// @ts-ignore: decorator
@inline export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
/** Columns of the register tile (two f32x4). */
// @ts-ignore: decorator
@inline export const NR: i32 = 8;
/** Most depth of a packed block (k slice; k is cut into slices of equal depth, at most KC). */
// @ts-ignore: decorator
@inline export const KC: i32 = 384;
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
 * Stores the transpose of the 4 x 4 block whose rows are v0..v3: column q (lane q of each) as one f32x4
 * at `dst + q * step`.
 */
// @ts-ignore: decorator
@inline export function transposeStore(v0: v128, v1: v128, v2: v128, v3: v128, dst: usize, step: usize): void {
  const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + step, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * step, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/**
 * Rows of an mc-row block of A that go in MR-tall tiles; the rest (mc - fullRows(mc), at most 4 * (MR - 1)
 * rows, or a partial MR-tall tile when this exceeds mc) go in 4-tall tiles. An exact cover by MR- and
 * 4-tall tiles is used where one exists (m = 32 with MR = 6: 4 x 6 + 2 x 4 rows instead of 6 x 6), else
 * the last rows are a partial 4-tall tile when at most 4 are left, a partial MR-tall tile otherwise.
 */
export function fullRows(mc: i32): i32 {
  for (let y = 0; y < MR && 4 * y <= mc; y++) {
    if ((mc - 4 * y) % MR == 0) return mc - 4 * y;
  }
  const rem = mc % MR;
  return rem <= 4 ? mc - rem : mc - rem + MR;
}

/**
 * Packs rows of A into one R-row micro-panel at `dst` (R = MR or 4, a constant after inlining): for
 * p = 0..kc-1, the R values A(i, p), i < R, of the rows starting at `s` (`rows` of them valid, the rest
 * zero). `rsb` and `csb` are the row and column strides in bytes.
 */
// @ts-ignore: decorator
@inline function packPanel(R: i32, s: usize, rsb: i32, csb: i32, rows: i32, kc: i32, dst: usize): void {
  const s1 = <usize>rsb;
  const s2 = <usize>(2 * rsb);
  const s3 = <usize>(3 * rsb);
  const s4 = <usize>(4 * rsb);
  const s5 = <usize>(5 * rsb);
  if (rows == R && csb == 4) {
    // Rows of A are contiguous: 4 steps of k at a time, rows 0-3 by a 4 x 4 register transpose.
    let p = 0;
    for (; p + 4 <= kc; p += 4) {
      transposeStore(v128.load(s), v128.load(s + s1), v128.load(s + s2), v128.load(s + s3), dst, <usize>(R * 4));
      if (R == 6) {
        const v4 = v128.load(s + s4);
        const v5 = v128.load(s + s5);
        const lo = v128.shuffle<f32>(v4, v5, 0, 4, 1, 5);
        const hi = v128.shuffle<f32>(v4, v5, 2, 6, 3, 7);
        v128.store64_lane(dst, lo, 0, 16);
        v128.store64_lane(dst, lo, 1, 40); // 16 + 1 * 24
        v128.store64_lane(dst, hi, 0, 64);
        v128.store64_lane(dst, hi, 1, 88);
      } else if (R == 5) {
        const v4 = v128.load(s + s4);
        v128.store32_lane(dst, v4, 0, 16);
        v128.store32_lane(dst, v4, 1, 36); // 16 + 1 * 20
        v128.store32_lane(dst, v4, 2, 56);
        v128.store32_lane(dst, v4, 3, 76);
      }
      dst += <usize>(R * 16);
      s += 16;
    }
    for (; p < kc; p++) {
      store<f32>(dst, load<f32>(s));
      store<f32>(dst, load<f32>(s + s1), 4);
      store<f32>(dst, load<f32>(s + s2), 8);
      store<f32>(dst, load<f32>(s + s3), 12);
      if (R >= 5) store<f32>(dst, load<f32>(s + s4), 16);
      if (R == 6) store<f32>(dst, load<f32>(s + s5), 20);
      dst += <usize>(R * 4);
      s += 4;
    }
  } else if (rows == R && rsb == 4) {
    // Columns of A are contiguous (a transposed row-major matrix): the R values of a step are adjacent.
    for (let p = 0; p < kc; p++) {
      v128.store(dst, v128.load(s));
      if (R == 6) v128.store64_lane(dst, v128.load64_zero(s, 16), 0, 16);
      else if (R == 5) store<f32>(dst, load<f32>(s, 16), 16);
      dst += <usize>(R * 4);
      s += <usize>csb;
    }
  } else if (rows == R) {
    for (let p = 0; p < kc; p++) {
      store<f32>(dst, load<f32>(s));
      store<f32>(dst, load<f32>(s + s1), 4);
      store<f32>(dst, load<f32>(s + s2), 8);
      store<f32>(dst, load<f32>(s + s3), 12);
      if (R >= 5) store<f32>(dst, load<f32>(s + s4), 16);
      if (R == 6) store<f32>(dst, load<f32>(s + s5), 20);
      dst += <usize>(R * 4);
      s += <usize>csb;
    }
  } else {
    for (let p = 0; p < kc; p++) {
      let i = 0;
      for (; i < rows; i++) store<f32>(dst + <usize>(i << 2), load<f32>(s + <usize>(i * rsb)));
      for (; i < R; i++) store<f32>(dst + <usize>(i << 2), 0);
      dst += <usize>(R * 4);
      s += <usize>csb;
    }
  }
}

/**
 * Packs the mc x kc block of A whose (0, 0) is at `a` into micro-panels at `dst`: rows [0, fullRows(mc))
 * in MR-row panels, the rest in 4-row panels; the panel of rows [ir, ir + R) starts at float ir * kc and
 * holds, for p = 0..kc-1, the R values A(ir + i, p). Rows past mc are zero.
 */
export function packA(a: usize, rs: i32, cs: i32, mc: i32, kc: i32, dst: usize): void {
  const rsb = rs << 2;
  const csb = cs << 2;
  const mf = fullRows(mc);
  for (let ir = 0; ir < mc; ) {
    const s = a + <usize>(ir * rsb);
    const d = dst + <usize>(ir * kc * 4);
    if (ir < mf) {
      packPanel(MR, s, rsb, csb, min(MR, mc - ir), kc, d);
      ir += MR;
    } else {
      packPanel(4, s, rsb, csb, min(4, mc - ir), kc, d);
      ir += 4;
    }
  }
}

/**
 * Packs the kc x nc block of B whose (0, 0) is at `b` into NR-column micro-panels at `dst`: panel q holds,
 * for p = 0..kc-1, the NR values B(p, q*NR + j). Columns past nc are zero.
 */
export function packB(b: usize, rs: i32, cs: i32, kc: i32, nc: i32, dst: usize): void {
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
    } else if (jr + NR <= nc && rs == 1) {
      // Columns of B are contiguous (a transposed row-major matrix): 4 steps of k at a time, each half
      // of the panel by a 4 x 4 register transpose.
      const c1 = <usize>csb;
      const c2 = <usize>(2 * csb);
      const c3 = <usize>(3 * csb);
      const c4 = <usize>(4 * csb);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        transposeStore(v128.load(s), v128.load(s + c1), v128.load(s + c2), v128.load(s + c3), dst, <usize>(NR * 4));
        const t = s + c4;
        transposeStore(v128.load(t), v128.load(t + c1), v128.load(t + c2), v128.load(t + c3), dst + 16, <usize>(NR * 4));
        dst += <usize>(NR * 16);
        s += 16;
      }
      for (; p < kc; p++) {
        let t = s;
        for (let j = 0; j < NR; j++) {
          store<f32>(dst + <usize>(j << 2), load<f32>(t));
          t += <usize>csb;
        }
        dst += <usize>(NR * 4);
        s += 4;
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
 * The R x 8 micro-kernel (R = MR or 4, a constant after inlining): the C tile at `c` (row stride `ldcb`
 * bytes) (+)= packed R-row A micro-panel at `a` times packed B micro-panel at `b`, over kc steps of k.
 * Only the top-left mr x nr part is written; a partial tile goes through the buffer at `tile`.
 */
// @ts-ignore: decorator
@inline function tileKernel(
  R: i32,
  kc: i32,
  a: usize,
  b: usize,
  c: usize,
  ldcb: i32,
  add: bool,
  mr: i32,
  nr: i32,
  tile: usize,
): void {
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
    if (R >= 5) {
      x = v128.load32_splat(a, 16);
      c40 = madd(x, b0, c40);
      c41 = madd(x, b1, c41);
    }
    if (R == 6) {
      x = v128.load32_splat(a, 20);
      c50 = madd(x, b0, c50);
      c51 = madd(x, b1, c51);
    }
    a += <usize>(R * 4);
    b += <usize>(NR * 4);
  }
  if (mr == R && nr == NR) {
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
    if (R >= 5) {
      r += <usize>ldcb;
      put(r, c40, add);
      put(r + 16, c41, add);
    }
    if (R == 6) {
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
  if (R >= 5) {
    v128.store(tile, c40, 128);
    v128.store(tile, c41, 144);
  }
  if (R == 6) {
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

/** The MR x 8 micro-kernel (`tileKernel` with R = MR). */
export function kernel(kc: i32, a: usize, b: usize, c: usize, ldcb: i32, add: bool, mr: i32, nr: i32, tile: usize): void {
  tileKernel(MR, kc, a, b, c, ldcb, add, mr, nr, tile);
}

/** The 4 x 8 micro-kernel (`tileKernel` with R = 4), for the last rows of a block (see fullRows). */
export function kernel4(kc: i32, a: usize, b: usize, c: usize, ldcb: i32, add: bool, mr: i32, nr: i32, tile: usize): void {
  tileKernel(4, kc, a, b, c, ldcb, add, mr, nr, tile);
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
  // k slices of equal depth (a multiple of 4, for the vectorised packing) rather than KC, KC, ..., rest:
  // k = 784 as 3 x 262 instead of 384 + 384 + 16 (a last pass that re-reads C for little work).
  const slices = (k + KC - 1) / KC;
  const kb = min(KC, (((k + slices - 1) / slices + 3) >> 2) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kb) {
      const kc = min(kb, k - pc);
      const add = accumulate || pc > 0;
      packB(b + <usize>((pc * bRs + jc * bCs) << 2), bRs, bCs, kc, nc, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a + <usize>((ic * aRs + pc * aCs) << 2), aRs, aCs, mc, kc, pa);
        const mf = fullRows(mc);
        const cBlock = c + <usize>((ic * ldc + jc) << 2);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = pb + <usize>(jr * kc * 4);
          const cCol = cBlock + <usize>(jr << 2);
          let ir = 0;
          for (; ir < mf; ir += MR) {
            kernel(kc, pa + <usize>(ir * kc * 4), bp, cCol + <usize>(ir * ldcb), ldcb, add, min(MR, mc - ir), nr, tile);
          }
          for (; ir < mc; ir += 4) {
            kernel4(kc, pa + <usize>(ir * kc * 4), bp, cCol + <usize>(ir * ldcb), ldcb, add, min(4, mc - ir), nr, tile);
          }
        }
      }
    }
  }
}
