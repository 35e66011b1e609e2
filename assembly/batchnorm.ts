// Batch normalisation kernels of the `wasm` backend (src/backends/wasm/batchnorm.ts copies the operands
// in and the results out): float32 data [N, C, S] (contiguous), float64 arithmetic. They give, bit for
// bit, what the TypeScript kernels of src/backends/cpu/nn.ts give: every per-channel sum adds its
// elements one at a time, in the same order, in a double; the speed comes from summing two channels at
// once (the two lanes of an f64x2) and four at once where there are (two independent chains), and from
// doing the elementwise parts two doubles at a time. Plain loads only, so this file compiles into both the
// single-threaded and the shared-memory build.

import { channelSumsF64, pair } from './elementwise';

/**
 * Batch statistics of x [N, C, S]: the doubles at `mean` get sum / count and those at `variance` the sum
 * of squared deviations from that mean / count (count = N S), as batchNormStatsKernel computes them.
 */
export function bnStatsF32(x: usize, N: i32, C: i32, S: i32, mean: usize, variance: usize): void {
  const count = <f64>N * <f64>S;
  memory.fill(mean, 0, <usize>C << 3);
  memory.fill(variance, 0, <usize>C << 3);
  channelSumsF64(x, N, C, S, 0, mean);
  for (let c = 0; c < C; c++) {
    const p = mean + (<usize>c << 3);
    store<f64>(p, load<f64>(p) / count);
  }
  channelSumsF64(x, N, C, S, mean, variance);
  for (let c = 0; c < C; c++) {
    const p = variance + (<usize>c << 3);
    store<f64>(p, load<f64>(p) / count);
  }
}

/** f(x) = (x - m) * a + b on the 4 float32s of v, in doubles, rounded back to float32. */
// @ts-ignore: decorator
@inline function affine4(v: v128, m: v128, a: v128, b: v128): v128 {
  const lo = f64x2.add(f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v), m), a), b);
  const hi = f64x2.add(f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), m), a), b);
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * out = (x - m[c]) * a[c] + b[c] over x [N, C, S]; `params` holds the doubles m, a, b of each channel
 * (a = invstd * weight, computed by the caller as batchNormForwardKernel does).
 */
export function bnForwardF32(x: usize, out: usize, N: i32, C: i32, S: i32, params: usize): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const q = params + <usize>(c * 24);
      const m = load<f64>(q);
      const a = load<f64>(q, 8);
      const b = load<f64>(q, 16);
      const mv = f64x2.splat(m);
      const av = f64x2.splat(a);
      const bv = f64x2.splat(b);
      const off = (<usize>(n * C + c) * <usize>S) << 2;
      const src = x + off;
      const dst = out + off;
      let i = 0;
      for (; i + 4 <= S; i += 4) {
        const o = <usize>i << 2;
        v128.store(dst + o, affine4(v128.load(src + o), mv, av, bv));
      }
      for (; i < S; i++) {
        const o = <usize>i << 2;
        store<f32>(dst + o, <f32>((<f64>load<f32>(src + o) - m) * a + b));
      }
    }
  }
}

/**
 * The two per-channel sums of batch norm's backward over g and x [N, C, S]: sum(g) into the doubles at
 * `sg` and sum(g * (x - mean[c])) into those at `sgx` (`mean`: C doubles), in batchNormBackwardKernel's order.
 */
export function bnBackwardSumsF32(g: usize, x: usize, N: i32, C: i32, S: i32, mean: usize, sg: usize, sgx: usize): void {
  const plane = <usize>S << 2;
  const sample = <usize>C * plane;
  let c = 0;
  for (; c + 2 <= C; c += 2) {
    let s = f64x2.splat(0);
    let t = f64x2.splat(0);
    const m = v128.load(mean + (<usize>c << 3));
    for (let n = 0; n < N; n++) {
      const at = <usize>n * sample + <usize>c * plane;
      for (let i = 0; i < S; i++) {
        const o = at + (<usize>i << 2);
        const gv = pair(g + o, g + o + plane);
        const xv = pair(x + o, x + o + plane);
        s = f64x2.add(s, gv);
        t = f64x2.add(t, f64x2.mul(gv, f64x2.sub(xv, m)));
      }
    }
    v128.store(sg + (<usize>c << 3), s);
    v128.store(sgx + (<usize>c << 3), t);
  }
  for (; c < C; c++) {
    let s: f64 = 0;
    let t: f64 = 0;
    const m = load<f64>(mean + (<usize>c << 3));
    for (let n = 0; n < N; n++) {
      const at = <usize>n * sample + <usize>c * plane;
      for (let i = 0; i < S; i++) {
        const o = at + (<usize>i << 2);
        const gv = <f64>load<f32>(g + o);
        s += gv;
        t += gv * (<f64>load<f32>(x + o) - m);
      }
    }
    store<f64>(sg + (<usize>c << 3), s);
    store<f64>(sgx + (<usize>c << 3), t);
  }
}

/**
 * dx = a[c] * (g - gm[c] - (x - m[c]) * k[c]) over [N, C, S] in doubles; `params` holds the doubles a, gm,
 * m, k of each channel (computed by the caller as batchNormBackwardKernel does).
 */
export function bnBackwardDxF32(g: usize, x: usize, dx: usize, N: i32, C: i32, S: i32, params: usize): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const q = params + <usize>(c * 32);
      const a = load<f64>(q);
      const gm = load<f64>(q, 8);
      const m = load<f64>(q, 16);
      const k = load<f64>(q, 24);
      const av = f64x2.splat(a);
      const gmv = f64x2.splat(gm);
      const mv = f64x2.splat(m);
      const kv = f64x2.splat(k);
      const off = (<usize>(n * C + c) * <usize>S) << 2;
      let i = 0;
      for (; i + 4 <= S; i += 4) {
        const o = off + (<usize>i << 2);
        const gg = v128.load(g + o);
        const xx = v128.load(x + o);
        const g0 = f64x2.promote_low_f32x4(gg);
        const g1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(gg, gg, 2, 3, 0, 1));
        const x0 = f64x2.promote_low_f32x4(xx);
        const x1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(xx, xx, 2, 3, 0, 1));
        const d0 = f64x2.mul(av, f64x2.sub(f64x2.sub(g0, gmv), f64x2.mul(f64x2.sub(x0, mv), kv)));
        const d1 = f64x2.mul(av, f64x2.sub(f64x2.sub(g1, gmv), f64x2.mul(f64x2.sub(x1, mv), kv)));
        v128.store(dx + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(d0), f32x4.demote_f64x2_zero(d1), 0, 1, 4, 5));
      }
      for (; i < S; i++) {
        const o = off + (<usize>i << 2);
        const gv = <f64>load<f32>(g + o);
        const xv = <f64>load<f32>(x + o);
        store<f32>(dx + o, <f32>(a * (gv - gm - (xv - m) * k)));
      }
    }
  }
}
