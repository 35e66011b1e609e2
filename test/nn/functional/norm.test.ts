import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  gradcheck,
  gradgradcheck,
  nn,
  ones,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../../src/index.js';
import type { BatchNormOptions, NormOptions } from '../../../src/nn/functional/norm.js';
import { checkReference } from '../../helpers/reference.js';
import { d64 } from '../../helpers/tensors.js';

const F = nn.functional;
const opt = (i: unknown[], k: number): Tensor | null => (i[k] as Tensor | undefined) ?? null;

describe('norm reference (PyTorch)', () => {
  it('matches batchNorm (with running-stat updates), layerNorm and groupNorm', () => {
    const n = checkReference('nn_norm', {
      batchNorm: (i, kw) => {
        const x = i[0] as Tensor;
        const stat = (v: unknown): Tensor | null =>
          v === null ? null : tensor(v as number[], { dtype: x.dtype });
        const rm = stat(i[1]);
        const rv = stat(i[2]);
        const y = F.batchNorm(x, rm, rv, opt(i, 3), opt(i, 4), kw as BatchNormOptions);
        return rm && rv ? [y, rm, rv] : [y];
      },
      layerNorm: (i, kw) =>
        F.layerNorm(i[0] as Tensor, i[1] as number[], opt(i, 2), opt(i, 3), kw as NormOptions),
      groupNorm: (i, kw) =>
        F.groupNorm(i[0] as Tensor, i[1] as number, opt(i, 2), opt(i, 3), kw as NormOptions),
    });
    expect(n).toBe(14);
  });
});

describe('norm gradcheck', () => {
  it('batchNorm training and eval', () => {
    expect(
      gradcheck(
        (x, w, b) => F.batchNorm(x!, null, null, w!, b!, { training: true }),
        [d64([3, 2, 2, 2]), d64([2]), d64([2])],
      ),
    ).toBe(true);
    const rm = randn([2], { dtype: 'float64' });
    const rv = randn([2], { dtype: 'float64' }).abs().add(0.5);
    expect(gradcheck((x, w) => F.batchNorm(x!, rm, rv, w!, null), [d64([2, 2, 3]), d64([2])])).toBe(true);
  });
  it('layerNorm and groupNorm, second order too', () => {
    expect(
      gradcheck((x, w, b) => F.layerNorm(x!, [2, 3], w!, b!), [d64([2, 2, 3]), d64([2, 3]), d64([2, 3])]),
    ).toBe(true);
    expect(gradcheck((x, w, b) => F.groupNorm(x!, 2, w!, b!), [d64([2, 4, 3]), d64([4]), d64([4])])).toBe(
      true,
    );
    expect(gradgradcheck((x) => F.layerNorm(x!, 4), [d64([2, 4])])).toBe(true);
    expect(
      gradgradcheck((x) => F.batchNorm(x!, null, null, null, null, { training: true }), [d64([4, 2])]),
    ).toBe(true);
  });
});

describe('norm behaviour', () => {
  it('updates the running statistics in place (unbiased variance) and bumps their version', () => {
    const x = tensor([[1], [3]], { dtype: 'float32' });
    const rm = zeros([1]);
    const rv = ones([1]);
    const v0 = rm.version;
    F.batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5 });
    expect(rm.item()).toBeCloseTo(1, 6); // 0.5 * 0 + 0.5 * 2
    expect(rv.item()).toBeCloseTo(1.5, 6); // 0.5 * 1 + 0.5 * 2 (unbiased var of [1, 3])
    expect(rm.version).toBeGreaterThan(v0);
  });
  it('handles zero-size batches in layerNorm and groupNorm', () => {
    expect(F.layerNorm(randn([0, 4]), 4, ones([4]), zeros([4])).shape).toEqual([0, 4]);
    expect(F.groupNorm(randn([0, 4, 3]), 2).shape).toEqual([0, 4, 3]);
  });
  it('normalises non-contiguous input like its contiguous copy', () => {
    const x = randn([4, 3, 5], { dtype: 'float64' }).transpose(1, 2);
    const a = F.layerNorm(x, 3).dataSync();
    const b = F.layerNorm(x.contiguous(), 3).dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 12);
  });
});

describe('norm errors', () => {
  it('batchNorm', () => {
    expect(() => F.batchNorm(randn([3]), null, null, null, null, { training: true })).toThrow(ShapeError);
    expect(() => F.batchNorm(randn([1, 3]), null, null, null, null, { training: true })).toThrow(
      'batchNorm: expected more than 1 value per channel when training, got input shape [1,3]',
    );
    expect(() => F.batchNorm(randn([2, 3]), null, null)).toThrow(
      'batchNorm: runningMean and runningVar are required when training is false',
    );
    expect(() => F.batchNorm(randn([2, 3]), zeros([4]), ones([3]))).toThrow(
      'batchNorm: runningMean must have shape [3], got [4] (input shape [2,3])',
    );
    expect(() => F.batchNorm(randn([2, 3]), zeros([3]), ones([3]), ones([3], { dtype: 'float64' }))).toThrow(
      DTypeError,
    );
  });
  it('layerNorm', () => {
    expect(() => F.layerNorm(randn([2, 3, 4]), [5])).toThrow(
      'layerNorm: input shape [2,3,4] does not end with normalizedShape [5]',
    );
    expect(() => F.layerNorm(randn([2, 4]), 4, randn([3]))).toThrow(
      'layerNorm: weight must have shape [4], got [3] (input shape [2,4])',
    );
  });
  it('groupNorm', () => {
    expect(() => F.groupNorm(randn([2, 4, 3]), 3)).toThrow(ValueError);
    expect(() => F.groupNorm(randn([2, 4, 3]), 3)).toThrow(
      'groupNorm: numGroups 3 must divide the channels 4 (input shape [2,4,3])',
    );
    expect(() => F.groupNorm(randn([4]), 2)).toThrow(/groupNorm: expected an input \[N, C, \.\.\.\]/);
  });
});
