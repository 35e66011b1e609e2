import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
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
import { expectClose, fromRef, type RefTensor } from '../helpers/reference.js';

interface Spec {
  ctor: string;
  args: unknown[];
  kwargs: Record<string, unknown> | null;
}
interface Step {
  mode: 'train' | 'eval';
  inputs: RefTensor[];
  out: RefTensor;
  cot?: RefTensor;
  inputGrads?: (RefTensor | null)[];
  paramGrads?: Record<string, RefTensor>;
}
interface LayerCase extends Spec {
  name: string;
  dtype: 'float32' | 'float64';
  state: Record<string, RefTensor>;
  tensorKwargs?: Record<string, string>;
  steps: Step[];
  stateAfter: Record<string, RefTensor>;
  tol?: { atol: number; rtol: number };
}

const here = dirname(fileURLToPath(import.meta.url));
const cases = (
  JSON.parse(readFileSync(join(here, '..', 'reference', 'nn_modules.json'), 'utf8')) as { cases: LayerCase[] }
).cases;

type Ctor = new (...args: unknown[]) => nn.Module;
const ctors = nn as unknown as Record<string, Ctor>;

function build(s: Spec, extra: Record<string, unknown> = {}): nn.Module {
  const C = ctors[s.ctor];
  if (!C) throw new Error(`no layer nn.${s.ctor}`);
  if (s.ctor === 'Sequential') return new C(...(s.args as Spec[]).map((a) => build(a)));
  const kw = s.kwargs || Object.keys(extra).length ? { ...(s.kwargs ?? {}), ...extra } : null;
  return kw ? new C(...s.args, kw) : new C(...s.args);
}

function call(m: nn.Module, inputs: Tensor[]): Tensor {
  return (m.forward as (...a: Tensor[]) => Tensor)(...inputs);
}

describe('layers against PyTorch (state dict loaded with loadStateDict)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const state = new Map(Object.entries(c.state).map(([k, v]) => [k, fromRef(v)]));
      const extra: Record<string, unknown> = {};
      for (const [opt, key] of Object.entries(c.tensorKwargs ?? {})) extra[opt] = state.get(key);
      const m = build(c, extra);
      const res = m.loadStateDict(state);
      expect(res).toEqual({ missingKeys: [], unexpectedKeys: [], shapeMismatches: [] });
      expect([...m.stateDict().keys()].sort()).toEqual(Object.keys(c.state).sort());
      const atol = c.tol?.atol ?? 1e-9;
      const rtol = c.tol?.rtol ?? 1e-7;
      const params = new Map(m.namedParameters());
      c.steps.forEach((s, si) => {
        m.train(s.mode === 'train');
        m.zeroGrad();
        const inputs = s.inputs.map((r) => fromRef(r, r.dtype === 'float32' || r.dtype === 'float64'));
        const out = call(m, inputs);
        expectClose(out, s.out, `step ${si} out`, atol, rtol);
        if (!s.cot) return;
        out.backward(fromRef(s.cot));
        s.inputGrads?.forEach((g, i) => {
          if (g) expectClose(inputs[i]!.grad!, g, `step ${si} input grad ${i}`, atol * 10, rtol * 10);
        });
        for (const [k, g] of Object.entries(s.paramGrads ?? {})) {
          const p = params.get(k);
          expect(p, `parameter ${k}`).toBeDefined();
          expect(p!.grad, `grad of ${k}`).not.toBeNull();
          expectClose(p!.grad!, g, `step ${si} grad of ${k}`, atol * 10, rtol * 10);
        }
      });
      const after = m.stateDict();
      for (const [k, v] of Object.entries(c.stateAfter)) {
        expectClose(after.get(k)!, v, `state after: ${k}`, atol, rtol);
        expect(after.get(k)!.dtype, `${k} dtype`).toBe(v.dtype);
      }
    });
  }
});

describe('layer defaults and initialisation', () => {
  it('Conv2d: PyTorch init bounds and parameter shapes', () => {
    manualSeed(1);
    const c = new nn.Conv2d(8, 16, 3, { groups: 2 });
    expect(c.weight.shape).toEqual([16, 4, 3, 3]);
    expect(c.bias!.shape).toEqual([16]);
    const fanIn = 4 * 9;
    const wb = Math.sqrt(6 / ((1 + 5) * fanIn)); // kaiming uniform with a = sqrt(5)
    const w = c.weight.dataSync();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(wb);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(wb * 0.9);
    const b = c.bias!.dataSync();
    expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
    expect([...c.stateDict().keys()]).toEqual(['weight', 'bias']);
    expect(new nn.Conv2d(2, 2, 1, { bias: false }).bias).toBeNull();
  });

  it('Linear: weight and bias uniform in ±1/sqrt(inFeatures) (kaiming uniform, a = sqrt(5))', () => {
    manualSeed(6);
    const l = new nn.Linear(50, 40);
    expect(l.weight.shape).toEqual([40, 50]);
    const bound = 1 / Math.sqrt(50);
    const w = Array.from(l.weight.dataSync(), Math.abs);
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.max(...w)).toBeGreaterThan(bound * 0.95);
    expect(Math.max(...Array.from(l.bias!.dataSync(), Math.abs))).toBeLessThanOrEqual(bound);
    expect(new nn.Linear(3, 2, { bias: false }).bias).toBeNull();
  });

  it('Linear and LSTM accept zero input features (PyTorch: empty weight, bias bound 0 for Linear)', () => {
    manualSeed(7);
    const l = new nn.Linear(0, 4);
    expect(l.weight.shape).toEqual([4, 0]);
    expect(Array.from(l.bias!.dataSync())).toEqual([0, 0, 0, 0]);
    expect((l.forward(zeros([2, 0])) as Tensor).shape).toEqual([2, 4]);
    const lstm = new nn.LSTM(0, 3);
    expect(lstm.parameters().map((p) => p.shape)).toEqual([[12, 0], [12, 3], [12], [12]]);
    const [out] = lstm.forward(zeros([5, 2, 0]));
    expect(out.shape).toEqual([5, 2, 3]);
    expect(Array.from(out.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it('ConvTranspose2d: weight [in, out/groups, k], fan-in from dim 1', () => {
    const c = new nn.ConvTranspose2d(4, 6, [2, 3], { groups: 2 });
    expect(c.weight.shape).toEqual([4, 3, 2, 3]);
    const bound = 1 / Math.sqrt(3 * 6);
    expect(Math.max(...c.bias!.dataSync().map(Math.abs))).toBeLessThanOrEqual(bound);
  });

  it('ConvTranspose2d: outputSize picks the output padding', () => {
    const c = new nn.ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, dtype: 'float64' });
    const x = randn([1, 2, 4, 5], { dtype: 'float64' });
    expect(c.forward(x).shape).toEqual([1, 3, 7, 9]);
    expect(c.forward(x, [8, 10]).shape).toEqual([1, 3, 8, 10]);
    expect(c.forward(x, [1, 3, 8, 9]).shape).toEqual([1, 3, 8, 9]);
    expect(() => c.forward(x, [9, 9])).toThrow(
      /requested output size \[9,9\] is not reachable.*must be in 7\.\.8/,
    );
  });

  it('Linear, Bilinear, BatchNorm, LayerNorm, GroupNorm, Embedding: default parameter values', () => {
    manualSeed(2);
    const bn = new nn.BatchNorm2d(3);
    expect(bn.weight!.toArray()).toEqual([1, 1, 1]);
    expect(bn.bias!.toArray()).toEqual([0, 0, 0]);
    expect(bn.runningMean!.toArray()).toEqual([0, 0, 0]);
    expect(bn.runningVar!.toArray()).toEqual([1, 1, 1]);
    expect(bn.numBatchesTracked!.dtype).toBe('int32');
    expect([...bn.stateDict().keys()]).toEqual([
      'weight',
      'bias',
      'running_mean',
      'running_var',
      'num_batches_tracked',
    ]);
    expect([
      ...new nn.BatchNorm1d(2, { affine: false, trackRunningStats: false }).stateDict().keys(),
    ]).toEqual([]);
    expect(new nn.LayerNorm([2, 3]).weight!.shape).toEqual([2, 3]);
    expect(new nn.LayerNorm(4, { elementwiseAffine: false }).parameters()).toEqual([]);
    expect(new nn.GroupNorm(2, 4).bias!.toArray()).toEqual([0, 0, 0, 0]);
    const bl = new nn.Bilinear(4, 3, 2);
    expect(bl.weight.shape).toEqual([2, 4, 3]);
    expect(Math.max(...bl.weight.dataSync().map(Math.abs))).toBeLessThanOrEqual(0.5);
    const e = new nn.Embedding(50, 20, { paddingIdx: -1 });
    expect(e.paddingIdx).toBe(49);
    const w = e.weight.dataSync();
    expect(Array.from(w.slice(49 * 20))).toEqual(new Array(20).fill(0));
    // N(0, 1) elsewhere
    const rest = Array.from(w.slice(0, 49 * 20));
    const mean = rest.reduce((a, v) => a + v, 0) / rest.length;
    const sd = Math.sqrt(rest.reduce((a, v) => a + (v - mean) ** 2, 0) / rest.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(sd - 1)).toBeLessThan(0.1);
  });

  it('Embedding.fromPretrained copies the table and freezes it by default', () => {
    const t = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float32' },
    );
    const e = nn.Embedding.fromPretrained(t);
    expect(e.forward(tensor([1, 1, 0])).toArray()).toEqual([
      [3, 4],
      [3, 4],
      [1, 2],
    ]);
    expect(e.weight.requiresGrad).toBe(false);
    expect(nn.Embedding.fromPretrained(t, { freeze: false }).weight.requiresGrad).toBe(true);
  });

  it('Dropout: zeroes about p of the elements and scales the rest in training; identity in eval', () => {
    manualSeed(3);
    const d = new nn.Dropout(0.3);
    const y = d.forward(ones([100, 100])).dataSync();
    const zerosN = y.filter((v) => v === 0).length;
    expect(Math.abs(zerosN / 1e4 - 0.3)).toBeLessThan(0.02);
    expect(y.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    d.eval();
    const x = randn([3, 4]);
    expect(d.forward(x)).toBe(x);
    expect(() => new nn.Dropout(1.5)).toThrow(/Dropout: probability p must be between 0 and 1, got 1.5/);
  });

  it('Dropout2d: zeroes whole channels', () => {
    manualSeed(4);
    const d = new nn.Dropout2d(0.5);
    const y = d
      .forward(ones([8, 16, 3, 3]))
      .reshape([8 * 16, 9])
      .toArray() as number[][];
    let dropped = 0;
    for (const ch of y) {
      expect(ch.every((v) => v === ch[0])).toBe(true);
      expect([0, 2]).toContain(ch[0]);
      if (ch[0] === 0) dropped++;
    }
    expect(dropped).toBeGreaterThan(30);
    expect(dropped).toBeLessThan(98);
    expect(d.forward(ones([2, 3, 3])).shape).toEqual([2, 3, 3]);
    d.eval();
    const x = randn([1, 2, 2, 2]);
    expect(d.forward(x)).toBe(x);
  });

  it('BatchNorm: num_batches_tracked counts training batches only', () => {
    const bn = new nn.BatchNorm1d(2);
    bn.forward(randn([4, 2]));
    bn.forward(randn([4, 2]));
    bn.eval();
    bn.forward(randn([4, 2]));
    expect(bn.numBatchesTracked!.item()).toBe(2);
    bn.resetRunningStats();
    expect(bn.numBatchesTracked!.item()).toBe(0);
    expect(bn.runningVar!.toArray()).toEqual([1, 1]);
  });

  it('Softmax, Flatten, Unflatten, Identity', () => {
    const x = randn([2, 3, 4]);
    expect(new nn.Flatten().forward(x).shape).toEqual([2, 12]);
    expect(new nn.Flatten(0).forward(x).shape).toEqual([24]);
    expect(new nn.Unflatten(-1, [2, 2]).forward(x).shape).toEqual([2, 3, 2, 2]);
    expect(new nn.Identity().forward(x)).toBe(x);
    const s = new nn.Softmax(-1).forward(x).sum(-1).dataSync();
    for (const v of s) expect(v).toBeCloseTo(1, 6);
  });

  it('extraRepr / toString like PyTorch', () => {
    expect(new nn.Conv2d(3, 8, 3, { stride: 2, padding: 1 }).toString()).toBe(
      'Conv2d(3, 8, kernelSize=[3,3], stride=[2,2], padding=[1,1])',
    );
    expect(new nn.BatchNorm2d(4).toString()).toBe(
      'BatchNorm2d(4, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)',
    );
    expect(new nn.MaxPool2d(2).toString()).toBe('MaxPool2d(kernelSize=2, stride=2)');
    expect(new nn.LeakyReLU({ negativeSlope: 0.2 }).toString()).toBe('LeakyReLU(negativeSlope=0.2)');
    expect(new nn.CrossEntropyLoss().toString()).toBe('CrossEntropyLoss()');
  });
});

describe('layer input checks', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'Conv2d rank',
      () => new nn.Conv2d(3, 4, 3).forward(zeros([3, 5])),
      /^\(Conv2d\): conv2d: expected 3 or 4-d input \[N, C, H, W\] \(or \[C, H, W\]\), got shape \[3,5\]$/,
    ],
    [
      'Conv2d channels',
      () => new nn.Conv2d(3, 4, 3).forward(zeros([1, 2, 5, 5])),
      /\(Conv2d\): conv2d: input has 2 channels but weight expects 3/,
    ],
    [
      'Conv1d rank',
      () => new nn.Conv1d(3, 4, 3).forward(zeros([1, 3, 5, 5])),
      /conv1d: expected 2 or 3-d input \[N, C, L\] \(or \[C, L\]\), got shape \[1,3,5,5\]/,
    ],
    [
      'BatchNorm2d rank',
      () => new nn.BatchNorm2d(3).forward(zeros([2, 3])),
      /\(BatchNorm2d\): batchNorm2d: expected 4-d input \[N, C, H, W\], got shape \[2,3\]/,
    ],
    [
      'BatchNorm1d channels',
      () => new nn.BatchNorm1d(3).forward(zeros([2, 4])),
      /batchNorm1d: expected 3 channels \(dim 1\) in input \[N, C\] or \[N, C, L\], got shape \[2,4\]/,
    ],
    [
      'LayerNorm shape',
      () => new nn.LayerNorm(4).forward(zeros([2, 3])),
      /layerNorm: expected input \[\*, 4\], got shape \[2,3\]/,
    ],
    [
      'GroupNorm channels',
      () => new nn.GroupNorm(2, 4).forward(zeros([2, 6, 3])),
      /groupNorm: expected 4 channels \(dim 1\) in input \[N, C, \*\], got shape \[2,6,3\]/,
    ],
    [
      'MaxPool2d rank',
      () => new nn.MaxPool2d(2).forward(zeros([4, 4])),
      /maxPool2d: expected 3 or 4-d input/,
    ],
    [
      'AvgPool1d rank',
      () => new nn.AvgPool1d(2).forward(zeros([4])),
      /avgPool1d: expected 2 or 3-d input \[N, C, L\]/,
    ],
    [
      'Bilinear features',
      () => new nn.Bilinear(2, 3, 4).forward(zeros([5, 2]), zeros([5, 2])),
      /bilinear: expected inputs \[\*, 2\] and \[\*, 3\], got shapes \[5,2\] and \[5,2\]/,
    ],
    [
      'Bilinear batch',
      () => new nn.Bilinear(2, 3, 4).forward(zeros([5, 2]), zeros([4, 3])),
      /bilinear: inputs must have the same leading dims/,
    ],
    [
      'Unflatten sizes',
      () => new nn.Unflatten(1, [4, -1]).forward(zeros([2, 6])),
      /unflatten: sizes \[4,-1\] do not match size 6 of dim 1 \(input shape \[2,6\]\)/,
    ],
    ['Dropout2d rank', () => new nn.Dropout2d().forward(zeros([2, 3])), /dropout2d: expected 3 or 4-d input/],
    [
      'Embedding dtype',
      () => new nn.Embedding(4, 2).forward(zeros([3])),
      /embedding: indices must be an int32 tensor/,
    ],
    [
      'Linear features',
      () => new nn.Linear(3, 2).forward(zeros([4, 5])),
      /\(Linear\): linear: input has 5 features/,
    ],
  ];
  for (const [name, f, re] of cases) {
    it(name, () => {
      expect(f).toThrow(re);
    });
  }

  it('constructor arguments are validated', () => {
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(ValueError);
    expect(() => new nn.Conv2d(3, 3, 3, { padding: 'same', stride: 2 })).toThrow(
      /padding='same' is not supported/,
    );
    expect(() => new nn.Conv2d(3, 3, [3, 3, 3])).toThrow(/kernelSize must be one or 2 positive integers/);
    expect(() => new nn.Conv2d(3, 3, 3, { paddingMode: 'wrap' as 'zeros' })).toThrow(/paddingMode must be/);
    expect(() => new nn.GroupNorm(3, 4)).toThrow(/numGroups 3 must divide numChannels 4/);
    expect(() => new nn.Embedding(4, 2, { paddingIdx: 4 })).toThrow(/paddingIdx 4 is out of range/);
    expect(() => new nn.Unflatten(0, [-1, -1])).toThrow(/at most one -1/);
    expect(() => new nn.BatchNorm2d(0)).toThrow(/numFeatures must be a positive integer/);
  });

  it('errors are ShapeErrors', () => {
    expect(() => new nn.Conv2d(3, 4, 3).forward(zeros([3]))).toThrow(ShapeError);
  });
});

describe('layer gradchecks (float64)', () => {
  const g = (name: string, make: () => nn.Module, shapes: number[][]) => {
    it(name, () => {
      manualSeed(5);
      const m = make().double();
      const inputs = shapes.map((s) => randn(s, { dtype: 'float64', requiresGrad: true }));
      const params = m.parameters();
      // gradcheck passes perturbed copies of the parameters: load them into the module for the call
      const f = (...ts: Tensor[]): Tensor => {
        const given = ts.slice(inputs.length);
        const saved = params.map((p) => p.detach().clone());
        noGrad(() => {
          given.forEach((t, i) => {
            if (t !== params[i]) params[i]!.copy_(t);
          });
        });
        try {
          return call(m, ts.slice(0, inputs.length));
        } finally {
          noGrad(() => {
            saved.forEach((t, i) => {
              if (given[i] !== params[i]) params[i]!.copy_(t);
            });
          });
        }
      };
      expect(gradcheck(f, [...inputs, ...params])).toBe(true);
    });
  };
  g('Bilinear', () => new nn.Bilinear(3, 2, 2), [
    [2, 3],
    [2, 2],
  ]);
  g(
    'Conv2d reflect padding groups',
    () => new nn.Conv2d(2, 4, 3, { padding: 1, paddingMode: 'reflect', groups: 2 }),
    [[1, 2, 4, 3]],
  );
  g('ConvTranspose2d', () => new nn.ConvTranspose2d(2, 2, 2, { stride: 2 }), [[1, 2, 2, 3]]);
  g('BatchNorm2d training', () => new nn.BatchNorm2d(2), [[3, 2, 2, 2]]);
  g('GroupNorm', () => new nn.GroupNorm(2, 4), [[2, 4, 3]]);
});
