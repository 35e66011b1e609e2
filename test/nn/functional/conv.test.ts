import { describe, expect, it } from 'vitest';
import {
  autogradGrad,
  DTypeError,
  gradcheck,
  gradgradcheck,
  manualSeed,
  nn,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../../src/index.js';
import type { ConvOptions, ConvTransposeOptions, UnfoldOptions } from '../../../src/nn/functional/conv.js';
import { checkReference } from '../../helpers/reference.js';
import { d64 } from '../../helpers/tensors.js';

const F = nn.functional;
type Kw = Record<string, unknown>;
type IntOrTuple = number | number[];

const bias = (inputs: unknown[]): Tensor | null => (inputs[2] as Tensor | undefined) ?? null;

function expectSame(a: Tensor, b: Tensor, tol = 1e-12): void {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThanOrEqual(tol);
}

describe('conv reference (PyTorch)', () => {
  it('matches forward values and gradients', () => {
    const n = checkReference('nn_conv', {
      conv2d: (i, kw) => F.conv2d(i[0] as Tensor, i[1] as Tensor, bias(i), kw as ConvOptions),
      conv1d: (i, kw) => F.conv1d(i[0] as Tensor, i[1] as Tensor, bias(i), kw as ConvOptions),
      convTranspose2d: (i, kw) =>
        F.convTranspose2d(i[0] as Tensor, i[1] as Tensor, bias(i), kw as ConvTransposeOptions),
      convTranspose1d: (i, kw) =>
        F.convTranspose1d(i[0] as Tensor, i[1] as Tensor, bias(i), kw as ConvTransposeOptions),
      unfold: (i, kw: Kw) => F.unfold(i[0] as Tensor, kw.kernelSize as IntOrTuple, kw as UnfoldOptions),
      fold: (i, kw: Kw) =>
        F.fold(i[0] as Tensor, kw.outputSize as IntOrTuple, kw.kernelSize as IntOrTuple, kw as UnfoldOptions),
    });
    expect(n).toBeGreaterThan(20);
  });
});

describe('conv gradcheck', () => {
  it('conv2d with groups, stride and dilation', () => {
    const opts: ConvOptions = { groups: 2, stride: [2, 1], padding: [1, 0], dilation: [1, 2] };
    expect(
      gradcheck((x, w, b) => F.conv2d(x!, w!, b!, opts), [d64([2, 4, 5, 6]), d64([4, 2, 3, 2]), d64([4])]),
    ).toBe(true);
  });
  it("conv2d with padding 'same' and an even kernel", () => {
    expect(
      gradcheck(
        (x, w) => F.conv2d(x!, w!, null, { padding: 'same' }),
        [d64([1, 2, 4, 5]), d64([3, 2, 2, 4])],
      ),
    ).toBe(true);
  });
  it('depthwise conv2d', () => {
    expect(
      gradcheck(
        (x, w, b) => F.conv2d(x!, w!, b!, { groups: 3, padding: 1 }),
        [d64([2, 3, 4, 4]), d64([3, 1, 3, 3]), d64([3])],
      ),
    ).toBe(true);
  });
  it('conv1d', () => {
    expect(
      gradcheck(
        (x, w, b) => F.conv1d(x!, w!, b!, { stride: 2, padding: 2, dilation: 2 }),
        [d64([2, 3, 9]), d64([2, 3, 3]), d64([2])],
      ),
    ).toBe(true);
  });
  it('convTranspose2d', () => {
    const o: ConvTransposeOptions = { stride: 2, padding: 1, outputPadding: 1, groups: 2 };
    expect(
      gradcheck(
        (x, w, b) => F.convTranspose2d(x!, w!, b!, o),
        [d64([2, 4, 3, 2]), d64([4, 1, 3, 3]), d64([2])],
      ),
    ).toBe(true);
  });
  it('unfold and fold', () => {
    const o: UnfoldOptions = { stride: 2, padding: 1, dilation: [1, 2] };
    expect(gradcheck((x) => F.unfold(x!, [2, 3], o), [d64([2, 2, 5, 6])])).toBe(true);
    expect(gradcheck((x) => F.fold(x!, [5, 6], [2, 3], o), [d64([2, 12, 6])])).toBe(true);
  });
  it('second order: conv2d and convTranspose2d', () => {
    expect(
      gradgradcheck(
        (x, w, b) => F.conv2d(x!, w!, b!, { stride: 2, padding: 1, groups: 2 }),
        [d64([2, 2, 4, 5]), d64([4, 1, 3, 2]), d64([4])],
      ),
    ).toBe(true);
    expect(
      gradgradcheck(
        (x, w) => F.convTranspose2d(x!, w!, null, { stride: 2 }),
        [d64([1, 2, 3, 3]), d64([2, 2, 2, 2])],
      ),
    ).toBe(true);
  });
});

describe('conv shapes and layouts', () => {
  it('gives the same result for non-contiguous inputs and weights', () => {
    const x = randn([2, 5, 6, 3], { dtype: 'float64' });
    const w = randn([3, 4, 3, 2], { dtype: 'float64' });
    const xt = x.permute(0, 3, 2, 1); // [2,3,6,5], not contiguous
    const wt = w.transpose(0, 1); // [4,3,3,2]
    expectSame(
      F.conv2d(xt, wt, null, { padding: 1 }),
      F.conv2d(xt.contiguous(), wt.contiguous(), null, { padding: 1 }),
    );
  });
  it('handles a zero-size batch', () => {
    const x = zeros([0, 3, 5, 5], { dtype: 'float64', requiresGrad: true });
    const w = randn([4, 3, 3, 3], { dtype: 'float64', requiresGrad: true });
    const y = F.conv2d(x, w);
    expect(y.shape).toEqual([0, 4, 3, 3]);
    y.sum().backward();
    expect(x.grad!.shape).toEqual([0, 3, 5, 5]);
    expect(Array.from(w.grad!.dataSync()).every((v) => v === 0)).toBe(true);
  });
  it('works with size-1 spatial dims and float32', () => {
    const y = F.conv2d(randn([1, 2, 1, 1]), randn([3, 2, 1, 1]), randn([3]));
    expect(y.shape).toEqual([1, 3, 1, 1]);
    expect(y.dtype).toBe('float32');
  });
  it('skips the input gradient when the input needs none', () => {
    const x = randn([2, 1, 6, 6]);
    const w = randn([2, 1, 3, 3], { requiresGrad: true });
    F.conv2d(x, w).sum().backward();
    expect(x.grad).toBeNull();
    expect(w.grad!.shape).toEqual([2, 1, 3, 3]);
  });
});

describe('conv errors', () => {
  const x = randn([2, 3, 5, 5]);
  it('rejects a channel mismatch', () => {
    expect(() => F.conv2d(x, randn([32, 1, 5, 5]))).toThrow(ShapeError);
    expect(() => F.conv2d(x, randn([32, 1, 5, 5]))).toThrow(
      'conv2d: input has 3 channels but weight expects 1 (weight shape [32,1,5,5])',
    );
    expect(() => F.convTranspose2d(x, randn([4, 1, 2, 2]))).toThrow(
      /convTranspose2d: input has 3 channels but weight expects 4/,
    );
  });
  it('rejects wrong ranks', () => {
    expect(() => F.conv2d(randn([3, 5]), randn([1, 3, 2, 2]))).toThrow(
      /conv2d: expected a 4-d input .* got shape \[3,5\]/,
    );
    expect(() => F.conv2d(x, randn([1, 3, 2]))).toThrow(
      /conv2d: expected a 4-d weight .* got shape \[1,3,2\]/,
    );
    expect(() => F.conv1d(x, randn([1, 3, 2]))).toThrow(/conv1d: expected a 3-d input/);
    expect(() => F.unfold(randn([5]), 2)).toThrow(/unfold: expected a 4-d input/);
    expect(() => F.fold(randn([2, 4, 4, 1]), 3, 2)).toThrow(/fold: expected a 3-d input/);
  });
  it('rejects a kernel larger than the padded input', () => {
    expect(() => F.conv2d(randn([1, 1, 3, 3]), randn([1, 1, 5, 5]))).toThrow(
      /conv2d: kernel size 5x5 \(dilated 5x5\) is larger than the padded input 3x3/,
    );
    expect(() => F.conv2d(randn([1, 1, 5, 5]), randn([1, 1, 3, 3]), null, { dilation: 3 })).toThrow(
      /dilated 7x7\) is larger than the padded input 5x5/,
    );
    expect(() => F.unfold(randn([1, 1, 2, 2]), 3)).toThrow(/unfold: kernel 3x3 .* does not fit/);
  });
  it('rejects groups that do not divide the channels', () => {
    expect(() => F.conv2d(x, randn([4, 1, 3, 3]), null, { groups: 2 })).toThrow(
      /conv2d: groups 2 must divide the input channels 3/,
    );
    expect(() => F.conv2d(randn([1, 4, 5, 5]), randn([3, 2, 3, 3]), null, { groups: 2 })).toThrow(
      /conv2d: groups 2 must divide the output channels 3/,
    );
    expect(() => F.conv2d(randn([1, 4, 5, 5]), randn([4, 1, 3, 3]), null, { groups: 2 })).toThrow(
      /conv2d: input has 4 channels but weight expects 2 \(2 groups of 1; weight shape \[4,1,3,3\]\)/,
    );
    expect(() => F.conv2d(x, randn([3, 3, 3, 3]), null, { groups: 0 })).toThrow(ValueError);
  });
  it('rejects invalid stride, padding and dilation', () => {
    const w = randn([2, 3, 3, 3]);
    expect(() => F.conv2d(x, w, null, { stride: 0 })).toThrow(
      'conv2d: stride must be positive integers, got [0,0]',
    );
    expect(() => F.conv2d(x, w, null, { padding: -1 })).toThrow(
      'conv2d: padding must be non-negative integers, got [-1,-1]',
    );
    expect(() => F.conv2d(x, w, null, { dilation: [1, 2, 3] })).toThrow(
      'conv2d: dilation must be one integer or 2 integers, got [1,2,3]',
    );
    expect(() => F.conv2d(x, w, null, { padding: 'same', stride: 2 })).toThrow(
      /conv2d: padding='same' is not supported for strided convolutions/,
    );
    expect(() => F.convTranspose2d(x, randn([3, 2, 3, 3]), null, { outputPadding: 2, stride: 2 })).toThrow(
      /convTranspose2d: outputPadding \[2,2\] must be smaller than either stride/,
    );
  });
  it('rejects a bad bias and mixed dtypes', () => {
    expect(() => F.conv2d(x, randn([2, 3, 3, 3]), randn([3]))).toThrow(
      'conv2d: bias must have shape [2], got [3]',
    );
    expect(() => F.conv2d(x, randn([2, 3, 3, 3], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => F.conv2d(x, randn([2, 3, 3, 3], { dtype: 'float64' }))).toThrow(
      /conv2d: input dtype float32 and weight dtype float64 differ/,
    );
  });
  it('rejects fold inputs that do not match the block count', () => {
    expect(() => F.fold(randn([1, 8, 5]), [4, 4], 2)).toThrow(/fold: expected 9 blocks \(3x3\)/);
    expect(() => F.fold(randn([1, 7, 9]), [4, 4], 2)).toThrow(/fold: input dim 1 \(7\) must be divisible/);
  });
});

describe('conv2dMaxPool2d', () => {
  const F = nn.functional;
  /** Output and gradients (x, w, b) of `f`, backward of sum(out * weights). */
  function run(
    f: (x: Tensor, w: Tensor, b: Tensor | null) => Tensor,
    x: Tensor,
    w: Tensor,
    b: Tensor | null,
  ): Float32Array[] {
    for (const t of [x, w, b]) if (t) t.grad = null;
    const y = f(x, w, b);
    y.mul(sinLike(y.shape)).sum().backward();
    return [y, x.grad!, w.grad!, ...(b ? [b.grad!] : [])].map((t) => t.dataSync() as Float32Array);
  }
  function sinLike(shape: readonly number[]): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return tensor(Array.from({ length: n }, (_, i) => Math.sin(i * 0.37))).reshape([...shape]);
  }
  const cases: [
    string,
    number[],
    number[],
    ConvOptions,
    number | number[],
    Record<string, unknown>,
    boolean,
  ][] = [
    ['MNIST-like 2x2', [3, 2, 12, 12], [4, 2, 5, 5], { padding: 2 }, 2, {}, true],
    ['odd output (dropped edge)', [2, 3, 9, 11], [5, 3, 3, 3], { padding: 1 }, [2, 2], { stride: 2 }, false],
    ['strided conv', [2, 2, 13, 13], [3, 2, 3, 3], { stride: 2, padding: 1 }, 2, {}, true],
    [
      '3x3 pool (not fused)',
      [2, 2, 10, 10],
      [3, 2, 3, 3],
      { padding: 1 },
      3,
      { stride: 2, padding: 1 },
      true,
    ],
    ['ceil mode (not fused)', [2, 2, 9, 9], [3, 2, 3, 3], {}, 2, { ceilMode: true }, false],
    ['groups 2 (not fused)', [2, 4, 8, 8], [4, 2, 3, 3], { padding: 1, groups: 2 }, 2, {}, true],
  ];
  for (const [name, xs, ws, convOptions, k, poolOptions, withBias] of cases) {
    it(`gives maxPool2d(conv2d(...)) bit for bit, forward and backward (${name})`, () => {
      manualSeed(21);
      // Integer-valued inputs: ties in the pooling windows.
      const x = randn(xs).mul(2).round().requiresGrad_();
      const w = randn(ws).requiresGrad_();
      const b = withBias ? randn([ws[0]!]).requiresGrad_() : null;
      const want = run((x, w, b) => F.maxPool2d(F.conv2d(x, w, b, convOptions), k, poolOptions), x, w, b);
      const got = run((x, w, b) => F.conv2dMaxPool2d(x, w, b, convOptions, k, poolOptions), x, w, b);
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => {
        expect(g, `result ${i}`).toEqual(want[i]);
      });
    });
  }

  it('supports double backward (createGraph) like the two ops', () => {
    manualSeed(22);
    const x = randn([2, 2, 8, 8]).requiresGrad_();
    const w = randn([3, 2, 3, 3]).requiresGrad_();
    const second = (f: (x: Tensor, w: Tensor) => Tensor) => {
      const [gx] = autogradGrad(f(x, w).pow(2).sum(), [x], { createGraph: true });
      const [gw] = autogradGrad(gx!.pow(2).sum(), [w]);
      return gw!.dataSync();
    };
    const want = second((x, w) => F.maxPool2d(F.conv2d(x, w, null, { padding: 1 }), 2));
    const got = second((x, w) => F.conv2dMaxPool2d(x, w, null, { padding: 1 }, 2));
    expect(got).toEqual(want);
  });

  it('passes gradcheck in float64', () => {
    expect(
      gradcheck(
        (x, w, b) => F.conv2dMaxPool2d(x!, w!, b!, { padding: 1 }, 2),
        [d64([2, 2, 6, 6]), d64([3, 2, 3, 3]), d64([3])],
      ),
    ).toBe(true);
  });

  it('names conv2d in errors about its operands', () => {
    expect(() => F.conv2dMaxPool2d(randn([2, 3, 8, 8]), randn([4, 2, 3, 3]), null, {}, 2)).toThrow(
      /conv2d: input has 3 channels but weight expects 2/,
    );
  });
});
