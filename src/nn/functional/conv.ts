/**
 * Convolutions on NCHW tensors: conv1d/conv2d, their transposes, and the patch ops unfold/fold
 * (im2col/col2im). A convolution is im2col followed by one batched matrix product with the weight;
 * its input gradient is the weight-transposed product folded back with col2im, and its weight
 * gradient the product of the output gradient with the im2col columns. Backward passes are written
 * with differentiable ops, so double backward works.
 * @module
 */
import { isAnomalyEnabled, isGradEnabled } from '../../autograd/grad-mode.js';
import { maxPool2x2Window, type Window2d } from '../../backends/backend.js';
import { DTypeError, ShapeError, ValueError } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { fromStorage, record, requireFloat } from '../../ops/util.js';
import { type IntOrTuple, ints } from './args.js';
import { maxPoolBackwardOp } from './max-pool-core.js';
import { type MaxPoolOptions, maxPool2d } from './pool.js';

/** An integer for every spatial dim, or one integer used for all of them. */
export type { IntOrTuple };

/** Options of `conv1d`/`conv2d` (PyTorch's names). */
export interface ConvOptions {
  /** Step of the sliding window (default 1). */
  stride?: IntOrTuple;
  /** Zero padding on both sides of each spatial dim, or 'valid' (none) / 'same' (output size = input size, stride 1 only). */
  padding?: IntOrTuple | 'same' | 'valid';
  /** Spacing between kernel taps (default 1). */
  dilation?: IntOrTuple;
  /** Split channels into this many independent groups (default 1; `groups = inChannels` is depthwise). */
  groups?: number;
}

/** Options of `convTranspose1d`/`convTranspose2d` (PyTorch's names). */
export interface ConvTransposeOptions {
  /** Stride of the convolution this op is the transpose of (default 1). */
  stride?: IntOrTuple;
  /** Padding of that convolution: removed from both sides of the output (default 0). */
  padding?: IntOrTuple;
  /** Extra size added to one side of the output to pick among the sizes that map to the input (default 0). */
  outputPadding?: IntOrTuple;
  /** Channel groups (default 1). */
  groups?: number;
  /** Spacing between kernel taps (default 1). */
  dilation?: IntOrTuple;
}

/** Options of `unfold`/`fold`. */
export interface UnfoldOptions {
  /** Spacing between kernel taps (default 1). */
  dilation?: IntOrTuple;
  /** Zero padding on both sides (default 0). */
  padding?: IntOrTuple;
  /** Step of the sliding window (default 1). */
  stride?: IntOrTuple;
}

/** im2col as a differentiable op: [N, C, H, W] -> [N, C*kh*kw, outH*outW]; its gradient is col2im. */
function im2colOp(x: Tensor, win: Window2d): Tensor {
  const n = x.shape[0]!;
  const c = x.shape[1]!;
  const out = fromStorage(x.storage.backend.im2col(x, win), [n, c * win.kh * win.kw, win.outH * win.outW]);
  return record(out, 'Im2col', [x], (g) => [col2imOp(g, win)]);
}

/** col2im as a differentiable op: [N, C*kh*kw, outH*outW] -> [N, C, inH, inW]; its gradient is im2col. */
function col2imOp(cols: Tensor, win: Window2d): Tensor {
  const n = cols.shape[0]!;
  const c = cols.shape[1]! / (win.kh * win.kw);
  const out = fromStorage(cols.storage.backend.col2im(cols, win), [n, c, win.inH, win.inW]);
  return record(out, 'Col2im', [cols], (g) => [im2colOp(g, win)]);
}

/** Checks that input and weight are floating tensors of one dtype (and bias too). */
function checkDtypes(op: string, x: Tensor, w: Tensor, bias: Tensor | null | undefined): void {
  requireFloat(op, x);
  requireFloat(op, w);
  if (w.dtype !== x.dtype) {
    throw new DTypeError(
      `${op}: input dtype ${x.dtype} and weight dtype ${w.dtype} differ (input shape ${fmt(x.shape)}, weight shape ${fmt(w.shape)})`,
    );
  }
  if (bias && bias.dtype !== x.dtype) {
    throw new DTypeError(`${op}: bias dtype ${bias.dtype} differs from the input dtype ${x.dtype}`);
  }
}

/** Checks that `bias` is 1-d with `channels` entries. */
function checkBias(op: string, bias: Tensor | null | undefined, channels: number): void {
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== channels)) {
    throw new ShapeError(`${op}: bias must have shape [${channels}], got ${fmt(bias.shape)}`);
  }
}

/** Validates the input rank; returns the input with a batch dim (and whether one was added). */
function batched(op: string, x: Tensor, nd: number): [Tensor, boolean] {
  const dims = nd === 1 ? 'N, C, L' : 'N, C, H, W';
  if (x.ndim === nd + 2) return [x, false];
  if (x.ndim === nd + 1) return [x.unsqueeze(0), true];
  throw new ShapeError(
    `${op}: expected a ${nd + 2}-d input [${dims}] (or ${nd + 1}-d without batch), got shape ${fmt(x.shape)}`,
  );
}

/** Lifts a 1-d spatial geometry to 2-d (height 1), or returns the 2-d one as is. */
function lift(nd: number, v: number[], one: number): [number, number] {
  return nd === 1 ? [one, v[0]!] : [v[0]!, v[1]!];
}

/** The weight as [Cout, Cin/groups, kh, kw] (1-d kernels get height 1). */
function weight2d(nd: number, w: Tensor): Tensor {
  return nd === 1 ? w.unsqueeze(2) : w;
}

/**
 * The convolution proper on a batched 4-d input, as one recorded op. Forward: im2col, then the
 * (grouped) weight product, then the bias. Backward: differentiable matmuls plus col2im/im2col.
 */
function convCore(
  name: string,
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  win: Window2d,
  groups: number,
): Tensor {
  const shape = [x.shape[0]!, w.shape[0]!, win.outH, win.outW];
  // One fused kernel (per-sample im2col + GEMM + bias); the graph records a single node.
  const out = fromStorage(x.storage.backend.conv2d(x, w, bias, win, groups), shape);
  return recordConv(out, name, x, w, bias, win, groups);
}

/** Records `out` as the convolution of x by w (+ bias) with window `win` (backward: convBackward). */
function recordConv(
  out: Tensor,
  name: string,
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  win: Window2d,
  groups: number,
): Tensor {
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(out, name, inputs, (g, needs) => convBackward(g, needs, x, w, bias, win, groups), [x, w]);
}

/** The gradients [x, w, bias] of a convolution from its output's gradient g (see recordConv). */
function convBackward(
  g: Tensor,
  needs: readonly boolean[],
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  win: Window2d,
  groups: number,
): (Tensor | null)[] {
  const n = x.shape[0]!;
  const c = x.shape[1]!;
  const cout = w.shape[0]!;
  const cog = cout / groups;
  const k = c * win.kh * win.kw;
  const kg = k / groups;
  const l = win.outH * win.outW;
  const backend = x.storage.backend;
  let gx: Tensor | null = null;
  let gw: Tensor | null = null;
  let gb: Tensor | null = null;
  // Reducing the adjacent spatial dims first avoids a strided copy of the whole gradient.
  if (bias && needs[2]) gb = g.sum([0, 2, 3]);
  if (!isGradEnabled()) {
    // Plain backward (no graph of the backward pass): fused kernels.
    if (needs[0]) gx = fromStorage(backend.conv2dBackwardInput(g, w, win, groups), x.shape);
    if (needs[1]) gw = fromStorage(backend.conv2dBackwardWeight(g, x, win, groups), w.shape);
    return [gx, gw, gb];
  }
  // createGraph: differentiable matmuls plus col2im/im2col ops, so double backward works.
  if (needs[0]) {
    const gcols =
      groups === 1
        ? w
            .reshape([cout, k])
            .t()
            .matmul(g.reshape([n, cout, l]))
        : w
            .reshape([groups, cog, kg])
            .transpose(1, 2)
            .matmul(g.reshape([n, groups, cog, l]))
            .reshape([n, k, l]);
    gx = col2imOp(gcols, win);
  }
  if (needs[1]) {
    // The columns are built differentiably when the graph goes through x too.
    const cx = x.requiresGrad ? im2colOp(x, win) : fromStorage(backend.im2col(x, win), [n, k, l]);
    const prod =
      groups === 1
        ? g.reshape([n, cout, l]).matmul(cx.transpose(1, 2))
        : g.reshape([n, groups, cog, l]).matmul(cx.reshape([n, groups, kg, l]).transpose(2, 3));
    gw = prod.sum(0).reshape(w.shape);
  }
  return [gx, gw, gb];
}

function convNd(
  op: string,
  nd: number,
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  options: ConvOptions,
): Tensor {
  const { x4, win, groups, unbatched } = convSetup(op, nd, input, weight, bias, options);
  let out = convCore(nd === 1 ? 'Conv1d' : 'Conv2d', x4, weight2d(nd, weight), bias ?? null, win, groups);
  if (nd === 1) out = out.squeeze(2);
  return unbatched ? out.squeeze(0) : out;
}

/**
 * Checks a convolution's operands and options (errors name `op`) and works out its window: the input
 * as a batched 4-d tensor (1-d inputs get height 1), the 2-d window, the groups, and whether the input
 * had no batch dim.
 */
function convSetup(
  op: string,
  nd: number,
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  options: ConvOptions,
): { x4: Tensor; win: Window2d; groups: number; unbatched: boolean } {
  checkDtypes(op, input, weight, bias);
  const [x, unbatched] = batched(op, input, nd);
  if (weight.ndim !== nd + 2) {
    const dims = nd === 1 ? 'k' : 'kH, kW';
    throw new ShapeError(
      `${op}: expected a ${nd + 2}-d weight [outChannels, inChannels/groups, ${dims}], got shape ${fmt(weight.shape)}`,
    );
  }
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new ValueError(`${op}: groups must be a positive integer, got ${groups}`);
  }
  const cin = x.shape[1]!;
  const cout = weight.shape[0]!;
  if (cin % groups !== 0) {
    throw new ValueError(`${op}: groups ${groups} must divide the input channels ${cin}`);
  }
  if (cout % groups !== 0) {
    throw new ValueError(
      `${op}: groups ${groups} must divide the output channels ${cout} (weight shape ${fmt(weight.shape)})`,
    );
  }
  if (weight.shape[1]! * groups !== cin) {
    const detail = groups === 1 ? '' : `${groups} groups of ${weight.shape[1]}; `;
    throw new ShapeError(
      `${op}: input has ${cin} channels but weight expects ${weight.shape[1]! * groups} (${detail}weight shape ${fmt(weight.shape)})`,
    );
  }
  checkBias(op, bias, cout);
  const spatial = x.shape.slice(2);
  const ksize = weight.shape.slice(2);
  const stride = ints(op, 'stride', options.stride ?? 1, nd, 1);
  const dilation = ints(op, 'dilation', options.dilation ?? 1, nd, 1);
  const pad = options.padding ?? 0;
  let padLo: number[];
  let padHi: number[];
  if (pad === 'valid') {
    padLo = new Array<number>(nd).fill(0);
    padHi = padLo;
  } else if (pad === 'same') {
    if (stride.some((s) => s !== 1)) {
      throw new ValueError(
        `${op}: padding='same' is not supported for strided convolutions (stride ${fmt(stride)})`,
      );
    }
    padLo = ksize.map((kk, i) => Math.floor((dilation[i]! * (kk - 1)) / 2));
    padHi = ksize.map((kk, i) => dilation[i]! * (kk - 1) - padLo[i]!);
  } else if (typeof pad === 'string') {
    throw new ValueError(`${op}: padding must be a number, a tuple, 'same' or 'valid', got '${pad}'`);
  } else {
    padLo = ints(op, 'padding', pad, nd, 0);
    padHi = padLo;
  }
  const outSize: number[] = [];
  for (let i = 0; i < nd; i++) {
    const padded = spatial[i]! + padLo[i]! + padHi[i]!;
    const eff = dilation[i]! * (ksize[i]! - 1) + 1;
    if (eff > padded) {
      throw new ShapeError(
        `${op}: kernel size ${ksize.join('x')} (dilated ${ksize.map((kk, j) => dilation[j]! * (kk - 1) + 1).join('x')}) ` +
          `is larger than the padded input ${spatial.map((s, j) => s + padLo[j]! + padHi[j]!).join('x')} ` +
          `(input shape ${fmt(input.shape)}, weight shape ${fmt(weight.shape)})`,
      );
    }
    outSize.push(Math.floor((padded - eff) / stride[i]!) + 1);
  }
  const [inH, inW] = lift(nd, spatial, 1);
  const [outH, outW] = lift(nd, outSize, 1);
  const [kh, kw] = lift(nd, ksize, 1);
  const [sh, sw] = lift(nd, stride, 1);
  const [ph, pw] = lift(nd, padLo, 0);
  const [dh, dw] = lift(nd, dilation, 1);
  const win: Window2d = { inH, inW, outH, outW, kh, kw, sh, sw, ph, pw, dh, dw };
  return { x4: nd === 1 ? x.unsqueeze(2) : x, win, groups, unbatched };
}

/**
 * 1-d convolution (cross-correlation, like PyTorch): input [N, Cin, L] (or [Cin, L]), weight
 * [Cout, Cin/groups, k], bias [Cout]; returns [N, Cout, Lout].
 */
export function conv1d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvOptions = {},
): Tensor {
  return convNd('conv1d', 1, input, weight, bias, options);
}

/**
 * 2-d convolution (cross-correlation, like PyTorch): input [N, Cin, H, W] (or [Cin, H, W]),
 * weight [Cout, Cin/groups, kH, kW], bias [Cout]; returns [N, Cout, Hout, Wout].
 */
export function conv2d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvOptions = {},
): Tensor {
  return convNd('conv2d', 2, input, weight, bias, options);
}

/**
 * `maxPool2d(conv2d(input, weight, bias, convOptions), kernelSize, poolOptions)`, with the same results
 * and gradients, bit for bit. Where the backend fuses the two (the `wasm` backend, for a float32 batched
 * input, groups 1 and a 2 x 2 pool with stride 2, no padding, dilation or ceil mode) the convolution's
 * output is pooled where the kernels made it and never returned, and in backward the pooled gradient is
 * scattered where the convolution's backward kernels read it (the bias gradient summed there too): that
 * saves two full-size arrays and several passes over them. Under `createGraph` the backward runs the
 * pool's and the convolution's differentiable backward ops. `nn.Sequential` runs a `Conv2d` directly
 * followed by a `MaxPool2d` through it.
 * `returnIndices` is not taken: the pooled tensor alone is returned.
 */
export function conv2dMaxPool2d(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  convOptions: ConvOptions,
  kernelSize: IntOrTuple,
  poolOptions: Omit<MaxPoolOptions, 'returnIndices'> = {},
): Tensor {
  const fused = fusedConvPool(input, weight, bias ?? null, convOptions, kernelSize, poolOptions);
  if (fused !== null) return fused;
  const { stride, padding, dilation, ceilMode } = poolOptions;
  return maxPool2d(conv2d(input, weight, bias, convOptions), kernelSize, {
    stride,
    padding,
    dilation,
    ceilMode,
  });
}

/** Whether an `IntOrTuple` option (or its default) is `v` in both dims. */
function both(option: IntOrTuple | null | undefined, fallback: number, v: number): boolean {
  const o = option ?? fallback;
  return typeof o === 'number' ? o === v : o.length === 2 && o[0] === v && o[1] === v;
}

/** conv2dMaxPool2d through the backend's fused kernel, or null where it does not apply. */
function fusedConvPool(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  convOptions: ConvOptions,
  kernelSize: IntOrTuple,
  p: Omit<MaxPoolOptions, 'returnIndices'>,
): Tensor | null {
  const backend = input.storage.backend;
  if (backend.conv2dMaxPool2d === undefined || input.ndim !== 4 || isAnomalyEnabled()) return null;
  if ((convOptions.groups ?? 1) !== 1 || !both(kernelSize, 0, 2) || !both(p.stride, 2, 2)) return null;
  if (!both(p.padding, 0, 0) || !both(p.dilation, 1, 1) || p.ceilMode === true) return null;
  const { x4, win, groups } = convSetup('conv2d', 2, input, weight, bias, convOptions);
  if (win.outH < 2 || win.outW < 2) return null;
  const pool = maxPool2x2Window(win.outH, win.outW);
  const r = backend.conv2dMaxPool2d(x4, weight, bias, win, pool);
  if (r === null) return null;
  // One node: its backward scatters the pooled gradient where the backend's kernels read it, or runs the
  // pool's backward and then the conv's (createGraph, or a case the backend does not fuse).
  const cout = weight.shape[0]!;
  const shape = [x4.shape[0]!, cout, pool.outH, pool.outW];
  const idx = fromStorage(r.indices, shape);
  const inputs = bias ? [x4, weight, bias] : [x4, weight];
  const backward = (g: Tensor, needs: readonly boolean[]): (Tensor | null)[] => {
    if (!isGradEnabled() && backend.conv2dMaxPool2dBackward !== undefined) {
      const want = {
        input: needs[0] === true,
        weight: needs[1] === true,
        bias: bias !== null && needs[2] === true,
      };
      const b = backend.conv2dMaxPool2dBackward(g, idx, x4, weight, win, pool, want);
      if (b !== null) {
        return [
          b.input && fromStorage(b.input, x4.shape),
          b.weight && fromStorage(b.weight, weight.shape),
          b.bias && fromStorage(b.bias, [cout]),
        ];
      }
    }
    return convBackward(maxPoolBackwardOp(g, idx, pool), needs, x4, weight, bias, win, groups);
  };
  return record(fromStorage(r.values, shape), 'Conv2dMaxPool2d', inputs, backward, [x4, weight]);
}

function convTransposeNd(
  op: string,
  nd: number,
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  options: ConvTransposeOptions,
): Tensor {
  checkDtypes(op, input, weight, bias);
  const [x, unbatched] = batched(op, input, nd);
  if (weight.ndim !== nd + 2) {
    const dims = nd === 1 ? 'k' : 'kH, kW';
    throw new ShapeError(
      `${op}: expected a ${nd + 2}-d weight [inChannels, outChannels/groups, ${dims}], got shape ${fmt(weight.shape)}`,
    );
  }
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new ValueError(`${op}: groups must be a positive integer, got ${groups}`);
  }
  const cin = x.shape[1]!;
  if (cin % groups !== 0) {
    throw new ValueError(`${op}: groups ${groups} must divide the input channels ${cin}`);
  }
  if (weight.shape[0] !== cin) {
    throw new ShapeError(
      `${op}: input has ${cin} channels but weight expects ${weight.shape[0]} (weight shape ${fmt(weight.shape)})`,
    );
  }
  const cog = weight.shape[1]!;
  const cout = cog * groups;
  checkBias(op, bias, cout);
  const spatial = x.shape.slice(2);
  const ksize = weight.shape.slice(2);
  const stride = ints(op, 'stride', options.stride ?? 1, nd, 1);
  const dilation = ints(op, 'dilation', options.dilation ?? 1, nd, 1);
  const padding = ints(op, 'padding', options.padding ?? 0, nd, 0);
  const outPad = ints(op, 'outputPadding', options.outputPadding ?? 0, nd, 0);
  const outSize: number[] = [];
  for (let i = 0; i < nd; i++) {
    if (outPad[i]! >= stride[i]! && outPad[i]! >= dilation[i]!) {
      throw new ValueError(
        `${op}: outputPadding ${fmt(outPad)} must be smaller than either stride ${fmt(stride)} or dilation ${fmt(dilation)}`,
      );
    }
    const o =
      (spatial[i]! - 1) * stride[i]! - 2 * padding[i]! + dilation[i]! * (ksize[i]! - 1) + outPad[i]! + 1;
    if (o < 1) {
      throw new ShapeError(
        `${op}: output size would be ${o} in spatial dim ${i} (input shape ${fmt(input.shape)}, weight shape ${fmt(weight.shape)}, padding ${fmt(padding)})`,
      );
    }
    outSize.push(o);
  }
  const [inH, inW] = lift(nd, outSize, 1);
  const [outH, outW] = lift(nd, spatial, 1);
  const [kh, kw] = lift(nd, ksize, 1);
  const [sh, sw] = lift(nd, stride, 1);
  const [ph, pw] = lift(nd, padding, 0);
  const [dh, dw] = lift(nd, dilation, 1);
  const win: Window2d = { inH, inW, outH, outW, kh, kw, sh, sw, ph, pw, dh, dw };
  const n = x.shape[0]!;
  const hw = outH * outW;
  const k2 = kh * kw;
  const cig = cin / groups;
  const cols =
    groups === 1
      ? weight
          .reshape([cin, cout * k2])
          .t()
          .matmul(x.reshape([n, cin, hw]))
      : weight
          .reshape([groups, cig, cog * k2])
          .transpose(1, 2)
          .matmul(x.reshape([n, groups, cig, hw]))
          .reshape([n, cout * k2, hw]);
  let out = col2imOp(cols, win);
  if (bias) out = out.add(bias.reshape([1, cout, 1, 1]));
  if (nd === 1) out = out.squeeze(2);
  return unbatched ? out.squeeze(0) : out;
}

/**
 * 1-d transposed convolution (the gradient of conv1d w.r.t. its input): input [N, Cin, L],
 * weight [Cin, Cout/groups, k]; output length (L-1)*stride - 2*padding + dilation*(k-1) + outputPadding + 1.
 */
export function convTranspose1d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvTransposeOptions = {},
): Tensor {
  return convTransposeNd('convTranspose1d', 1, input, weight, bias, options);
}

/**
 * 2-d transposed convolution (the gradient of conv2d w.r.t. its input): input [N, Cin, H, W],
 * weight [Cin, Cout/groups, kH, kW]; each output size is
 * (in-1)*stride - 2*padding + dilation*(k-1) + outputPadding + 1.
 */
export function convTranspose2d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvTransposeOptions = {},
): Tensor {
  return convTransposeNd('convTranspose2d', 2, input, weight, bias, options);
}

/** Builds the window of unfold/fold; throws when it fits no position. */
function unfoldWindow(
  op: string,
  inH: number,
  inW: number,
  kernelSize: IntOrTuple,
  options: UnfoldOptions,
): Window2d {
  const [kh, kw] = ints(op, 'kernelSize', kernelSize, 2, 1) as [number, number];
  const [sh, sw] = ints(op, 'stride', options.stride ?? 1, 2, 1) as [number, number];
  const [ph, pw] = ints(op, 'padding', options.padding ?? 0, 2, 0) as [number, number];
  const [dh, dw] = ints(op, 'dilation', options.dilation ?? 1, 2, 1) as [number, number];
  const outH = Math.floor((inH + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const outW = Math.floor((inW + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${op}: kernel ${kh}x${kw} (dilation ${dh}x${dw}) does not fit the padded input ${inH + 2 * ph}x${inW + 2 * pw}`,
    );
  }
  return { inH, inW, outH, outW, kh, kw, sh, sw, ph, pw, dh, dw };
}

/**
 * Extracts sliding patches (im2col): input [N, C, H, W] -> [N, C*kH*kW, L], where L is the number
 * of window positions and row c*kH*kW + i*kW + j holds tap (i, j) of channel c.
 */
export function unfold(input: Tensor, kernelSize: IntOrTuple, options: UnfoldOptions = {}): Tensor {
  requireFloat('unfold', input);
  const [x, unbatched] = batched('unfold', input, 2);
  const win = unfoldWindow('unfold', x.shape[2]!, x.shape[3]!, kernelSize, options);
  const out = im2colOp(x, win);
  return unbatched ? out.squeeze(0) : out;
}

/**
 * Sums sliding patches back into an image (col2im, the adjoint of `unfold`): input
 * [N, C*kH*kW, L] -> [N, C, outputSize[0], outputSize[1]].
 */
export function fold(
  input: Tensor,
  outputSize: IntOrTuple,
  kernelSize: IntOrTuple,
  options: UnfoldOptions = {},
): Tensor {
  requireFloat('fold', input);
  const unbatched = input.ndim === 2;
  if (input.ndim !== 3 && !unbatched) {
    throw new ShapeError(
      `fold: expected a 3-d input [N, C*kH*kW, L] (or 2-d), got shape ${fmt(input.shape)}`,
    );
  }
  const x = unbatched ? input.unsqueeze(0) : input;
  const [oh, ow] = ints('fold', 'outputSize', outputSize, 2, 1) as [number, number];
  const win = unfoldWindow('fold', oh, ow, kernelSize, options);
  const k2 = win.kh * win.kw;
  if (x.shape[1]! % k2 !== 0) {
    throw new ShapeError(
      `fold: input dim 1 (${x.shape[1]}) must be divisible by the kernel size ${win.kh}x${win.kw} (input shape ${fmt(input.shape)})`,
    );
  }
  if (x.shape[2] !== win.outH * win.outW) {
    throw new ShapeError(
      `fold: expected ${win.outH * win.outW} blocks (${win.outH}x${win.outW}) for output size ${fmt([oh, ow])}, got ${x.shape[2]} (input shape ${fmt(input.shape)})`,
    );
  }
  const out = col2imOp(x, win);
  return unbatched ? out.squeeze(0) : out;
}
