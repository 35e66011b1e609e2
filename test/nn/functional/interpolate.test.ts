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
import type { InterpolateOptions } from '../../../src/nn/functional/interpolate.js';
import { checkReference } from '../../helpers/reference.js';
import { d64 } from '../../helpers/tensors.js';

const F = nn.functional;

describe('interpolate reference (PyTorch)', () => {
  it('matches forward values and gradients', () => {
    const n = checkReference('nn_interpolate', {
      interpolate: (i, kw) => F.interpolate(i[0] as Tensor, kw as InterpolateOptions),
    });
    expect(n).toBeGreaterThan(10);
  });
});

describe('interpolate gradcheck', () => {
  it('nearest and bilinear', () => {
    expect(gradcheck((x) => F.interpolate(x!, { size: [5, 3] }), [d64([1, 2, 3, 4])])).toBe(true);
    expect(gradcheck((x) => F.interpolate(x!, { size: [5, 3], mode: 'bilinear' }), [d64([1, 2, 3, 4])])).toBe(
      true,
    );
    expect(
      gradcheck(
        (x) => F.interpolate(x!, { scaleFactor: 1.5, mode: 'bilinear', alignCorners: true }),
        [d64([2, 1, 3, 3])],
      ),
    ).toBe(true);
    expect(gradcheck((x) => F.interpolate(x!, { size: 7, mode: 'linear' }), [d64([2, 2, 4])])).toBe(true);
  });
  it('second order', () => {
    expect(
      gradgradcheck(
        (x) => F.interpolate(x!.mul(x!), { size: [4, 5], mode: 'bilinear' }),
        [d64([1, 1, 3, 2])],
      ),
    ).toBe(true);
  });
});

describe('interpolate behaviour', () => {
  it('upsamples by nearest neighbour and the upsample alias', () => {
    const x = tensor(
      [
        [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      ],
      { dtype: 'float32' },
    );
    expect(F.interpolate(x, { scaleFactor: 2 }).toArray()).toEqual([
      [
        [
          [1, 1, 2, 2],
          [1, 1, 2, 2],
          [3, 3, 4, 4],
          [3, 3, 4, 4],
        ],
      ],
    ]);
    expect(F.upsample(x, { size: [2, 2] }).toArray()).toEqual(x.toArray());
  });
  it('bilinear with alignCorners keeps the corners', () => {
    const x = randn([1, 1, 3, 4], { dtype: 'float64' });
    const y = F.interpolate(x, { size: [5, 7], mode: 'bilinear', alignCorners: true });
    const a = x.dataSync();
    const b = y.dataSync();
    expect(b[0]).toBeCloseTo(a[0]!, 12);
    expect(b[6]).toBeCloseTo(a[3]!, 12);
    expect(b[34]).toBeCloseTo(a[11]!, 12);
  });
  it('handles a zero-size batch', () => {
    const x = randn([0, 2, 3, 3], { requiresGrad: true });
    const y = F.interpolate(x, { size: [5, 4], mode: 'bilinear' });
    expect(y.shape).toEqual([0, 2, 5, 4]);
    y.sum().backward();
    expect(x.grad!.shape).toEqual([0, 2, 3, 3]);
  });
  it('accepts non-contiguous input', () => {
    const x = randn([1, 4, 3, 2], { dtype: 'float64' }).permute(0, 3, 2, 1);
    const a = F.interpolate(x, { size: [5, 6], mode: 'bilinear' });
    const b = F.interpolate(x.contiguous(), { size: [5, 6], mode: 'bilinear' });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
  });
});

describe('interpolate errors', () => {
  const x = randn([1, 2, 3, 3]);
  it('rejects bad ranks and modes', () => {
    expect(() => F.interpolate(randn([3, 3]), { size: 2 })).toThrow(ShapeError);
    expect(() => F.interpolate(randn([3, 3]), { size: 2 })).toThrow(
      /interpolate: expected a 3-d \[N, C, L\] or 4-d \[N, C, H, W\] input, got shape \[3,3\]/,
    );
    expect(() => F.interpolate(randn([1, 2, 3]), { size: 4, mode: 'bilinear' })).toThrow(
      /interpolate: mode 'bilinear' needs a 4-d input, got shape \[1,2,3\]/,
    );
    expect(() => F.interpolate(x, { size: 4, mode: 'linear' })).toThrow(/mode 'linear' needs a 3-d input/);
    expect(() => F.interpolate(x, { size: 4, mode: 'cubic' as 'linear' })).toThrow(/unknown mode 'cubic'/);
    expect(() => F.interpolate(x, { size: 4, alignCorners: true })).toThrow(
      /interpolate: alignCorners can only be set with the linear modes/,
    );
  });
  it('rejects bad sizes', () => {
    expect(() => F.interpolate(x, {})).toThrow('interpolate: give exactly one of size and scaleFactor');
    expect(() => F.interpolate(x, { size: 2, scaleFactor: 2 })).toThrow(ValueError);
    expect(() => F.interpolate(x, { size: [2, 3, 4] })).toThrow(/size must be one number or 2 numbers/);
    expect(() => F.interpolate(x, { size: [0, 3] })).toThrow(
      'interpolate: size must be positive integers, got [0,3]',
    );
    expect(() => F.interpolate(x, { scaleFactor: -1 })).toThrow(/scaleFactor must be positive/);
    expect(() => F.interpolate(x, { scaleFactor: 0.2 })).toThrow(/gives an empty output \[0,0\]/);
  });
});
