/**
 * Neural-network CPU kernels on NCHW tensors: im2col/col2im for convolution, and max/average
 * pooling (fixed and adaptive windows) with their adjoints. Inputs may have any strides; results
 * are fresh contiguous arrays. The loops walk whole output rows with precomputed valid ranges, so
 * the inner loops carry no bounds checks and nothing is allocated per element.
 * @module
 */
import { allocArray, dtypeOfArray, type TypedArray } from '../../core/dtype.js';
import type { Pool2dWindow, View, Window2d } from '../backend.js';
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
  const [ay, ax] = axes(w);
  const total = N * C * outH * outW;
  const values = allocArray(dtypeOfArray(X), total);
  const indices = new Int32Array(total);
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
  const out = allocArray(dtypeOfArray(X), N * C * outH * outW);
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
