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
// K = C kh kw, L = outH outW. Tensors are contiguous: x [N, C, H, W], W [cout, K], grad [N, cout, L].
// Plain loads only, so this file compiles into both the single-threaded and the shared-memory build.

import { sgemm } from './gemm';

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

/**
 * Runs chunk `i` of the conv job of `kind` (1 forward, 2 input gradient, 3 weight gradient) described by
 * the argument block at `a`: sample chunk s = i / BLOCKS (SIZE samples) and block i % BLOCKS (of output
 * rows for kind 1, of input channels otherwise), in passes of at most PASS rows or channels (which bound
 * the columns). `work`: the thread's scratch, COLS_BYTES of columns, PAD_BYTES of padded planes, then the
 * SGEMM workspace. The forward adds the cout floats at BIAS unless it is 0; the weight gradient of sample
 * chunk s goes to OUT + s cout K floats.
 */
export function convChunk(a: usize, kind: i32, i: i32, work: usize): void {
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
