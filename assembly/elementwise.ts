// Memory-bound float32 kernels of the `wasm` backend's activations and pooling (src/backends/wasm/
// elementwise.ts copies the operands in and the results out): ReLU forward and backward, 2x2 max pooling
// with stride 2 forward and backward, and per-channel sums in doubles (a conv's bias gradient, batch
// norm's statistics). Each gives, bit for bit, what the TypeScript kernels of src/backends/cpu give. Tensors are contiguous. Single-threaded (they run at memory speed: the copies
// around them cost more than the arithmetic). Plain loads only, so this file compiles into both the
// single-threaded and the shared-memory build.

/** Lanes whose float is NaN (all bits set), else 0. */
// @ts-ignore: decorator
@inline function isNan(v: v128): v128 {
  return f32x4.ne(v, v);
}

/**
 * ReLU in place on the n floats at `x`: negative numbers, -0 and -Infinity become +0; NaN (of either sign)
 * and non-negative numbers are kept, bits included (like the CPU kernel's max(x, 0)).
 */
export function reluF32(x: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    const v = v128.load(p);
    v128.store(p, v128.and(v, v128.or(f32x4.gt(v, zero), isNan(v))));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    const v = load<f32>(p);
    store<f32>(p, v > 0 || v != v ? v : 0);
  }
}

/**
 * ReLU backward in place: each of the n floats at `g` stays (bits included) where the float at the same
 * place of `y` (the forward's output) is > 0, else becomes +0.
 */
export function reluBackwardF32(g: usize, y: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(g + o, v128.and(v128.load(g + o), f32x4.gt(v128.load(y + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    if (!(load<f32>(y + o) > 0)) store<f32>(g + o, 0);
  }
}

/**
 * 2x2 max pooling with stride 2 over `planes` planes [H, W] at `x` into [oH, oW] planes of values at
 * `values` and flat in-plane indices (row * W + column) at `indices`; needs 2 oH <= H and 2 oW <= W.
 * Each window keeps its first maximum, or its last NaN, like the CPU kernel: a tournament (top pair,
 * bottom pair, then the two winners) where the later element wins when it is greater or NaN.
 */
export function maxPool2x2F32(
  x: usize,
  values: usize,
  indices: usize,
  planes: i32,
  H: i32,
  W: i32,
  oH: i32,
  oW: i32,
): void {
  const lanes = i32x4(0, 2, 4, 6);
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < oH; oy++) {
      const r0 = x + (<usize>((p * H + 2 * oy) * W) << 2);
      const r1 = r0 + (<usize>W << 2);
      const ob = <usize>((p * oH + oy) * oW) << 2;
      const top = 2 * oy * W;
      let ox = 0;
      if (oW >= 4) {
        // Four windows at a time; the last group overlaps the one before (it recomputes the same results).
        const rowBase = i32x4.add(i32x4.splat(top), lanes);
        for (let e = 0; e < oW; e += 4) {
          ox = min(e, oW - 4);
          const s0 = r0 + (<usize>ox << 3);
          const s1 = r1 + (<usize>ox << 3);
          const a0 = v128.load(s0);
          const a1 = v128.load(s0, 16);
          const c0 = v128.load(s1);
          const c1 = v128.load(s1, 16);
          const va = i32x4.shuffle(a0, a1, 0, 2, 4, 6);
          const vb = i32x4.shuffle(a0, a1, 1, 3, 5, 7);
          const vc = i32x4.shuffle(c0, c1, 0, 2, 4, 6);
          const vd = i32x4.shuffle(c0, c1, 1, 3, 5, 7);
          const t1 = v128.or(f32x4.gt(vb, va), isNan(vb));
          const t2 = v128.or(f32x4.gt(vd, vc), isNan(vd));
          const w1 = v128.bitselect(vb, va, t1);
          const w2 = v128.bitselect(vd, vc, t2);
          const t3 = v128.or(f32x4.gt(w2, w1), isNan(w2));
          v128.store(values + ob + (<usize>ox << 2), v128.bitselect(w2, w1, t3));
          // Indices: the window's top-left one, + 1 where the right element won (t = -1), + W for the bottom row.
          const j = i32x4.add(rowBase, i32x4.splat(2 * ox));
          const j1 = i32x4.sub(j, t1);
          const j2 = i32x4.add(i32x4.sub(j, t2), i32x4.splat(W));
          v128.store(indices + ob + (<usize>ox << 2), v128.bitselect(j2, j1, t3));
        }
        ox = oW;
      }
      for (; ox < oW; ox++) {
        const s0 = r0 + (<usize>ox << 3);
        const s1 = r1 + (<usize>ox << 3);
        const a = load<f32>(s0);
        const b = load<f32>(s0, 4);
        const c = load<f32>(s1);
        const d = load<f32>(s1, 4);
        const t1 = b > a || b != b;
        const t2 = d > c || d != d;
        const w1 = t1 ? b : a;
        const w2 = t2 ? d : c;
        const t3 = w2 > w1 || w2 != w2;
        store<f32>(values + ob + (<usize>ox << 2), t3 ? w2 : w1);
        store<i32>(indices + ob + (<usize>ox << 2), t3 ? top + W + 2 * ox + <i32>t2 : top + 2 * ox + <i32>t1);
      }
    }
  }
}

/**
 * Backward of 2x2 max pooling with stride 2: writes all of the `planes` [H, W] planes at `out` (2 oH <= H,
 * 2 oW <= W): each gradient of the [oH, oW] planes at `g` goes, plus +0 (so -0 becomes +0, as the CPU
 * kernel's `0 + g` gives), to the element of its window that the flat in-plane index at `indices` names;
 * every other element is +0. Returns 1, or 0 when some index is not inside its own window (then `out`
 * is incomplete and the caller must use the general kernel).
 */
export function maxPool2x2BackwardF32(
  g: usize,
  indices: usize,
  out: usize,
  planes: i32,
  H: i32,
  W: i32,
  oH: i32,
  oW: i32,
): i32 {
  const zero = f32x4.splat(0);
  const lanes = i32x4(0, 2, 4, 6);
  let inside = i32x4.splat(-1);
  let ok = true;
  for (let p = 0; p < planes; p++) {
    const plane = out + (<usize>(p * H * W) << 2);
    for (let oy = 0; oy < oH; oy++) {
      const r0 = plane + (<usize>(2 * oy * W) << 2);
      const r1 = r0 + (<usize>W << 2);
      const ib = <usize>((p * oH + oy) * oW) << 2;
      const top = 2 * oy * W;
      let ox = 0;
      if (oW >= 4) {
        const rowBase = i32x4.add(i32x4.splat(top), lanes);
        for (let e = 0; e < oW; e += 4) {
          ox = min(e, oW - 4);
          const v = f32x4.add(v128.load(g + ib + (<usize>ox << 2)), zero);
          const idx = v128.load(indices + ib + (<usize>ox << 2));
          const j = i32x4.add(rowBase, i32x4.splat(2 * ox));
          const m00 = i32x4.eq(idx, j);
          const m01 = i32x4.eq(idx, i32x4.add(j, i32x4.splat(1)));
          const m10 = i32x4.eq(idx, i32x4.add(j, i32x4.splat(W)));
          const m11 = i32x4.eq(idx, i32x4.add(j, i32x4.splat(W + 1)));
          inside = v128.and(inside, v128.or(v128.or(m00, m01), v128.or(m10, m11)));
          const a = v128.and(v, m00);
          const b = v128.and(v, m01);
          const c = v128.and(v, m10);
          const d = v128.and(v, m11);
          const s0 = r0 + (<usize>ox << 3);
          const s1 = r1 + (<usize>ox << 3);
          v128.store(s0, i32x4.shuffle(a, b, 0, 4, 1, 5));
          v128.store(s0, i32x4.shuffle(a, b, 2, 6, 3, 7), 16);
          v128.store(s1, i32x4.shuffle(c, d, 0, 4, 1, 5));
          v128.store(s1, i32x4.shuffle(c, d, 2, 6, 3, 7), 16);
        }
        ox = oW;
      }
      for (; ox < oW; ox++) {
        const v = load<f32>(g + ib + (<usize>ox << 2)) + 0;
        const idx = load<i32>(indices + ib + (<usize>ox << 2));
        const j = top + 2 * ox;
        ok = ok && (idx == j || idx == j + 1 || idx == j + W || idx == j + W + 1);
        const s0 = r0 + (<usize>ox << 3);
        const s1 = r1 + (<usize>ox << 3);
        store<f32>(s0, idx == j ? v : 0);
        store<f32>(s0, idx == j + 1 ? v : 0, 4);
        store<f32>(s1, idx == j + W ? v : 0);
        store<f32>(s1, idx == j + W + 1 ? v : 0, 4);
      }
      // Columns past the last window.
      for (let q = 2 * oW; q < W; q++) {
        store<f32>(r0 + (<usize>q << 2), 0);
        store<f32>(r1 + (<usize>q << 2), 0);
      }
    }
    // Rows past the last window.
    const done = <usize>(2 * oH * W) << 2;
    memory.fill(plane + done, 0, (<usize>(H * W) << 2) - done);
  }
  return ok && i32x4.all_true(inside) ? 1 : 0;
}

/** The float32s at p and q as the two lanes of an f64x2. */
// @ts-ignore: decorator
@inline export function pair(p: usize, q: usize): v128 {
  return f64x2.replace_lane(f64x2.splat(<f64>load<f32>(p)), 1, <f64>load<f32>(q));
}

/**
 * Adds, for each channel c of float32 x [N, C, S], its elements (or, with `mean` non-zero, their squared
 * deviations from the double mean[c]) to the double sums[c]: sample by sample, each in memory order, one
 * float64 addition each, which is the order of the TypeScript kernels (sumOuterInner in
 * src/backends/cpu/reduce.ts, batchNormStatsKernel in src/backends/cpu/nn.ts), so the sums are the same
 * bits. Callers zero `sums` first, or carry them over groups of samples. A convolution's bias gradient and
 * batch norm's statistics. Two channels go in the lanes of an f64x2 and four at once where there are (two
 * independent chains), which changes no channel's order.
 */
export function channelSumsF64(x: usize, N: i32, C: i32, S: i32, mean: usize, sums: usize): void {
  const plane = <usize>S << 2;
  const sample = <usize>C * plane;
  const squares = mean != 0;
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    let s0 = v128.load(sums + (<usize>c << 3));
    let s1 = v128.load(sums + (<usize>c << 3), 16);
    const m0 = squares ? v128.load(mean + (<usize>c << 3)) : f64x2.splat(0);
    const m1 = squares ? v128.load(mean + (<usize>c << 3), 16) : f64x2.splat(0);
    for (let n = 0; n < N; n++) {
      const p0 = x + <usize>n * sample + <usize>c * plane;
      const p1 = p0 + plane;
      const p2 = p1 + plane;
      const p3 = p2 + plane;
      for (let i = 0; i < S; i++) {
        const o = <usize>i << 2;
        let v0 = pair(p0 + o, p1 + o);
        let v1 = pair(p2 + o, p3 + o);
        if (squares) {
          v0 = f64x2.sub(v0, m0);
          v1 = f64x2.sub(v1, m1);
          v0 = f64x2.mul(v0, v0);
          v1 = f64x2.mul(v1, v1);
        }
        s0 = f64x2.add(s0, v0);
        s1 = f64x2.add(s1, v1);
      }
    }
    v128.store(sums + (<usize>c << 3), s0);
    v128.store(sums + (<usize>c << 3), s1, 16);
  }
  for (; c < C; c++) {
    let s = load<f64>(sums + (<usize>c << 3));
    const m = squares ? load<f64>(mean + (<usize>c << 3)) : 0;
    for (let n = 0; n < N; n++) {
      const p = x + <usize>n * sample + <usize>c * plane;
      for (let i = 0; i < S; i++) {
        let d = <f64>load<f32>(p + (<usize>i << 2));
        if (squares) {
          d = d - m;
          d = d * d;
        }
        s += d;
      }
    }
    store<f64>(sums + (<usize>c << 3), s);
  }
}
