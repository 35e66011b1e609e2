/**
 * Convolution layers: `Conv1d`, `Conv2d`, `ConvTranspose1d`, `ConvTranspose2d` (PyTorch's defaults,
 * initialisation and state-dict keys `weight`, `bias`).
 * @module
 */
import { empty } from '../../core/creation.js';
import type { DType } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import '../../ops/shape.js';
import { conv1d, conv2d, convTranspose1d, convTranspose2d, type IntOrTuple } from '../functional/conv.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from '../init.js';
import { expectRank, Module } from '../module.js';
import { Parameter } from '../parameter.js';

/** How a convolution pads its input: with zeros, or by mirroring, repeating or wrapping the edges. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** Options of `Conv1d`/`Conv2d` (PyTorch's names, camelCase). */
export interface ConvLayerOptions {
  /** Step of the sliding window (default 1). */
  stride?: IntOrTuple;
  /** Padding on both sides of each spatial dim, or 'valid' (none) / 'same' (stride 1 only). Default 0. */
  padding?: IntOrTuple | 'same' | 'valid';
  /** Spacing between kernel taps (default 1). */
  dilation?: IntOrTuple;
  /** Channel groups (default 1). Both channel counts must be divisible by it. */
  groups?: number;
  /** Learn an additive bias per output channel (default true). */
  bias?: boolean;
  /** What the padding is filled with (default 'zeros'). */
  paddingMode?: PaddingMode;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Options of `ConvTranspose1d`/`ConvTranspose2d`. */
export interface ConvTransposeLayerOptions {
  /** Stride of the convolution this layer is the transpose of (default 1). */
  stride?: IntOrTuple;
  /** Padding of that convolution, removed from both sides of the output (default 0). */
  padding?: IntOrTuple;
  /** Extra size on one side of the output (default 0). */
  outputPadding?: IntOrTuple;
  /** Channel groups (default 1). */
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Spacing between kernel taps (default 1). */
  dilation?: IntOrTuple;
  /** Only 'zeros' is supported for transposed convolutions (as in PyTorch). */
  paddingMode?: 'zeros';
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

function tuple(layer: string, name: string, v: IntOrTuple, nd: number, min: number): number[] {
  const list = typeof v === 'number' ? new Array<number>(nd).fill(v) : [...v];
  if (list.length !== nd || list.some((x) => !Number.isInteger(x) || x < min)) {
    const what = min === 1 ? 'positive' : 'non-negative';
    throw new ValueError(`${layer}: ${name} must be one or ${nd} ${what} integers, got ${fmt(list)}`);
  }
  return list;
}

function positiveInt(layer: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1)
    throw new ValueError(`${layer}: ${name} must be a positive integer, got ${v}`);
}

/** Shared parameters and initialisation of the convolution layers (PyTorch's `_ConvNd`). */
export abstract class ConvBase extends Module {
  /** Convolution kernel; [outC, inC/groups, ...k] (transposed: [inC, outC/groups, ...k]). */
  weight: Parameter;
  /** Per-output-channel bias [outC], or null. */
  bias: Parameter | null;
  /** Kernel size per spatial dim. */
  readonly kernelSize: number[];
  /** Stride per spatial dim. */
  readonly stride: number[];
  /** Dilation per spatial dim. */
  readonly dilation: number[];
  /** Channel groups. */
  readonly groups: number;

  protected constructor(
    /** The layer's name, for error messages. */
    protected readonly layer: string,
    readonly nd: number,
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: IntOrTuple,
    transposed: boolean,
    options: { stride?: IntOrTuple; dilation?: IntOrTuple; groups?: number; bias?: boolean; dtype?: DType },
  ) {
    super();
    positiveInt(layer, 'inChannels', inChannels);
    positiveInt(layer, 'outChannels', outChannels);
    this.kernelSize = tuple(layer, 'kernelSize', kernelSize, nd, 1);
    this.stride = tuple(layer, 'stride', options.stride ?? 1, nd, 1);
    this.dilation = tuple(layer, 'dilation', options.dilation ?? 1, nd, 1);
    this.groups = options.groups ?? 1;
    positiveInt(layer, 'groups', this.groups);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new ValueError(
        `${layer}: groups ${this.groups} must divide both inChannels ${inChannels} and outChannels ${outChannels}`,
      );
    }
    const dtype = options.dtype ?? 'float32';
    const wshape = transposed
      ? [inChannels, outChannels / this.groups, ...this.kernelSize]
      : [outChannels, inChannels / this.groups, ...this.kernelSize];
    this.weight = new Parameter(empty(wshape, { dtype }));
    this.bias = (options.bias ?? true) ? new Parameter(empty([outChannels], { dtype })) : null;
    this.resetParameters();
  }

  /** PyTorch's init: kaiming uniform (a = sqrt(5)) weight, bias uniform in ±1/sqrt(fanIn). */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const { fanIn } = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  /** Checks that `x` is a batched or unbatched input of this layer's rank. */
  protected checkInput(x: Tensor): void {
    const nd = this.nd;
    const dims = nd === 1 ? 'N, C, L' : 'N, C, H, W';
    const unb = nd === 1 ? 'C, L' : 'C, H, W';
    expectRank(this.layer.toLowerCase(), x, [nd + 1, nd + 2], `input [${dims}] (or [${unb}])`);
  }

  protected baseRepr(extra: string[]): string {
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernelSize=${fmt(this.kernelSize)}`];
    const ones = (v: number[]): boolean => v.every((x) => x === 1);
    if (!ones(this.stride)) parts.push(`stride=${fmt(this.stride)}`);
    parts.push(...extra);
    if (!ones(this.dilation)) parts.push(`dilation=${fmt(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=false');
    return parts.join(', ');
  }
}

/** Shared forward of `Conv1d`/`Conv2d`. */
export abstract class ConvNd extends ConvBase {
  /** Padding (per dim, or 'same'/'valid'). */
  readonly padding: number[] | 'same' | 'valid';
  /** How padding is filled. */
  readonly paddingMode: PaddingMode;
  /** For non-zero padding modes: the explicit pad list (last dim first), applied before the conv. */
  private readonly padList: number[] | null;

  protected constructor(
    layer: string,
    nd: number,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: ConvLayerOptions,
  ) {
    super(layer, nd, inChannels, outChannels, kernelSize, false, options);
    const p = options.padding ?? 0;
    if (p === 'same' || p === 'valid') {
      if (p === 'same' && this.stride.some((s) => s !== 1)) {
        throw new ValueError(`${layer}: padding='same' is not supported for strided convolutions`);
      }
      this.padding = p;
    } else if (typeof p === 'string') {
      throw new ValueError(`${layer}: padding must be a number, a tuple, 'same' or 'valid', got '${p}'`);
    } else {
      this.padding = tuple(layer, 'padding', p, nd, 0);
    }
    this.paddingMode = options.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(this.paddingMode)) {
      throw new ValueError(
        `${layer}: paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular', got '${this.paddingMode}'`,
      );
    }
    this.padList = null;
    if (this.paddingMode !== 'zeros') {
      const list: number[] = [];
      for (let i = nd - 1; i >= 0; i--) {
        if (this.padding === 'valid') list.push(0, 0);
        else if (this.padding === 'same') {
          const total = this.dilation[i]! * (this.kernelSize[i]! - 1);
          const lo = Math.floor(total / 2);
          list.push(lo, total - lo);
        } else list.push(this.padding[i]!, this.padding[i]!);
      }
      this.padList = list;
    }
  }

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    const f = this.nd === 1 ? conv1d : conv2d;
    const opts = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.padList) {
      const xp = x.pad(this.padList, { mode: this.paddingMode as 'reflect' | 'replicate' | 'circular' });
      return f(xp, this.weight, this.bias, { ...opts, padding: 0 });
    }
    return f(x, this.weight, this.bias, { ...opts, padding: this.padding });
  }

  override extraRepr(): string {
    const extra: string[] = [];
    if (typeof this.padding === 'string') extra.push(`padding='${this.padding}'`);
    else if (this.padding.some((p) => p !== 0)) extra.push(`padding=${fmt(this.padding)}`);
    if (this.paddingMode !== 'zeros') extra.push(`paddingMode='${this.paddingMode}'`);
    return this.baseRepr(extra);
  }
}

/** 1-d convolution over [N, Cin, L] (or [Cin, L]) inputs; weight [Cout, Cin/groups, k]. */
export class Conv1d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: ConvLayerOptions = {},
  ) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, options);
  }
}

/** 2-d convolution over [N, Cin, H, W] (or [Cin, H, W]) inputs; weight [Cout, Cin/groups, kH, kW]. */
export class Conv2d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: ConvLayerOptions = {},
  ) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, options);
  }
}

/** Shared forward of the transposed convolutions. */
export abstract class ConvTransposeNd extends ConvBase {
  /** Padding per dim (removed from the output). */
  readonly padding: number[];
  /** Extra output size per dim. */
  readonly outputPadding: number[];

  protected constructor(
    layer: string,
    nd: number,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: ConvTransposeLayerOptions,
  ) {
    super(layer, nd, inChannels, outChannels, kernelSize, true, options);
    this.padding = tuple(layer, 'padding', options.padding ?? 0, nd, 0);
    this.outputPadding = tuple(layer, 'outputPadding', options.outputPadding ?? 0, nd, 0);
    if ((options.paddingMode ?? 'zeros') !== 'zeros') {
      throw new ValueError(`${layer}: only paddingMode 'zeros' is supported, got '${options.paddingMode}'`);
    }
  }

  /** The output padding that gives `outputSize` (the trailing spatial sizes), checked like PyTorch. */
  private outputPaddingFor(x: Tensor, outputSize: readonly number[]): number[] {
    const nd = this.nd;
    const size = outputSize.slice(outputSize.length - nd);
    if (outputSize.length !== nd && outputSize.length !== x.ndim) {
      throw new ValueError(
        `${this.layer.toLowerCase()}: outputSize must have ${nd} or ${x.ndim} elements, got ${fmt(outputSize)}`,
      );
    }
    const spatial = x.shape.slice(x.ndim - nd);
    return size.map((want, i) => {
      const min =
        (spatial[i]! - 1) * this.stride[i]! -
        2 * this.padding[i]! +
        this.dilation[i]! * (this.kernelSize[i]! - 1) +
        1;
      const max = min + this.stride[i]! - 1;
      if (want < min || want > max) {
        throw new ValueError(
          `${this.layer.toLowerCase()}: requested output size ${fmt(size)} is not reachable from input shape ${fmt(x.shape)} (dim ${i} must be in ${min}..${max})`,
        );
      }
      return want - min;
    });
  }

  /** Transposed convolution of `x`; an explicit `outputSize` picks the output padding, as in PyTorch. */
  override forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    this.checkInput(x);
    const f = this.nd === 1 ? convTranspose1d : convTranspose2d;
    const outputPadding = outputSize ? this.outputPaddingFor(x, outputSize) : this.outputPadding;
    return f(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding,
      groups: this.groups,
      dilation: this.dilation,
    });
  }

  override extraRepr(): string {
    const extra: string[] = [];
    if (this.padding.some((p) => p !== 0)) extra.push(`padding=${fmt(this.padding)}`);
    if (this.outputPadding.some((p) => p !== 0)) extra.push(`outputPadding=${fmt(this.outputPadding)}`);
    return this.baseRepr(extra);
  }
}

/** 1-d transposed convolution; weight [Cin, Cout/groups, k]. `forward(x, outputSize?)`. */
export class ConvTranspose1d extends ConvTransposeNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: ConvTransposeLayerOptions = {},
  ) {
    super('ConvTranspose1d', 1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 2-d transposed convolution ("deconvolution") over [N, Cin, H, W]; weight [Cin, Cout/groups, kH, kW].
 * `forward(x, outputSize?)`: an explicit output size picks the output padding, as in PyTorch.
 */
export class ConvTranspose2d extends ConvTransposeNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: ConvTransposeLayerOptions = {},
  ) {
    super('ConvTranspose2d', 2, inChannels, outChannels, kernelSize, options);
  }
}
