/**
 * Transformer encoder: `TransformerEncoderLayer` (self-attention + feed-forward block, post- or
 * pre-norm) and `TransformerEncoder` (a stack of such layers), with PyTorch's submodule names.
 * @module
 */
import type { DType } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { gelu } from '../../ops/activation.js';
import { Module } from '../module.js';
import { MultiheadAttention } from './attention.js';
import { callModule, ModuleList } from './container.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { LayerNorm } from './normalization.js';

/** Options of `TransformerEncoderLayer` (PyTorch's defaults). */
export interface TransformerEncoderLayerOptions {
  /** Hidden size of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability after attention, inside and after the feed-forward block (default 0.1). */
  dropout?: number;
  /** Feed-forward activation: 'relu' (default), 'gelu' or a function. */
  activation?: 'relu' | 'gelu' | ((x: Tensor) => Tensor);
  /** LayerNorm epsilon (default 1e-5). */
  layerNormEps?: number;
  /** Input and output are [batch, seq, feature] (default false: [seq, batch, feature]). */
  batchFirst?: boolean;
  /** Normalise before each block (pre-norm) instead of after the residual sum (default false). */
  normFirst?: boolean;
  /** Learn biases in the linear layers, attention and LayerNorms (default true). */
  bias?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Masks of a transformer encoder layer's forward. */
export interface EncoderLayerForwardOptions {
  /** Attention mask [S, S] or [N * nhead, S, S] (bool: true forbids; float: added to the scores). */
  srcMask?: Tensor | null;
  /** [N, S] (bool: true marks padding to ignore; float: added to the scores). */
  srcKeyPaddingMask?: Tensor | null;
}

/**
 * One transformer encoder block: x + dropout1(self_attn(x)) then x + dropout2(linear2(dropout(act(linear1(x))))),
 * each followed by a LayerNorm (norm1, norm2), or preceded by it with `normFirst`.
 * `forward(src, {srcMask, srcKeyPaddingMask})` maps [S, N, dModel] ([N, S, dModel] with batchFirst,
 * or unbatched [S, dModel]) to the same shape.
 */
export class TransformerEncoderLayer extends Module {
  readonly self_attn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly normFirst: boolean;
  private readonly _activation: (x: Tensor) => Tensor;
  private readonly _options: TransformerEncoderLayerOptions;

  constructor(
    readonly dModel: number,
    readonly nhead: number,
    options: TransformerEncoderLayerOptions = {},
  ) {
    super();
    this._options = { ...options };
    const ff = options.dimFeedforward ?? 2048;
    const p = options.dropout ?? 0.1;
    const bias = options.bias ?? true;
    const dtype = options.dtype;
    const eps = options.layerNormEps ?? 1e-5;
    this.self_attn = new MultiheadAttention(dModel, nhead, {
      dropout: p,
      bias,
      batchFirst: options.batchFirst ?? false,
      dtype,
    });
    this.linear1 = new Linear(dModel, ff, { bias, dtype });
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel, { bias, dtype });
    this.normFirst = options.normFirst ?? false;
    this.norm1 = new LayerNorm(dModel, { eps, bias, dtype });
    this.norm2 = new LayerNorm(dModel, { eps, bias, dtype });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    const act = options.activation ?? 'relu';
    if (typeof act === 'function') this._activation = act;
    else if (act === 'relu') this._activation = (x) => x.relu();
    else if (act === 'gelu') this._activation = (x) => gelu(x);
    else {
      throw new ValueError(
        `TransformerEncoderLayer: activation should be 'relu' or 'gelu' (or a function), got '${String(act)}'`,
      );
    }
  }

  /** A new layer with the same configuration and freshly initialised weights. */
  freshCopy(): TransformerEncoderLayer {
    return new TransformerEncoderLayer(this.dModel, this.nhead, this._options);
  }

  private saBlock(x: Tensor, o: EncoderLayerForwardOptions): Tensor {
    const [y] = this.self_attn.forward(x, x, x, {
      attnMask: o.srcMask ?? null,
      keyPaddingMask: o.srcKeyPaddingMask ?? null,
      needWeights: false,
    });
    return this.dropout1.forward(y);
  }

  private ffBlock(x: Tensor): Tensor {
    const h = this.dropout.forward(this._activation(this.linear1.forward(x)));
    return this.dropout2.forward(this.linear2.forward(h));
  }

  override forward(src: Tensor, options: EncoderLayerForwardOptions = {}): Tensor {
    let x = src;
    if (this.normFirst) {
      x = x.add(this.saBlock(this.norm1.forward(x), options));
      return x.add(this.ffBlock(this.norm2.forward(x)));
    }
    x = this.norm1.forward(x.add(this.saBlock(x, options)));
    return this.norm2.forward(x.add(this.ffBlock(x)));
  }

  override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}${this.normFirst ? ', normFirst=true' : ''}`;
  }
}

/** Options of `TransformerEncoder`. */
export interface TransformerEncoderOptions {
  /** A final normalisation applied to the output of the last layer (PyTorch key `norm`). */
  norm?: Module | null;
}

/** Masks of a transformer encoder's forward (PyTorch's names). */
export interface EncoderForwardOptions {
  /** Attention mask [S, S] or [N * nhead, S, S], passed to every layer as its srcMask. */
  mask?: Tensor | null;
  /** [N, S] padding mask, passed to every layer. */
  srcKeyPaddingMask?: Tensor | null;
}

/**
 * A stack of `numLayers` encoder layers (keys `layers.0...`), then the optional `norm`.
 * `encoderLayer` is either a `TransformerEncoderLayer`, used as a template (every layer is a fresh
 * layer with its configuration and its own, freshly initialised weights; the template's weights are
 * not used), or a factory `(i) => layer`. Layers are called as `layer.forward(x, {srcMask, srcKeyPaddingMask})`.
 */
export class TransformerEncoder extends Module {
  readonly layers: ModuleList;
  readonly norm: Module | null;
  readonly numLayers: number;

  constructor(
    encoderLayer: TransformerEncoderLayer | ((i: number) => Module),
    numLayers: number,
    options: TransformerEncoderOptions = {},
  ) {
    super();
    if (!Number.isInteger(numLayers) || numLayers < 1) {
      throw new ValueError(`TransformerEncoder: numLayers must be an integer >= 1, got ${numLayers}`);
    }
    this.numLayers = numLayers;
    const make =
      encoderLayer instanceof TransformerEncoderLayer ? () => encoderLayer.freshCopy() : encoderLayer;
    const layers: Module[] = [];
    for (let i = 0; i < numLayers; i++) {
      const m = make(i);
      if (!(m instanceof Module)) {
        throw new ValueError(`TransformerEncoder: the layer factory must return a Module (layer ${i})`);
      }
      if (layers.includes(m)) {
        throw new ValueError(
          `TransformerEncoder: the layer factory returned the same module twice (layer ${i}); layers must not share weights`,
        );
      }
      layers.push(m);
    }
    this.layers = new ModuleList(layers);
    this.norm = options.norm ?? null;
  }

  override forward(src: Tensor, options: EncoderForwardOptions = {}): Tensor {
    let x = src;
    const o: EncoderLayerForwardOptions = {
      srcMask: options.mask ?? null,
      srcKeyPaddingMask: options.srcKeyPaddingMask ?? null,
    };
    for (const layer of this.layers) x = callModule(layer, x, o) as Tensor;
    return this.norm ? (callModule(this.norm, x) as Tensor) : x;
  }

  override extraRepr(): string {
    return `numLayers=${this.numLayers}`;
  }
}
