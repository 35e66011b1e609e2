import { describe, expect, it } from 'vitest';
import {
  gradcheck,
  gradgradcheck,
  manualSeed,
  nn,
  noGrad,
  randn,
  ShapeError,
  type Tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import type { RNNBaseOptions, RNNCellOptions, RNNOptions } from '../../src/nn/modules/rnn.js';
import { checkModuleCase, loadModuleCases } from '../helpers/reference.js';
import { d64 } from '../helpers/tensors.js';

/** Builds the layer of a reference case. */
function build(module: string, kw: Record<string, unknown>): nn.Module {
  const I = kw.inputSize as number;
  const H = kw.hiddenSize as number;
  switch (module) {
    case 'RNN':
      return new nn.RNN(kw as unknown as RNNOptions);
    case 'LSTM':
      return new nn.LSTM(kw as unknown as RNNBaseOptions);
    case 'GRU':
      return new nn.GRU(kw as unknown as RNNBaseOptions);
    case 'RNNCell':
      return new nn.RNNCell(I, H, kw as RNNCellOptions);
    case 'LSTMCell':
      return new nn.LSTMCell(I, H, kw);
    case 'GRUCell':
      return new nn.GRUCell(I, H, kw);
    default:
      throw new Error(`unknown module ${module}`);
  }
}

/** Runs a layer the way the reference case called it and flattens its outputs. */
function call(m: nn.Module, ins: (Tensor | null)[]): Tensor[] {
  const [x, h, c] = ins;
  if (m instanceof nn.LSTM) {
    const [out, [hn, cn]] = m.forward(x!, h ? [h, c!] : null);
    return [out, hn, cn];
  }
  if (m instanceof nn.RNN || m instanceof nn.GRU) {
    const [out, hn] = m.forward(x!, h);
    return [out, hn];
  }
  if (m instanceof nn.LSTMCell) return m.forward(x!, h ? [h, c!] : null);
  if (m instanceof nn.RNNCell || m instanceof nn.GRUCell) return [m.forward(x!, h)];
  throw new Error('unknown layer');
}

describe('recurrent layers against PyTorch', () => {
  const cases = loadModuleCases('nn_rnn');
  it('has the expected cases', () => {
    expect(cases.length).toBe(20);
  });
  for (const c of cases) {
    it(c.name, () => {
      const m = build(c.module, { ...c.kwargs, dtype: c.dtype });
      checkModuleCase(c, m, (ins) => call(m, ins), { atol: 1e-9, rtol: 1e-7 });
    });
  }
});

describe('parameters', () => {
  it('uses PyTorch names, shapes and order, initialised in ±1/sqrt(hidden)', () => {
    const m = new nn.LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true });
    const names = m.namedParameters().map(([k, p]) => `${k}:${p.shape.join('x')}`);
    const layer = (l: number, sfx: string, inF: number): string[] => [
      `weight_ih_l${l}${sfx}:20x${inF}`,
      `weight_hh_l${l}${sfx}:20x5`,
      `bias_ih_l${l}${sfx}:20`,
      `bias_hh_l${l}${sfx}:20`,
    ];
    expect(names).toEqual([
      ...layer(0, '', 3),
      ...layer(0, '_reverse', 3),
      ...layer(1, '', 10),
      ...layer(1, '_reverse', 10),
    ]);
    const k = 1 / Math.sqrt(5);
    for (const p of m.parameters()) {
      expect(p.dtype).toBe('float32');
      expect(p.requiresGrad).toBe(true);
      for (const v of p.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(k);
    }
    expect([...new nn.GRU(3, 4, { bias: false }).stateDict().keys()]).toEqual([
      'weight_ih_l0',
      'weight_hh_l0',
    ]);
    expect((new nn.GRU(3, 4).getRegistered('weight_hh_l0') as Tensor).shape).toEqual([12, 4]);
    expect((new nn.RNN(3, 4).getRegistered('weight_ih_l0') as Tensor).shape).toEqual([4, 3]);
    expect([...new nn.LSTMCell(3, 4).stateDict().keys()]).toEqual([
      'weight_ih',
      'weight_hh',
      'bias_ih',
      'bias_hh',
    ]);
    expect(new nn.GRUCell(3, 4, { dtype: 'float64' }).weight_ih.dtype).toBe('float64');
  });

  it('prints its configuration', () => {
    expect(new nn.LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true }).toString()).toBe(
      'LSTM(inputSize=3, hiddenSize=4, numLayers=2, batchFirst=true)',
    );
    expect(new nn.RNN(3, 4, { nonlinearity: 'relu' }).toString()).toBe(
      'RNN(inputSize=3, hiddenSize=4, nonlinearity=relu)',
    );
    expect(new nn.GRUCell(3, 4, { bias: false }).toString()).toBe(
      'GRUCell(inputSize=3, hiddenSize=4, bias=false)',
    );
  });
});

describe('behaviour', () => {
  it('accepts a non-contiguous input and runs without recording under noGrad', () => {
    const m = new nn.GRU({ inputSize: 3, hiddenSize: 4, dtype: 'float64' });
    const xs = randn([2, 4, 3], { dtype: 'float64' }).transpose(0, 1); // [4, 2, 3], strided
    const [a] = m.forward(xs);
    const [b] = m.forward(xs.contiguous());
    expect(a.toArray()).toEqual(b.toArray());
    const [c, h] = noGrad(() => m.forward(xs));
    expect(c.requiresGrad).toBe(false);
    expect(h.requiresGrad).toBe(false);
    expect(a.requiresGrad).toBe(true);
  });

  it('applies dropout between layers only in training mode', () => {
    manualSeed(3);
    const m = new nn.LSTM({ inputSize: 2, hiddenSize: 6, numLayers: 2, dropout: 0.5 });
    const x = randn([4, 3, 2]);
    const [a] = m.forward(x);
    const [b] = m.forward(x);
    expect(a.toArray()).not.toEqual(b.toArray());
    m.eval();
    const [c] = m.forward(x);
    const [d] = m.forward(x);
    expect(c.toArray()).toEqual(d.toArray());
  });

  it('matches a step-by-step loop over its cell', () => {
    const lstm = new nn.LSTM({ inputSize: 3, hiddenSize: 4, dtype: 'float64' });
    const cell = new nn.LSTMCell(3, 4, { dtype: 'float64' });
    cell.loadStateDict(
      new Map([...lstm.stateDict()].map(([k, v]) => [k.replace('_l0', ''), v] as [string, Tensor])),
    );
    const x = randn([5, 2, 3], { dtype: 'float64' });
    const [out, [hn, cn]] = lstm.forward(x);
    let s: [Tensor, Tensor] = [zeros([2, 4], { dtype: 'float64' }), zeros([2, 4], { dtype: 'float64' })];
    for (let t = 0; t < 5; t++) {
      s = cell.forward(x.select(0, t), s);
      const row = out.select(0, t).dataSync();
      s[0].dataSync().forEach((v, i) => {
        expect(v).toBeCloseTo(row[i]!, 12);
      });
    }
    expect(s[0].sub(hn.squeeze(0)).abs().max().item()).toBeLessThan(1e-12);
    expect(s[1].sub(cn.squeeze(0)).abs().max().item()).toBeLessThan(1e-12);
  });

  it('backpropagates through time to the first input step', () => {
    const m = new nn.RNN({ inputSize: 2, hiddenSize: 3, dtype: 'float64' });
    const x = d64([6, 1, 2]);
    const [, h] = m.forward(x);
    h.sum().backward();
    const g = x.grad!;
    expect(g.select(0, 0).abs().sum().item()).toBeGreaterThan(0);
    expect(g.shape).toEqual([6, 1, 2]);
  });

  it('gives gradients to an initial state that is a view, and supports autograd.grad twice', () => {
    const m = new nn.GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, dtype: 'float64' });
    const x = d64([3, 2, 2]);
    const h0 = d64([2, 2, 3]);
    const [out] = m.forward(x, h0);
    out.sum().backward(undefined, { retainGraph: true });
    const first = h0.grad!.clone();
    out.sum().backward();
    expect(h0.grad!.sub(first.mul(2)).abs().max().item()).toBeLessThan(1e-12);
  });
});

/** Calls an RNN layer with its weights replaced by the given tensors (for gradcheck). */
function withWeights<M extends nn.Module>(m: M, names: string[], ws: Tensor[]): M {
  names.forEach((n, i) => {
    m.register(n, ws[i] as nn.Parameter);
  });
  return m;
}

describe('gradcheck (float64)', () => {
  const names = ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'];
  it('LSTM: input, h0, c0 and all weights', () => {
    const m = new nn.LSTM({ inputSize: 2, hiddenSize: 2, dtype: 'float64' });
    const ws = names.map((n) => (m.getRegistered(n) as Tensor).detach().requiresGrad_());
    const f = (x: Tensor, h: Tensor, c: Tensor, ...w: Tensor[]): Tensor => {
      const [out, [hn, cn]] = withWeights(m, names, w).forward(x, [h, c]);
      return out.sum().add(hn.mul(2).sum()).add(cn.sum());
    };
    expect(
      gradcheck(
        (...a) => f(a[0]!, a[1]!, a[2]!, ...a.slice(3)),
        [d64([3, 2, 2]), d64([1, 2, 2]), d64([1, 2, 2]), ...ws],
      ),
    ).toBe(true);
  });

  it('GRU (bidirectional): input, h0 and all weights', () => {
    const m = new nn.GRU({ inputSize: 2, hiddenSize: 2, bidirectional: true, dtype: 'float64' });
    const all = [...names, ...names.map((n) => `${n}_reverse`)];
    const ws = all.map((n) => (m.getRegistered(n) as Tensor).detach().requiresGrad_());
    const f = (x: Tensor, h: Tensor, ...w: Tensor[]): Tensor => {
      const [out, hn] = withWeights(m, all, w).forward(x, h);
      return out.mul(out).sum().add(hn.sum());
    };
    expect(gradcheck((...a) => f(a[0]!, a[1]!, ...a.slice(2)), [d64([3, 2, 2]), d64([2, 2, 2]), ...ws])).toBe(
      true,
    );
  });

  it('second order through LSTM and GRU steps (the gate slicing is differentiable twice)', () => {
    const lstm = new nn.LSTM({ inputSize: 2, hiddenSize: 2, numLayers: 2, dtype: 'float64' });
    expect(
      gradgradcheck(
        (x, h, c) => lstm.forward(x!, [h!, c!])[0],
        [d64([2, 1, 2]), d64([2, 1, 2]), d64([2, 1, 2])],
      ),
    ).toBe(true);
    const gru = new nn.GRU({ inputSize: 2, hiddenSize: 2, dtype: 'float64' });
    expect(gradgradcheck((x, h) => gru.forward(x!, h!)[1], [d64([3, 2]), d64([1, 2])])).toBe(true);
  });

  it('cells', () => {
    const c = new nn.GRUCell(2, 3, { dtype: 'float64' });
    expect(gradcheck((x, h) => c.forward(x!, h!), [d64([2, 2]), d64([2, 3])])).toBe(true);
    const l = new nn.LSTMCell(2, 3, { dtype: 'float64' });
    expect(gradcheck((x, h, s) => l.forward(x!, [h!, s!])[1], [d64([2]), d64([3]), d64([3])])).toBe(true);
  });
});

describe('learning', () => {
  it('an LSTM learns to output the sum of a short sequence', () => {
    manualSeed(0);
    const lstm = new nn.LSTM({ inputSize: 1, hiddenSize: 16 });
    const head = new nn.Linear(16, 1);
    const params = [...lstm.parameters(), ...head.parameters()];
    const lr = 0.2;
    const batch = (): [Tensor, Tensor] => {
      const x = randn([5, 32, 1]).mul(0.5);
      return [x, x.sum(0)];
    };
    const lossOf = (x: Tensor, y: Tensor): Tensor => {
      const [out] = lstm.forward(x);
      return head.forward(out.select(0, -1)).sub(y).square().mean();
    };
    const [vx, vy] = batch();
    const before = noGrad(() => lossOf(vx, vy).item());
    for (let it = 0; it < 200; it++) {
      const [x, y] = batch();
      for (const p of params) p.grad = null;
      lossOf(x, y).backward();
      noGrad(() => {
        for (const p of params) p.sub_(p.grad!, { alpha: lr });
      });
    }
    const after = noGrad(() => lossOf(vx, vy).item());
    expect(after).toBeLessThan(before / 10);
  });
});

describe('shape errors name the layer and the shapes', () => {
  const lstm = new nn.LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2 });
  it('input rank and feature size', () => {
    expect(() => lstm.forward(zeros([3]))).toThrow(ShapeError);
    expect(() => lstm.forward(zeros([3]))).toThrow(
      /LSTM: expected a 3-d \(batched\) or 2-d \(unbatched\) input, got shape \[3\]/,
    );
    expect(() => lstm.forward(zeros([5, 2, 7]))).toThrow(
      /\(LSTM\): LSTM: expected input with 3 features \(inputSize\) in its last dim, got shape \[5,2,7\]/,
    );
    expect(() => new nn.GRU(3, 4).forward(zeros([0, 2, 3]))).toThrow(/GRU: expected a sequence length > 0/);
  });
  it('initial states', () => {
    expect(() => lstm.forward(zeros([5, 2, 3]), [zeros([1, 2, 4]), zeros([2, 2, 4])])).toThrow(
      /LSTM: expected h0 of shape \[2,2,4\], got \[1,2,4\]/,
    );
    expect(() => lstm.forward(zeros([5, 2, 3]), [zeros([2, 2, 4]), zeros([2, 3, 4])])).toThrow(
      /LSTM: expected c0 of shape \[2,2,4\], got \[2,3,4\]/,
    );
    expect(() => new nn.GRU(3, 4).forward(zeros([5, 3]), zeros([1, 1, 4]))).toThrow(
      /GRU: expected h0 of shape \[1,4\] \(unbatched input\), got \[1,1,4\]/,
    );
    expect(() =>
      new nn.RNN(3, 4, { bidirectional: true }).forward(zeros([5, 2, 3]), zeros([1, 2, 4])),
    ).toThrow(/RNN: expected h0 of shape \[2,2,4\], got \[1,2,4\]/);
    expect(() => lstm.forward(zeros([5, 2, 3]), [zeros([2, 2, 4])])).toThrow(
      /LSTM: hx must be a pair \[h0, c0\]/,
    );
  });
  it('cells', () => {
    expect(() => new nn.LSTMCell(3, 4).forward(zeros([2, 5]))).toThrow(
      /LSTMCell: expected input of shape \[B, 3\] or \[3\], got \[2,5\]/,
    );
    expect(() => new nn.GRUCell(3, 4).forward(zeros([2, 3]), zeros([3, 4]))).toThrow(
      /GRUCell: expected hx of shape \[2,4\], got \[3,4\]/,
    );
    expect(() => new nn.LSTMCell(3, 4).forward(zeros([3]), [zeros([4]), zeros([2, 4])])).toThrow(
      /LSTMCell: expected c of shape \[4\], got \[2,4\]/,
    );
  });
  it('in a model, the message starts with the layer path', () => {
    const model = new nn.Sequential(new nn.Linear(2, 3), new nn.GRU(4, 4));
    expect(() => model.forward(zeros([5, 1, 2]))).toThrow(/^1 \(GRU\): GRU: expected input with 4 features/);
  });
  it('bad options', () => {
    expect(() => new nn.RNN(3, 4, { nonlinearity: 'sigmoid' as 'tanh' })).toThrow(ValueError);
    expect(() => new nn.RNN(3, 4, { nonlinearity: 'sigmoid' as 'tanh' })).toThrow(
      /RNN: unknown nonlinearity 'sigmoid'/,
    );
    expect(() => new nn.LSTM(3, 4, { dropout: 1.5 })).toThrow(
      /LSTM: dropout must be a probability in \[0, 1\], got 1.5/,
    );
    expect(() => new nn.GRU(3, 0)).toThrow(/GRU: hiddenSize must be an integer >= 1, got 0/);
    expect(() => new nn.LSTM(3, 4, { numLayers: 0 })).toThrow(
      /LSTM: numLayers must be an integer >= 1, got 0/,
    );
    expect(() => new nn.RNNCell(3, 4, { nonlinearity: 'gelu' as 'relu' })).toThrow(
      /RNNCell: unknown nonlinearity/,
    );
  });
});
