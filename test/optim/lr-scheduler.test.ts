import { describe, expect, it } from 'vitest';
import { optim, type Tensor, tensor, ValueError, zeros } from '../../src/index.js';
import { loadCases } from '../helpers/reference.js';

const { lrScheduler } = optim;
type Options = Record<string, unknown>;
type Sched = { step(metric?: number): void; getLastLr(): number[] };

interface SchedCase {
  name: string;
  op: string;
  optimizer: 'SGD' | 'Adam';
  options: Options;
  schedulers: { name: string; options: Options }[];
  metrics: number[] | null;
  lrs: number[][];
  momenta: number[][];
}

const MAKE: Record<string, (o: optim.Optimizer, opts: never) => Sched> = {
  StepLR: (o, x) => new lrScheduler.StepLR(o, x),
  MultiStepLR: (o, x) => new lrScheduler.MultiStepLR(o, x),
  ExponentialLR: (o, x) => new lrScheduler.ExponentialLR(o, x),
  CosineAnnealingLR: (o, x) => new lrScheduler.CosineAnnealingLR(o, x),
  LinearLR: (o, x) => new lrScheduler.LinearLR(o, x),
  OneCycleLR: (o, x) => new lrScheduler.OneCycleLR(o, x),
  ReduceLROnPlateau: (o, x) => new lrScheduler.ReduceLROnPlateau(o, x) as unknown as Sched,
};

function makeOptimizer(kind: 'SGD' | 'Adam', options: Options): optim.Optimizer {
  const lr = options.lr as number;
  const groups = [
    { params: [zeros([2]).requiresGrad_()] },
    { params: [zeros([3]).requiresGrad_()], lr: lr / 10 },
  ];
  return kind === 'SGD'
    ? new optim.SGD(groups, options as { lr: number })
    : new optim.Adam(groups, options as optim.AdamInput);
}

const momenta = (o: optim.Optimizer): number[] =>
  o.paramGroups.map((g) => (o instanceof optim.SGD ? (g.momentum as number) : (g.betas as number[])[0]!));
const lrs = (o: optim.Optimizer): number[] => o.paramGroups.map((g) => g.lr);

function expectSeq(actual: number[], expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (Math.abs(a - e) > 1e-12 + 1e-10 * Math.abs(e)) expect.fail(`${what}[${i}]: got ${a}, expected ${e}`);
  });
}

const cases = loadCases<SchedCase>('optim').filter((c) => c.op === 'scheduler');

describe('lr schedulers: PyTorch 1.13 reference sequences', () => {
  it('covers every scheduler', () => {
    expect(new Set(cases.flatMap((c) => c.schedulers.map((s) => s.name)))).toEqual(
      new Set(Object.keys(MAKE)),
    );
  });
  for (const c of cases) {
    it(c.name, () => {
      const opt = makeOptimizer(c.optimizer, c.options);
      const scheds = c.schedulers.map((s) => MAKE[s.name]!(opt, s.options as never));
      expectSeq(lrs(opt), c.lrs[0]!, `${c.name} lr after construction`);
      expectSeq(momenta(opt), c.momenta[0]!, `${c.name} momentum after construction`);
      for (let e = 0; e < c.lrs.length - 1; e++) {
        for (const s of scheds) s.step(c.metrics ? c.metrics[e] : undefined);
        expectSeq(lrs(opt), c.lrs[e + 1]!, `${c.name} lr after step ${e + 1}`);
        expectSeq(momenta(opt), c.momenta[e + 1]!, `${c.name} momentum after step ${e + 1}`);
        expectSeq(
          scheds[scheds.length - 1]!.getLastLr(),
          c.lrs[e + 1]!,
          `${c.name} getLastLr after step ${e + 1}`,
        );
      }
    });
  }
});

describe('lr schedulers: state dict round trip', () => {
  const configs: [string, Options, number[] | null][] = [
    ['StepLR', { stepSize: 3, gamma: 0.5 }, null],
    ['MultiStepLR', { milestones: [2, 5, 5, 9] }, null],
    ['ExponentialLR', { gamma: 0.8 }, null],
    ['CosineAnnealingLR', { tMax: 6, etaMin: 0.01 }, null],
    ['LinearLR', { startFactor: 0.25, totalIters: 6 }, null],
    ['OneCycleLR', { maxLr: 1, totalSteps: 20, threePhase: true }, null],
    [
      'ReduceLROnPlateau',
      { patience: 1, cooldown: 1 },
      [5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    ],
  ];
  for (const [name, options, metrics] of configs) {
    it(`${name}: save after 8 steps, load into fresh objects, continue == uninterrupted`, () => {
      const run = (o: optim.Optimizer, s: Sched, from: number, to: number, out: number[][]) => {
        for (let e = from; e < to; e++) {
          o.step();
          s.step(metrics ? metrics[e] : undefined);
          out.push(s.getLastLr().concat(momenta(o)));
        }
      };
      const o1 = makeOptimizer('SGD', { lr: 0.1, momentum: 0.9 });
      const s1 = MAKE[name]!(o1, options as never);
      const full: number[][] = [];
      run(o1, s1, 0, 16, full);

      const o2 = makeOptimizer('SGD', { lr: 0.1, momentum: 0.9 });
      const s2 = MAKE[name]!(o2, options as never);
      const part: number[][] = [];
      run(o2, s2, 0, 8, part);
      const sState = JSON.parse(JSON.stringify((s2 as optim.lrScheduler.StepLR).stateDict()));
      const oState = o2.stateDict();
      const o3 = makeOptimizer('SGD', { lr: 0.5, momentum: 0.5 });
      const s3 = MAKE[name]!(o3, options as never) as optim.lrScheduler.StepLR;
      o3.loadStateDict(oState);
      s3.loadStateDict(sState);
      expect(s3.getLastLr()).toEqual(s2.getLastLr());
      run(o3, s3, 8, 16, part);
      expect(part).toEqual(full);
    });
  }

  it('state dicts are plain JSON with the options', () => {
    const o = makeOptimizer('SGD', { lr: 0.1 });
    const s = new lrScheduler.StepLR(o, { stepSize: 2 });
    s.step();
    expect(s.stateDict()).toEqual({
      lastEpoch: 1,
      baseLrs: [0.1, 0.01],
      stepCount: 2,
      lastLr: [0.1, 0.01],
      stepSize: 2,
      gamma: 0.1,
    });
    expect(o.paramGroups[0]!.initialLr).toBe(0.1);
    const p = new lrScheduler.ReduceLROnPlateau(o);
    expect(p.stateDict().best).toBeNull();
    p.step(tensor(2) as Tensor);
    expect(p.stateDict().best).toBe(2);
    expect(() => s.loadStateDict({ bogus: 1 })).toThrow(/StepLR.loadStateDict: unknown key 'bogus'/);
  });
});

describe('lr schedulers: behaviour', () => {
  it('OneCycleLR throws when stepped past totalSteps', () => {
    const o = makeOptimizer('SGD', { lr: 0.1, momentum: 0.9 });
    const s = new lrScheduler.OneCycleLR(o, { maxLr: 0.1, totalSteps: 3 });
    s.step();
    s.step();
    s.step();
    expect(() => s.step()).toThrow(
      /OneCycleLR: tried to step 5 times; the specified number of total steps is 3/,
    );
  });

  it('ReduceLROnPlateau accepts a one-element tensor metric and reports the lrs', () => {
    const o = makeOptimizer('SGD', { lr: 1 });
    const s = new lrScheduler.ReduceLROnPlateau(o, { patience: 0, factor: 0.5 });
    expect(s.getLastLr()).toEqual([1, 0.1]);
    s.step(tensor([3]) as Tensor);
    s.step(tensor(3) as Tensor);
    expect(s.getLastLr()).toEqual([0.5, 0.05]);
    expect(() => s.step(tensor([1, 2]) as Tensor)).toThrow(/item: only one-element tensors/);
    expect(() => s.step()).toThrow(/ReduceLROnPlateau: step expects the monitored metric .*got undefined/);
    expect(s.needsMetric).toBe(true);
  });

  it('resuming with lastEpoch needs initialLr in the groups', () => {
    const o = makeOptimizer('SGD', { lr: 0.1 });
    expect(() => new lrScheduler.StepLR(o, { stepSize: 2, lastEpoch: 4 })).toThrow(
      /StepLR: initialLr is not set in param group 0; it is needed when resuming with lastEpoch 4/,
    );
    new lrScheduler.StepLR(o, { stepSize: 2 });
    const s = new lrScheduler.StepLR(o, { stepSize: 2, lastEpoch: 4 });
    expect(s.lastEpoch).toBe(5);
  });

  it('writes the rate into the groups, where the optimizer reads it', () => {
    const p = tensor([1], { dtype: 'float64', requiresGrad: true });
    const o = new optim.SGD([p], { lr: 1 });
    const s = new lrScheduler.ExponentialLR(o, { gamma: 0.5 });
    p.grad = tensor([1], { dtype: 'float64' });
    o.step(); // lr 1
    s.step();
    o.step(); // lr 0.5
    expect(p.item()).toBe(-0.5);
  });

  const o = () => makeOptimizer('SGD', { lr: 0.1, momentum: 0.9 });
  const bad: [string, () => unknown, RegExp][] = [
    [
      'not an optimizer',
      () => new lrScheduler.StepLR({} as never, { stepSize: 1 }),
      /StepLR: expected an Optimizer/,
    ],
    [
      'StepLR stepSize',
      () => new lrScheduler.StepLR(o(), { stepSize: 0 }),
      /StepLR: invalid stepSize 0 \(expected a positive integer\)/,
    ],
    [
      'StepLR gamma',
      () => new lrScheduler.StepLR(o(), { stepSize: 2, gamma: -1 }),
      /StepLR: invalid gamma -1/,
    ],
    [
      'StepLR lastEpoch',
      () => new lrScheduler.StepLR(o(), { stepSize: 2, lastEpoch: -3 }),
      /StepLR: invalid lastEpoch -3/,
    ],
    [
      'MultiStepLR milestone',
      () => new lrScheduler.MultiStepLR(o(), { milestones: [1.5] }),
      /MultiStepLR: invalid milestone 1.5/,
    ],
    [
      'MultiStepLR milestones',
      () => new lrScheduler.MultiStepLR(o(), { milestones: 3 as never }),
      /MultiStepLR: invalid milestones 3/,
    ],
    [
      'ExponentialLR gamma',
      () => new lrScheduler.ExponentialLR(o(), { gamma: Number.NaN }),
      /ExponentialLR: invalid gamma NaN/,
    ],
    [
      'CosineAnnealingLR tMax',
      () => new lrScheduler.CosineAnnealingLR(o(), { tMax: 0 }),
      /CosineAnnealingLR: invalid tMax 0/,
    ],
    [
      'CosineAnnealingLR etaMin',
      () => new lrScheduler.CosineAnnealingLR(o(), { tMax: 5, etaMin: -1 }),
      /CosineAnnealingLR: invalid etaMin -1/,
    ],
    [
      'LinearLR startFactor',
      () => new lrScheduler.LinearLR(o(), { startFactor: 0 }),
      /LinearLR: invalid startFactor 0 \(expected a number in \(0, 1\]\)/,
    ],
    [
      'LinearLR endFactor',
      () => new lrScheduler.LinearLR(o(), { endFactor: 2 }),
      /LinearLR: invalid endFactor 2/,
    ],
    [
      'LinearLR totalIters',
      () => new lrScheduler.LinearLR(o(), { totalIters: 0 }),
      /LinearLR: invalid totalIters 0/,
    ],
    [
      'OneCycleLR no steps',
      () => new lrScheduler.OneCycleLR(o(), { maxLr: 1 }),
      /OneCycleLR: you must give either totalSteps or \(epochs and stepsPerEpoch\)/,
    ],
    [
      'OneCycleLR totalSteps',
      () => new lrScheduler.OneCycleLR(o(), { maxLr: 1, totalSteps: -5 }),
      /OneCycleLR: invalid totalSteps -5/,
    ],
    [
      'OneCycleLR epochs',
      () => new lrScheduler.OneCycleLR(o(), { maxLr: 1, epochs: 2 }),
      /OneCycleLR: invalid stepsPerEpoch undefined/,
    ],
    [
      'OneCycleLR pctStart',
      () => new lrScheduler.OneCycleLR(o(), { maxLr: 1, totalSteps: 5, pctStart: 1.5 }),
      /OneCycleLR: invalid pctStart 1.5/,
    ],
    [
      'OneCycleLR annealStrategy',
      () => new lrScheduler.OneCycleLR(o(), { maxLr: 1, totalSteps: 5, annealStrategy: 'exp' as never }),
      /OneCycleLR: invalid annealStrategy "exp" \(expected 'cos' or 'linear'\)/,
    ],
    [
      'OneCycleLR maxLr list',
      () => new lrScheduler.OneCycleLR(o(), { maxLr: [1], totalSteps: 5 }),
      /OneCycleLR: expected 2 values for maxLr \(one per parameter group\), got 1/,
    ],
    [
      'OneCycleLR without momentum',
      () =>
        new lrScheduler.OneCycleLR(new optim.Adagrad([zeros([1]).requiresGrad_()]), {
          maxLr: 1,
          totalSteps: 5,
        }),
      /OneCycleLR: the optimizer \(Adagrad\) has no momentum or betas option; pass cycleMomentum: false/,
    ],
    [
      'Plateau factor',
      () => new lrScheduler.ReduceLROnPlateau(o(), { factor: 1 }),
      /ReduceLROnPlateau: invalid factor 1 \(expected a number in \[0, 1\)\)/,
    ],
    [
      'Plateau mode',
      () => new lrScheduler.ReduceLROnPlateau(o(), { mode: 'up' as never }),
      /ReduceLROnPlateau: invalid mode "up"/,
    ],
    [
      'Plateau thresholdMode',
      () => new lrScheduler.ReduceLROnPlateau(o(), { thresholdMode: 'x' as never }),
      /ReduceLROnPlateau: invalid thresholdMode "x"/,
    ],
    [
      'Plateau patience',
      () => new lrScheduler.ReduceLROnPlateau(o(), { patience: -1 }),
      /ReduceLROnPlateau: invalid patience -1/,
    ],
    [
      'Plateau minLr',
      () => new lrScheduler.ReduceLROnPlateau(o(), { minLr: [0.1, 0.2, 0.3] }),
      /ReduceLROnPlateau: expected 2 values for minLr/,
    ],
    [
      'Plateau metric',
      () => new lrScheduler.ReduceLROnPlateau(o()).step('x' as never),
      /ReduceLROnPlateau: step expects the monitored metric/,
    ],
  ];
  for (const [what, fn, re] of bad) {
    it(`error: ${what}`, () => {
      expect(fn).toThrow(ValueError);
      expect(fn).toThrow(re);
    });
  }
});
