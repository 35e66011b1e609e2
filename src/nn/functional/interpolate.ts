/**
 * Resizing of NCL / NCHW tensors: nearest-neighbour and (bi)linear interpolation, with PyTorch's
 * index and weight rules (`alignCorners`, explicit `scaleFactor`). Bilinear interpolation is
 * separable, so it is done as linear interpolation along H then W; each step is a pair of
 * differentiable row selections, so gradients of every order flow.
 * @module
 */
import { tensor } from '../../core/creation.js';
import { allocArray } from '../../core/dtype.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { contiguousStrides, fmt, numelOf } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { fromStorage, record, requireFloat } from '../../ops/util.js';

/** Interpolation modes: 'linear' for 3-d input, 'bilinear' for 4-d, 'nearest' for both. */
export type InterpolateMode = 'nearest' | 'linear' | 'bilinear';

/** Options of `interpolate` (PyTorch's names; give exactly one of `size` and `scaleFactor`). */
export interface InterpolateOptions {
  /** Output spatial size (one number for all spatial dims, or one per dim). */
  size?: number | readonly number[];
  /** Multiplier of the spatial size (output size = floor(input size * scaleFactor)). */
  scaleFactor?: number | readonly number[];
  /** Interpolation mode (default 'nearest'). */
  mode?: InterpolateMode;
  /**
   * Linear modes only: map corner pixel centres onto each other (source = dst * (in-1)/(out-1))
   * instead of the half-pixel rule (default false).
   */
  alignCorners?: boolean;
}

/** Differentiable index_select along `dim` (int32 `idx`); its gradient is `addAlong`. */
function selectAlong(x: Tensor, dim: number, idx: Tensor): Tensor {
  const shape = x.shape.slice();
  const size = shape[dim]!;
  shape[dim] = idx.shape[0]!;
  const out = fromStorage(x.storage.backend.indexSelect(x, dim, idx), shape);
  return record(out, 'IndexSelect', [x], (g) => [addAlong(g, dim, idx, size)]);
}

/** Differentiable index_add of `g`'s slices into zeros of length `size` along `dim`; its gradient is `selectAlong`. */
function addAlong(g: Tensor, dim: number, idx: Tensor, size: number): Tensor {
  const shape = g.shape.slice();
  shape[dim] = size;
  const b = g.storage.backend;
  const base = b.alloc(g.dtype, numelOf(shape));
  const baseView = { storage: base, shape, strides: contiguousStrides(shape), offset: 0 };
  const out = fromStorage(b.indexAdd(baseView, dim, idx, g), shape);
  return record(out, 'IndexAdd', [g], (gg) => [selectAlong(gg, dim, idx)]);
}

/** The same value for every spatial dim, or one per dim. */
function perDim(op: string, name: string, v: number | readonly number[], n: number): number[] {
  const list = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (list.length !== n) {
    throw new ValueError(
      `${op}: ${name} must be one number or ${n} numbers for ${n} spatial dims, got ${fmt(list)}`,
    );
  }
  return list;
}

/** Nearest source index for each output position (PyTorch's float32 arithmetic). */
function nearestIndex(inSize: number, outSize: number, scale: number | undefined): Int32Array {
  const idx = new Int32Array(outSize);
  const s = Math.fround(scale !== undefined && scale > 0 ? 1 / scale : inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    if (outSize === inSize) idx[o] = o;
    else if (outSize === 2 * inSize) idx[o] = o >> 1;
    else idx[o] = Math.min(Math.floor(Math.fround(o * s)), inSize - 1);
  }
  return idx;
}

/** Linear interpolation along `dim`: two source indices and weights per output position. */
function linearAlong(
  x: Tensor,
  dim: number,
  outSize: number,
  scale: number | undefined,
  alignCorners: boolean,
): Tensor {
  const inSize = x.shape[dim]!;
  let s: number;
  if (alignCorners) s = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  else s = scale !== undefined && scale > 0 ? 1 / scale : inSize / outSize;
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = allocArray(x.dtype, outSize);
  const w1 = allocArray(x.dtype, outSize);
  let identity = outSize === inSize;
  for (let o = 0; o < outSize; o++) {
    let src = alignCorners ? s * o : s * (o + 0.5) - 0.5;
    if (src < 0) src = 0;
    const a = Math.min(Math.floor(src), inSize - 1);
    const lambda = src - a;
    i0[o] = a;
    i1[o] = a < inSize - 1 ? a + 1 : a;
    w0[o] = 1 - lambda;
    w1[o] = lambda;
    if (a !== o || lambda !== 0) identity = false;
  }
  if (identity) return x;
  const wshape = x.shape.map((_v, d) => (d === dim ? outSize : 1));
  const idx0 = tensor(i0, { shape: [outSize] });
  const idx1 = tensor(i1, { shape: [outSize] });
  const lo = selectAlong(x, dim, idx0).mul(tensor(w0, { shape: wshape }));
  return lo.add(selectAlong(x, dim, idx1).mul(tensor(w1, { shape: wshape })));
}

/**
 * Resizes the spatial dims of [N, C, L] or [N, C, H, W] input by nearest-neighbour or (bi)linear
 * interpolation, matching `torch.nn.functional.interpolate`.
 */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const op = 'interpolate';
  requireFloat(op, input);
  const mode = options.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear') {
    throw new ValueError(
      `${op}: unknown mode '${String(mode)}' (expected 'nearest', 'linear' or 'bilinear')`,
    );
  }
  if (input.ndim !== 3 && input.ndim !== 4) {
    throw new ShapeError(
      `${op}: expected a 3-d [N, C, L] or 4-d [N, C, H, W] input, got shape ${fmt(input.shape)}`,
    );
  }
  const nd = input.ndim - 2;
  if (mode === 'bilinear' && nd !== 2) {
    throw new ShapeError(`${op}: mode 'bilinear' needs a 4-d input, got shape ${fmt(input.shape)}`);
  }
  if (mode === 'linear' && nd !== 1) {
    throw new ShapeError(`${op}: mode 'linear' needs a 3-d input, got shape ${fmt(input.shape)}`);
  }
  if (options.alignCorners !== undefined && mode === 'nearest') {
    throw new ValueError(`${op}: alignCorners can only be set with the linear modes ('linear', 'bilinear')`);
  }
  const hasSize = options.size !== undefined;
  const hasScale = options.scaleFactor !== undefined;
  if (hasSize === hasScale) {
    throw new ValueError(`${op}: give exactly one of size and scaleFactor`);
  }
  const spatial = input.shape.slice(2);
  let scales: (number | undefined)[] = new Array<undefined>(nd);
  let outSizes: number[];
  if (hasSize) {
    outSizes = perDim(op, 'size', options.size!, nd);
    for (const v of outSizes) {
      if (!Number.isInteger(v) || v < 1) {
        throw new ValueError(`${op}: size must be positive integers, got ${fmt(outSizes)}`);
      }
    }
  } else {
    scales = perDim(op, 'scaleFactor', options.scaleFactor!, nd);
    for (const v of scales) {
      if (!(v! > 0) || !Number.isFinite(v)) {
        throw new ValueError(`${op}: scaleFactor must be positive, got ${fmt(scales as number[])}`);
      }
    }
    outSizes = spatial.map((v, i) => Math.floor(v * scales[i]!));
    if (outSizes.some((v) => v < 1)) {
      throw new ValueError(
        `${op}: scaleFactor ${fmt(scales as number[])} gives an empty output ${fmt(outSizes)} for input shape ${fmt(input.shape)}`,
      );
    }
  }
  if (spatial.some((v) => v === 0)) {
    throw new ShapeError(`${op}: spatial dims must be non-empty, got input shape ${fmt(input.shape)}`);
  }
  let y = input;
  for (let i = 0; i < nd; i++) {
    const dim = 2 + i;
    if (mode === 'nearest') {
      if (outSizes[i] === spatial[i]) continue;
      const idx = nearestIndex(spatial[i]!, outSizes[i]!, scales[i]);
      y = selectAlong(y, dim, tensor(idx, { shape: [outSizes[i]!] }));
    } else {
      y = linearAlong(y, dim, outSizes[i]!, scales[i], options.alignCorners ?? false);
    }
  }
  return y === input ? input.clone() : y;
}

/** Alias of `interpolate` (PyTorch's deprecated `upsample`). */
export const upsample = interpolate;
