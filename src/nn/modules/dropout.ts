/**
 * Dropout layers: `Dropout` (element-wise) and `Dropout2d` (whole channels). Both are active only in
 * training mode and scale kept values by 1/(1-p).
 * @module
 */
import { tensor } from '../../core/creation.js';
import { allocArray } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import { defaultGenerator, type Generator } from '../../core/random.js';
import type { Tensor } from '../../core/tensor.js';
import '../../ops/binary.js';
import { requireFloat } from '../../ops/util.js';
import { dropout } from '../functional/basic.js';
import { expectRank, Module } from '../module.js';

/** Options of the dropout layers. */
export interface DropoutLayerOptions {
  /** Random stream for the masks (the default generator otherwise). */
  generator?: Generator;
}

/** The probability `p` and random stream shared by the dropout layers. */
abstract class DropoutBase extends Module {
  protected readonly _generator: Generator | undefined;
  constructor(
    layer: string,
    readonly p: number,
    options: DropoutLayerOptions,
  ) {
    super();
    if (!(p >= 0 && p <= 1))
      throw new ValueError(`${layer}: probability p must be between 0 and 1, got ${p}`);
    this._generator = options.generator;
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Zeroes each element with probability `p` (default 0.5) in training mode; identity in eval mode. */
export class Dropout extends DropoutBase {
  constructor(p = 0.5, options: DropoutLayerOptions = {}) {
    super('Dropout', p, options);
  }
  override forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training, generator: this._generator });
  }
}

/**
 * Channel dropout: zeroes whole channels of [N, C, H, W] (or [C, H, W]) input with probability `p`
 * in training mode (useful after convolutions, whose neighbouring pixels are correlated).
 */
export class Dropout2d extends DropoutBase {
  constructor(p = 0.5, options: DropoutLayerOptions = {}) {
    super('Dropout2d', p, options);
  }
  override forward(x: Tensor): Tensor {
    expectRank('dropout2d', x, [3, 4], 'input [N, C, H, W] (or [C, H, W])');
    requireFloat('dropout2d', x);
    if (!this.training || this.p === 0) return x;
    const gen = this._generator ?? defaultGenerator;
    const lead = x.ndim === 4 ? [x.shape[0]!, x.shape[1]!] : [x.shape[0]!];
    const n = lead.reduce((a, s) => a * s, 1);
    const m = allocArray(x.dtype, n);
    if (this.p < 1) {
      const keep = 1 - this.p;
      for (let i = 0; i < n; i++) m[i] = gen.random() < keep ? 1 / keep : 0;
    }
    return x.mul(tensor(m, { shape: [...lead, 1, 1] }));
  }
}
