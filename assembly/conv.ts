// conv2d on float32 data in linear memory, one chunk of samples (and of rows or channels) at a time, so the
// work splits over threads (assembly/parallel.ts dispatches the chunks; src/backends/wasm/conv.ts plans
// them). A chunk runs per sample, in the thread's own scratch: the sample's channels are copied into a
// zero-padded buffer (so no window needs bounds checks), im2col reads that into columns, and the SGEMM
// (gemm.ts) does the rest:
// - kind 1, forward: out_q [cout, L] = (bias +) W [cout, K] x cols_q [K, L], for a block of output rows;
// - kind 2, input gradient: cols = W^T x grad_q for a block of input channels, col2im into a zeroed
//   padded buffer, whose interior is then copied to dx_q (each block owns its channels' planes of dx_q,
//   so blocks never write the same element);
// - kind 3, weight gradient: dW_s (+)= grad_q x cols_q^T over the samples of sample chunk s, for a block
//   of input channels (columns of dW); the caller sums the partials dW_s in order.
// With FAST set the kinds drive gemm.ts's micro-kernels themselves: kinds 1 and 3 have no im2col buffer,
// their B micro-panels are packed straight from the padded planes (one pass over memory instead of
// im2col's write, then the SGEMM's read and write); the forward's weights are packed once per call
// (kind 4, on the calling thread before the job) instead of once per sample and k slice, the input
// gradient's W^T once per chunk (then col2im as above). Each output element still sums the same
// products in the same order whatever the chunking, so results do not depend on the thread count (and
// the input gradient's are those of the unfused kind 2, bit for bit). Measured on the MNIST CNN's second
// conv ([64, 32, 14, 14], 64 5x5 filters, padding 2, batch 64), 1 thread, CPU time, medians, interleaved
// in one process under load 4-5: forward 29.3 -> 27.2 ms, input gradient 28.9 -> 28.1, weight gradient
// 28.6 -> 27.8. The input gradient as the stride-1 convolution of the
// gradient with the flipped weights through the fused forward (no col2im) measured 3% slower than
// kind 2 (the transposed product has only C = 32 rows to reuse each packed panel), so it is not used.
// K = C kh kw, L = outH outW. Tensors are contiguous: x [N, C, H, W], W [cout, K], grad [N, cout, L].
// Plain loads only, so this file compiles into both the single-threaded and the shared-memory build.

import { fullRows, kernel, kernel4, MR, NR, packA, packB, sgemm, transposeStore } from './gemm';

/** Word offsets of the argument block (kept in sync with ARG in src/backends/wasm/conv.ts). */
// @ts-ignore: decorator
@inline const A_C: i32 = 0;
// @ts-ignore: decorator
@inline const A_H: i32 = 1;
// @ts-ignore: decorator
@inline const A_W: i32 = 2;
// @ts-ignore: decorator
@inline const A_COUT: i32 = 3;
// @ts-ignore: decorator
@inline const A_KH: i32 = 4;
// @ts-ignore: decorator
@inline const A_KW: i32 = 5;
// @ts-ignore: decorator
@inline const A_SH: i32 = 6;
// @ts-ignore: decorator
@inline const A_SW: i32 = 7;
// @ts-ignore: decorator
@inline const A_PH: i32 = 8;
// @ts-ignore: decorator
@inline const A_PW: i32 = 9;
// @ts-ignore: decorator
@inline const A_DH: i32 = 10;
// @ts-ignore: decorator
@inline const A_DW: i32 = 11;
// @ts-ignore: decorator
@inline const A_OUTH: i32 = 12;
// @ts-ignore: decorator
@inline const A_OUTW: i32 = 13;
// @ts-ignore: decorator
@inline const A_X: i32 = 14;
// @ts-ignore: decorator
@inline const A_WT: i32 = 15;
// @ts-ignore: decorator
@inline const A_BIAS: i32 = 16;
// @ts-ignore: decorator
@inline const A_OUT: i32 = 17;
// @ts-ignore: decorator
@inline const A_GRAD: i32 = 18;
// @ts-ignore: decorator
@inline const A_NB: i32 = 19;
// @ts-ignore: decorator
@inline const A_SIZE: i32 = 20;
// @ts-ignore: decorator
@inline const A_BLOCKS: i32 = 21;
// @ts-ignore: decorator
@inline const A_COLS_BYTES: i32 = 22;
// @ts-ignore: decorator
@inline const A_PAD_BYTES: i32 = 23;
// @ts-ignore: decorator
@inline const A_HP: i32 = 24;
// @ts-ignore: decorator
@inline const A_WP: i32 = 25;
// @ts-ignore: decorator
@inline const A_PASS: i32 = 26;
// @ts-ignore: decorator
@inline const A_FAST: i32 = 27;
// @ts-ignore: decorator
@inline const A_APACK: i32 = 28;
// @ts-ignore: decorator
@inline const A_KB: i32 = 29;
// @ts-ignore: decorator
@inline const A_NCB: i32 = 30;
/** Job kind that packs the weights for the fused forward (run once, on the calling thread, before kind 1). */
// @ts-ignore: decorator
@inline const PACK_WEIGHTS: i32 = 4;

// @ts-ignore: decorator
@inline function arg(a: usize, w: i32): i32 {
  return load<i32>(a + <usize>(w << 2));
}

/**
 * Copies the interior of channels [0, n) between the sample at `x` ([n, H, W]) and the zero-padded copy
 * at `pad` ([n, HP, WP], the sample at rows PH.., columns PW..): into `pad` (toPad) or out of it.
 */
function interior(a: usize, x: usize, pad: usize, n: i32, toPad: bool): void {
  const H = arg(a, A_H);
  const W = arg(a, A_W);
  const WP = arg(a, A_WP);
  for (let r = 0; r < n * H; r++) {
    // Row r = c H + h of x is row c HP + PH + h of pad.
    const c = r / H;
    const x0 = x + <usize>((r * W) << 2);
    const p0 = pad + <usize>((((c * arg(a, A_HP) + arg(a, A_PH) + r - c * H) * WP) + arg(a, A_PW)) << 2);
    const s = toPad ? x0 : p0;
    const d = toPad ? p0 : x0;
    let q = 0;
    for (; q + 4 <= W; q += 4) v128.store(d + <usize>(q << 2), v128.load(s + <usize>(q << 2)));
    for (; q < W; q++) store<f32>(d + <usize>(q << 2), load<f32>(s + <usize>(q << 2)));
  }
}

/**
 * im2col (add = false) of the n channels of the zero-padded sample at `pad` ([n, HP, WP]), output rows
 * [y0, y1), into `cols`: one row of (y1 - y0) outW floats per (c, i, j); or col2im (add = true): adds
 * such columns (all outH rows) into `pad`. With stride 1, im2col copies four floats at a time and may
 * write up to 3 floats past a row (later rows cover them; the caller leaves 16 bytes of slack after
 * `cols`) and read up to 12 bytes past the padded sample (slack after `pad` too).
 */
function patches(a: usize, pad: usize, cols: usize, n: i32, y0: i32, y1: i32, add: bool): void {
  const kh = arg(a, A_KH);
  const kw = arg(a, A_KW);
  const sh = arg(a, A_SH);
  const sw = arg(a, A_SW);
  const outW = arg(a, A_OUTW);
  const WP = arg(a, A_WP);
  const plane = arg(a, A_HP) * WP;
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // Padded element of output (oy, q): row oy sh + i dh, column q sw + j dw.
        let src = pad + <usize>((c * plane + (y0 * sh + i * arg(a, A_DH)) * WP + j * arg(a, A_DW)) << 2);
        for (let oy = y0; oy < y1; oy++) {
          let q = 0;
          if (sw == 1) {
            if (add) {
              for (; q + 4 <= outW; q += 4) {
                const p = src + <usize>(q << 2);
                v128.store(p, f32x4.add(v128.load(p), v128.load(cols + <usize>(q << 2))));
              }
            } else {
              for (; q < outW; q += 4) v128.store(cols + <usize>(q << 2), v128.load(src + <usize>(q << 2)));
            }
          }
          for (; q < outW; q++) {
            const p = src + <usize>((q * sw) << 2);
            const t = cols + <usize>(q << 2);
            if (add) store<f32>(p, load<f32>(p) + load<f32>(t));
            else store<f32>(t, load<f32>(p));
          }
          cols += <usize>(outW << 2);
          src += <usize>((sh * WP) << 2);
        }
      }
    }
  }
}

/** Rows of C that `fullRows` and the 4-row tiles cover for an m-row block (its packed panels' height). */
function paddedRows(m: i32): i32 {
  const mf = fullRows(m);
  return mf >= m ? mf : mf + (((m - mf + 3) >> 2) << 2);
}

/**
 * Packs the weights W [cout, K] of a fused forward once per call, at APACK: for each k slice [pc, pc + kc)
 * (KB deep, the last one shorter), `packA` of the cout x kc block at APACK + 4 pc paddedRows(cout).
 */
function packWeights(a: usize): void {
  const cout = arg(a, A_COUT);
  const K = arg(a, A_C) * arg(a, A_KH) * arg(a, A_KW);
  const kb = arg(a, A_KB);
  const mp = paddedRows(cout);
  const wt = <usize>arg(a, A_WT);
  const dst = <usize>arg(a, A_APACK);
  for (let pc = 0; pc < K; pc += kb) {
    packA(wt + <usize>(pc << 2), K, 1, cout, min(kb, K - pc), dst + <usize>((pc * mp) << 2));
  }
}

/**
 * Packs the kc x nc block of the (virtual) im2col matrix of the zero-padded sample at `pad` whose rows
 * are the k steps with byte offsets `dtab[0..kc)` (of (c, i, j): c plane + i dh WP + j dw floats) and whose
 * columns are the output positions [l0, l0 + nc), into NR-column micro-panels at `dst` (the layout of
 * gemm.ts's packB): column l = (oy, ox) reads the padded element at oy sh WP + ox sw + the row's offset.
 * With stride 1 along the width, a micro-panel within one output row is two vector loads per step, and
 * one spanning two rows two pairs of loads merged by lane masks; other panels gather floats one by one.
 */
function packImage(a: usize, pad: usize, dtab: usize, kc: i32, l0: i32, nc: i32, dst: usize, offs: usize): void {
  const outW = arg(a, A_OUTW);
  const rowStep = arg(a, A_SH) * arg(a, A_WP);
  const sw = arg(a, A_SW);
  const iota = i32x4(0, 1, 2, 3);
  // Output position of the first column of the next micro-panel.
  let oy = l0 / outW;
  let ox = l0 % outW;
  for (let jr = 0; jr < nc; jr += NR) {
    const valid = min(NR, nc - jr);
    // Float offsets of the panel's columns for the k step (0, 0, 0) (the last valid one repeated); the
    // lane where a panel of two output rows starts the second one.
    let split = 0;
    let rows = 1;
    for (let t = 0; t < NR; t++) {
      store<i32>(offs + <usize>(t << 2), oy * rowStep + ox * sw);
      if (t + 1 < valid) {
        ox++;
        if (ox == outW) {
          ox = 0;
          oy++;
          rows++;
          split = t + 1;
        }
      }
    }
    // Step to the first column of the next panel.
    ox++;
    if (ox == outW) {
      ox = 0;
      oy++;
    }
    const o0 = load<i32>(offs);
    const regular = valid == NR && sw == 1 && rows <= 2;
    if (regular && split == 0) {
      const s = pad + <usize>(o0 << 2);
      for (let p = 0; p < kc; p++) {
        const q = s + <usize>load<i32>(dtab + <usize>(p << 2));
        v128.store(dst, v128.load(q));
        v128.store(dst, v128.load(q, 16), 16);
        dst += <usize>(NR * 4);
      }
    } else if (regular) {
      // Lanes [0, split) continue row oy from o0, lanes [split, 8) row oy + 1 from its first column.
      const sx = pad + <usize>(o0 << 2);
      const sy = pad + <usize>((load<i32>(offs + <usize>(split << 2)) - split) << 2);
      const m0 = i32x4.lt_s(iota, i32x4.splat(split));
      const m1 = i32x4.lt_s(iota, i32x4.splat(split - 4));
      for (let p = 0; p < kc; p++) {
        const d = <usize>load<i32>(dtab + <usize>(p << 2));
        const x = sx + d;
        const y = sy + d;
        v128.store(dst, v128.bitselect(v128.load(x), v128.load(y), m0));
        v128.store(dst, v128.bitselect(v128.load(x, 16), v128.load(y, 16), m1), 16);
        dst += <usize>(NR * 4);
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const q = pad + <usize>load<i32>(dtab + <usize>(p << 2));
        let t = 0;
        for (; t < valid; t++) store<f32>(dst + <usize>(t << 2), load<f32>(q + <usize>(load<i32>(offs + <usize>(t << 2)) << 2)));
        for (; t < NR; t++) store<f32>(dst + <usize>(t << 2), 0);
        dst += <usize>(NR * 4);
      }
    }
  }
}

/**
 * The fused forward of sample q, output positions [l0, l1): out_q[:, l0..l1) (+)= W x cols_q, with W
 * packed once (packWeights) and the columns packed straight from the padded sample (packImage), NCB
 * columns and KB steps of k at a time. `work`: the tile buffer (256 bytes), the k offsets (K words, 16-byte
 * aligned), then the packed columns.
 */
function forwardFused(a: usize, pad: usize, o: usize, l0: i32, l1: i32, add: bool, work: usize): void {
  const cout = arg(a, A_COUT);
  const K = arg(a, A_C) * arg(a, A_KH) * arg(a, A_KW);
  const L = arg(a, A_OUTH) * arg(a, A_OUTW);
  const kb = arg(a, A_KB);
  const ncb = arg(a, A_NCB);
  const mp = paddedRows(cout);
  const mf = fullRows(cout);
  const ldcb = L << 2;
  const tile = work;
  const offs = work + 192;
  const dtab = work + 256;
  const bp = dtab + <usize>((((K + 3) >> 2) << 2) << 2);
  const apack = <usize>arg(a, A_APACK);
  for (let jc = l0; jc < l1; jc += ncb) {
    const nc = min(ncb, l1 - jc);
    for (let pc = 0; pc < K; pc += kb) {
      const kc = min(kb, K - pc);
      packImage(a, pad, dtab + <usize>(pc << 2), kc, jc, nc, bp, offs);
      const ap = apack + <usize>((pc * mp) << 2);
      const acc = add || pc > 0;
      const cb = o + <usize>(jc << 2);
      for (let jr = 0; jr < nc; jr += NR) {
        const nr = min(NR, nc - jr);
        const b = bp + <usize>(jr * kc * 4);
        const c = cb + <usize>(jr << 2);
        let ir = 0;
        for (; ir < mf; ir += MR) {
          kernel(kc, ap + <usize>(ir * kc * 4), b, c + <usize>(ir * ldcb), ldcb, acc, min(MR, cout - ir), nr, tile);
        }
        for (; ir < cout; ir += 4) {
          kernel4(kc, ap + <usize>(ir * kc * 4), b, c + <usize>(ir * ldcb), ldcb, acc, min(4, cout - ir), nr, tile);
        }
      }
    }
  }
}

/**
 * Packs the kc x nc block of the transposed (virtual) im2col matrix of the zero-padded channels at `pad`
 * whose rows are the output positions [l0, l0 + kc) and whose columns are the k steps with float offsets
 * `etab[0..nc)` (see kOffsets, in floats here), into NR-column micro-panels at `dst` (gemm.ts's packB
 * layout). With stride 1 along the width, 4 positions of one output row and 8 columns are 8 vector loads
 * and two 4 x 4 register transposes; other positions gather floats one by one.
 */
function packImageT(a: usize, pad: usize, etab: usize, l0: i32, kc: i32, nc: i32, dst: usize): void {
  const outW = arg(a, A_OUTW);
  const rowStep = arg(a, A_SH) * arg(a, A_WP);
  const sw = arg(a, A_SW);
  for (let jr = 0; jr < nc; jr += NR) {
    const valid = min(NR, nc - jr);
    const e = etab + <usize>(jr << 2);
    let oy = l0 / outW;
    let ox = l0 % outW;
    let d = dst + <usize>(jr * kc * 4);
    for (let p = 0; p < kc; ) {
      const q = pad + <usize>((oy * rowStep + ox * sw) << 2);
      if (valid == NR && sw == 1 && ox + 4 <= outW && p + 4 <= kc) {
        const u = q + <usize>(load<i32>(e) << 2);
        const u1 = q + <usize>(load<i32>(e, 4) << 2);
        const u2 = q + <usize>(load<i32>(e, 8) << 2);
        const u3 = q + <usize>(load<i32>(e, 12) << 2);
        const u4 = q + <usize>(load<i32>(e, 16) << 2);
        const u5 = q + <usize>(load<i32>(e, 20) << 2);
        const u6 = q + <usize>(load<i32>(e, 24) << 2);
        const u7 = q + <usize>(load<i32>(e, 28) << 2);
        transposeStore(v128.load(u), v128.load(u1), v128.load(u2), v128.load(u3), d, <usize>(NR * 4));
        transposeStore(v128.load(u4), v128.load(u5), v128.load(u6), v128.load(u7), d + 16, <usize>(NR * 4));
        d += <usize>(NR * 16);
        p += 4;
        ox += 4;
      } else {
        let t = 0;
        for (; t < valid; t++) store<f32>(d + <usize>(t << 2), load<f32>(q + <usize>(load<i32>(e + <usize>(t << 2)) << 2)));
        for (; t < NR; t++) store<f32>(d + <usize>(t << 2), 0);
        d += <usize>(NR * 4);
        p++;
        ox++;
      }
      if (ox == outW) {
        ox = 0;
        oy++;
      }
    }
  }
}

/**
 * The fused weight gradient of sample q for the n = (e1 - e0) kh kw columns of input channels [e0, e1)
 * (whose padded planes are at `pad`): dW[:, cols] (+)= grad_q x cols_q^T at `dw` (row stride K), KB
 * positions and NCB columns at a time, grad_q packed per slice of positions and the columns straight from
 * the padded planes (packImageT). `work`: the tile buffer (256 bytes), the column offsets (n words,
 * 16-byte aligned), the packed gradient (paddedRows(cout) x KB floats), then the packed columns.
 */
function weightGradFused(a: usize, pad: usize, g: usize, dw: usize, n: i32, add: bool, work: usize): void {
  const cout = arg(a, A_COUT);
  const K = arg(a, A_C) * arg(a, A_KH) * arg(a, A_KW);
  const L = arg(a, A_OUTH) * arg(a, A_OUTW);
  const kb = arg(a, A_KB);
  const ncb = arg(a, A_NCB);
  const mf = fullRows(cout);
  const ldcb = K << 2;
  const tile = work;
  const etab = work + 256;
  const ap = etab + <usize>((((n + 3) >> 2) << 2) << 2);
  const bp = ap + <usize>((paddedRows(cout) * kb) << 2);
  for (let pc = 0; pc < L; pc += kb) {
    const kc = min(kb, L - pc);
    packA(g + <usize>(pc << 2), L, 1, cout, kc, ap);
    const acc = add || pc > 0;
    for (let jc = 0; jc < n; jc += ncb) {
      const nc = min(ncb, n - jc);
      packImageT(a, pad, etab + <usize>(jc << 2), pc, kc, nc, bp);
      for (let jr = 0; jr < nc; jr += NR) {
        const nr = min(NR, nc - jr);
        const b = bp + <usize>(jr * kc * 4);
        const c = dw + <usize>((jc + jr) << 2);
        let ir = 0;
        for (; ir < mf; ir += MR) {
          kernel(kc, ap + <usize>(ir * kc * 4), b, c + <usize>(ir * ldcb), ldcb, acc, min(MR, cout - ir), nr, tile);
        }
        for (; ir < cout; ir += 4) {
          kernel4(kc, ap + <usize>(ir * kc * 4), b, c + <usize>(ir * ldcb), ldcb, acc, min(4, cout - ir), nr, tile);
        }
      }
    }
  }
}

/**
 * Writes the offsets of the k steps of channels [0, C), (c, i, j) -> c plane + i dh WP + j dw floats, at
 * `dtab`: in bytes (shift 2) or floats (shift 0).
 */
function kOffsets(a: usize, dtab: usize, C: i32, shift: i32): void {
  const kh = arg(a, A_KH);
  const kw = arg(a, A_KW);
  const WP = arg(a, A_WP);
  const plane = arg(a, A_HP) * WP;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        store<i32>(dtab, (c * plane + i * arg(a, A_DH) * WP + j * arg(a, A_DW)) << shift);
        dtab += 4;
      }
    }
  }
}

/**
 * The columns of input channels [e0, e1) of sample q's input gradient with W^T packed once per chunk (at
 * `ap`, by the caller): cols [m, L] = W[:, rows]^T x grad_q, m = (e1 - e0) kh kw, grad_q packed NCB
 * columns at a time at `bp`; `tile`: the micro-kernel's buffer.
 */
function inputGradCols(a: usize, g: usize, m: i32, ap: usize, bp: usize, cols: usize, tile: usize): void {
  const cout = arg(a, A_COUT);
  const L = arg(a, A_OUTH) * arg(a, A_OUTW);
  const ncb = arg(a, A_NCB);
  const mf = fullRows(m);
  const ldcb = L << 2;
  for (let jc = 0; jc < L; jc += ncb) {
    const nc = min(ncb, L - jc);
    packB(g + <usize>(jc << 2), L, 1, cout, nc, bp);
    for (let jr = 0; jr < nc; jr += NR) {
      const nr = min(NR, nc - jr);
      const b = bp + <usize>(jr * cout * 4);
      const c = cols + <usize>((jc + jr) << 2);
      let ir = 0;
      for (; ir < mf; ir += MR) {
        kernel(cout, ap + <usize>(ir * cout * 4), b, c + <usize>(ir * ldcb), ldcb, false, min(MR, m - ir), nr, tile);
      }
      for (; ir < m; ir += 4) {
        kernel4(cout, ap + <usize>(ir * cout * 4), b, c + <usize>(ir * ldcb), ldcb, false, min(4, m - ir), nr, tile);
      }
    }
  }
}

/**
 * Runs chunk `i` of the conv job of `kind` (1 forward, 2 input gradient, 3 weight gradient) described by
 * the argument block at `a`: sample chunk s = i / BLOCKS (SIZE samples) and block i % BLOCKS (of output
 * rows for kind 1, of input channels otherwise), in passes of at most PASS rows or channels (which bound
 * the columns). `work`: the thread's scratch, COLS_BYTES of columns, PAD_BYTES of padded planes, then the
 * SGEMM workspace. The forward adds the cout floats at BIAS unless it is 0; the weight gradient of sample
 * chunk s goes to OUT + s cout K floats.
 */
export function convChunk(a: usize, kind: i32, i: i32, work: usize): void {
  if (kind == PACK_WEIGHTS) {
    packWeights(a);
    return;
  }
  const C = arg(a, A_C);
  const HW = arg(a, A_H) * arg(a, A_W);
  const cout = arg(a, A_COUT);
  const khkw = arg(a, A_KH) * arg(a, A_KW);
  const outH = arg(a, A_OUTH);
  const outW = arg(a, A_OUTW);
  const plane = arg(a, A_HP) * arg(a, A_WP);
  const blocks = arg(a, A_BLOCKS);
  const pass = arg(a, A_PASS);
  const K = C * khkw;
  const L = outH * outW;
  const s = i / blocks;
  const fwd = kind == 1;
  const wg = kind == 3;
  // Block i % BLOCKS of the output rows (forward) or of the input channels: [e0, e1).
  const extent = fwd ? outH : C;
  const per = (extent + blocks - 1) / blocks;
  const e0 = min(extent, (i % blocks) * per);
  const e1 = min(extent, e0 + per);
  const q0 = s * arg(a, A_SIZE);
  const q1 = min(arg(a, A_NB), q0 + arg(a, A_SIZE));
  const pad = work + <usize>arg(a, A_COLS_BYTES);
  const gw = pad + <usize>arg(a, A_PAD_BYTES);
  const bias = <usize>arg(a, A_BIAS);
  // The borders of the padded planes stay zero for every sample and pass: only interiors are copied in.
  if (kind != 2) memory.fill(pad, 0, (fwd ? C : min(pass, e1 - e0)) * plane * 4);
  if (kind == 2 && arg(a, A_FAST) != 0) {
    // One pass over the block's channels (the plan makes sure): W^T packed once for the chunk's samples,
    // after the padded planes in the SGEMM workspace's place: tile (256 bytes), packed W^T, packed grad.
    const m = (e1 - e0) * khkw;
    const ap = gw + 256;
    const bp = ap + <usize>((paddedRows(m) * cout) << 2);
    packA(<usize>arg(a, A_WT) + <usize>((e0 * khkw) << 2), 1, K, m, cout, ap);
    for (let q = q0; q < q1; q++) {
      const g = <usize>arg(a, A_GRAD) + <usize>((q * cout * L) << 2);
      const dxq = <usize>arg(a, A_OUT) + <usize>((q * C * HW + e0 * HW) << 2);
      inputGradCols(a, g, m, ap, bp, work, gw);
      memory.fill(pad, 0, (e1 - e0) * plane * 4);
      patches(a, pad, work, e1 - e0, 0, outH, true);
      interior(a, dxq, pad, e1 - e0, false);
    }
    return;
  }
  if (wg && arg(a, A_FAST) != 0) {
    // Channels [e0, e1) of each sample in padded planes (borders zeroed above: PASS covers the block).
    kOffsets(a, work + 256, e1 - e0, 0);
    const n = (e1 - e0) * khkw;
    const dw = <usize>arg(a, A_OUT) + <usize>((s * cout * K + e0 * khkw) << 2);
    for (let q = q0; q < q1; q++) {
      const g = <usize>arg(a, A_GRAD) + <usize>((q * cout * L) << 2);
      const xq = <usize>arg(a, A_X) + <usize>((q * C * HW + e0 * HW) << 2);
      interior(a, xq, pad, e1 - e0, true);
      weightGradFused(a, pad, g, dw, n, q > q0, work);
    }
    return;
  }
  if (fwd && arg(a, A_FAST) != 0) {
    kOffsets(a, work + 256, C, 2);
    for (let q = q0; q < q1; q++) {
      const xq = <usize>arg(a, A_X) + <usize>((q * C * HW) << 2);
      const o = <usize>arg(a, A_OUT) + <usize>((q * cout * L) << 2);
      interior(a, xq, pad, C, true);
      if (bias != 0) {
        for (let co = 0; co < cout; co++) {
          const v = load<f32>(bias + <usize>(co << 2));
          const vv = f32x4.splat(v);
          let p = o + <usize>((co * L + e0 * outW) << 2);
          const end = o + <usize>((co * L + e1 * outW) << 2);
          for (; p + 16 <= end; p += 16) v128.store(p, vv);
          for (; p < end; p += 4) store<f32>(p, v);
        }
      }
      forwardFused(a, pad, o, e0 * outW, e1 * outW, bias != 0, work);
    }
    return;
  }
  for (let q = q0; q < q1; q++) {
    const g = <usize>arg(a, A_GRAD) + <usize>((q * cout * L) << 2);
    const xq = <usize>arg(a, A_X) + <usize>((q * C * HW) << 2);
    const dxq = <usize>arg(a, A_OUT) + <usize>((q * C * HW) << 2);
    if (fwd) interior(a, xq, pad, C, true);
    for (let p0 = e0; p0 < e1; p0 += pass) {
      // Rows [p0, p1) of the output (forward) or channels [p0, p1) of the input.
      const p1 = min(e1, p0 + pass);
      const lb = fwd ? (p1 - p0) * outW : L;
      const kb = fwd ? K : (p1 - p0) * khkw;
      const off = <usize>((p0 * HW) << 2);
      if (wg) interior(a, xq + off, pad, p1 - p0, true);
      const o = <usize>arg(a, A_OUT) + <usize>((q * cout * L + p0 * outW) << 2);
      if (fwd && bias != 0) {
        // The forward accumulates onto the bias (in cache for the SGEMM that follows).
        for (let co = 0; co < cout; co++) {
          const v = load<f32>(bias + <usize>(co << 2));
          const vv = f32x4.splat(v);
          let p = o + <usize>((co * L) << 2);
          const end = p + <usize>(lb << 2);
          for (; p + 16 <= end; p += 16) v128.store(p, vv);
          for (; p < end; p += 4) store<f32>(p, v);
        }
      }
      if (fwd || wg) patches(a, pad, work, fwd ? C : p1 - p0, fwd ? p0 : 0, fwd ? p1 : outH, false);
      // forward: out_q[:, rows] (+)= W x cols; input gradient: cols = W[:, channels]^T x grad_q;
      // weight gradient: dW_s[:, channels] (+)= grad_q x cols^T.
      sgemm(
        kind == 2 ? kb : cout,
        wg ? kb : lb,
        fwd ? K : wg ? L : cout,
        wg ? g : <usize>arg(a, A_WT) + <usize>((kind == 2 ? p0 * khkw : <i32>0) << 2),
        fwd ? K : wg ? L : 1,
        kind == 2 ? K : 1,
        kind == 2 ? g : work,
        wg ? 1 : lb,
        wg ? L : 1,
        fwd
          ? o
          : wg
            ? <usize>arg(a, A_OUT) + <usize>((s * cout * K + p0 * khkw) << 2)
            : work,
        wg ? K : L,
        fwd ? bias != 0 : wg && q > q0,
        gw,
      );
      if (kind == 2) {
        memory.fill(pad, 0, (p1 - p0) * plane * 4);
        patches(a, pad, work, p1 - p0, 0, outH, true);
        interior(a, dxq + off, pad, p1 - p0, false);
      }
    }
  }
}
