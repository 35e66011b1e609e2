import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  gradcheck,
  manualSeed,
  nn,
  noGrad,
  ones,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import type {
  AttentionForwardOptions,
  MultiheadAttentionOptions,
  TransformerEncoderLayerOptions,
} from '../../src/nn/index.js';
import { checkModuleCase, loadModuleCases, type ModuleCase } from '../helpers/reference.js';
import { d64 } from '../helpers/tensors.js';

/** Builds the layer of a reference case and a function running it the way PyTorch did. */
function setup(c: ModuleCase): [nn.Module, (ins: (Tensor | null)[]) => Tensor[]] {
  const kw = { ...c.kwargs, dtype: c.dtype } as Record<string, unknown>;
  const masks = (c.masks as string[] | undefined) ?? [];
  if (c.module === 'MultiheadAttention') {
    const m = new nn.MultiheadAttention(
      kw.embedDim as number,
      kw.numHeads as number,
      kw as MultiheadAttentionOptions,
    );
    const run = (ins: (Tensor | null)[]): Tensor[] => {
      const self = c.selfAttention as boolean;
      const [q, k, v] = self ? [ins[0]!, ins[0]!, ins[0]!] : [ins[0]!, ins[1]!, ins[2]!];
      const rest = ins.slice(self ? 1 : 3);
      const fkw: AttentionForwardOptions = { ...(c.forward as AttentionForwardOptions) };
      masks.forEach((name, i) => {
        if (name === 'attn_mask') fkw.attnMask = rest[i]!;
        else fkw.keyPaddingMask = rest[i]!;
      });
      const [out, w] = m.forward(q, k, v, fkw);
      return w ? [out, w] : [out];
    };
    return [m, run];
  }
  const maskOpts = (rest: (Tensor | null)[]): Record<string, Tensor> => {
    const o: Record<string, Tensor> = {};
    masks.forEach((name, i) => {
      o[name === 'src_mask' ? 'srcMask' : 'srcKeyPaddingMask'] = rest[i]!;
    });
    return o;
  };
  if (c.module === 'TransformerEncoderLayer') {
    const m = new nn.TransformerEncoderLayer(
      kw.dModel as number,
      kw.nhead as number,
      kw as TransformerEncoderLayerOptions,
    );
    return [m, (ins) => [m.forward(ins[0]!, maskOpts(ins.slice(1)))]];
  }
  const layer = new nn.TransformerEncoderLayer(kw.dModel as number, kw.nhead as number, {
    dimFeedforward: kw.dimFeedforward as number,
    dtype: c.dtype,
  });
  const m = new nn.TransformerEncoder(layer, kw.numLayers as number, {
    norm: kw.norm ? new nn.LayerNorm(kw.dModel as number, { dtype: c.dtype }) : null,
  });
  return [m, (ins) => [m.forward(ins[0]!, { srcKeyPaddingMask: ins[1]! })]];
}

describe('attention layers against PyTorch (eval mode)', () => {
  const cases = loadModuleCases('nn_attention');
  it('has the expected cases', () => {
    expect(cases.length).toBe(9);
  });
  for (const c of cases) {
    it(c.name, () => {
      const [m, run] = setup(c);
      checkModuleCase(c, m, run, { atol: 1e-9, rtol: 1e-7 });
    });
  }
});

describe('MultiheadAttention', () => {
  it('has PyTorch parameter names, shapes and initialisation', () => {
    const m = new nn.MultiheadAttention(8, 2);
    expect(m.namedParameters().map(([k, p]) => `${k}:${p.shape.join('x')}`)).toEqual([
      'in_proj_weight:24x8',
      'in_proj_bias:24',
      'out_proj.weight:8x8',
      'out_proj.bias:8',
    ]);
    expect(m.out_proj).toBeInstanceOf(nn.Linear);
    const bound = Math.sqrt(6 / (8 + 24));
    const w = m.getRegistered('in_proj_weight') as Tensor;
    expect(w.abs().max().item()).toBeLessThanOrEqual(bound);
    expect((m.getRegistered('in_proj_bias') as Tensor).abs().sum().item()).toBe(0);
    expect(m.out_proj.bias!.abs().sum().item()).toBe(0);
    const kv = new nn.MultiheadAttention(6, 3, { kdim: 4, vdim: 5, bias: false });
    expect([...kv.stateDict().keys()]).toEqual([
      'q_proj_weight',
      'k_proj_weight',
      'v_proj_weight',
      'out_proj.weight',
    ]);
    expect(kv.toString()).toBe(
      'MultiheadAttention(embedDim=6, numHeads=3, kdim=4, vdim=5\n  (out_proj): Linear(inFeatures=6, outFeatures=6, bias=false)\n)',
    );
  });

  it('attention weights are a distribution over keys; masked keys get zero weight', () => {
    const m = new nn.MultiheadAttention(4, 2, { dtype: 'float64' });
    const x = randn([3, 2, 4], { dtype: 'float64' });
    const kpm = tensor([
      [false, true, false],
      [false, false, false],
    ]);
    const [out, w] = m.forward(x, x, x, { keyPaddingMask: kpm });
    expect(out.shape).toEqual([3, 2, 4]);
    expect(w!.shape).toEqual([2, 3, 3]);
    const sums = w!.sum(-1).dataSync();
    for (const s of sums) expect(s).toBeCloseTo(1, 12);
    expect(w!.select(0, 0).select(1, 1).abs().sum().item()).toBe(0);
    const [, none] = m.forward(x, x, x, { needWeights: false });
    expect(none).toBeNull();
    const [, per] = m.forward(x, x, x, { averageAttnWeights: false });
    expect(per!.shape).toEqual([2, 2, 3, 3]);
  });

  it('a bool mask equals the additive -inf mask', () => {
    const m = new nn.MultiheadAttention(4, 1, { dtype: 'float64' });
    const x = randn([4, 1, 4], { dtype: 'float64' });
    const b = tensor([
      [false, true, true, true],
      [false, false, true, true],
      [false, false, false, true],
      [false, false, false, false],
    ]);
    const f = zeros([4, 4], { dtype: 'float64' }).maskedFill(b, Number.NEGATIVE_INFINITY);
    const [a] = m.forward(x, x, x, { attnMask: b });
    const [c] = m.forward(x, x, x, { attnMask: f });
    expect(a.toArray()).toEqual(c.toArray());
  });

  it('dropout on the weights applies only in training mode', () => {
    manualSeed(1);
    const m = new nn.MultiheadAttention(4, 2, { dropout: 0.5 });
    const x = randn([5, 2, 4]);
    const [, w1] = m.forward(x, x, x);
    const [, w2] = m.forward(x, x, x);
    expect(w1!.toArray()).not.toEqual(w2!.toArray());
    m.eval();
    const [, w3] = m.forward(x, x, x);
    const [, w4] = m.forward(x, x, x);
    expect(w3!.toArray()).toEqual(w4!.toArray());
  });

  it('gradcheck (float64) through query, key and value', () => {
    const m = new nn.MultiheadAttention(4, 2, { dtype: 'float64', kdim: 3, vdim: 2 });
    const mask = tensor([
      [false, true, false],
      [false, false, false],
    ]);
    expect(
      gradcheck(
        (q, k, v) => m.forward(q!, k!, v!, { keyPaddingMask: mask })[0],
        [d64([2, 2, 4]), d64([3, 2, 3]), d64([3, 2, 2])],
      ),
    ).toBe(true);
    const s = new nn.MultiheadAttention(4, 2, { dtype: 'float64', batchFirst: true });
    expect(gradcheck((x) => s.forward(x!, x!, x!)[1]!, [d64([2, 3, 4])])).toBe(true);
  });

  it('shape errors name the layer and the shapes', () => {
    const m = new nn.MultiheadAttention(4, 2);
    const x = zeros([3, 2, 4]);
    expect(() => m.forward(zeros([4]), x, x)).toThrow(ShapeError);
    expect(() => m.forward(zeros([4]), x, x)).toThrow(
      /MultiheadAttention: expected a 3-d \(batched\) or 2-d \(unbatched\) query, got shape \[4\]/,
    );
    expect(() => m.forward(zeros([3, 2, 5]), x, x)).toThrow(
      /\(MultiheadAttention\): MultiheadAttention: expected query of shape \[3,2,4\], got \[3,2,5\]/,
    );
    expect(() => m.forward(x, zeros([5, 2, 4]), zeros([4, 2, 4]))).toThrow(
      /MultiheadAttention: expected value of shape \[5,2,4\], got \[4,2,4\]/,
    );
    expect(() => m.forward(x, zeros([5, 3, 4]), zeros([5, 3, 4]))).toThrow(
      /MultiheadAttention: expected key of shape \[5,2,4\], got \[5,3,4\]/,
    );
    expect(() => m.forward(x, zeros([5, 4]), zeros([5, 4]))).toThrow(
      /query, key and value must have the same number of dims, got shapes \[3,2,4\], \[5,4\] and \[5,4\]/,
    );
    expect(() => m.forward(x, x, x, { attnMask: zeros([3, 4]) })).toThrow(
      /expected attnMask of shape \[3, 3\] or \[4, 3, 3\] \(N \* numHeads, L, S\), got \[3,4\]/,
    );
    expect(() => m.forward(x, x, x, { keyPaddingMask: zeros([3, 2]) })).toThrow(
      /expected keyPaddingMask of shape \[2,3\], got \[3,2\]/,
    );
    expect(() => m.forward(x, x, x, { attnMask: zeros([3, 3], { dtype: 'int32' }) })).toThrow(DTypeError);
    expect(() => new nn.MultiheadAttention(5, 2)).toThrow(
      /MultiheadAttention: embedDim 5 must be divisible by numHeads 2/,
    );
    expect(() => new nn.MultiheadAttention(4, 2, { dropout: 2 })).toThrow(ValueError);
  });
});

describe('TransformerEncoderLayer and TransformerEncoder', () => {
  it('have PyTorch submodule names', () => {
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    expect(layer.namedChildren().map(([k]) => k)).toEqual([
      'self_attn',
      'linear1',
      'dropout',
      'linear2',
      'norm1',
      'norm2',
      'dropout1',
      'dropout2',
    ]);
    expect([...layer.stateDict().keys()]).toEqual([
      'self_attn.in_proj_weight',
      'self_attn.in_proj_bias',
      'self_attn.out_proj.weight',
      'self_attn.out_proj.bias',
      'linear1.weight',
      'linear1.bias',
      'linear2.weight',
      'linear2.bias',
      'norm1.weight',
      'norm1.bias',
      'norm2.weight',
      'norm2.bias',
    ]);
    expect(layer.self_attn.dropout).toBe(0.1);
    expect(layer.dropout.p).toBe(0.1);
  });

  it('the encoder builds fresh layers from the template config (no shared weights)', () => {
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, normFirst: true });
    const enc = new nn.TransformerEncoder(layer, 3, { norm: new nn.LayerNorm(8) });
    const keys = [...enc.stateDict().keys()];
    expect(keys.filter((k) => k.startsWith('layers.2.'))).toHaveLength(12);
    expect(keys.at(-1)).toBe('norm.bias');
    const layers = [...enc.layers] as nn.TransformerEncoderLayer[];
    expect(layers).toHaveLength(3);
    expect(layers.every((l) => l !== layer && l.normFirst && l.linear1.outFeatures === 16)).toBe(true);
    const w0 = layers[0]!.linear1.weight;
    const w1 = layers[1]!.linear1.weight;
    expect(w0).not.toBe(w1);
    expect(w0.toArray()).not.toEqual(w1.toArray());
    expect(enc.parameters()).toHaveLength(3 * 12 + 2);
    // A factory works too.
    const f = new nn.TransformerEncoder(() => new nn.TransformerEncoderLayer(4, 1, { dimFeedforward: 8 }), 2);
    expect(f.forward(randn([3, 2, 4])).shape).toEqual([3, 2, 4]);
    const shared = new nn.TransformerEncoderLayer(4, 1);
    expect(() => new nn.TransformerEncoder(() => shared, 2)).toThrow(/returned the same module twice/);
  });

  it('eval mode is deterministic, training mode applies dropout, and gradients reach every parameter', () => {
    manualSeed(2);
    const enc = new nn.TransformerEncoder(
      new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, activation: 'gelu' }),
      2,
    );
    const x = randn([2, 5, 8]);
    const a = enc.forward(x);
    const b = enc.forward(x);
    expect(a.toArray()).not.toEqual(b.toArray());
    enc.eval();
    expect(enc.forward(x).toArray()).toEqual(enc.forward(x).toArray());
    enc.train();
    enc.forward(x).square().sum().backward();
    for (const [k, p] of enc.namedParameters()) expect(p.grad, k).not.toBeNull();
    const y = noGrad(() => enc.forward(x));
    expect(y.requiresGrad).toBe(false);
  });

  it('unbatched input and a custom activation', () => {
    const layer = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 8, activation: (t) => t.tanh() });
    layer.eval();
    const x = randn([3, 4]);
    const y = layer.forward(x);
    expect(y.shape).toEqual([3, 4]);
    const yb = layer.forward(x.unsqueeze(1));
    expect(y.sub(yb.squeeze(1)).abs().max().item()).toBeLessThan(1e-6);
    // Post-norm output is normalised over the features.
    const mean = y.mean(-1).abs().max().item();
    expect(mean).toBeLessThan(1e-5);
    expect(ones([1]).item()).toBe(1);
  });

  it('errors name the layer', () => {
    expect(() => new nn.TransformerEncoderLayer(8, 2, { activation: 'tanh' as 'relu' })).toThrow(
      /TransformerEncoderLayer: activation should be 'relu' or 'gelu'/,
    );
    expect(() => new nn.TransformerEncoder(new nn.TransformerEncoderLayer(4, 1), 0)).toThrow(
      /TransformerEncoder: numLayers must be an integer >= 1, got 0/,
    );
    const enc = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(4, 1, { dimFeedforward: 8 }), 2);
    expect(() => enc.forward(zeros([3, 2, 5]))).toThrow(
      /^layers\.0\.self_attn \(MultiheadAttention\): MultiheadAttention: expected query of shape \[3,2,4\], got \[3,2,5\]/,
    );
  });
});
