import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Generator,
  loadCheckpoint,
  manualSeed,
  nn,
  optim,
  randn,
  saveCheckpoint,
  type Tensor,
} from '../../src/node/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'neurite-ckpt-opt-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Sched = { step(metric?: number): void; stateDict(): object; loadStateDict(s: never): void };
interface Run {
  model: nn.Sequential;
  opt: optim.Optimizer;
  sched: Sched | undefined;
  data: Generator;
}

/** Two parameter groups with different options, so group options must survive the round trip too. */
function groups(m: nn.Sequential) {
  return [{ params: m.at(0).parameters() }, { params: m.at(2).parameters(), lr: 0.003 }];
}

const OPTIMIZERS: [string, (m: nn.Sequential) => optim.Optimizer, ((o: optim.Optimizer) => Sched)?][] = [
  [
    'SGD momentum dampening weightDecay',
    (m) => new optim.SGD(groups(m), { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 }),
    (o) => new optim.lrScheduler.MultiStepLR(o, { milestones: [3, 6], gamma: 0.3 }),
  ],
  [
    'SGD nesterov',
    (m) => new optim.SGD(groups(m), { lr: 0.05, momentum: 0.8, nesterov: true }),
    (o) => new optim.lrScheduler.OneCycleLR(o, { maxLr: [0.1, 0.02], totalSteps: 20 }),
  ],
  [
    'Adam amsgrad',
    (m) => new optim.Adam(groups(m), { lr: 0.01, amsgrad: true, weightDecay: 1e-3 }),
    (o) => new optim.lrScheduler.CosineAnnealingLR(o, { tMax: 5 }),
  ],
  [
    'AdamW amsgrad',
    (m) => new optim.AdamW(groups(m), { lr: 0.01, amsgrad: true }),
    (o) => new optim.lrScheduler.LinearLR(o, { startFactor: 0.25, totalIters: 4 }),
  ],
  [
    'Adagrad lrDecay initialAccumulatorValue',
    (m) => new optim.Adagrad(groups(m), { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 }),
    (o) => new optim.lrScheduler.ExponentialLR(o, { gamma: 0.9 }),
  ],
  [
    'RMSprop centered momentum',
    (m) => new optim.RMSprop(groups(m), { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 1e-3 }),
    (o) => new optim.lrScheduler.ReduceLROnPlateau(o, { patience: 0, factor: 0.5 }) as unknown as Sched,
  ],
];

describe('saveCheckpoint / loadCheckpoint resume every optimizer and scheduler exactly', () => {
  for (const [name, makeOpt, makeSched] of OPTIMIZERS) {
    const make = (seed: number): Run => {
      manualSeed(seed);
      const model = new nn.Sequential(new nn.Linear(3, 6), new nn.Tanh(), new nn.Linear(6, 2));
      const opt = makeOpt(model);
      return { model, opt, sched: makeSched?.(opt), data: new Generator(seed + 100) };
    };
    const step = (r: Run, i: number): void => {
      const x = randn([4, 3], { generator: r.data });
      const y = randn([4, 2], { generator: r.data });
      r.opt.zeroGrad();
      const loss = nn.functional.mseLoss(r.model.forward(x) as Tensor, y);
      loss.backward();
      r.opt.step();
      // ReduceLROnPlateau gets a metric that stops improving, so it does reduce
      r.sched?.step(r.sched instanceof optim.lrScheduler.ReduceLROnPlateau ? 1 + (i % 2) : undefined);
    };

    it(`${name}: 5 steps + save + 5 steps == load into fresh objects + 5 steps (bit for bit)`, () => {
      const path = join(dir, `${name.replaceAll(' ', '-')}.safetensors`);
      const a = make(1);
      for (let i = 0; i < 5; i++) step(a, i);
      saveCheckpoint(path, {
        model: a.model,
        optimizer: a.opt,
        scheduler: a.sched,
        epoch: 0,
        step: 5,
        generators: [a.data],
      });
      for (let i = 5; i < 10; i++) step(a, i);

      const b = make(2);
      const info = loadCheckpoint(path, {
        model: b.model,
        optimizer: b.opt,
        scheduler: b.sched,
        generators: [b.data],
      });
      expect(info.step).toBe(5);
      for (let i = 5; i < 10; i++) step(b, i);

      for (const [k, t] of a.model.stateDict()) {
        expect(Array.from(b.model.stateDict().get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
      }
      expect(b.opt.paramGroups.map((g) => g.lr)).toEqual(a.opt.paramGroups.map((g) => g.lr));
      expect(b.opt.paramGroups[1]!.lr).not.toBe(b.opt.paramGroups[0]!.lr);
      const sa = a.opt.stateDict();
      const sb = b.opt.stateDict();
      expect(sb.paramGroups).toEqual(sa.paramGroups);
      expect(Object.keys(sb.state)).toEqual(Object.keys(sa.state));
      for (const [i, st] of Object.entries(sa.state)) {
        for (const [k, v] of Object.entries(st)) {
          const w = sb.state[Number(i)]![k]!;
          if (typeof v === 'number') expect(w, `${i}.${k}`).toBe(v);
          else expect(Array.from((w as Tensor).dataSync()), `${i}.${k}`).toEqual(Array.from(v.dataSync()));
        }
      }
      if (a.sched) expect(b.sched!.stateDict()).toEqual(a.sched.stateDict());
    });
  }
});
