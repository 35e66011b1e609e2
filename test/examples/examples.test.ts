import { describe, expect, it } from 'vitest';
import { corrupt, trainDenoiser } from '../../examples/denoising-autoencoder.js';
import { trainIrisMlp } from '../../examples/iris-mlp.js';
import { sineBatch, trainLstm } from '../../examples/lstm-sequence.js';
import { trainMnistCnn } from '../../examples/mnist-cnn.js';
import { balancedDigits, runTransferLearning, selectDigits } from '../../examples/transfer-learning.js';
import { Generator, loadMnist, tensor } from '../../src/node/index.js';

describe('examples/iris-mlp.ts', () => {
  it('reaches >= 95% test accuracy on the fixed Iris split', () => {
    const r = trainIrisMlp();
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(r.trainAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(r.losses[r.losses.length - 1]!).toBeLessThan(r.losses[0]! / 5);
    const cm = r.confusion.toArray() as number[][];
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(30);
  });

  it('is deterministic for a seed', () => {
    const a = trainIrisMlp({ epochs: 5 });
    const b = trainIrisMlp({ epochs: 5 });
    expect(b.losses).toEqual(a.losses);
  });
});

describe('examples/mnist-cnn.ts', () => {
  it('learns digits from a small subset in one epoch', () => {
    const r = trainMnistCnn({
      trainSize: 640,
      testSize: 300,
      epochs: 1,
      batchSize: 32,
      lr: 5e-3,
      model: { channels: [8, 16] },
    });
    expect(r.losses).toHaveLength(1);
    expect(r.testAccuracy).toBeGreaterThan(0.7);
    expect(r.confusion.shape).toEqual([10, 10]);
  });
});

describe('examples/denoising-autoencoder.ts', () => {
  it('corrupt adds clipped noise from the given generator', () => {
    const x = tensor([0, 0.5, 1, 0.25]);
    const a = corrupt(x, 0.3, new Generator(1)).dataSync();
    const b = corrupt(x, 0.3, new Generator(1)).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    for (const v of a) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('reconstructs noisy test digits far better than the noisy input', () => {
    const r = trainDenoiser({ trainSize: 2000, testSize: 300, epochs: 3, lr: 3e-3, batchSize: 32 });
    expect(r.noisyMse).toBeGreaterThan(0.08);
    expect(r.denoisedMse).toBeLessThan(0.5 * r.noisyMse);
    expect(r.losses[2]!).toBeLessThan(r.losses[0]!);
  });
});

describe('examples/lstm-sequence.ts', () => {
  it('sineBatch gives windows and next values', () => {
    const b = sineBatch(new Generator(0), 4, 10, 0);
    expect(b.x.shape).toEqual([4, 10, 1]);
    expect(b.y.shape).toEqual([4, 1]);
    const x = b.x.dataSync();
    for (const v of x) expect(Math.abs(v)).toBeLessThanOrEqual(1);
  });

  it('the loss falls a lot and the LSTM beats the repeat-last-value forecast', () => {
    const r = trainLstm({ steps: 120, hidden: 24 });
    const first = r.losses.slice(0, 10).reduce((a, b) => a + b, 0) / 10;
    const last = r.losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
    expect(last).toBeLessThan(first / 10);
    expect(r.testMse).toBeLessThan(0.5 * r.naiveMse);
  });
});

describe('examples/transfer-learning.ts', () => {
  it('selects digits by class, balanced and shifted', () => {
    const t = loadMnist({ split: 'test' });
    const few = balancedDigits(t.images, t.labels, 5, 9, 3, 1);
    expect(few.x.shape).toEqual([15, 1, 28, 28]);
    expect(Array.from(few.y.dataSync())).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    const sel = selectDigits(t.images, t.labels, 0, 4, 50);
    expect(sel.y.shape).toEqual([50]);
    expect(Math.max(...sel.y.dataSync())).toBeLessThanOrEqual(4);
  });

  it('frozen pre-trained features + a new head beat the same CNN trained from scratch on the small subset', () => {
    const r = runTransferLearning({
      pretrainSize: 2000,
      pretrainEpochs: 1,
      fewShotEpochs: 1,
      trials: 3,
      testSize: 400,
      model: { channels: [8, 16] },
      seed: 0,
    });
    expect(r.pretrainAccuracy).toBeGreaterThan(0.9);
    // only the dense head trains
    expect(r.trainableParams).toBeLessThan(r.totalParams);
    expect(r.curve).toHaveLength(1);
    expect(r.transferAccuracy).toBeGreaterThan(r.scratchAccuracy + 0.1);
  });
});
