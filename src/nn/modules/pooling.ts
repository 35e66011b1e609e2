/**
 * Pooling layers: `MaxPool1d`, `MaxPool2d`, `AvgPool1d`, `AvgPool2d`, `AdaptiveAvgPool1d`,
 * `AdaptiveAvgPool2d`, `AdaptiveMaxPool1d`, `AdaptiveMaxPool2d` (no parameters). Use the functional
 * forms (`nn.functional.maxPool2d(x, k, {returnIndices: true})`) to get argmax indices.
 * @module
 */
import type { Tensor } from '../../core/tensor.js';
import {
  type AvgPoolOptions,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  avgPool1d,
  avgPool2d,
  type MaxPoolOptions,
  maxPool1d,
  maxPool2d,
} from '../functional/pool.js';
import { expectRank, Module } from '../module.js';

type Ints = number | readonly number[];
const show = (v: Ints | null | undefined): string =>
  v === null || v === undefined ? 'null' : typeof v === 'number' ? String(v) : `[${v.join(',')}]`;

const LAYOUT1 = 'input [N, C, L] (or [C, L])';
const LAYOUT2 = 'input [N, C, H, W] (or [C, H, W])';

/** Options of the max-pooling layers (no `returnIndices`: use the functional form for indices). */
export type MaxPoolLayerOptions = Omit<MaxPoolOptions, 'returnIndices'>;

/** 1-d max pooling over [N, C, L] (stride defaults to the kernel size). */
export class MaxPool1d extends Module {
  constructor(
    readonly kernelSize: Ints,
    readonly options: MaxPoolLayerOptions = {},
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank('maxPool1d', x, [2, 3], LAYOUT1);
    return maxPool1d(x, this.kernelSize, { ...this.options, returnIndices: false });
  }
  override extraRepr(): string {
    return poolRepr(this.kernelSize, this.options);
  }
}

/** 2-d max pooling over [N, C, H, W] (stride defaults to the kernel size). */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Ints,
    readonly options: MaxPoolLayerOptions = {},
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank('maxPool2d', x, [3, 4], LAYOUT2);
    return maxPool2d(x, this.kernelSize, { ...this.options, returnIndices: false });
  }
  override extraRepr(): string {
    return poolRepr(this.kernelSize, this.options);
  }
}

/** 1-d average pooling over [N, C, L]. */
export class AvgPool1d extends Module {
  constructor(
    readonly kernelSize: Ints,
    readonly options: AvgPoolOptions = {},
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank('avgPool1d', x, [2, 3], LAYOUT1);
    return avgPool1d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return poolRepr(this.kernelSize, this.options);
  }
}

/** 2-d average pooling over [N, C, H, W]. */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Ints,
    readonly options: AvgPoolOptions = {},
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank('avgPool2d', x, [3, 4], LAYOUT2);
    return avgPool2d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return poolRepr(this.kernelSize, this.options);
  }
}

/** Adaptive 1-d average pooling to `outputSize` positions. */
export class AdaptiveAvgPool1d extends Module {
  constructor(readonly outputSize: number) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank('adaptiveAvgPool1d', x, [2, 3], LAYOUT1);
    return adaptiveAvgPool1d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `outputSize=${this.outputSize}`;
  }
}

/** Adaptive 2-d average pooling to `outputSize` (an integer, or [h, w] with null keeping that input size). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | readonly (number | null)[]) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank('adaptiveAvgPool2d', x, [3, 4], LAYOUT2);
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `outputSize=${typeof this.outputSize === 'number' ? this.outputSize : `[${this.outputSize.join(',')}]`}`;
  }
}

/** Adaptive 1-d max pooling to `outputSize` positions. */
export class AdaptiveMaxPool1d extends Module {
  constructor(readonly outputSize: number) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank('adaptiveMaxPool1d', x, [2, 3], LAYOUT1);
    return adaptiveMaxPool1d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `outputSize=${this.outputSize}`;
  }
}

/** Adaptive 2-d max pooling to `outputSize` (an integer, or [h, w] with null keeping that input size). */
export class AdaptiveMaxPool2d extends Module {
  constructor(readonly outputSize: number | readonly (number | null)[]) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank('adaptiveMaxPool2d', x, [3, 4], LAYOUT2);
    return adaptiveMaxPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `outputSize=${typeof this.outputSize === 'number' ? this.outputSize : `[${this.outputSize.join(',')}]`}`;
  }
}

function poolRepr(k: Ints, o: MaxPoolLayerOptions | AvgPoolOptions): string {
  const parts = [`kernelSize=${show(k)}`, `stride=${show(o.stride ?? k)}`];
  if (o.padding !== undefined) parts.push(`padding=${show(o.padding)}`);
  if ('dilation' in o && o.dilation !== undefined) parts.push(`dilation=${show(o.dilation)}`);
  if (o.ceilMode) parts.push('ceilMode=true');
  return parts.join(', ');
}
