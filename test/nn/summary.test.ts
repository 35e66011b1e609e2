import { describe, expect, it } from 'vitest';
import { nn, randn, type Tensor } from '../../src/index.js';

class Small extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
  );
  flatten = new nn.Flatten();
  fc = new nn.Linear(4 * 4 * 4, 10);
  override forward(x: Tensor): Tensor {
    return this.fc.forward(this.flatten.forward(this.features.forward<Tensor>(x)));
  }
}

describe('nn.summary', () => {
  it('lists every layer with path, type, output shape and parameters, plus totals', () => {
    const m = new Small();
    m.features.requiresGrad_(false);
    const s = nn.summary(m, [2, 1, 8, 8]);
    const lines = s.split('\n');
    expect(lines[0]).toBe('Small summary (input [2,1,8,8], float32)');
    const row = (path: string): string[] => {
      const l = lines.find((x) => x.trim().split(/\s{2,}/)[0] === path);
      expect(l, `row ${path}`).toBeDefined();
      return l!.trim().split(/\s{2,}/);
    };
    expect(row('features')).toEqual(['features', 'Sequential', '[2,4,4,4]', '0']);
    expect(row('features.0')).toEqual(['features.0', 'Conv2d', '[2,4,8,8]', '40']);
    expect(row('features.1')).toEqual(['features.1', 'BatchNorm2d', '[2,4,8,8]', '8']);
    expect(row('features.3')).toEqual(['features.3', 'MaxPool2d', '[2,4,4,4]', '0']);
    expect(row('flatten')).toEqual(['flatten', 'Flatten', '[2,64]', '0']);
    expect(row('fc')).toEqual(['fc', 'Linear', '[2,10]', '650']);
    expect(lines).toContain('Output shape: [2,10]');
    expect(lines).toContain('Total params: 698');
    expect(lines).toContain('Trainable params: 650');
    expect(lines).toContain('Non-trainable params: 48');
    // rows are in call order, children indented under their parent
    const order = lines.filter((l) => /Conv2d|BatchNorm2d|Flatten|Linear/.test(l) && !l.startsWith('Small'));
    expect(order.map((l) => l.trim().split(/\s+/)[1])).toEqual([
      'Conv2d',
      'BatchNorm2d',
      'Flatten',
      'Linear',
    ]);
    expect(lines.find((l) => l.includes('features.0'))!.startsWith('  features.0')).toBe(true);
  });

  it('leaves the model unchanged: modes restored, running stats untouched, no hooks left', () => {
    const m = new Small();
    const bn = m.features.at(1) as nn.BatchNorm2d;
    nn.summary(m, [1, 1, 8, 8]);
    expect(m.modules().every((x) => x.training)).toBe(true);
    expect(bn.numBatchesTracked!.item()).toBe(0);
    expect(bn.runningMean!.toArray()).toEqual([0, 0, 0, 0]);
    m.eval();
    nn.summary(m, [1, 1, 8, 8]);
    expect(m.modules().every((x) => !x.training)).toBe(true);
    let calls = 0;
    m.fc.registerForwardHook(() => {
      calls++;
      return undefined;
    });
    m.forward(randn([1, 1, 8, 8]));
    expect(calls).toBe(1);
  });

  it('int32 inputs for embeddings, several inputs, errors name the layer', () => {
    const e = new nn.Sequential(new nn.Embedding(10, 3), new nn.Flatten());
    const s = nn.summary(e, [2, 5], { dtype: 'int32' });
    expect(s).toContain('Output shape: [2,15]');
    expect(s).toContain('Total params: 30');
    const bl = new nn.Bilinear(3, 4, 2);
    expect(
      nn.summary(bl, [
        [5, 3],
        [5, 4],
      ]),
    ).toContain('Output shape: [5,2]');
    expect(() => nn.summary(new Small(), [2, 3, 8, 8])).toThrow(
      /features\.0 \(Conv2d\): conv2d: input has 3 channels/,
    );
    expect(() => nn.summary(new Small(), [2, -1])).toThrow(/summary: invalid input shape \[2,-1\]/);
  });
});
