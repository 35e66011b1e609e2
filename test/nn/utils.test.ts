import { describe, expect, it } from 'vitest';
import { gradcheck, nn, randn, tensor, ValueError, zeros } from '../../src/index.js';
import { expectClose, fromRef, loadCases, type RefTensor } from '../helpers/reference.js';

const { utils } = nn;

interface ClipCase {
  name: string;
  op: string;
  normType?: number | 'inf';
  maxNorm?: number;
  clipValue?: number;
  grads: (RefTensor | null)[];
  total?: number;
  clipped: (RefTensor | null)[];
}

const cases = loadCases<ClipCase>('nn_utils').filter(
  (c) => c.op === 'clipGradNorm' || c.op === 'clipGradValue',
);

function paramsWith(grads: (RefTensor | null)[]): nn.Parameter[] {
  return grads.map((g) => {
    const p = new nn.Parameter(zeros(g ? g.shape : [2], { dtype: 'float64' }));
    p.grad = g ? fromRef(g) : null;
    return p;
  });
}

describe('clipGradNorm_ / clipGradValue_ against PyTorch', () => {
  for (const c of cases) {
    it(c.name, () => {
      const ps = paramsWith(c.grads);
      if (c.op === 'clipGradNorm') {
        const normType = c.normType === 'inf' ? Number.POSITIVE_INFINITY : c.normType!;
        const total = utils.clipGradNorm_(ps, c.maxNorm!, { normType });
        expect(total).toBeCloseTo(c.total!, 10);
      } else {
        utils.clipGradValue_(ps, c.clipValue!);
      }
      c.clipped.forEach((g, i) => {
        if (g) expectClose(ps[i]!.grad!, g, `${c.name} grad ${i}`, 1e-12, 1e-10);
        else expect(ps[i]!.grad).toBeNull();
      });
    });
  }

  it('works on a model after backward; accepts a single tensor; no grads gives 0', () => {
    const m = new nn.Linear(3, 2);
    m.forward(randn([4, 3]))
      .mul(100)
      .sum()
      .backward();
    const total = utils.clipGradNorm_(m.parameters(), 0.5);
    expect(total).toBeGreaterThan(0.5);
    let sq = 0;
    for (const p of m.parameters()) for (const v of p.grad!.dataSync()) sq += v * v;
    expect(Math.sqrt(sq)).toBeCloseTo(0.5, 4);
    expect(utils.clipGradNorm_(new nn.Linear(1, 1).parameters(), 1)).toBe(0);
    const p = new nn.Parameter(zeros([2]));
    p.grad = tensor([3, 4], { dtype: 'float32' });
    expect(utils.clipGradNorm_(p, 1)).toBeCloseTo(5, 6);
  });

  it('errors', () => {
    const p = new nn.Parameter(zeros([2]));
    p.grad = tensor([Number.NaN, 1], { dtype: 'float32' });
    expect(() => utils.clipGradNorm_([p], 1, { errorIfNonfinite: true })).toThrow(
      /total norm of order 2 .* is NaN/,
    );
    expect(() => utils.clipGradNorm_([p], 1, { normType: 0 })).toThrow(ValueError);
    expect(() => utils.clipGradValue_([p], -1)).toThrow(/clipValue must be non-negative/);
  });
});

describe('penalties and parameter vectors', () => {
  it('l1Penalty / l2Penalty values and gradients', () => {
    const a = tensor([1, -2, 3], { dtype: 'float64', requiresGrad: true });
    const b = tensor([[-0.5, 0]], { dtype: 'float64', requiresGrad: true });
    const l1 = utils.l1Penalty([a, b]);
    expect(l1.item()).toBeCloseTo(6.5, 12);
    const l2 = utils.l2Penalty([a, b]);
    expect(l2.item()).toBeCloseTo(14.25, 12);
    l2.backward();
    expect(a.grad!.toArray()).toEqual([2, -4, 6]);
    expect(b.grad!.toArray()).toEqual([[-1, 0]]);
    expect(utils.l2Penalty([]).item()).toBe(0);
    const x = randn([2, 3], { dtype: 'float64', requiresGrad: true });
    const y = randn([4], { dtype: 'float64', requiresGrad: true });
    expect(gradcheck((p, q) => utils.l2Penalty([p!, q!]), [x, y])).toBe(true);
    expect(gradcheck((p) => utils.l1Penalty(p!), [x])).toBe(true);
  });

  it('a penalty added to the loss reaches the model parameters', () => {
    const m = new nn.Linear(2, 2);
    utils.l2Penalty(m.parameters()).mul(0.5).backward();
    expect(m.weight.grad!.toArray()).toEqual(m.weight.toArray());
  });

  it('parametersToVector / vectorToParameters round trip', () => {
    const m = new nn.Linear(3, 2);
    const v = utils.parametersToVector(m.parameters());
    expect(v.shape).toEqual([8]);
    const v2 = v.mul(2).detach();
    utils.vectorToParameters(v2, m.parameters());
    expect(Array.from(utils.parametersToVector(m.parameters()).dataSync())).toEqual(
      Array.from(v2.dataSync()),
    );
    expect(() => utils.vectorToParameters(zeros([7]), m.parameters())).toThrow(
      /expected a 1-d vector of 8 elements .* got shape \[7\]/,
    );
  });
});
