// Optimizer updates of float32 parameters (src/optim: SGD, Adam, AdamW; called through
// src/backends/wasm/optim.ts, which copies the arrays into linear memory a chunk at a time and back).
//
// Each kernel computes exactly what the TypeScript loop it stands in for computes (sgdF32, sgdWdF32,
// sgdMomentumF32 in src/optim/sgd.ts; adamF32, adamL2F32 in src/optim/adam.ts): every float32 value is
// widened to float64, the same float64 operations run in the same order (no fused multiply-add, no
// reciprocal estimates), and results are rounded to float32 exactly where the TypeScript code stores to a
// Float32Array or calls Math.fround. IEEE float64 arithmetic, sqrt and the float32 <-> float64 conversions
// are exactly specified in WebAssembly, so the results are bit-identical; only the speed differs (two
// lanes per f64x2 instruction and no bounds checks: Adam ~2.2 ns per element against ~5 ns for the
// TypeScript loop, bound by the two divisions and the square root; SGD ~0.3 ns against ~0.8 ns).
//
// The loops take two elements at a time (v128.load64_zero + f64x2.promote_low_f32x4 in,
// f32x4.demote_f64x2_zero + v128.store64_lane out) and finish an odd last element with scalar float64
// code. Pointers are byte addresses of float32 arrays of n elements that do not overlap. Plain loads and
// stores only, so this file compiles into every build.

/** Two float32 at `ptr`, widened to float64. */
// @ts-ignore: decorator
@inline function ld2(ptr: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(ptr));
}

/** Stores two float64 at `ptr` as float32 (rounded to nearest) and returns them rounded (Math.fround). */
// @ts-ignore: decorator
@inline function st2(ptr: usize, x: v128): v128 {
  const r = f32x4.demote_f64x2_zero(x);
  v128.store64_lane(ptr, r, 0);
  return f64x2.promote_low_f32x4(r);
}

/** The float32 at `ptr`, widened. */
// @ts-ignore: decorator
@inline function ld1(ptr: usize): f64 {
  return <f64>load<f32>(ptr);
}

/** Stores `x` at `ptr` as float32 and returns it rounded (Math.fround). */
// @ts-ignore: decorator
@inline function st1(ptr: usize, x: f64): f64 {
  const r = <f32>x;
  store<f32>(ptr, r);
  return <f64>r;
}

/**
 * Plain SGD: p = p - lr·(sign·g + wd·p), or p = p - slr·g when `l2` is 0 (slr = sign·lr, the sign folded
 * into the learning rate as the TypeScript loop does).
 */
export function sgdStep(p: usize, g: usize, n: i32, slr: f64, sign: f64, wd: f64, lr: f64, l2: i32): void {
  const end = p + (<usize>(n & ~1) << 2);
  const d = g - p;
  if (l2 == 0) {
    const vs = f64x2.splat(slr);
    for (let a = p; a < end; a += 8) {
      st2(a, f64x2.sub(ld2(a), f64x2.mul(vs, ld2(a + d))));
    }
    if (n & 1) st1(end, ld1(end) - slr * ld1(end + d));
  } else {
    const vsign = f64x2.splat(sign);
    const vwd = f64x2.splat(wd);
    const vlr = f64x2.splat(lr);
    for (let a = p; a < end; a += 8) {
      const pv = ld2(a);
      st2(a, f64x2.sub(pv, f64x2.mul(vlr, f64x2.add(f64x2.mul(vsign, ld2(a + d)), f64x2.mul(vwd, pv)))));
    }
    if (n & 1) {
      const pv = ld1(end);
      st1(end, pv - lr * (sign * ld1(end + d) + wd * pv));
    }
  }
}

/** The SGD momentum loop for one combination of the flags (constants once inlined). */
// @ts-ignore: decorator
@inline function momentumLoop(
  p: usize,
  g: usize,
  b: usize,
  n: i32,
  sign: f64,
  wd: f64,
  lr: f64,
  momentum: f64,
  keep: f64,
  l2: bool,
  nesterov: bool,
  first: bool,
): void {
  const end = p + (<usize>(n & ~1) << 2);
  const dg = g - p;
  const db = b - p;
  const vsign = f64x2.splat(sign);
  const vwd = f64x2.splat(wd);
  const vlr = f64x2.splat(lr);
  const vmom = f64x2.splat(momentum);
  const vkeep = f64x2.splat(keep);
  for (let a = p; a < end; a += 8) {
    const pv = ld2(a);
    let dv = f64x2.mul(vsign, ld2(a + dg));
    if (l2) dv = f64x2.add(dv, f64x2.mul(vwd, pv));
    const bv = st2(a + db, first ? dv : f64x2.add(f64x2.mul(ld2(a + db), vmom), f64x2.mul(vkeep, dv)));
    st2(a, f64x2.sub(pv, f64x2.mul(vlr, nesterov ? f64x2.add(dv, f64x2.mul(vmom, bv)) : bv)));
  }
  if (n & 1) {
    const pv = ld1(end);
    let dv = sign * ld1(end + dg);
    if (l2) dv = dv + wd * pv;
    const bv = st1(end + db, first ? dv : ld1(end + db) * momentum + keep * dv);
    st1(end, pv - lr * (nesterov ? dv + momentum * bv : bv));
  }
}

/**
 * SGD with momentum buffer b: d = sign·g (+ wd·p when `flags` & 1); b = d on the first step
 * (`flags` & 4), else b = momentum·b + keep·d, rounded to float32; p = p - lr·(nesterov (`flags` & 2) ?
 * d + momentum·b : b). One loop per combination of the flags.
 */
export function sgdMomentumStep(
  p: usize,
  g: usize,
  b: usize,
  n: i32,
  sign: f64,
  wd: f64,
  lr: f64,
  momentum: f64,
  keep: f64,
  flags: i32,
): void {
  switch (flags & 7) {
    case 0: momentumLoop(p, g, b, n, sign, wd, lr, momentum, keep, false, false, false); break;
    case 1: momentumLoop(p, g, b, n, sign, wd, lr, momentum, keep, true, false, false); break;
    case 2: momentumLoop(p, g, b, n, sign, wd, lr, momentum, keep, false, true, false); break;
    case 3: momentumLoop(p, g, b, n, sign, wd, lr, momentum, keep, true, true, false); break;
    case 4: momentumLoop(p, g, b, n, sign, wd, lr, momentum, keep, false, false, true); break;
    case 5: momentumLoop(p, g, b, n, sign, wd, lr, momentum, keep, true, false, true); break;
    case 6: momentumLoop(p, g, b, n, sign, wd, lr, momentum, keep, false, true, true); break;
    default: momentumLoop(p, g, b, n, sign, wd, lr, momentum, keep, true, true, true);
  }
}

/**
 * Adam/AdamW without AMSGrad: gi = sign·g (+ wd·p when `l2` is not 0); m = β1·m + c1·gi and
 * v = β2·v + c2·gi·gi, each rounded to float32; p = p·decay - stepSize·(m / (sqrt(v) / bc2sqrt + eps)).
 */
export function adamStep(
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  n: i32,
  sign: f64,
  wd: f64,
  decay: f64,
  beta1: f64,
  beta2: f64,
  c1: f64,
  c2: f64,
  bc2sqrt: f64,
  eps: f64,
  stepSize: f64,
  l2: i32,
): void {
  const end = p + (<usize>(n & ~1) << 2);
  const dg = g - p;
  const dm = m - p;
  const dv = v - p;
  const vsign = f64x2.splat(sign);
  const vwd = f64x2.splat(wd);
  const vdecay = f64x2.splat(decay);
  const vb1 = f64x2.splat(beta1);
  const vb2 = f64x2.splat(beta2);
  const vc1 = f64x2.splat(c1);
  const vc2 = f64x2.splat(c2);
  const vbc = f64x2.splat(bc2sqrt);
  const veps = f64x2.splat(eps);
  const vss = f64x2.splat(stepSize);
  for (let a = p; a < end; a += 8) {
    const pv = ld2(a);
    let gi = f64x2.mul(vsign, ld2(a + dg));
    if (l2) gi = f64x2.add(gi, f64x2.mul(vwd, pv));
    const mi = st2(a + dm, f64x2.add(f64x2.mul(ld2(a + dm), vb1), f64x2.mul(vc1, gi)));
    const vi = st2(a + dv, f64x2.add(f64x2.mul(ld2(a + dv), vb2), f64x2.mul(f64x2.mul(vc2, gi), gi)));
    const den = f64x2.add(f64x2.div(f64x2.sqrt(vi), vbc), veps);
    st2(a, f64x2.sub(f64x2.mul(pv, vdecay), f64x2.mul(vss, f64x2.div(mi, den))));
  }
  if (n & 1) {
    const pv = ld1(end);
    let gi = sign * ld1(end + dg);
    if (l2) gi = gi + wd * pv;
    const mi = st1(end + dm, ld1(end + dm) * beta1 + c1 * gi);
    const vi = st1(end + dv, ld1(end + dv) * beta2 + c2 * gi * gi);
    st1(end, pv * decay - stepSize * (mi / (Math.sqrt(vi) / bc2sqrt + eps)));
  }
}
