import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  Generator,
  gradcheck,
  gradgradcheck,
  IndexError,
  manualSeed,
  nn,
  ones,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
} from '../../../src/index.js';
import { checkReference } from '../../helpers/reference.js';

const F = nn.functional;
const d64 = (shape: number[]): Tensor => randn(shape, { dtype: 'float64', requiresGrad: true });

describe('basic reference (PyTorch)', () => {
  it('matches linear and embedding', () => {
    const n = checkReference('nn_basic', {
      linear: (i) => F.linear(i[0] as Tensor, i[1] as Tensor, (i[2] as Tensor | undefined) ?? null),
      embedding: (i, kw) =>
        F.embedding((i[0] as Tensor).int(), i[1] as Tensor, {
          paddingIdx: kw.paddingIdx as number | undefined,
        }),
    });
    expect(n).toBe(7);
  });
});

describe('linear', () => {
  it('gradcheck and gradgradcheck, with broadcasting batch dims', () => {
    expect(gradcheck((x, w, b) => F.linear(x!, w!, b!), [d64([2, 3, 4]), d64([5, 4]), d64([5])])).toBe(true);
    expect(gradgradcheck((x, w) => F.linear(x!, w!), [d64([3, 4]), d64([2, 4])])).toBe(true);
  });
  it('accepts a transposed (non-contiguous) input and zero rows', () => {
    const x = randn([4, 3], { dtype: 'float64' }).t();
    const w = randn([2, 4], { dtype: 'float64' });
    expect(Array.from(F.linear(x, w).dataSync())).toEqual(Array.from(F.linear(x.contiguous(), w).dataSync()));
    expect(F.linear(randn([0, 4]), randn([2, 4])).shape).toEqual([0, 2]);
  });
  it('names the shapes on a feature mismatch', () => {
    expect(() => F.linear(randn([2, 3]), randn([5, 4]))).toThrow(ShapeError);
    expect(() => F.linear(randn([2, 3]), randn([5, 4]))).toThrow(
      'linear: input has 3 features (input shape [2,3]) but weight expects 4 (weight shape [5,4])',
    );
    expect(() => F.linear(randn([2, 4]), randn([5, 4]), randn([4]))).toThrow(
      'linear: bias must have shape [5], got [4]',
    );
    expect(() => F.linear(randn([2, 4]), randn([4]))).toThrow(/linear: expected a 2-d weight/);
  });
});

describe('embedding', () => {
  it('accumulates repeated rows and skips the padding row', () => {
    const w = ones([4, 2], { requiresGrad: true });
    const idx = tensor([
      [0, 2, 2],
      [3, 2, 0],
    ]);
    const y = F.embedding(idx, w, { paddingIdx: 3 });
    expect(y.shape).toEqual([2, 3, 2]);
    y.sum().backward();
    expect(w.grad!.toArray()).toEqual([
      [2, 2],
      [0, 0],
      [3, 3],
      [0, 0],
    ]);
  });
  it('handles empty indices', () => {
    const w = randn([4, 3], { requiresGrad: true });
    const y = F.embedding(tensor([], { dtype: 'int32' }).reshape([0, 2]), w);
    expect(y.shape).toEqual([0, 2, 3]);
    y.sum().backward();
    expect(Array.from(w.grad!.dataSync()).every((v) => v === 0)).toBe(true);
  });
  it('gradcheck and gradgradcheck', () => {
    const idx = tensor([1, 0, 1, 4]);
    expect(gradcheck((w) => F.embedding(idx, w!), [d64([5, 3])])).toBe(true);
    expect(gradgradcheck((w) => F.embedding(idx, w!.mul(w!), { paddingIdx: 0 }), [d64([5, 2])])).toBe(true);
  });
  it('rejects bad indices', () => {
    const w = randn([10, 3]);
    expect(() => F.embedding(tensor([1, 10]), w)).toThrow(IndexError);
    expect(() => F.embedding(tensor([1, 10]), w)).toThrow(
      'embedding: index 10 is out of range for 10 embeddings (weight shape [10,3])',
    );
    expect(() => F.embedding(tensor([-1]), w)).toThrow(/embedding: index -1 is out of range/);
    expect(() => F.embedding(tensor([1.5]), w)).toThrow(DTypeError);
    expect(() => F.embedding(tensor([1]), w, { paddingIdx: 10 })).toThrow(
      'embedding: paddingIdx 10 is out of range for 10 embeddings (weight shape [10,3])',
    );
    expect(() => F.embedding(tensor([1]), randn([3]))).toThrow(/embedding: expected a 2-d weight/);
  });
});

describe('dropout', () => {
  it('zeroes about p of the elements and scales the rest by 1/(1-p)', () => {
    const x = ones([100, 100], { requiresGrad: true });
    const y = F.dropout(x, { p: 0.3, generator: new Generator(1) });
    const d = y.dataSync();
    let zeros = 0;
    for (const v of d) {
      if (v === 0) zeros++;
      else expect(v).toBeCloseTo(1 / 0.7, 6);
    }
    expect(zeros / d.length).toBeGreaterThan(0.27);
    expect(zeros / d.length).toBeLessThan(0.33);
    y.sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual(Array.from(d));
  });
  it('is repeatable with a seed and an identity when not training or p = 0', () => {
    const x = randn([50]);
    manualSeed(7);
    const a = F.dropout(x).dataSync();
    manualSeed(7);
    const b = F.dropout(x).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(F.dropout(x, { training: false })).toBe(x);
    expect(F.dropout(x, { p: 0 })).toBe(x);
    expect(Array.from(F.dropout(x, { p: 1 }).dataSync()).every((v) => v === 0)).toBe(true);
  });
  it('rejects p outside [0, 1] and integer input', () => {
    expect(() => F.dropout(randn([2]), { p: 1.5 })).toThrow(ValueError);
    expect(() => F.dropout(randn([2]), { p: 1.5 })).toThrow(
      'dropout: probability p must be between 0 and 1, got 1.5',
    );
    expect(() => F.dropout(tensor([1, 2]))).toThrow(/dropout: expected a floating tensor/);
  });
});

describe('nn.functional re-exports', () => {
  it('has relu, sigmoid, tanh, pad and oneHot like torch.nn.functional', () => {
    const x = tensor([-1, 0.5]);
    expect(F.relu(x).toArray()).toEqual([0, 0.5]);
    expect(F.sigmoid(x).toArray()).toEqual(x.sigmoid().toArray());
    expect(F.tanh(x).toArray()).toEqual(x.tanh().toArray());
    expect(F.pad(x, [1, 0]).toArray()).toEqual([0, -1, 0.5]);
    expect(F.oneHot(tensor([1]), 2).toArray()).toEqual([[0, 1]]);
  });
});
