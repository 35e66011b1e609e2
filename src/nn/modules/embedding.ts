/**
 * `Embedding`: a lookup table of learnable vectors (PyTorch's key `weight`).
 * @module
 */
import { noGrad } from '../../autograd/grad-mode.js';
import { empty } from '../../core/creation.js';
import type { DType } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import '../../ops/shape.js';
import { embedding } from '../functional/basic.js';
import { normal_ } from '../init.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';

/** Options of `Embedding`. */
export interface EmbeddingLayerOptions {
  /** Row that is zero-initialised and gets no gradient (e.g. the padding token); negative counts from the end. */
  paddingIdx?: number | null;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Maps int32 indices of any shape to rows of `weight` [numEmbeddings, embeddingDim] (initialised N(0, 1)). */
export class Embedding extends Module {
  /** The table [numEmbeddings, embeddingDim]. */
  weight: Parameter;
  /** Padding row (normalised to non-negative), or null. */
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingLayerOptions = {},
  ) {
    super();
    if (
      !Number.isInteger(numEmbeddings) ||
      numEmbeddings < 1 ||
      !Number.isInteger(embeddingDim) ||
      embeddingDim < 0
    ) {
      throw new ValueError(
        `Embedding: numEmbeddings must be a positive and embeddingDim a non-negative integer, got (${numEmbeddings}, ${embeddingDim})`,
      );
    }
    let pad = options.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings) {
        throw new ValueError(`Embedding: paddingIdx ${pad} is out of range for ${numEmbeddings} embeddings`);
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.weight = new Parameter(empty([numEmbeddings, embeddingDim], { dtype: options.dtype ?? 'float32' }));
    this.resetParameters();
  }

  /** Builds an embedding from a [numEmbeddings, embeddingDim] table (frozen unless `freeze: false`). */
  static fromPretrained(
    weights: Tensor,
    options: { freeze?: boolean; paddingIdx?: number | null } = {},
  ): Embedding {
    if (weights.ndim !== 2) {
      throw new ValueError(`Embedding.fromPretrained: expected a 2-d table, got shape ${fmt(weights.shape)}`);
    }
    const e = new Embedding(weights.shape[0]!, weights.shape[1]!, {
      paddingIdx: options.paddingIdx,
      dtype: weights.dtype,
    });
    noGrad(() => e.weight.copy_(weights));
    e.weight.requiresGrad = !(options.freeze ?? true);
    return e;
  }

  /** N(0, 1) init with the padding row zeroed, as in PyTorch. */
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      const row = this.paddingIdx;
      noGrad(() => this.weight.narrow(0, row, 1).fill_(0));
    }
  }

  override forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight, { paddingIdx: this.paddingIdx });
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ''}`;
  }
}
