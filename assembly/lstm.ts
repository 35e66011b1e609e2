// One time step of an LSTM cell over a batch, forward and backward, with 128-bit SIMD (f32x4), on float32
// data in linear memory (src/backends/wasm/lstm.ts runs the layer's time loop around these and the SGEMM).
//
// Gate order i, f, g, o (PyTorch's): a row of the gate buffer z [B, 4H] holds the pre-activations of the
// four gates one block of H after the other. Forward: i, f, o = sigmoid, g = tanh, c = f cPrev + i g,
// h = o tanh(c); the activated gates replace the pre-activations and tanh(c) is kept (backward reads
// both). Backward: from the gradient of h (dh + dh2) and of c (dc) the gradient of the pre-activations
// replaces the activated gates, and that of cPrev replaces dc. The forward is one loop per activation over
// a row's contiguous gate blocks, then one over the units; each activation is inlined in few places (the
// module must stay small, see test/backends/wasm/build.test.ts). Hidden units go four at a time, the last H mod 4 too (lanes past the row
// are computed from whatever follows it and not stored), so every unit gets the same arithmetic.
//
// Vector exp: x = k ln2 + r with k = nearest(x / ln2) (rounded by adding 1.5 * 2^23), |r| <= ln2 / 2
// (Cody-Waite: ln2 in a short high part, exact in k * LN2_HI for |k| <= 150, and the rest),
// exp(r) = 1 + r + r^2 Q(r) with Q of degree 4 (a near-minimax fit of (e^r - 1 - r) / r^2 by reweighted
// least squares on Chebyshev nodes, relative error of the polynomial ~3e-9, below float32 rounding),
// scaled by 2^k as 2^(k >> 1) 2^(k - (k >> 1)) so that results near the overflow threshold and the
// gradually underflowing (subnormal) ones come out right. x is clamped to [-104, 89] first: beyond, the
// result is 0 or +Infinity anyway; NaN propagates (pmax / pmin keep their first operand, x, when it is NaN).
// Sigmoid: e = exp(-|x|) <= 1 (never overflows), 1 / (1 + e) for x >= 0, e / (1 + e) below (small
// results keep their relative accuracy down to the subnormals; NaN stays NaN). Tanh: |x| < 0.55:
// |x| + |x|^3 P(x^2), P of degree 4 (same kind of fit, relative error ~1e-9); above, (1 - e) / (1 + e)
// with e = exp(-2|x|); the sign of x is put back last, so tanh(-0) = -0.
// Measured error against the exact value (test/backends/wasm/lstm.test.ts asserts exp <= 1.5,
// sigmoid <= 3, tanh <= 2 ulp): exp 0.99 ulp, sigmoid 2.4 ulp, tanh 1.5 ulp.

/** ln2 split: LN2_HI has 9 significant bits, so k * LN2_HI is exact for the |k| <= 150 used here. */
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504;
/** Coefficients of Q (exp) and P (tanh), see above. */
// @ts-ignore: decorator
@inline const E0: f32 = 0.49999994;
// @ts-ignore: decorator
@inline const E1: f32 = 0.16666521;
// @ts-ignore: decorator
@inline const E2: f32 = 0.041668389;
// @ts-ignore: decorator
@inline const E3: f32 = 0.0083687101;
// @ts-ignore: decorator
@inline const E4: f32 = 0.0013814610;
// @ts-ignore: decorator
@inline const T0: f32 = -0.33333316;
// @ts-ignore: decorator
@inline const T1: f32 = 0.13332586;
// @ts-ignore: decorator
@inline const T2: f32 = -0.053852309;
// @ts-ignore: decorator
@inline const T3: f32 = 0.021071674;
// @ts-ignore: decorator
@inline const T4: f32 = -0.0062742331;
/** 1.5 * 2^23 (rounds a float of magnitude below 2^22 to an integer) and its bits. */
// @ts-ignore: decorator
@inline const ROUNDER: f32 = 12582912;
// @ts-ignore: decorator
@inline const ROUNDER_BITS: i32 = 0x4b400000;
/** Below this |x|, tanh uses its polynomial. */
// @ts-ignore: decorator
@inline const TANH_POLY: f32 = 0.55;

/** exp(x) on f32x4 (see the file comment). Not inlined: one copy keeps the module small. */
function vexp(x: v128): v128 {
  // pmax / pmin keep their first operand when the comparison fails, so NaN stays NaN (one instruction
  // each, where min / max need several for their NaN rules).
  const y = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-104)), f32x4.splat(89));
  // Adding 1.5 * 2^23 rounds y / ln2 to the nearest integer k, which the low bits of the sum then hold.
  const big = f32x4.add(f32x4.mul(y, f32x4.splat(LOG2E)), f32x4.splat(ROUNDER));
  const kf = f32x4.sub(big, f32x4.splat(ROUNDER));
  let r = f32x4.sub(y, f32x4.mul(kf, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(kf, f32x4.splat(LN2_LO)));
  let q = f32x4.add(f32x4.mul(f32x4.splat(E4), r), f32x4.splat(E3));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(E2));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(E1));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(E0));
  const p = f32x4.add(f32x4.splat(1), f32x4.add(r, f32x4.mul(f32x4.mul(r, r), q)));
  const k = i32x4.sub(big, i32x4.splat(ROUNDER_BITS));
  const k1 = i32x4.shr_s(k, 1);
  const k2 = i32x4.sub(k, k1);
  const s1 = i32x4.shl(i32x4.add(k1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(k2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** sigmoid(x) = 1 / (1 + exp(-x)) on f32x4 (see the file comment). */
// @ts-ignore: decorator
@inline function vsigmoid(x: v128): v128 {
  const e = vexp(v128.or(x, i32x4.splat(0x80000000))); // exp(-|x|)
  const one = f32x4.splat(1);
  return f32x4.div(v128.bitselect(one, e, f32x4.ge(x, f32x4.splat(0))), f32x4.add(one, e));
}

/** tanh(x) on f32x4 (see the file comment). */
// @ts-ignore: decorator
@inline function vtanh(x: v128): v128 {
  const a = f32x4.abs(x);
  const u = f32x4.mul(a, a);
  let p = f32x4.add(f32x4.mul(f32x4.splat(T4), u), f32x4.splat(T3));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(T2));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(T1));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(T0));
  const small = f32x4.add(a, f32x4.mul(f32x4.mul(a, u), p));
  const e = vexp(f32x4.mul(a, f32x4.splat(-2)));
  const big = f32x4.div(f32x4.sub(f32x4.splat(1), e), f32x4.add(f32x4.splat(1), e));
  const t = v128.bitselect(small, big, f32x4.lt(a, f32x4.splat(TANH_POLY)));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}

/**
 * Stores the first `n` lanes of `v` at `p`: all four when n >= 4, else 1 to 3 (the last units of a row,
 * whose other lanes were computed from whatever followed them in memory and are dropped).
 */
// @ts-ignore: decorator
@inline function st(p: usize, v: v128, n: i32): void {
  if (n >= 4) v128.store(p, v);
  else if (n == 1) v128.store32_lane(p, v, 0);
  else {
    v128.store64_lane(p, v, 0);
    if (n == 3) v128.store32_lane(p, v, 2, 8);
  }
}

/** The function `fn` (0 exp, 1 sigmoid, 2 tanh; a constant after inlining) on f32x4. */
// @ts-ignore: decorator
@inline function apply(fn: i32, x: v128): v128 {
  return fn == 0 ? vexp(x) : fn == 1 ? vsigmoid(x) : vtanh(x);
}

/**
 * dst[j] = f(src[j] + bias[j]) for j < n, f = `fn` (a constant after inlining; see `apply`); dst may be
 * src. Four at a time, the last n mod 4 too (see `st`).
 */
// @ts-ignore: decorator
@inline function block(fn: i32, src: usize, bias: usize, dst: usize, n: i32): void {
  for (let j = 0; j < n; j += 4) {
    const o = <usize>(j << 2);
    st(dst + o, apply(fn, f32x4.add(v128.load(src + o), v128.load(bias + o))), n - j);
  }
}

/** `block` with exp (for tests). */
function expBlock(src: usize, bias: usize, dst: usize, n: i32): void {
  block(0, src, bias, dst, n);
}

/** `block` with sigmoid. */
function sigmoidBlock(src: usize, bias: usize, dst: usize, n: i32): void {
  block(1, src, bias, dst, n);
}

/** `block` with tanh. */
function tanhBlock(src: usize, bias: usize, dst: usize, n: i32): void {
  block(2, src, bias, dst, n);
}

/**
 * c = f cPrev + i g, tc = tanh(c) and h = o tc for four units (the first `n` kept) at byte offset `o`.
 */
// @ts-ignore: decorator
@inline function cellUnits(act: usize, cPrev: usize, c: usize, tc: usize, h: usize, o: usize, hb: usize, n: i32): void {
  const a = act + o;
  const cn = f32x4.add(
    f32x4.mul(v128.load(a + hb), v128.load(cPrev + o)),
    f32x4.mul(v128.load(a), v128.load(a + 2 * hb)),
  );
  const t = vtanh(cn);
  st(c + o, cn, n);
  st(tc + o, t, n);
  st(h + o, f32x4.mul(v128.load(a + 3 * hb), t), n);
}

/**
 * Forward of one LSTM step over a batch of B rows: `z` [B, 4H] holds the gate pre-activations without
 * bias (x W_ihᵀ + h W_hhᵀ), `bias` [4H] is added to every row; the activated gates i, f, g, o replace
 * them in `z`; c [B, H] = f cPrev + i g, tc [B, H] = tanh(c) (kept for backward), h [B, H] = o tc. Rows
 * are contiguous (z: 4H floats, the others H). Byte addresses; `c`, `tc` and `h` may not overlap `z` or
 * `cPrev` (`c` may be `cPrev`). Reads up to 12 bytes past the end of `z`, `bias` and `cPrev` when H is
 * not a multiple of 4 (never writes there).
 */
export function lstmForwardStep(
  B: i32,
  H: i32,
  z: usize,
  bias: usize,
  cPrev: usize,
  c: usize,
  tc: usize,
  h: usize,
): void {
  const hb = <usize>(H << 2);
  for (let b = 0; b < B; b++) {
    const zr = z + <usize>(b * H * 16);
    const row = <usize>(b * H * 4);
    sigmoidBlock(zr, bias, zr, 2 * H); // i, f
    tanhBlock(zr + 2 * hb, bias + 2 * hb, zr + 2 * hb, H); // g
    sigmoidBlock(zr + 3 * hb, bias + 3 * hb, zr + 3 * hb, H); // o
    for (let j = 0; j < H; j += 4) {
      cellUnits(zr, cPrev + row, c + row, tc + row, h + row, <usize>(j << 2), hb, H - j);
    }
  }
}

/** Backward of four hidden units (the first `n` kept) at byte offset `o` of a row (see lstmBackwardStep). */
// @ts-ignore: decorator
@inline function backwardUnits(
  act: usize,
  cPrev: usize,
  tc: usize,
  dh: usize,
  dh2: usize,
  dc: usize,
  db: usize,
  o: usize,
  hb: usize,
  n: i32,
): void {
  const one = f32x4.splat(1);
  const ai = act + o;
  const i = v128.load(ai);
  const f = v128.load(ai + hb);
  const g = v128.load(ai + 2 * hb);
  const og = v128.load(ai + 3 * hb);
  const t = v128.load(tc + o);
  const gh = f32x4.add(v128.load(dh + o), v128.load(dh2 + o));
  const dct = f32x4.add(v128.load(dc + o), f32x4.mul(f32x4.mul(gh, og), f32x4.sub(one, f32x4.mul(t, t))));
  const di = f32x4.mul(f32x4.mul(f32x4.mul(dct, g), i), f32x4.sub(one, i));
  const df = f32x4.mul(f32x4.mul(f32x4.mul(dct, v128.load(cPrev + o)), f), f32x4.sub(one, f));
  const dg = f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one, f32x4.mul(g, g)));
  const dO = f32x4.mul(f32x4.mul(f32x4.mul(gh, t), og), f32x4.sub(one, og));
  st(ai, di, n);
  st(ai + hb, df, n);
  st(ai + 2 * hb, dg, n);
  st(ai + 3 * hb, dO, n);
  st(dc + o, f32x4.mul(dct, f), n);
  const bi = db + o;
  st(bi, f32x4.add(v128.load(bi), di), n);
  st(bi + hb, f32x4.add(v128.load(bi + hb), df), n);
  st(bi + 2 * hb, f32x4.add(v128.load(bi + 2 * hb), dg), n);
  st(bi + 3 * hb, f32x4.add(v128.load(bi + 3 * hb), dO), n);
}

/**
 * Backward of one LSTM step over a batch of B rows: `act` [B, 4H] holds the activated gates i, f, g, o
 * of the step, `cPrev` [B, H] its previous cell state and `tc` [B, H] tanh of the new one (as
 * lstmForwardStep left them); the gradient of h is dh + dh2
 * (both [B, H]), that of c is `dc` [B, H]. The gradient of the pre-activations replaces the gates in
 * `act`, and that of cPrev replaces `dc`; its rows are added to `db` [4H], row by row.
 * Byte addresses, contiguous rows. Reads up to 12 bytes past the end of each operand when H is not a
 * multiple of 4 (never writes there).
 */
export function lstmBackwardStep(
  B: i32,
  H: i32,
  act: usize,
  cPrev: usize,
  tc: usize,
  dh: usize,
  dh2: usize,
  dc: usize,
  db: usize,
): void {
  const hb = <usize>(H << 2);
  for (let b = 0; b < B; b++) {
    const ar = act + <usize>(b * H * 16);
    const row = <usize>(b * H * 4);
    for (let j = 0; j < H; j += 4) {
      backwardUnits(ar, cPrev + row, tc + row, dh + row, dh2 + row, dc + row, db, <usize>(j << 2), hb, H - j);
    }
  }
}

/**
 * The vector functions of this file (for tests): dst[j] = f(src[j] + bias[j]) for j < n, f = exp (`fn`
 * 0), sigmoid (1) or tanh (2). Four at a time (reading up to 12 bytes past the end of `src` and `bias`).
 */
export function lstmMath(fn: i32, src: usize, bias: usize, dst: usize, n: i32): void {
  if (fn == 0) expBlock(src, bias, dst, n);
  else if (fn == 1) sigmoidBlock(src, bias, dst, n);
  else tanhBlock(src, bias, dst, n);
}
