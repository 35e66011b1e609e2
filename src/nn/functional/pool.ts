/**
 * Pooling on NCHW tensors: max and average pooling (1-d and 2-d, with stride, padding, dilation,
 * ceil mode) and adaptive average/max pooling. Each pooling op and its adjoint are recorded as a
 * pair of ops that differentiate into each other, so higher-order gradients work.
 * @module
 */
import type { Pool2dWindow } from '../../backends/backend.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { fromStorage, record, requireFloat } from '../../ops/util.js';
import { type IntOrTuple, ints } from './args.js';
import { recordMaxPool } from './max-pool-core.js';

/** An integer for every spatial dim, or one integer used for all of them. */
type Ints = IntOrTuple;

/** Options of `maxPool1d`/`maxPool2d` (PyTorch's names). */
export interface MaxPoolOptions {
  /** Window step (default: the kernel size). */
  stride?: Ints | null;
  /** Implicit -Infinity padding on both sides (at most half the kernel size; default 0). */
  padding?: Ints;
  /** Spacing between window taps (default 1). */
  dilation?: Ints;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Also return the int32 argmax indices (flat within each input plane). */
  returnIndices?: boolean;
}

/** Options of `avgPool1d`/`avgPool2d` (PyTorch's names). */
export interface AvgPoolOptions {
  /** Window step (default: the kernel size). */
  stride?: Ints | null;
  /** Implicit zero padding on both sides (at most half the kernel size; default 0). */
  padding?: Ints;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window sum by this instead of the window size (2-d only in PyTorch; here both). */
  divisorOverride?: number | null;
}

/** Options of the adaptive max pools. */
export interface AdaptiveMaxPoolOptions {
  /** Also return the int32 argmax indices (flat within each input plane). */
  returnIndices?: boolean;
}

/** Validates rank and dtype; returns the input as [N, C, H, W] plus how to undo that. */
function as4d(op: string, x: Tensor, nd: number): { x4: Tensor; restore: (t: Tensor) => Tensor } {
  requireFloat(op, x);
  const dims = nd === 1 ? 'N, C, L' : 'N, C, H, W';
  if (x.ndim !== nd + 2 && x.ndim !== nd + 1) {
    throw new ShapeError(
      `${op}: expected a ${nd + 2}-d input [${dims}] (or ${nd + 1}-d without batch), got shape ${fmt(x.shape)}`,
    );
  }
  const unbatched = x.ndim === nd + 1;
  let x4 = unbatched ? x.unsqueeze(0) : x;
  if (nd === 1) x4 = x4.unsqueeze(2);
  for (let d = 2; d < x4.ndim; d++) {
    if (x4.shape[d] === 0) {
      throw new ShapeError(`${op}: spatial dims must be non-empty, got input shape ${fmt(x.shape)}`);
    }
  }
  const restore = (t: Tensor): Tensor => {
    let r = nd === 1 ? t.squeeze(2) : t;
    if (unbatched) r = r.squeeze(0);
    return r;
  };
  return { x4, restore };
}

/** PyTorch's pooling output size (with its ceil-mode rule: the last window must start inside the input or left padding). */
function outSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const num = size + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
  let o = Math.floor(num / s) + 1;
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

interface WindowArgs {
  kernelSize: Ints;
  stride: Ints | null | undefined;
  padding: Ints | undefined;
  dilation: Ints | undefined;
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride: number;
}

function window(op: string, nd: number, x4: Tensor, inShape: readonly number[], a: WindowArgs): Pool2dWindow {
  const k = ints(op, 'kernelSize', a.kernelSize, nd, 1);
  const s = a.stride === undefined || a.stride === null ? k : ints(op, 'stride', a.stride, nd, 1);
  const p = ints(op, 'padding', a.padding ?? 0, nd, 0);
  const d = ints(op, 'dilation', a.dilation ?? 1, nd, 1);
  const spatial = x4.shape.slice(nd === 1 ? 3 : 2);
  const out: number[] = [];
  for (let i = 0; i < nd; i++) {
    if (p[i]! * 2 > k[i]!) {
      throw new ValueError(`${op}: padding ${fmt(p)} must be at most half the kernel size ${fmt(k)}`);
    }
    const o = outSize(spatial[i]!, k[i]!, s[i]!, p[i]!, d[i]!, a.ceilMode);
    if (o < 1) {
      throw new ShapeError(
        `${op}: kernel size ${fmt(k)} (dilation ${fmt(d)}) is larger than the padded input ` +
          `${spatial.map((v, j) => v + 2 * p[j]!).join('x')} (input shape ${fmt(inShape)})`,
      );
    }
    out.push(o);
  }
  const two = (v: number[], one: number): [number, number] => (nd === 1 ? [one, v[0]!] : [v[0]!, v[1]!]);
  const [inH, inW] = [x4.shape[2]!, x4.shape[3]!];
  const [outH, outW] = two(out, 1);
  const [kh, kw] = two(k, 1);
  const [sh, sw] = two(s, 1);
  const [ph, pw] = two(p, 0);
  const [dh, dw] = two(d, 1);
  return {
    inH,
    inW,
    outH,
    outW,
    kh,
    kw,
    sh,
    sw,
    ph,
    pw,
    dh,
    dw,
    adaptive: false,
    countIncludePad: a.countIncludePad,
    divisorOverride: a.divisorOverride,
  };
}

function adaptiveWindow(
  op: string,
  nd: number,
  x4: Tensor,
  size: number | readonly (number | null)[],
): Pool2dWindow {
  const list = typeof size === 'number' ? new Array<number>(nd).fill(size) : [...size];
  if (list.length !== nd) {
    throw new ValueError(`${op}: outputSize must be one integer or ${nd} integers, got [${list.join(',')}]`);
  }
  const spatial = x4.shape.slice(nd === 1 ? 3 : 2);
  const out = list.map((v, i) => (v === null ? spatial[i]! : v));
  for (const v of out) {
    if (!Number.isInteger(v) || v < 1) {
      throw new ValueError(`${op}: outputSize must be positive integers, got ${fmt(out)}`);
    }
  }
  const [outH, outW] = nd === 1 ? [1, out[0]!] : [out[0]!, out[1]!];
  return {
    inH: x4.shape[2]!,
    inW: x4.shape[3]!,
    outH,
    outW,
    kh: 1,
    kw: 1,
    sh: 1,
    sw: 1,
    ph: 0,
    pw: 0,
    dh: 1,
    dw: 1,
    adaptive: true,
    countIncludePad: false,
    divisorOverride: 0,
  };
}

function maxPoolCore(name: string, x4: Tensor, win: Pool2dWindow): [Tensor, Tensor] {
  const r = x4.storage.backend.maxPool2d(x4, win);
  return recordMaxPool(name, x4, r.values, r.indices, win);
}

function avgPoolOp(x: Tensor, win: Pool2dWindow, name: string): Tensor {
  const shape = [x.shape[0]!, x.shape[1]!, win.outH, win.outW];
  const out = fromStorage(x.storage.backend.avgPool2d(x, win), shape);
  return record(out, name, [x], (g) => [avgPoolBackwardOp(g, win, name)]);
}

function avgPoolBackwardOp(g: Tensor, win: Pool2dWindow, name: string): Tensor {
  const shape = [g.shape[0]!, g.shape[1]!, win.inH, win.inW];
  const out = fromStorage(g.storage.backend.avgPool2dBackward(g, win), shape);
  return record(out, `${name}Backward`, [g], (gg) => [avgPoolOp(gg, win, name)]);
}

function maxPoolNd(
  op: string,
  nd: number,
  input: Tensor,
  kernelSize: Ints,
  o: MaxPoolOptions,
): Tensor | [Tensor, Tensor] {
  const { x4, restore } = as4d(op, input, nd);
  const win = window(op, nd, x4, input.shape, {
    kernelSize,
    stride: o.stride,
    padding: o.padding,
    dilation: o.dilation,
    ceilMode: o.ceilMode ?? false,
    countIncludePad: false,
    divisorOverride: 0,
  });
  const [out, idx] = maxPoolCore(nd === 1 ? 'MaxPool1d' : 'MaxPool2d', x4, win);
  return o.returnIndices ? [restore(out), restore(idx)] : restore(out);
}

function avgPoolNd(op: string, nd: number, input: Tensor, kernelSize: Ints, o: AvgPoolOptions): Tensor {
  const { x4, restore } = as4d(op, input, nd);
  const div = o.divisorOverride ?? 0;
  if (o.divisorOverride !== undefined && o.divisorOverride !== null && !(div > 0)) {
    throw new ValueError(`${op}: divisorOverride must be positive, got ${o.divisorOverride}`);
  }
  const win = window(op, nd, x4, input.shape, {
    kernelSize,
    stride: o.stride,
    padding: o.padding,
    dilation: 1,
    ceilMode: o.ceilMode ?? false,
    countIncludePad: o.countIncludePad ?? true,
    divisorOverride: div,
  });
  return restore(avgPoolOp(x4, win, nd === 1 ? 'AvgPool1d' : 'AvgPool2d'));
}

/** 1-d max pooling over [N, C, L] (or [C, L]); with `returnIndices` also returns int32 argmax positions. */
export function maxPool1d(
  input: Tensor,
  kernelSize: Ints,
  options: MaxPoolOptions & { returnIndices: true },
): [Tensor, Tensor];
/** 1-d max pooling over [N, C, L] (or [C, L]). */
export function maxPool1d(input: Tensor, kernelSize: Ints, options?: MaxPoolOptions): Tensor;
export function maxPool1d(
  input: Tensor,
  kernelSize: Ints,
  options: MaxPoolOptions = {},
): Tensor | [Tensor, Tensor] {
  return maxPoolNd('maxPool1d', 1, input, kernelSize, options);
}

/** 2-d max pooling over [N, C, H, W] (or [C, H, W]); with `returnIndices` also returns int32 argmax positions (h*W + w). */
export function maxPool2d(
  input: Tensor,
  kernelSize: Ints,
  options: MaxPoolOptions & { returnIndices: true },
): [Tensor, Tensor];
/** 2-d max pooling over [N, C, H, W] (or [C, H, W]). */
export function maxPool2d(input: Tensor, kernelSize: Ints, options?: MaxPoolOptions): Tensor;
export function maxPool2d(
  input: Tensor,
  kernelSize: Ints,
  options: MaxPoolOptions = {},
): Tensor | [Tensor, Tensor] {
  return maxPoolNd('maxPool2d', 2, input, kernelSize, options);
}

/** 1-d average pooling over [N, C, L] (or [C, L]). */
export function avgPool1d(input: Tensor, kernelSize: Ints, options: AvgPoolOptions = {}): Tensor {
  return avgPoolNd('avgPool1d', 1, input, kernelSize, options);
}

/** 2-d average pooling over [N, C, H, W] (or [C, H, W]). */
export function avgPool2d(input: Tensor, kernelSize: Ints, options: AvgPoolOptions = {}): Tensor {
  return avgPoolNd('avgPool2d', 2, input, kernelSize, options);
}

/** Adaptive 1-d average pooling to `outputSize` positions: window o covers [floor(o*L/out), ceil((o+1)*L/out)). */
export function adaptiveAvgPool1d(input: Tensor, outputSize: number): Tensor {
  const { x4, restore } = as4d('adaptiveAvgPool1d', input, 1);
  return restore(avgPoolOp(x4, adaptiveWindow('adaptiveAvgPool1d', 1, x4, outputSize), 'AdaptiveAvgPool1d'));
}

/** Adaptive 2-d average pooling to `outputSize` (an integer, or [h, w] where null keeps the input size). */
export function adaptiveAvgPool2d(input: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  const { x4, restore } = as4d('adaptiveAvgPool2d', input, 2);
  return restore(avgPoolOp(x4, adaptiveWindow('adaptiveAvgPool2d', 2, x4, outputSize), 'AdaptiveAvgPool2d'));
}

function adaptiveMaxNd(
  op: string,
  nd: number,
  input: Tensor,
  outputSize: number | readonly (number | null)[],
  options: AdaptiveMaxPoolOptions,
): Tensor | [Tensor, Tensor] {
  const { x4, restore } = as4d(op, input, nd);
  const win = adaptiveWindow(op, nd, x4, outputSize);
  const [out, idx] = maxPoolCore(nd === 1 ? 'AdaptiveMaxPool1d' : 'AdaptiveMaxPool2d', x4, win);
  return options.returnIndices ? [restore(out), restore(idx)] : restore(out);
}

/** Adaptive 1-d max pooling to `outputSize` positions (optionally with int32 argmax indices). */
export function adaptiveMaxPool1d(
  input: Tensor,
  outputSize: number,
  options: AdaptiveMaxPoolOptions & { returnIndices: true },
): [Tensor, Tensor];
/** Adaptive 1-d max pooling to `outputSize` positions. */
export function adaptiveMaxPool1d(
  input: Tensor,
  outputSize: number,
  options?: AdaptiveMaxPoolOptions,
): Tensor;
export function adaptiveMaxPool1d(
  input: Tensor,
  outputSize: number,
  options: AdaptiveMaxPoolOptions = {},
): Tensor | [Tensor, Tensor] {
  return adaptiveMaxNd('adaptiveMaxPool1d', 1, input, outputSize, options);
}

/** Adaptive 2-d max pooling to `outputSize` (optionally with int32 argmax indices, flat h*W + w). */
export function adaptiveMaxPool2d(
  input: Tensor,
  outputSize: number | readonly (number | null)[],
  options: AdaptiveMaxPoolOptions & { returnIndices: true },
): [Tensor, Tensor];
/** Adaptive 2-d max pooling to `outputSize` (an integer, or [h, w] where null keeps the input size). */
export function adaptiveMaxPool2d(
  input: Tensor,
  outputSize: number | readonly (number | null)[],
  options?: AdaptiveMaxPoolOptions,
): Tensor;
export function adaptiveMaxPool2d(
  input: Tensor,
  outputSize: number | readonly (number | null)[],
  options: AdaptiveMaxPoolOptions = {},
): Tensor | [Tensor, Tensor] {
  return adaptiveMaxNd('adaptiveMaxPool2d', 2, input, outputSize, options);
}
