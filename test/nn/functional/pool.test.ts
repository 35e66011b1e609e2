import { describe, expect, it } from 'vitest';
import {
  gradcheck,
  gradgradcheck,
  nn,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
} from '../../../src/index.js';
import type { AvgPoolOptions, MaxPoolOptions } from '../../../src/nn/functional/pool.js';
import { checkReference } from '../../helpers/reference.js';
import { d64 } from '../../helpers/tensors.js';

const F = nn.functional;
type Kw = Record<string, unknown>;
type Ints = number | number[];
type Size = number | (number | null)[];

describe('pool reference (PyTorch)', () => {
  it('matches forward values, indices and gradients', () => {
    const n = checkReference('nn_pool', {
      maxPool2d: (i, kw: Kw) => F.maxPool2d(i[0] as Tensor, kw.kernelSize as Ints, kw as MaxPoolOptions),
      maxPool1d: (i, kw: Kw) => F.maxPool1d(i[0] as Tensor, kw.kernelSize as Ints, kw as MaxPoolOptions),
      avgPool2d: (i, kw: Kw) => F.avgPool2d(i[0] as Tensor, kw.kernelSize as Ints, kw as AvgPoolOptions),
      avgPool1d: (i, kw: Kw) => F.avgPool1d(i[0] as Tensor, kw.kernelSize as Ints, kw as AvgPoolOptions),
      adaptiveAvgPool2d: (i, kw: Kw) => F.adaptiveAvgPool2d(i[0] as Tensor, kw.outputSize as Size),
      adaptiveAvgPool1d: (i, kw: Kw) => F.adaptiveAvgPool1d(i[0] as Tensor, kw.outputSize as number),
      adaptiveMaxPool2d: (i, kw: Kw) =>
        F.adaptiveMaxPool2d(i[0] as Tensor, kw.outputSize as Size, {
          returnIndices: Boolean(kw.returnIndices),
        }),
      adaptiveMaxPool1d: (i, kw: Kw) => F.adaptiveMaxPool1d(i[0] as Tensor, kw.outputSize as number),
    });
    expect(n).toBeGreaterThan(20);
  });
});

describe('pool gradcheck', () => {
  it('maxPool2d and maxPool1d', () => {
    const o: MaxPoolOptions = { stride: [2, 1], padding: 1, dilation: [1, 2], ceilMode: true };
    expect(gradcheck((x) => F.maxPool2d(x!, [3, 2], o), [d64([2, 2, 6, 7])])).toBe(true);
    expect(gradcheck((x) => F.maxPool1d(x!, 3, { stride: 2, padding: 1 }), [d64([2, 3, 8])])).toBe(true);
  });
  it('avgPool2d and avgPool1d', () => {
    const o: AvgPoolOptions = { stride: 2, padding: 1, ceilMode: true, countIncludePad: false };
    expect(gradcheck((x) => F.avgPool2d(x!, 3, o), [d64([2, 2, 6, 7])])).toBe(true);
    expect(gradcheck((x) => F.avgPool1d(x!, 2, { divisorOverride: 3 }), [d64([1, 2, 7])])).toBe(true);
  });
  it('adaptive pools', () => {
    expect(gradcheck((x) => F.adaptiveAvgPool2d(x!, [3, 4]), [d64([2, 2, 7, 6])])).toBe(true);
    expect(gradcheck((x) => F.adaptiveMaxPool2d(x!, [3, 2]), [d64([1, 2, 5, 7])])).toBe(true);
  });
  it('second order through max and average pooling', () => {
    expect(
      gradgradcheck(
        (x, w) => F.maxPool2d(x!.mul(w!), 2, { stride: 1 }),
        [d64([1, 2, 4, 4]), d64([1, 2, 4, 4])],
      ),
    ).toBe(true);
    expect(
      gradgradcheck((x) => F.avgPool2d(x!.mul(x!), 3, { stride: 2, padding: 1 }), [d64([1, 2, 5, 5])]),
    ).toBe(true);
    expect(gradgradcheck((x) => F.adaptiveAvgPool2d(x!.mul(x!), 2), [d64([1, 1, 5, 3])])).toBe(true);
  });
});

describe('pool behaviour', () => {
  it('returns int32 indices flat within each plane', () => {
    const x = tensor(
      [
        [
          [
            [1, 5, 2],
            [7, 0, 3],
          ],
        ],
      ],
      { dtype: 'float32' },
    );
    const [y, idx] = F.maxPool2d(x, [2, 2], { stride: 1, returnIndices: true });
    expect(y.toArray()).toEqual([[[[7, 5]]]]);
    expect(idx.dtype).toBe('int32');
    expect(idx.toArray()).toEqual([[[[3, 1]]]]);
  });
  it('propagates NaN like PyTorch', () => {
    const x = tensor([[[[1, Number.NaN, 2, 3]]]]);
    const y = F.maxPool2d(x, [1, 2]);
    expect(Number.isNaN(y.dataSync()[0]!)).toBe(true);
    expect(y.dataSync()[1]).toBe(3);
  });
  it('accepts non-contiguous input', () => {
    const x = randn([2, 5, 6, 3], { dtype: 'float64' }).permute(0, 3, 1, 2);
    const a = F.maxPool2d(x, 2, { padding: 1 });
    const b = F.maxPool2d(x.contiguous(), 2, { padding: 1 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const c = F.avgPool2d(x, 3, { stride: 2 });
    const d = F.avgPool2d(x.contiguous(), 3, { stride: 2 });
    expect(Array.from(c.dataSync())).toEqual(Array.from(d.dataSync()));
  });
  it('handles a zero-size batch and unbatched input', () => {
    const z = randn([0, 3, 4, 4], { requiresGrad: true });
    const y = F.avgPool2d(z, 2);
    expect(y.shape).toEqual([0, 3, 2, 2]);
    y.sum().backward();
    expect(z.grad!.shape).toEqual([0, 3, 4, 4]);
    expect(F.adaptiveAvgPool2d(randn([3, 5, 5]), 1).shape).toEqual([3, 1, 1]);
    expect(F.maxPool1d(randn([2, 7]), 2).shape).toEqual([2, 3]);
  });
});

describe('pool errors', () => {
  it('rejects wrong ranks and integer input', () => {
    expect(() => F.maxPool2d(tensor([[[[1, 2]]]]), 1)).toThrow(
      /maxPool2d: expected a floating tensor .* got int32/,
    );
    expect(() => F.maxPool2d(randn([5, 5]), 2)).toThrow(ShapeError);
    expect(() => F.maxPool2d(randn([5, 5]), 2)).toThrow(
      /maxPool2d: expected a 4-d input .* got shape \[5,5\]/,
    );
    expect(() => F.avgPool1d(randn([1, 2, 3, 4]), 2)).toThrow(/avgPool1d: expected a 3-d input/);
  });
  it('rejects a kernel larger than the padded input', () => {
    expect(() => F.maxPool2d(randn([1, 1, 3, 3]), 5, { padding: 2 })).not.toThrow();
    expect(() => F.maxPool2d(randn([1, 1, 3, 3]), 4)).toThrow(
      /maxPool2d: kernel size \[4,4\] \(dilation \[1,1\]\) is larger than the padded input 3x3/,
    );
  });
  it('rejects bad stride, padding and sizes', () => {
    const x = randn([1, 1, 6, 6]);
    expect(() => F.maxPool2d(x, 2, { stride: 0 })).toThrow(
      'maxPool2d: stride must be positive integers, got [0,0]',
    );
    expect(() => F.maxPool2d(x, 2, { padding: 2 })).toThrow(
      'maxPool2d: padding [2,2] must be at most half the kernel size [2,2]',
    );
    expect(() => F.avgPool2d(x, [2, 2, 2])).toThrow(
      'avgPool2d: kernelSize must be one integer or 2 integers',
    );
    expect(() => F.avgPool2d(x, 2, { divisorOverride: 0 })).toThrow(ValueError);
    expect(() => F.adaptiveAvgPool2d(x, [0, 2])).toThrow(
      'adaptiveAvgPool2d: outputSize must be positive integers, got [0,2]',
    );
    expect(() => F.adaptiveMaxPool2d(randn([1, 1, 0, 3]), 2)).toThrow(
      /adaptiveMaxPool2d: spatial dims must be non-empty/,
    );
  });
});
