/**
 * Per-sample image transforms for data augmentation, on float images of shape [C, H, W] or [H, W]
 * (more leading dims are allowed: every [H, W] plane gets the same random parameters).
 *
 * A transform is an object with `apply(x, generator?)` returning a new tensor (or `x` itself when it
 * leaves it unchanged, e.g. a flip that was not drawn); a plain function `(x, generator?) => Tensor`
 * is accepted wherever a transform is (`TransformLike`). Random transforms draw their parameters from
 * `generator` (the default generator, seeded by `manualSeed`, when omitted), so the same seed gives the
 * same output. Transforms are not differentiable: they work on the raw values and return leaf tensors
 * of the input's dtype. Geometric warps are computed directly on typed arrays.
 * @module
 */
import { getBackend } from '../backends/backend.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { defaultGenerator, type Generator } from '../core/random.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { checkIndex, type Dataset } from './dataset.js';

/** A per-sample transform: `apply` maps an image to a new image, drawing randomness from `generator`. */
export interface Transform {
  /** Transforms `x`; random transforms draw from `generator` (default: the default generator). */
  apply(x: Tensor, generator?: Generator): Tensor;
}

/** A `Transform` object or a plain function with the same signature. */
export type TransformLike = Transform | ((x: Tensor, generator?: Generator) => Tensor);

/** Runs a `TransformLike` on `x`. */
export function applyTransform(t: TransformLike, x: Tensor, generator?: Generator): Tensor {
  return typeof t === 'function' ? t(x, generator) : t.apply(x, generator);
}

/** How a warp samples the source image between pixels. */
export type Interpolation = 'bilinear' | 'nearest';

/** A fill value for pixels with no source: one number, or one per channel. */
export type Fill = number | readonly number[];

type FloatArray = Float32Array | Float64Array;

/** The image as contiguous planes: `planes` images of `h` x `w`, `channels` = size of dim -3 (or 1). */
interface Planes {
  data: FloatArray;
  planes: number;
  channels: number;
  h: number;
  w: number;
}

function planesOf(op: string, x: Tensor): Planes {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') {
    throw new DTypeError(
      `${op}: expected a float32 or float64 image, got ${x.dtype} of shape ${fmt(x.shape)} ` +
        '(convert byte images with toTensor)',
    );
  }
  if (x.ndim < 2) {
    throw new ShapeError(`${op}: expected an image of shape [C,H,W] or [H,W], got ${fmt(x.shape)}`);
  }
  const h = x.shape[x.ndim - 2]!;
  const w = x.shape[x.ndim - 1]!;
  const n = x.numel();
  return {
    data: x.dataSync() as FloatArray,
    planes: h * w === 0 ? 0 : n / (h * w),
    channels: x.ndim >= 3 ? x.shape[x.ndim - 3]! : 1,
    h,
    w,
  };
}

function allocLike(x: Tensor, n: number): FloatArray {
  return x.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

function wrap(x: Tensor, data: FloatArray, h: number, w: number): Tensor {
  const shape = x.shape.slice();
  shape[shape.length - 2] = h;
  shape[shape.length - 1] = w;
  return new Tensor(x.storage.backend.fromArray(data), shape);
}

function fillPerPlane(op: string, fill: Fill, p: Planes): Float64Array {
  const per = new Float64Array(p.planes);
  if (typeof fill === 'number') {
    per.fill(fill);
    return per;
  }
  if (fill.length !== 1 && fill.length !== p.channels) {
    throw new ValueError(`${op}: fill has ${fill.length} values but the image has ${p.channels} channels`);
  }
  for (let k = 0; k < p.planes; k++) per[k] = fill.length === 1 ? fill[0]! : fill[k % p.channels]!;
  return per;
}

function checkFill(op: string, fill: Fill): Fill {
  const vals = typeof fill === 'number' ? [fill] : fill;
  if (vals.length === 0 || vals.some((v) => !Number.isFinite(v))) {
    throw new ValueError(`${op}: fill must be a finite number or a non-empty list of them`);
  }
  return typeof fill === 'number' ? fill : fill.slice();
}

function checkInterpolation(op: string, mode: string): Interpolation {
  if (mode !== 'bilinear' && mode !== 'nearest') {
    throw new ValueError(`${op}: interpolation must be 'bilinear' or 'nearest', got '${mode}'`);
  }
  return mode;
}

/** `[min, max]` from a symmetric bound `d` (giving [-d, d]) or a range. */
function range(op: string, name: string, v: number | readonly [number, number]): [number, number] {
  if (typeof v === 'number') {
    if (!(v >= 0) || !Number.isFinite(v)) {
      throw new ValueError(`${op}: ${name} must be a non-negative number or a [min, max] range, got ${v}`);
    }
    return [-v, v];
  }
  if (v.length !== 2 || !(v[0] <= v[1]) || !Number.isFinite(v[0]) || !Number.isFinite(v[1])) {
    throw new ValueError(`${op}: ${name} range must be [min, max] with min <= max, got [${v.join(', ')}]`);
  }
  return [v[0], v[1]];
}

function uniform(g: Generator, lo: number, hi: number): number {
  return lo + g.random() * (hi - lo);
}

/** Rounds matrix entries within 1e-12 of 0 or ±1 so quarter turns land exactly on pixel centres. */
function snap(v: number): number {
  if (Math.abs(v) < 1e-12) return 0;
  if (Math.abs(v - 1) < 1e-12) return 1;
  if (Math.abs(v + 1) < 1e-12) return -1;
  return v;
}

/**
 * Warps every plane by the affine map taking output pixel (row i, col j) to the source position
 * `x = m[0]*j + m[1]*i + m[2]`, `y = m[3]*j + m[4]*i + m[5]` (pixel-index coordinates). Source
 * positions off the image take `fill` (bilinear: each of the four neighbours off the image does).
 */
function warpAffine(
  p: Planes,
  m: readonly number[],
  fill: Float64Array,
  mode: Interpolation,
  out: FloatArray,
): void {
  const { data: src, planes, h, w } = p;
  const hw = h * w;
  const [m0, m1, m2, m3, m4, m5] = m as [number, number, number, number, number, number];
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const o = i * w + j;
      const sx = m0 * j + m1 * i + m2;
      const sy = m3 * j + m4 * i + m5;
      if (mode === 'nearest') {
        const xi = Math.floor(sx + 0.5);
        const yi = Math.floor(sy + 0.5);
        if (xi >= 0 && xi < w && yi >= 0 && yi < h) {
          const s = yi * w + xi;
          for (let k = 0; k < planes; k++) out[k * hw + o] = src[k * hw + s]!;
        } else {
          for (let k = 0; k < planes; k++) out[k * hw + o] = fill[k]!;
        }
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < -1 || x0 >= w || y0 < -1 || y0 >= h) {
        for (let k = 0; k < planes; k++) out[k * hw + o] = fill[k]!;
        continue;
      }
      const fx = sx - x0;
      const fy = sy - y0;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const s = y0 * w + x0;
      if (x0 >= 0 && x0 + 1 < w && y0 >= 0 && y0 + 1 < h) {
        for (let k = 0; k < planes; k++) {
          const b = k * hw + s;
          out[k * hw + o] = w00 * src[b]! + w01 * src[b + 1]! + w10 * src[b + w]! + w11 * src[b + w + 1]!;
        }
        continue;
      }
      const inX0 = x0 >= 0;
      const inX1 = x0 + 1 < w;
      const inY0 = y0 >= 0;
      const inY1 = y0 + 1 < h;
      for (let k = 0; k < planes; k++) {
        const b = k * hw + s;
        const f = fill[k]!;
        out[k * hw + o] =
          w00 * (inY0 && inX0 ? src[b]! : f) +
          w01 * (inY0 && inX1 ? src[b + 1]! : f) +
          w10 * (inY1 && inX0 ? src[b + w]! : f) +
          w11 * (inY1 && inX1 ? src[b + w + 1]! : f);
      }
    }
  }
}

/**
 * The inverse-map coefficients for the forward map p' = A (p - c) + c + t about the image centre
 * c = ((W-1)/2, (H-1)/2), where A = scale * R(angle) * Shear(shear): positive angles turn the image
 * counter-clockwise as displayed (rows going down), shear is along x.
 */
function affineInverse(
  h: number,
  w: number,
  angleDeg: number,
  tx: number,
  ty: number,
  scale: number,
  shearDeg: number,
): number[] {
  const a = (angleDeg * Math.PI) / 180;
  const cos = snap(Math.cos(a));
  const sin = snap(Math.sin(a));
  const sh = snap(Math.tan((shearDeg * Math.PI) / 180));
  // R = [[cos, sin], [-sin, cos]] (counter-clockwise on screen), Shear = [[1, sh], [0, 1]]
  const a00 = scale * cos;
  const a01 = scale * (cos * sh + sin);
  const a10 = scale * -sin;
  const a11 = scale * (-sin * sh + cos);
  const det = a00 * a11 - a01 * a10;
  const i00 = a11 / det;
  const i01 = -a01 / det;
  const i10 = -a10 / det;
  const i11 = a00 / det;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  // src = A^-1 (p - c - t) + c
  const ox = cx + tx;
  const oy = cy + ty;
  return [i00, i01, cx - i00 * ox - i01 * oy, i10, i11, cy - i10 * ox - i11 * oy];
}

function affine(
  op: string,
  x: Tensor,
  params: { angle: number; tx: number; ty: number; scale: number; shear: number },
  fill: Fill,
  mode: Interpolation,
): Tensor {
  const p = planesOf(op, x);
  const out = allocLike(x, p.data.length);
  if (p.planes > 0) {
    const m = affineInverse(p.h, p.w, params.angle, params.tx, params.ty, params.scale, params.shear);
    warpAffine(p, m, fillPerPlane(op, fill, p), mode, out);
  }
  return wrap(x, out, p.h, p.w);
}

/** Options of `RandomRotation`. */
export interface RandomRotationOptions {
  /** Value for pixels rotated in from outside the image (default 0; one per channel allowed). */
  fill?: Fill;
  /** Sampling between pixels (default 'bilinear'). */
  interpolation?: Interpolation;
}

/**
 * Rotates the image about its centre by an angle drawn uniformly from `degrees` (a number d gives
 * [-d, d]); positive angles turn counter-clockwise as displayed. The output keeps the input size.
 */
export class RandomRotation implements Transform {
  /** The angle range in degrees. */
  readonly degrees: [number, number];
  /** Fill value(s) for uncovered pixels. */
  readonly fill: Fill;
  /** Sampling mode. */
  readonly interpolation: Interpolation;

  constructor(degrees: number | readonly [number, number], options: RandomRotationOptions = {}) {
    this.degrees = range('RandomRotation', 'degrees', degrees);
    this.fill = checkFill('RandomRotation', options.fill ?? 0);
    this.interpolation = checkInterpolation('RandomRotation', options.interpolation ?? 'bilinear');
  }

  /** Rotates `x` by a random angle. */
  apply(x: Tensor, generator: Generator = defaultGenerator): Tensor {
    const angle = uniform(generator, this.degrees[0], this.degrees[1]);
    return affine(
      'RandomRotation',
      x,
      { angle, tx: 0, ty: 0, scale: 1, shear: 0 },
      this.fill,
      this.interpolation,
    );
  }
}

/** Options of `RandomAffine`. */
export interface RandomAffineOptions {
  /** Rotation range in degrees (a number d gives [-d, d]; default 0). */
  degrees?: number | readonly [number, number];
  /**
   * Maximum absolute shifts as fractions of the width and height, `[fx, fy]` in [0, 1]: the shift is
   * drawn uniformly in ±fx*W (±fy*H) and rounded to whole pixels.
   */
  translate?: readonly [number, number];
  /** Scale factor range `[min, max]` (both > 0); default no scaling. */
  scale?: readonly [number, number];
  /** Shear along x in degrees (a number s gives [-s, s]); default none. */
  shear?: number | readonly [number, number];
  /** Value for uncovered pixels (default 0; one per channel allowed). */
  fill?: Fill;
  /** Sampling between pixels (default 'bilinear'). */
  interpolation?: Interpolation;
}

/**
 * A random affine warp about the image centre: rotation, translation, scaling and x-shear, each drawn
 * uniformly from its range (in that order). The output keeps the input size.
 */
export class RandomAffine implements Transform {
  /** Rotation range in degrees. */
  readonly degrees: [number, number];
  /** Maximum shift fractions, or null. */
  readonly translate: [number, number] | null;
  /** Scale range, or null. */
  readonly scale: [number, number] | null;
  /** Shear range in degrees, or null. */
  readonly shear: [number, number] | null;
  /** Fill value(s). */
  readonly fill: Fill;
  /** Sampling mode. */
  readonly interpolation: Interpolation;

  constructor(options: RandomAffineOptions = {}) {
    const op = 'RandomAffine';
    this.degrees = range(op, 'degrees', options.degrees ?? 0);
    const t = options.translate;
    if (t && (t.length !== 2 || t.some((v) => !(v >= 0 && v <= 1)))) {
      throw new ValueError(`${op}: translate must be [fx, fy] with values in [0, 1], got [${t.join(', ')}]`);
    }
    this.translate = t ? [t[0], t[1]] : null;
    const s = options.scale;
    if (s && (s.length !== 2 || !(s[0] > 0) || !(s[0] <= s[1]) || !Number.isFinite(s[1]))) {
      throw new ValueError(`${op}: scale must be [min, max] with 0 < min <= max, got [${s.join(', ')}]`);
    }
    this.scale = s ? [s[0], s[1]] : null;
    this.shear = options.shear === undefined ? null : range(op, 'shear', options.shear);
    if (this.shear && (this.shear[0] <= -90 || this.shear[1] >= 90)) {
      throw new ValueError(`${op}: shear must lie in (-90, 90) degrees, got [${this.shear.join(', ')}]`);
    }
    this.fill = checkFill(op, options.fill ?? 0);
    this.interpolation = checkInterpolation(op, options.interpolation ?? 'bilinear');
  }

  /** Warps `x` by a random affine map. */
  apply(x: Tensor, generator: Generator = defaultGenerator): Tensor {
    const g = generator;
    const h = x.ndim >= 2 ? x.shape[x.ndim - 2]! : 0;
    const w = x.ndim >= 2 ? x.shape[x.ndim - 1]! : 0;
    const angle = uniform(g, this.degrees[0], this.degrees[1]);
    let tx = 0;
    let ty = 0;
    if (this.translate) {
      tx = Math.round(uniform(g, -this.translate[0] * w, this.translate[0] * w));
      ty = Math.round(uniform(g, -this.translate[1] * h, this.translate[1] * h));
    }
    const scale = this.scale ? uniform(g, this.scale[0], this.scale[1]) : 1;
    const shear = this.shear ? uniform(g, this.shear[0], this.shear[1]) : 0;
    return affine('RandomAffine', x, { angle, tx, ty, scale, shear }, this.fill, this.interpolation);
  }
}

/** `[h, w]` from a size given as one number or a pair. */
function size2(op: string, size: number | readonly [number, number]): [number, number] {
  const s: [number, number] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
  if (s.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new ValueError(
      `${op}: size must be a positive integer or a pair of them, got ${JSON.stringify(size)}`,
    );
  }
  return s;
}

/** Options of `RandomCrop`. */
export interface RandomCropOptions {
  /**
   * Padding added before cropping: one number for all sides, `[leftRight, topBottom]`, or
   * `[left, top, right, bottom]` (default 0).
   */
  padding?: number | readonly number[];
  /** Value of the padding (default 0; one per channel allowed). */
  fill?: Fill;
  /** Pad an image smaller than the crop up to the crop size (default false: throw). */
  padIfNeeded?: boolean;
}

/** Crops a random `size` window (after optional constant padding); the output is [..., h, w]. */
export class RandomCrop implements Transform {
  /** Output [height, width]. */
  readonly size: [number, number];
  /** Padding [left, top, right, bottom]. */
  readonly padding: [number, number, number, number];
  /** Fill value(s) of the padding. */
  readonly fill: Fill;
  /** Whether small images are padded up to the crop size. */
  readonly padIfNeeded: boolean;

  constructor(size: number | readonly [number, number], options: RandomCropOptions = {}) {
    const op = 'RandomCrop';
    this.size = size2(op, size);
    const pad = options.padding ?? 0;
    const pv = typeof pad === 'number' ? [pad] : pad;
    if (![1, 2, 4].includes(pv.length) || pv.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new ValueError(
        `${op}: padding must be a non-negative integer or a list of 2 or 4 of them, got ${JSON.stringify(pad)}`,
      );
    }
    this.padding =
      pv.length === 1
        ? [pv[0]!, pv[0]!, pv[0]!, pv[0]!]
        : pv.length === 2
          ? [pv[0]!, pv[1]!, pv[0]!, pv[1]!]
          : [pv[0]!, pv[1]!, pv[2]!, pv[3]!];
    this.fill = checkFill(op, options.fill ?? 0);
    this.padIfNeeded = options.padIfNeeded ?? false;
  }

  /** Crops `x` at a random position. */
  apply(x: Tensor, generator: Generator = defaultGenerator): Tensor {
    const op = 'RandomCrop';
    const p = planesOf(op, x);
    const [th, tw] = this.size;
    let [pl, pt, pr, pb] = this.padding;
    if (this.padIfNeeded) {
      if (p.w + pl + pr < tw) pr += tw - (p.w + pl + pr);
      if (p.h + pt + pb < th) pb += th - (p.h + pt + pb);
    }
    const ph = p.h + pt + pb;
    const pw = p.w + pl + pr;
    if (ph < th || pw < tw) {
      throw new ValueError(
        `${op}: crop size [${th}, ${tw}] is larger than the padded image [${ph}, ${pw}] (input ${fmt(x.shape)})`,
      );
    }
    const top = generator.randint(0, ph - th + 1) - pt;
    const left = generator.randint(0, pw - tw + 1) - pl;
    const out = allocLike(x, p.planes * th * tw);
    crop(p, top, left, th, tw, fillPerPlane(op, this.fill, p), out);
    return wrap(x, out, th, tw);
  }
}

/** Copies the window at (top, left) of size th x tw of every plane; pixels off the image take fill. */
function crop(
  p: Planes,
  top: number,
  left: number,
  th: number,
  tw: number,
  fill: Float64Array,
  out: FloatArray,
): void {
  const { data, planes, h, w } = p;
  const j0 = Math.max(0, -left);
  const j1 = Math.min(tw, w - left);
  for (let k = 0; k < planes; k++) {
    const f = fill[k]!;
    for (let i = 0; i < th; i++) {
      const row = k * th * tw + i * tw;
      const si = top + i;
      if (si < 0 || si >= h || j1 <= j0) {
        out.fill(f, row, row + tw);
        continue;
      }
      if (j0 > 0) out.fill(f, row, row + j0);
      const s = k * h * w + si * w + left;
      out.set(data.subarray(s + j0, s + j1), row + j0);
      if (j1 < tw) out.fill(f, row + Math.max(j1, 0), row + tw);
    }
  }
}

/** Options of `RandomResizedCrop`. */
export interface RandomResizedCropOptions {
  /** Range of the crop area as a fraction of the image area (default [0.08, 1]). */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio width/height, sampled log-uniformly (default [3/4, 4/3]). */
  ratio?: readonly [number, number];
  /** Resampling (default 'bilinear'). */
  interpolation?: Interpolation;
}

/**
 * Crops a random window of random area and aspect ratio and resizes it to `size` (the usual
 * ImageNet-style augmentation). After 10 failed draws it falls back to a centred crop with the
 * ratio clamped to `ratio`.
 */
export class RandomResizedCrop implements Transform {
  /** Output [height, width]. */
  readonly size: [number, number];
  /** Area fraction range. */
  readonly scale: [number, number];
  /** Aspect ratio range. */
  readonly ratio: [number, number];
  /** Resampling mode. */
  readonly interpolation: Interpolation;

  constructor(size: number | readonly [number, number], options: RandomResizedCropOptions = {}) {
    const op = 'RandomResizedCrop';
    this.size = size2(op, size);
    const s = options.scale ?? [0.08, 1];
    const r = options.ratio ?? [3 / 4, 4 / 3];
    if (s.length !== 2 || !(s[0] > 0) || !(s[0] <= s[1])) {
      throw new ValueError(`${op}: scale must be [min, max] with 0 < min <= max, got [${s.join(', ')}]`);
    }
    if (r.length !== 2 || !(r[0] > 0) || !(r[0] <= r[1]) || !Number.isFinite(r[1])) {
      throw new ValueError(`${op}: ratio must be [min, max] with 0 < min <= max, got [${r.join(', ')}]`);
    }
    this.scale = [s[0], s[1]];
    this.ratio = [r[0], r[1]];
    this.interpolation = checkInterpolation(op, options.interpolation ?? 'bilinear');
  }

  /** Crops a random window of `x` and resizes it. */
  apply(x: Tensor, generator: Generator = defaultGenerator): Tensor {
    const p = planesOf('RandomResizedCrop', x);
    const { top, left, ch, cw } = this.window(p.h, p.w, generator);
    const [oh, ow] = this.size;
    const out = allocLike(x, p.planes * oh * ow);
    if (p.planes > 0 && ch > 0 && cw > 0) resizeWindow(p, top, left, ch, cw, oh, ow, this.interpolation, out);
    return wrap(x, out, oh, ow);
  }

  private window(h: number, w: number, g: Generator): { top: number; left: number; ch: number; cw: number } {
    const area = h * w;
    const logR0 = Math.log(this.ratio[0]);
    const logR1 = Math.log(this.ratio[1]);
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = area * uniform(g, this.scale[0], this.scale[1]);
      const aspect = Math.exp(uniform(g, logR0, logR1));
      const cw = Math.round(Math.sqrt(target * aspect));
      const ch = Math.round(Math.sqrt(target / aspect));
      if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
        const top = g.randint(0, h - ch + 1);
        const left = g.randint(0, w - cw + 1);
        return { top, left, ch, cw };
      }
    }
    // fallback: centre crop, aspect ratio clamped to the range
    const inRatio = w / Math.max(h, 1);
    let cw = w;
    let ch = h;
    if (inRatio < this.ratio[0]) ch = Math.round(w / this.ratio[0]);
    else if (inRatio > this.ratio[1]) cw = Math.round(h * this.ratio[1]);
    return { top: Math.floor((h - ch) / 2), left: Math.floor((w - cw) / 2), ch, cw };
  }
}

/**
 * Resizes the window (top, left, ch, cw) of every plane to oh x ow with PyTorch's `interpolate`
 * conventions (align_corners=False; bilinear clamps at the window's edges, nearest takes floor(dst*scale)).
 */
function resizeWindow(
  p: Planes,
  top: number,
  left: number,
  ch: number,
  cw: number,
  oh: number,
  ow: number,
  mode: Interpolation,
  out: FloatArray,
): void {
  const { data, planes, h, w } = p;
  const sy = ch / oh;
  const sx = cw / ow;
  // per-column source indices and weights, computed once
  const cx0 = new Int32Array(ow);
  const cx1 = new Int32Array(ow);
  const wx = new Float64Array(ow);
  for (let j = 0; j < ow; j++) {
    if (mode === 'nearest') {
      cx0[j] = left + Math.min(Math.floor(j * sx), cw - 1);
      continue;
    }
    const u = Math.max(0, (j + 0.5) * sx - 0.5);
    const u0 = Math.min(Math.floor(u), cw - 1);
    cx0[j] = left + u0;
    cx1[j] = left + Math.min(u0 + 1, cw - 1);
    wx[j] = u - u0;
  }
  for (let k = 0; k < planes; k++) {
    const base = k * h * w;
    const obase = k * oh * ow;
    for (let i = 0; i < oh; i++) {
      const o = obase + i * ow;
      if (mode === 'nearest') {
        const r = base + (top + Math.min(Math.floor(i * sy), ch - 1)) * w;
        for (let j = 0; j < ow; j++) out[o + j] = data[r + cx0[j]!]!;
        continue;
      }
      const v = Math.max(0, (i + 0.5) * sy - 0.5);
      const v0 = Math.min(Math.floor(v), ch - 1);
      const r0 = base + (top + v0) * w;
      const r1 = base + (top + Math.min(v0 + 1, ch - 1)) * w;
      const fy = v - v0;
      for (let j = 0; j < ow; j++) {
        const a = cx0[j]!;
        const b = cx1[j]!;
        const fx = wx[j]!;
        const t0 = data[r0 + a]! + fx * (data[r0 + b]! - data[r0 + a]!);
        const t1 = data[r1 + a]! + fx * (data[r1 + b]! - data[r1 + a]!);
        out[o + j] = t0 + fy * (t1 - t0);
      }
    }
  }
}

function checkProbability(op: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`${op}: probability p must be in [0, 1], got ${p}`);
  return p;
}

/** Mirrors the image left-right with probability `p` (default 0.5); otherwise returns `x` itself. */
export class RandomHorizontalFlip implements Transform {
  /** Probability of flipping. */
  readonly p: number;

  constructor(p = 0.5) {
    this.p = checkProbability('RandomHorizontalFlip', p);
  }

  /** Flips `x` (a copy) with probability p. */
  apply(x: Tensor, generator: Generator = defaultGenerator): Tensor {
    if (!(generator.random() < this.p)) return x;
    const p = planesOf('RandomHorizontalFlip', x);
    const out = allocLike(x, p.data.length);
    const rows = p.planes * p.h;
    for (let r = 0; r < rows; r++) {
      const o = r * p.w;
      for (let j = 0; j < p.w; j++) out[o + j] = p.data[o + p.w - 1 - j]!;
    }
    return wrap(x, out, p.h, p.w);
  }
}

/** Mirrors the image top-bottom with probability `p` (default 0.5); otherwise returns `x` itself. */
export class RandomVerticalFlip implements Transform {
  /** Probability of flipping. */
  readonly p: number;

  constructor(p = 0.5) {
    this.p = checkProbability('RandomVerticalFlip', p);
  }

  /** Flips `x` (a copy) with probability p. */
  apply(x: Tensor, generator: Generator = defaultGenerator): Tensor {
    if (!(generator.random() < this.p)) return x;
    const p = planesOf('RandomVerticalFlip', x);
    const out = allocLike(x, p.data.length);
    for (let k = 0; k < p.planes; k++) {
      const base = k * p.h * p.w;
      for (let i = 0; i < p.h; i++) {
        const s = base + (p.h - 1 - i) * p.w;
        out.set(p.data.subarray(s, s + p.w), base + i * p.w);
      }
    }
    return wrap(x, out, p.h, p.w);
  }
}

/**
 * Standardises each channel: `(x[c] - mean[c]) / std[c]`. `mean`/`std` are one number for all channels
 * or one per channel (dim -3 of the image; an [H, W] image has one channel).
 */
export class Normalize implements Transform {
  /** Per-channel means (or one for all). */
  readonly mean: readonly number[];
  /** Per-channel standard deviations (or one for all). */
  readonly std: readonly number[];

  constructor(mean: number | readonly number[], std: number | readonly number[]) {
    const m = typeof mean === 'number' ? [mean] : mean.slice();
    const s = typeof std === 'number' ? [std] : std.slice();
    if (m.length === 0 || s.length === 0 || m.some((v) => !Number.isFinite(v))) {
      throw new ValueError(`Normalize: mean must be a finite number or a non-empty list of them`);
    }
    if (s.some((v) => v === 0 || !Number.isFinite(v))) {
      throw new ValueError(`Normalize: std must be finite and non-zero, got [${s.join(', ')}]`);
    }
    this.mean = m;
    this.std = s;
  }

  /** Normalises `x` (a new tensor). */
  apply(x: Tensor): Tensor {
    const p = planesOf('Normalize', x);
    for (const [name, v] of [
      ['mean', this.mean],
      ['std', this.std],
    ] as const) {
      if (v.length !== 1 && v.length !== p.channels) {
        throw new ValueError(
          `Normalize: ${v.length} ${name} values for an image with ${p.channels} channels (shape ${fmt(x.shape)})`,
        );
      }
    }
    const out = allocLike(x, p.data.length);
    const hw = p.h * p.w;
    for (let k = 0; k < p.planes; k++) {
      const c = k % p.channels;
      const m = this.mean.length === 1 ? this.mean[0]! : this.mean[c]!;
      const inv = 1 / (this.std.length === 1 ? this.std[0]! : this.std[c]!);
      for (let i = k * hw, e = i + hw; i < e; i++) out[i] = (p.data[i]! - m) * inv;
    }
    return wrap(x, out, p.h, p.w);
  }
}

/** Applies transforms one after the other, all drawing from the same generator. */
export class Compose implements Transform {
  /** The transforms, in order. */
  readonly transforms: readonly TransformLike[];

  constructor(transforms: readonly TransformLike[]) {
    this.transforms = transforms.slice();
  }

  /** Runs every transform in order. */
  apply(x: Tensor, generator: Generator = defaultGenerator): Tensor {
    let y = x;
    for (const t of this.transforms) y = applyTransform(t, y, generator);
    return y;
  }
}

/** Options of `toTensor`. */
export interface ToTensorOptions {
  /** Interleaved channels per pixel, as in canvas `ImageData` (4 for RGBA; default 1). */
  channels?: number;
  /** Output dtype (default float32). */
  dtype?: 'float32' | 'float64';
}

/**
 * A byte image (values 0..255, row-major, channels interleaved per pixel) as a [C, H, W] float tensor
 * in [0, 1] (C = `channels`, default 1), like torchvision's `ToTensor`.
 */
export function toTensor(
  pixels: Uint8Array | Uint8ClampedArray | readonly number[],
  height: number,
  width: number,
  options: ToTensorOptions = {},
): Tensor {
  const c = options.channels ?? 1;
  for (const [name, v] of [
    ['height', height],
    ['width', width],
    ['channels', c],
  ] as const) {
    if (!Number.isInteger(v) || v < (name === 'channels' ? 1 : 0)) {
      throw new ValueError(
        `toTensor: ${name} must be a ${name === 'channels' ? 'positive' : 'non-negative'} integer, got ${v}`,
      );
    }
  }
  const n = height * width * c;
  if (pixels.length !== n) {
    throw new ValueError(
      `toTensor: ${pixels.length} pixel values do not fit a ${height}x${width} image with ${c} channels (need ${n})`,
    );
  }
  const out = options.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  const hw = height * width;
  for (let i = 0; i < hw; i++) {
    for (let k = 0; k < c; k++) out[k * hw + i] = pixels[i * c + k]! / 255;
  }
  return new Tensor(getBackend().fromArray(out), [c, height, width]);
}

/** Options of `TransformDataset`. */
export interface TransformDatasetOptions {
  /** Applied to the second item of each sample (the target), if given. */
  targetTransform?: (target: unknown, generator?: Generator) => unknown;
  /** Stream the transforms draw from (the default generator when omitted). */
  generator?: Generator;
}

/**
 * Wraps a dataset, applying `transform` to each sample on access: to the first item when samples are
 * arrays (`[image, label, ...]`; the other items pass through, the second one through `targetTransform`
 * when given), or to the sample itself when samples are tensors.
 */
export class TransformDataset<T> implements Dataset<T> {
  /** The stream the transforms draw from, or undefined for the default generator. */
  readonly generator: Generator | undefined;
  private readonly targetTransform: TransformDatasetOptions['targetTransform'];

  constructor(
    readonly dataset: Dataset<T>,
    readonly transform: TransformLike | null,
    options: TransformDatasetOptions = {},
  ) {
    this.targetTransform = options.targetTransform;
    this.generator = options.generator;
  }

  /** Number of samples (that of the wrapped dataset). */
  get length(): number {
    return this.dataset.length;
  }

  /** Sample `i` of the wrapped dataset, transformed. */
  get(i: number): T {
    checkIndex('TransformDataset', i, this.dataset.length);
    const item: unknown = this.dataset.get(i);
    const g = this.generator;
    if (item instanceof Tensor) {
      return (this.transform ? applyTransform(this.transform, item, g) : item) as T;
    }
    if (!Array.isArray(item)) {
      throw new ValueError(`TransformDataset: sample ${i} is neither a Tensor nor an array`);
    }
    const out = item.slice();
    if (this.transform) {
      if (!(out[0] instanceof Tensor)) {
        throw new ValueError(`TransformDataset: item 0 of sample ${i} is not a Tensor`);
      }
      out[0] = applyTransform(this.transform, out[0], g);
    }
    if (this.targetTransform && out.length > 1) out[1] = this.targetTransform(out[1], g);
    return out as T;
  }
}
