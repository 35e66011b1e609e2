/**
 * `nn.MultiheadAttention`: scaled dot-product attention over several heads, with PyTorch's parameters
 * (`in_proj_weight`/`in_proj_bias` or separate `q/k/v_proj_weight` when key and value have other
 * sizes, and an `out_proj` Linear), masks and attention weights.
 * @module
 */
import { empty, zeros } from '../../core/creation.js';
import type { DType } from '../../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../../core/errors.js';
import { fmt, sameShape } from '../../core/shape.js';
import { Tensor } from '../../core/tensor.js';
import { softmax } from '../../ops/activation.js';
import { dropout, linear } from '../functional/basic.js';
import { xavierUniform_, zeros_ } from '../init.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { Linear } from './linear.js';

/** Options of `MultiheadAttention` (PyTorch's defaults). */
export interface MultiheadAttentionOptions {
  /** Dropout probability on the attention weights in training mode (default 0). */
  dropout?: number;
  /** Learn input and output projection biases (default true). */
  bias?: boolean;
  /** Inputs and output are [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  batchFirst?: boolean;
  /** Feature size of the keys (default embedDim). */
  kdim?: number;
  /** Feature size of the values (default embedDim). */
  vdim?: number;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Options of `MultiheadAttention.forward`. */
export interface AttentionForwardOptions {
  /**
   * [N, S] (or [S] for unbatched input): true (bool) marks key positions to ignore; a float mask is
   * added to the attention scores.
   */
  keyPaddingMask?: Tensor | null;
  /**
   * [L, S] or [N * numHeads, L, S]: true (bool) forbids attending to a position; a float mask is
   * added to the scores (use -Infinity to forbid).
   */
  attnMask?: Tensor | null;
  /** Also return the attention weights (default true). */
  needWeights?: boolean;
  /** Average the returned weights over the heads (default true); false gives one map per head. */
  averageAttnWeights?: boolean;
}

/** A bool mask as an additive float mask (-Infinity where true); a float mask cast to `dtype`. */
function additiveMask(name: string, m: Tensor, dtype: DType): Tensor {
  if (m.dtype === 'bool') return zeros(m.shape, { dtype }).maskedFill(m, Number.NEGATIVE_INFINITY);
  if (m.dtype !== 'float32' && m.dtype !== 'float64') {
    throw new DTypeError(`MultiheadAttention: ${name} must be bool or floating, got ${m.dtype}`);
  }
  return m.to(dtype);
}

/**
 * Multi-head attention: projects query, key and value, splits them into `numHeads` heads of size
 * embedDim / numHeads, computes softmax(q kᵀ / sqrt(headDim) + mask) v per head and projects the
 * concatenated heads with `out_proj`. `forward(query, key, value, options)` takes query [L, N, E]
 * and key/value [S, N, kdim/vdim] ([N, L, E] with batchFirst, or unbatched [L, E]) and returns
 * `[output [L, N, E], weights [N, L, S] (or [N, numHeads, L, S]) | null]`.
 */
export class MultiheadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  /** embedDim / numHeads. */
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  /** Output projection (PyTorch key `out_proj`). */
  readonly out_proj: Linear;
  private readonly _sameDims: boolean;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    if (!Number.isInteger(embedDim) || embedDim < 1 || !Number.isInteger(numHeads) || numHeads < 1) {
      throw new ValueError(
        `MultiheadAttention: embedDim and numHeads must be positive integers, got (${embedDim}, ${numHeads})`,
      );
    }
    if (embedDim % numHeads !== 0) {
      throw new ValueError(
        `MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`,
      );
    }
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.headDim = embedDim / numHeads;
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) {
      throw new ValueError(
        `MultiheadAttention: dropout must be a probability in [0, 1], got ${this.dropout}`,
      );
    }
    this.batchFirst = options.batchFirst ?? false;
    this._sameDims = this.kdim === embedDim && this.vdim === embedDim;
    const dtype = options.dtype ?? 'float32';
    const weight = (rows: number, cols: number): Parameter => {
      const p = new Parameter(empty([rows, cols], { dtype }));
      xavierUniform_(p);
      return p;
    };
    if (this._sameDims) {
      this.register('in_proj_weight', weight(3 * embedDim, embedDim));
    } else {
      this.register('q_proj_weight', weight(embedDim, embedDim));
      this.register('k_proj_weight', weight(embedDim, this.kdim));
      this.register('v_proj_weight', weight(embedDim, this.vdim));
    }
    const bias = options.bias ?? true;
    if (bias) this.register('in_proj_bias', new Parameter(zeros([3 * embedDim], { dtype })));
    this.out_proj = new Linear(embedDim, embedDim, { bias, dtype });
    if (this.out_proj.bias) zeros_(this.out_proj.bias);
    this.register('out_proj', this.out_proj);
  }

  private tensorOf(name: string): Tensor | null {
    const p = this.getRegistered(name);
    return p instanceof Tensor ? p : null;
  }

  override forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    options: AttentionForwardOptions = {},
  ): [Tensor, Tensor | null] {
    const E = this.embedDim;
    const heads = this.numHeads;
    const hd = this.headDim;
    const batched = query.ndim === 3;
    if (query.ndim !== 2 && query.ndim !== 3) {
      throw new ShapeError(
        `MultiheadAttention: expected a 3-d (batched) or 2-d (unbatched) query, got shape ${fmt(query.shape)}`,
      );
    }
    if (key.ndim !== query.ndim || value.ndim !== query.ndim) {
      throw new ShapeError(
        `MultiheadAttention: query, key and value must have the same number of dims, got shapes ${fmt(query.shape)}, ${fmt(key.shape)} and ${fmt(value.shape)}`,
      );
    }
    const toSeqFirst = (t: Tensor): Tensor =>
      batched ? (this.batchFirst ? t.transpose(0, 1) : t) : t.unsqueeze(1);
    const q0 = toSeqFirst(query);
    const k0 = toSeqFirst(key);
    const v0 = toSeqFirst(value);
    const [L, N] = [q0.shape[0]!, q0.shape[1]!];
    const S = k0.shape[0]!;
    const check = (what: string, t: Tensor, orig: Tensor, feat: number, len: number): void => {
      if (t.shape[2] !== feat || t.shape[1] !== N || t.shape[0] !== len) {
        const want = batched ? (this.batchFirst ? [N, len, feat] : [len, N, feat]) : [len, feat];
        throw new ShapeError(
          `MultiheadAttention: expected ${what} of shape ${fmt(want)}, got ${fmt(orig.shape)}`,
        );
      }
    };
    check('query', q0, query, E, L);
    check('key', k0, key, this.kdim, S);
    check('value', v0, value, this.vdim, S);

    // Input projections.
    const b = this.tensorOf('in_proj_bias');
    const bpart = (i: number): Tensor | null => (b ? b.narrow(0, i * E, E) : null);
    let q: Tensor;
    let k: Tensor;
    let v: Tensor;
    if (this._sameDims) {
      const w = this.tensorOf('in_proj_weight')!;
      if (query === key && key === value) {
        const qkv = linear(q0, w, b);
        [q, k, v] = [qkv.narrow(2, 0, E), qkv.narrow(2, E, E), qkv.narrow(2, 2 * E, E)];
      } else {
        q = linear(q0, w.narrow(0, 0, E), bpart(0));
        k = linear(k0, w.narrow(0, E, E), bpart(1));
        v = linear(v0, w.narrow(0, 2 * E, E), bpart(2));
      }
    } else {
      q = linear(q0, this.tensorOf('q_proj_weight')!, bpart(0));
      k = linear(k0, this.tensorOf('k_proj_weight')!, bpart(1));
      v = linear(v0, this.tensorOf('v_proj_weight')!, bpart(2));
    }
    const dtype = q.dtype;
    // [len, N, E] -> [N * heads, len, hd]
    const split = (t: Tensor, len: number): Tensor => t.reshape([len, N * heads, hd]).transpose(0, 1);
    const qh = split(q, L).mul(1 / Math.sqrt(hd));
    const kh = split(k, S);
    const vh = split(v, S);
    let scores = qh.matmul(kh.transpose(1, 2)).reshape([N, heads, L, S]);

    const am = options.attnMask ?? null;
    if (am) {
      const ok2 = am.ndim === 2 && sameShape(am.shape, [L, S]);
      const ok3 = am.ndim === 3 && sameShape(am.shape, [N * heads, L, S]);
      if (!ok2 && !ok3) {
        throw new ShapeError(
          `MultiheadAttention: expected attnMask of shape [${L}, ${S}] or [${N * heads}, ${L}, ${S}] (N * numHeads, L, S), got ${fmt(am.shape)}`,
        );
      }
      const m = additiveMask('attnMask', am, dtype);
      scores = scores.add(ok3 ? m.reshape([N, heads, L, S]) : m);
    }
    const kpm = options.keyPaddingMask ?? null;
    if (kpm) {
      const want = batched ? [N, S] : [S];
      if (!sameShape(kpm.shape, want)) {
        throw new ShapeError(
          `MultiheadAttention: expected keyPaddingMask of shape ${fmt(want)}, got ${fmt(kpm.shape)}`,
        );
      }
      scores = scores.add(additiveMask('keyPaddingMask', kpm, dtype).reshape([N, 1, 1, S]));
    }
    let attn = softmax(scores, -1);
    if (this.dropout > 0 && this.training) attn = dropout(attn, { p: this.dropout, training: true });
    // [N * heads, L, hd] -> [L, N, E]
    const ctx = attn
      .reshape([N * heads, L, S])
      .matmul(vh)
      .transpose(0, 1)
      .reshape([L, N, E]);
    let out = this.out_proj.forward(ctx);
    if (!batched) out = out.squeeze(1);
    else if (this.batchFirst) out = out.transpose(0, 1);

    let weights: Tensor | null = null;
    if (options.needWeights ?? true) {
      weights = (options.averageAttnWeights ?? true) ? attn.mean(1) : attn;
      if (!batched) weights = weights.squeeze(0);
    }
    return [out, weights];
  }

  override extraRepr(): string {
    let s = `embedDim=${this.embedDim}, numHeads=${this.numHeads}`;
    if (this.kdim !== this.embedDim) s += `, kdim=${this.kdim}`;
    if (this.vdim !== this.embedDim) s += `, vdim=${this.vdim}`;
    if (this.dropout) s += `, dropout=${this.dropout}`;
    if (this.batchFirst) s += ', batchFirst=true';
    return s;
  }
}
