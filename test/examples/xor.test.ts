import { describe, expect, it } from 'vitest';
import { trainSine, trainXor, XOR_Y } from '../../examples/xor.js';

describe('examples/xor.ts', () => {
  it('learns XOR: the loss falls below 0.01 and the predictions round to the targets', () => {
    const logged: number[] = [];
    const r = trainXor({ steps: 600, onLog: (step) => logged.push(step), logEvery: 200 });
    expect(r.losses).toHaveLength(600);
    expect(r.losses[0]!).toBeGreaterThan(0.1);
    expect(r.finalLoss).toBeLessThan(0.01);
    expect(r.predictions.map(Math.round)).toEqual(XOR_Y);
    expect(logged).toEqual([1, 200, 400, 600]);
  });

  it('is deterministic for a seed', () => {
    const a = trainXor({ steps: 50 });
    const b = trainXor({ steps: 50 });
    expect(b.losses).toEqual(a.losses);
    expect(trainXor({ steps: 50, seed: 3 }).losses).not.toEqual(a.losses);
  });

  it('fits a noisy sine', () => {
    const r = trainSine({ steps: 800 });
    expect(r.finalLoss).toBeLessThan(r.losses[0]! / 10);
    expect(r.finalLoss).toBeLessThan(0.05);
  });
});
