/**
 * Neural-network CPU kernels on NCHW tensors: im2col/col2im for convolution, and max/average
 * pooling (fixed and adaptive windows) with their adjoints. Inputs may have any strides; results
 * are fresh contiguous arrays. The loops walk whole output rows with precomputed valid ranges, so
 * the inner loops carry no bounds checks and nothing is allocated per element.
 * @module
 */
import {
  allocArray,
  allocArrayUninit,
  dtypeOfArray,
  type FloatArray,
  type TypedArray,
} from '../../core/dtype.js';
import { isContiguous } from '../../core/shape.js';
import type { Pool2dWindow, View, Window2d } from '../backend.js';
import { contiguousData } from './elementwise.js';
import { gemm } from './gemm.js';
import { arr } from './storage.js';

/** The four strides of a 4-d view. */
function strides4(v: View): [number, number, number, number] {
  const s = v.strides;
  return [s[0]!, s[1]!, s[2]!, s[3]!];
}

/** First output index o with o*stride + off >= 0. */
function firstValid(off: number, stride: number): number {
  return off >= 0 ? 0 : Math.ceil(-off / stride);
}

/** One past the last output index o (< out) with o*stride + off <= size - 1. */
function endValid(off: number, stride: number, size: number, out: number): number {
  if (size - 1 - off < 0) return 0;
  return Math.min(out, Math.floor((size - 1 - off) / stride) + 1);
}

/** im2col: x [N, C, inH, inW] -> [N, C*kh*kw, outH*outW]. */
export function im2colKernel(x: View, w: Window2d): TypedArray {
  const X = arr(x);
  const [N, C] = x.shape as [number, number];
  const [sN, sC, sH, sW] = strides4(x);
  const { inH, inW, outH, outW, kh, kw, sh, sw, ph, pw, dh, dw } = w;
  const L = outH * outW;
  const out = allocArray(dtypeOfArray(X), N * C * kh * kw * L);
  let row = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = x.offset + n * sN + c * sC;
      for (let i = 0; i < kh; i++) {
        const yOff = i * dh - ph;
        const oy0 = firstValid(yOff, sh);
        const oy1 = endValid(yOff, sh, inH, outH);
        for (let j = 0; j < kw; j++, row += L) {
          const xOff = j * dw - pw;
          const ox0 = firstValid(xOff, sw);
          const ox1 = endValid(xOff, sw, inW, outW);
          if (ox1 <= ox0) continue;
          const step = sw * sW;
          for (let oy = oy0; oy < oy1; oy++) {
            let src = base + (oy * sh + yOff) * sH + (ox0 * sw + xOff) * sW;
            const dst = row + oy * outW;
            for (let ox = ox0; ox < ox1; ox++, src += step) out[dst + ox] = X[src]!;
          }
        }
      }
    }
  }
  return out;
}

/** col2im: cols [N, C*kh*kw, outH*outW] -> [N, C, inH, inW], summing overlapping patches. */
export function col2imKernel(cols: View, w: Window2d): TypedArray {
  const S = arr(cols);
  const { inH, inW, outH, outW, kh, kw, sh, sw, ph, pw, dh, dw } = w;
  const N = cols.shape[0]!;
  const C = cols.shape[1]! / (kh * kw);
  const s0 = cols.strides[0]!;
  const s1 = cols.strides[1]!;
  const s2 = cols.strides[2]!;
  const HW = inH * inW;
  const out = allocArray(dtypeOfArray(S), N * C * HW);
  for (let n = 0; n < N; n++) {
    let r = 0;
    for (let c = 0; c < C; c++) {
      const dstPlane = (n * C + c) * HW;
      for (let i = 0; i < kh; i++) {
        const yOff = i * dh - ph;
        const oy0 = firstValid(yOff, sh);
        const oy1 = endValid(yOff, sh, inH, outH);
        for (let j = 0; j < kw; j++, r++) {
          const xOff = j * dw - pw;
          const ox0 = firstValid(xOff, sw);
          const ox1 = endValid(xOff, sw, inW, outW);
          if (ox1 <= ox0) continue;
          const rowBase = cols.offset + n * s0 + r * s1;
          for (let oy = oy0; oy < oy1; oy++) {
            let src = rowBase + (oy * outW + ox0) * s2;
            let dst = dstPlane + (oy * sh + yOff) * inW + ox0 * sw + xOff;
            for (let ox = ox0; ox < ox1; ox++, src += s2, dst += sw) out[dst]! += S[src]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * Per-output-position window bounds along one axis: the first in-range input index, the exclusive
 * end, the step between window taps, and (for average pooling with padding) the padded tap count.
 */
interface Axis {
  first: Int32Array;
  end: Int32Array;
  step: number;
  padded: Int32Array;
}

function axis(
  adaptive: boolean,
  size: number,
  out: number,
  k: number,
  s: number,
  p: number,
  d: number,
): Axis {
  const first = new Int32Array(out);
  const end = new Int32Array(out);
  const padded = new Int32Array(out);
  for (let o = 0; o < out; o++) {
    if (adaptive) {
      first[o] = Math.floor((o * size) / out);
      end[o] = Math.ceil(((o + 1) * size) / out);
      padded[o] = end[o]! - first[o]!;
      continue;
    }
    const start = o * s - p;
    const f = start >= 0 ? start : start + Math.ceil(-start / d) * d;
    first[o] = f;
    end[o] = Math.max(f, Math.min(start + (k - 1) * d + 1, size));
    padded[o] = Math.min(start + k, size + p) - start;
  }
  return { first, end, step: adaptive ? 1 : d, padded };
}

function axes(w: Pool2dWindow): [Axis, Axis] {
  return [
    axis(w.adaptive, w.inH, w.outH, w.kh, w.sh, w.ph, w.dh),
    axis(w.adaptive, w.inW, w.outW, w.kw, w.sw, w.pw, w.dw),
  ];
}

/** Max pooling forward: values and flat in-plane indices. */
export function maxPool2dKernel(x: View, w: Pool2dWindow): { values: TypedArray; indices: Int32Array } {
  const X = arr(x);
  const [N, C] = x.shape as [number, number];
  const [sN, sC, sH, sW] = strides4(x);
  const { inW, outH, outW } = w;
  const total = N * C * outH * outW;
  // Both loops below write every output.
  const values = allocArrayUninit(dtypeOfArray(X), total);
  const indices = allocArrayUninit('int32', total) as Int32Array;
  if (
    !w.adaptive &&
    w.kh === 2 &&
    w.kw === 2 &&
    w.ph === 0 &&
    w.pw === 0 &&
    w.dh === 1 &&
    w.dw === 1 &&
    (outH - 1) * w.sh + 2 <= w.inH &&
    (outW - 1) * w.sw + 2 <= inW
  ) {
    maxPool2x2(X, x.offset, N, C, sN, sC, sH, sW, w, values, indices);
    return { values, indices };
  }
  const [ay, ax] = axes(w);
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = x.offset + n * sN + c * sC;
      for (let oy = 0; oy < outH; oy++) {
        const y0 = ay.first[oy]!;
        const y1 = ay.end[oy]!;
        for (let ox = 0; ox < outW; ox++, o++) {
          const x0 = ax.first[ox]!;
          const x1 = ax.end[ox]!;
          let best = Number.NEGATIVE_INFINITY;
          let bestIdx = y0 * inW + x0;
          for (let iy = y0; iy < y1; iy += ay.step) {
            const rowBase = base + iy * sH;
            for (let ix = x0; ix < x1; ix += ax.step) {
              const v = X[rowBase + ix * sW]!;
              if (v > best || Number.isNaN(v)) {
                best = v;
                bestIdx = iy * inW + ix;
              }
            }
          }
          values[o] = best;
          indices[o] = bestIdx;
        }
      }
    }
  }
  return { values, indices };
}

/** Max pooling with 2x2 windows that all lie inside the input (no padding or dilation): same results as the general loop. */
function maxPool2x2(
  X: TypedArray,
  off: number,
  N: number,
  C: number,
  sN: number,
  sC: number,
  sH: number,
  sW: number,
  w: Pool2dWindow,
  values: TypedArray,
  indices: Int32Array,
): void {
  const { inW, outH, outW, sh, sw } = w;
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = off + n * sN + c * sC;
      for (let oy = 0; oy < outH; oy++) {
        const y0 = oy * sh;
        const r0 = base + y0 * sH;
        const r1 = r0 + sH;
        for (let ox = 0; ox < outW; ox++, o++) {
          const x0 = ox * sw;
          const p = x0 * sW;
          // The general loop keeps the first maximum, or the last NaN; a tournament (a vs b, c vs d,
          // then the two winners) picks the same element. Without branches (they mispredict on
          // random data): the winners are chosen by index arithmetic and read back.
          const va = X[r0 + p]!;
          const vb = X[r0 + p + sW]!;
          const vc = X[r1 + p]!;
          const vd = X[r1 + p + sW]!;
          const t1 = +(vb > va) | +Number.isNaN(vb);
          const t2 = +(vd > vc) | +Number.isNaN(vd);
          const i1 = r0 + p + t1 * sW;
          const i2 = r1 + p + t2 * sW;
          const w1 = X[i1]!;
          const w2 = X[i2]!;
          const t3 = +(w2 > w1) | +Number.isNaN(w2);
          values[o] = X[i1 + t3 * (i2 - i1)]!;
          const j1 = y0 * inW + x0 + t1;
          const j2 = (y0 + 1) * inW + x0 + t2;
          indices[o] = j1 + t3 * (j2 - j1);
        }
      }
    }
  }
}

/** Max pooling adjoint: scatters grad into the argmax positions of each plane. */
export function maxPool2dBackwardKernel(grad: View, indices: View, w: Pool2dWindow): TypedArray {
  const G = arr(grad);
  const I = arr(indices);
  const [N, C] = grad.shape as [number, number];
  const [gN, gC, gH, gW] = strides4(grad);
  const [iN, iC, iH, iW] = strides4(indices);
  const { outH, outW } = w;
  const HW = w.inH * w.inW;
  const out = allocArray(dtypeOfArray(G), N * C * HW);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * HW;
      const gb = grad.offset + n * gN + c * gC;
      const ib = indices.offset + n * iN + c * iC;
      for (let oy = 0; oy < outH; oy++) {
        let gp = gb + oy * gH;
        let ip = ib + oy * iH;
        for (let ox = 0; ox < outW; ox++, gp += gW, ip += iW) out[plane + I[ip]!]! += G[gp]!;
      }
    }
  }
  return out;
}

/** Divisor of each output position of average pooling (rows of outW). */
function divisors(w: Pool2dWindow, ay: Axis, ax: Axis): Float64Array {
  const d = new Float64Array(w.outH * w.outW);
  for (let oy = 0; oy < w.outH; oy++) {
    for (let ox = 0; ox < w.outW; ox++) {
      let v: number;
      if (w.divisorOverride) v = w.divisorOverride;
      else if (w.countIncludePad && !w.adaptive) v = ay.padded[oy]! * ax.padded[ox]!;
      else v = (ay.end[oy]! - ay.first[oy]!) * (ax.end[ox]! - ax.first[ox]!);
      d[oy * w.outW + ox] = v;
    }
  }
  return d;
}

/** Average pooling forward. */
export function avgPool2dKernel(x: View, w: Pool2dWindow): TypedArray {
  const X = arr(x);
  const [N, C] = x.shape as [number, number];
  const [sN, sC, sH, sW] = strides4(x);
  const { outH, outW } = w;
  const [ay, ax] = axes(w);
  const div = divisors(w, ay, ax);
  const out = allocArrayUninit(dtypeOfArray(X), N * C * outH * outW); // every output is written
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = x.offset + n * sN + c * sC;
      for (let oy = 0; oy < outH; oy++) {
        const y0 = ay.first[oy]!;
        const y1 = ay.end[oy]!;
        for (let ox = 0; ox < outW; ox++, o++) {
          const x0 = ax.first[ox]!;
          const x1 = ax.end[ox]!;
          let s = 0;
          for (let iy = y0; iy < y1; iy++) {
            let p = base + iy * sH + x0 * sW;
            for (let ix = x0; ix < x1; ix++, p += sW) s += X[p]!;
          }
          out[o] = s / div[oy * outW + ox]!;
        }
      }
    }
  }
  return out;
}

/** Average pooling adjoint: each output gradient, divided by its divisor, is added over its window. */
export function avgPool2dBackwardKernel(grad: View, w: Pool2dWindow): TypedArray {
  const G = arr(grad);
  const [N, C] = grad.shape as [number, number];
  const [gN, gC, gH, gW] = strides4(grad);
  const { inW, outH, outW } = w;
  const HW = w.inH * inW;
  const [ay, ax] = axes(w);
  const div = divisors(w, ay, ax);
  const out = allocArray(dtypeOfArray(G), N * C * HW);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * HW;
      const gb = grad.offset + n * gN + c * gC;
      for (let oy = 0; oy < outH; oy++) {
        const y0 = ay.first[oy]!;
        const y1 = ay.end[oy]!;
        for (let ox = 0; ox < outW; ox++) {
          const x0 = ax.first[ox]!;
          const x1 = ax.end[ox]!;
          const v = G[gb + oy * gH + ox * gW]! / div[oy * outW + ox]!;
          for (let iy = y0; iy < y1; iy++) {
            const r = plane + iy * inW;
            for (let ix = x0; ix < x1; ix++) out[r + ix]! += v;
          }
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Direct convolution kernels: per sample, im2col into a reused scratch block, then one GEMM per
// group straight into the output (forward), into the weight gradient (accumulating over samples),
// or into scratch columns that col2im folds back (input gradient). Nothing the size of the whole
// batch's columns is ever allocated.

let scratch32 = new Float32Array(0);
let scratch64 = new Float64Array(0);

/** A reused scratch block of at least `n` elements of the float type of `like`. */
function scratchFor(like: FloatArray, n: number): FloatArray {
  if (like instanceof Float64Array) {
    if (scratch64.length < n) scratch64 = new Float64Array(n);
    return scratch64;
  }
  if (scratch32.length < n) scratch32 = new Float32Array(n);
  return scratch32;
}

/** The float data of a view in row-major order (contiguous views are used in place), with its offset. */
function floatData(v: View): [FloatArray, number] {
  const a = arr(v) as FloatArray;
  if (isContiguous(v.shape, v.strides)) return [a, v.offset];
  return [contiguousData(v) as FloatArray, 0];
}

/**
 * Columns of channels [c0, c0 + cn) of sample n of x (strides sN..sW from `base`) into `dst`
 * ([cn*kh*kw, outH*outW], row-major from 0), zeros where the window reads padding.
 */
export function im2colSample(
  X: TypedArray,
  base: number,
  sC: number,
  sH: number,
  sW: number,
  c0: number,
  cn: number,
  w: Window2d,
  dst: FloatArray,
): void {
  const { inH, inW, outH, outW, kh, kw, sh, sw, ph, pw, dh, dw } = w;
  const L = outH * outW;
  let row = 0;
  for (let c = c0; c < c0 + cn; c++) {
    const cb = base + c * sC;
    for (let i = 0; i < kh; i++) {
      const yOff = i * dh - ph;
      const oy0 = Math.min(firstValid(yOff, sh), outH);
      const oy1 = Math.max(oy0, endValid(yOff, sh, inH, outH));
      for (let j = 0; j < kw; j++, row += L) {
        const xOff = j * dw - pw;
        const ox0 = Math.min(firstValid(xOff, sw), outW);
        const ox1 = Math.max(ox0, endValid(xOff, sw, inW, outW));
        if (oy0 > 0) dst.fill(0, row, row + oy0 * outW);
        if (oy1 < outH) dst.fill(0, row + oy1 * outW, row + L);
        const step = sw * sW;
        for (let oy = oy0; oy < oy1; oy++) {
          const d = row + oy * outW;
          for (let ox = 0; ox < ox0; ox++) dst[d + ox] = 0;
          let src = cb + (oy * sh + yOff) * sH + (ox0 * sw + xOff) * sW;
          if (step === 1) {
            for (let ox = ox0; ox < ox1; ox++, src++) dst[d + ox] = X[src]!;
          } else {
            for (let ox = ox0; ox < ox1; ox++, src += step) dst[d + ox] = X[src]!;
          }
          for (let ox = ox1; ox < outW; ox++) dst[d + ox] = 0;
        }
      }
    }
  }
}

/** Adds the columns `cols` ([cn*kh*kw, outH*outW]) of channels [c0, c0 + cn) into plane-major `out` at `base` (col2im). */
export function col2imSample(
  cols: FloatArray,
  c0: number,
  cn: number,
  w: Window2d,
  out: FloatArray,
  base: number,
): void {
  const { inH, inW, outH, outW, kh, kw, sh, sw, ph, pw, dh, dw } = w;
  const L = outH * outW;
  const HW = inH * inW;
  let row = 0;
  for (let c = c0; c < c0 + cn; c++) {
    const plane = base + c * HW;
    for (let i = 0; i < kh; i++) {
      const yOff = i * dh - ph;
      const oy0 = firstValid(yOff, sh);
      const oy1 = endValid(yOff, sh, inH, outH);
      for (let j = 0; j < kw; j++, row += L) {
        const xOff = j * dw - pw;
        const ox0 = firstValid(xOff, sw);
        const ox1 = endValid(xOff, sw, inW, outW);
        if (ox1 <= ox0) continue;
        for (let oy = oy0; oy < oy1; oy++) {
          let src = row + oy * outW + ox0;
          let dst = plane + (oy * sh + yOff) * inW + ox0 * sw + xOff;
          if (sw === 1) {
            for (let ox = ox0; ox < ox1; ox++, src++, dst++) out[dst]! += cols[src]!;
          } else {
            for (let ox = ox0; ox < ox1; ox++, src++, dst += sw) out[dst]! += cols[src]!;
          }
        }
      }
    }
  }
}

/** conv2d forward: x [N, C, inH, inW], weight [Cout, C/groups, kh, kw], bias [Cout] or null -> [N, Cout, outH, outW]. */
export function conv2dKernel(
  x: View,
  weight: View,
  bias: View | null,
  w: Window2d,
  groups: number,
): TypedArray {
  const X = arr(x);
  const [N, C] = x.shape as [number, number];
  const [sN, sC, sH, sW] = strides4(x);
  const cout = weight.shape[0]!;
  const cog = cout / groups;
  const cig = C / groups;
  const kg = cig * w.kh * w.kw;
  const L = w.outH * w.outW;
  const [Wd, wOff] = floatData(weight);
  const out = allocArray(dtypeOfArray(Wd), N * cout * L) as FloatArray;
  const cols = scratchFor(Wd, kg * L);
  // With a bias, each output row starts as the bias and the GEMM accumulates onto it.
  const B = bias ? arr(bias) : null;
  for (let n = 0; n < N; n++) {
    if (B && bias) {
      for (let c = 0; c < cout; c++) {
        const o = (n * cout + c) * L;
        out.fill(B[bias.offset + c * bias.strides[0]!]!, o, o + L);
      }
    }
    for (let g = 0; g < groups; g++) {
      im2colSample(X, x.offset + n * sN, sC, sH, sW, g * cig, cig, w, cols);
      gemm(
        cog,
        L,
        kg,
        Wd,
        wOff + g * cog * kg,
        kg,
        1,
        cols,
        0,
        L,
        1,
        out,
        (n * cout + g * cog) * L,
        B !== null,
      );
    }
  }
  return out;
}

/** Gradient of conv2d w.r.t. its input: grad [N, Cout, outH, outW] -> [N, C, inH, inW]. */
export function conv2dBackwardInputKernel(grad: View, weight: View, w: Window2d, groups: number): TypedArray {
  const [G, gOff] = floatData(grad);
  const [Wd, wOff] = floatData(weight);
  const N = grad.shape[0]!;
  const cout = weight.shape[0]!;
  const cig = weight.shape[1]!;
  const C = cig * groups;
  const cog = cout / groups;
  const kg = cig * w.kh * w.kw;
  const L = w.outH * w.outW;
  const HW = w.inH * w.inW;
  const out = allocArray(dtypeOfArray(G), N * C * HW) as FloatArray;
  const cols = scratchFor(G, kg * L);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      // cols = W_g^T [kg, cog] x grad_{n,g} [cog, L]
      gemm(
        kg,
        L,
        cog,
        Wd,
        wOff + g * cog * kg,
        1,
        kg,
        G,
        gOff + (n * cout + g * cog) * L,
        L,
        1,
        cols,
        0,
        false,
      );
      col2imSample(cols, g * cig, cig, w, out, n * C * HW);
    }
  }
  return out;
}

/** Gradient of conv2d w.r.t. its weight: grad [N, Cout, outH, outW], x [N, C, inH, inW] -> [Cout, C/groups, kh, kw]. */
export function conv2dBackwardWeightKernel(grad: View, x: View, w: Window2d, groups: number): TypedArray {
  const [G, gOff] = floatData(grad);
  const X = arr(x);
  const [N, C] = x.shape as [number, number];
  const [sN, sC, sH, sW] = strides4(x);
  const cout = grad.shape[1]!;
  const cog = cout / groups;
  const cig = C / groups;
  const kg = cig * w.kh * w.kw;
  const L = w.outH * w.outW;
  const out = allocArray(dtypeOfArray(G), cout * kg) as FloatArray;
  const cols = scratchFor(G, kg * L);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      im2colSample(X, x.offset + n * sN, sC, sH, sW, g * cig, cig, w, cols);
      // dW_g [cog, kg] += grad_{n,g} [cog, L] x cols^T [L, kg]
      gemm(cog, kg, L, G, gOff + (n * cout + g * cog) * L, L, 1, cols, 0, 1, L, out, g * cog * kg, n > 0);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Batch normalisation (per channel of [N, C, ...]; statistics and sums accumulate in doubles)

/** A 1-d view's entries as doubles, or `fallback` (a number) when the view is null. */
export function vec(v: View | null, fallback: number): Float64Array | number {
  if (!v) return fallback;
  const a = arr(v);
  const n = v.shape[0]!;
  const s = v.strides[0]!;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = a[v.offset + i * s]!;
  return out;
}

/** Sizes [N, C, S] of an [N, C, ...] view (S: product of the trailing dims). */
export function ncs(x: View): [number, number, number] {
  let s = 1;
  for (let d = 2; d < x.shape.length; d++) s *= x.shape[d]!;
  return [x.shape[0]!, x.shape[1]!, s];
}

/** Per-channel mean and biased variance of x [N, C, ...] (two passes, in doubles). */
export function batchNormStatsKernel(x: View): { mean: TypedArray; variance: TypedArray } {
  const X = contiguousData(x);
  const [N, C, S] = ncs(x);
  const dt = dtypeOfArray(X);
  const mean = allocArray(dt, C);
  const variance = allocArray(dt, C);
  const count = N * S;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * S;
      for (let i = 0; i < S; i++) s += X[b + i]!;
    }
    const m = s / count;
    let q = 0;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * S;
      for (let i = 0; i < S; i++) {
        const d = X[b + i]! - m;
        q += d * d;
      }
    }
    mean[c] = m;
    variance[c] = q / count;
  }
  return { mean, variance };
}

/** (x - mean[c]) * invstd[c] * weight[c] + bias[c] over x [N, C, ...]; weight/bias default to 1/0. */
export function batchNormForwardKernel(
  x: View,
  mean: View,
  invstd: View,
  weight: View | null,
  bias: View | null,
): TypedArray {
  const X = contiguousData(x);
  const [N, C, S] = ncs(x);
  const m = vec(mean, 0) as Float64Array;
  const is = vec(invstd, 1) as Float64Array;
  const wv = vec(weight, 1);
  const bv = vec(bias, 0);
  const out = allocArray(dtypeOfArray(X), X.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const a = is[c]! * (typeof wv === 'number' ? wv : wv[c]!);
      const mc = m[c]!;
      const bc = typeof bv === 'number' ? bv : bv[c]!;
      const b = (n * C + c) * S;
      for (let i = 0; i < S; i++) out[b + i] = (X[b + i]! - mc) * a + bc;
    }
  }
  return out;
}

/**
 * Backward of training-mode batch norm (batch statistics `mean`/`invstd` from the forward pass):
 * dx = w*invstd * (g - mean(g) - xhat * mean(g * xhat)), dweight = sum(g * xhat), dbias = sum(g).
 */
export function batchNormBackwardKernel(
  grad: View,
  x: View,
  mean: View,
  invstd: View,
  weight: View | null,
): { dx: TypedArray; dweight: TypedArray; dbias: TypedArray } {
  const G = contiguousData(grad);
  const X = contiguousData(x);
  const [N, C, S] = ncs(x);
  const m = vec(mean, 0) as Float64Array;
  const is = vec(invstd, 1) as Float64Array;
  const wv = vec(weight, 1);
  const dt = dtypeOfArray(G);
  const dx = allocArray(dt, G.length);
  const dweight = allocArray(dt, C);
  const dbias = allocArray(dt, C);
  const count = N * S;
  for (let c = 0; c < C; c++) {
    const mc = m[c]!;
    let sg = 0;
    let sgx = 0;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * S;
      for (let i = 0; i < S; i++) {
        const g = G[b + i]!;
        sg += g;
        sgx += g * (X[b + i]! - mc);
      }
    }
    const isc = is[c]!;
    dbias[c] = sg;
    dweight[c] = sgx * isc;
    const a = isc * (typeof wv === 'number' ? wv : wv[c]!);
    const gm = sg / count;
    const k = (sgx * isc * isc) / count;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * S;
      for (let i = 0; i < S; i++) dx[b + i] = a * (G[b + i]! - gm - (X[b + i]! - mc) * k);
    }
  }
  return { dx, dweight, dbias };
}
