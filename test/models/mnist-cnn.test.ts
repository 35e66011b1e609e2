import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad, randn } from '../../src/index.js';
import { DEFAULT_MNIST_CNN_CONFIG, MnistCnn, resolveMnistCnnConfig } from '../../src/models/mnist-cnn.js';

describe('models/mnist-cnn', () => {
  it('maps [N, 1, 28, 28] to logits [N, 10] with PyTorch state-dict keys', () => {
    manualSeed(0);
    const m = new MnistCnn();
    expect(m.forward(randn([3, 1, 28, 28])).shape).toEqual([3, 10]);
    const keys = [...m.stateDict().keys()];
    expect(keys).toEqual(
      expect.arrayContaining([
        'features.0.weight',
        'features.1.running_var',
        'features.1.num_batches_tracked',
        'features.4.weight',
        'features.5.bias',
        'classifier.2.weight',
        'classifier.4.weight',
      ]),
    );
    expect(m.stateDict().get('classifier.2.weight')!.shape).toEqual([64, 1568]);
    const n = m.parameters().reduce((a, p) => a + p.numel(), 0);
    // conv 416 + 12832, bn 32 + 64, dense 100416 + 650
    expect(n).toBe(416 + 32 + 12832 + 64 + 100416 + 650);
  });

  it('honours the configuration', () => {
    const m = new MnistCnn({ channels: [4, 8], kernelSize: 3, hidden: 20, numClasses: 5 });
    expect(m.stateDict().get('features.0.weight')!.shape).toEqual([4, 1, 3, 3]);
    expect(m.stateDict().get('classifier.2.weight')!.shape).toEqual([20, 8 * 49]);
    m.eval();
    expect(noGrad(() => m.forward(randn([2, 1, 28, 28]))).shape).toEqual([2, 5]);
  });

  it('fills in defaults and rejects bad configurations with the field named', () => {
    expect(resolveMnistCnnConfig({})).toEqual(DEFAULT_MNIST_CNN_CONFIG);
    expect(() => resolveMnistCnnConfig({ kernelSize: 4 })).toThrow(/MnistCnn: kernelSize must be odd, got 4/);
    expect(() => resolveMnistCnnConfig({ imageSize: 30 })).toThrow(/imageSize must be divisible by 4/);
    expect(() => resolveMnistCnnConfig({ hidden: 0 })).toThrow(/hidden must be an integer >= 1, got 0/);
    expect(() => resolveMnistCnnConfig({ dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => resolveMnistCnnConfig({ channels: [8] as unknown as [number, number] })).toThrow(
      /channels must be two integers/,
    );
  });
});
