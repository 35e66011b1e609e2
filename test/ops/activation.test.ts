import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  detectAnomaly,
  elu,
  gelu,
  gradcheck,
  gradgradcheck,
  hardsigmoid,
  hardswish,
  hardtanh,
  IndexError,
  leakyRelu,
  logSigmoid,
  logSoftmax,
  mish,
  nn,
  randn,
  relu6,
  selu,
  silu,
  softmax,
  softplus,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import { checkReference, type RefImpl } from '../helpers/reference.js';

const T = (v: unknown): Tensor => v as Tensor;
type Kw = Record<string, unknown>;
const num = (kw: Kw, k: string): number | undefined => kw[k] as number | undefined;

/** PyTorch name -> Neurite call, translating snake_case kwargs. */
const ACTS: Record<string, (x: Tensor, kw: Kw) => Tensor> = {
  leaky_relu: (x, kw) => leakyRelu(x, { negativeSlope: num(kw, 'negative_slope') }),
  elu: (x, kw) => elu(x, { alpha: num(kw, 'alpha') }),
  selu: (x) => selu(x),
  gelu: (x, kw) => gelu(x, { approximate: kw.approximate as 'none' | 'tanh' | undefined }),
  silu: (x) => silu(x),
  softplus: (x, kw) => softplus(x, { beta: num(kw, 'beta'), threshold: num(kw, 'threshold') }),
  mish: (x) => mish(x),
  hardtanh: (x, kw) => hardtanh(x, { minVal: num(kw, 'min_val'), maxVal: num(kw, 'max_val') }),
  relu6: (x) => relu6(x),
  hardsigmoid: (x) => hardsigmoid(x),
  hardswish: (x) => hardswish(x),
  logsigmoid: (x) => logSigmoid(x),
  softmax: (x, kw) => softmax(x, kw.dim as number),
  log_softmax: (x, kw) => logSoftmax(x, kw.dim as number),
};

const impls: Record<string, RefImpl> = {
  softmax_p: ([x], kw) => softmax(T(x).permute(2, 0, 1), kw.dim as number),
  log_softmax_p: ([x], kw) => logSoftmax(T(x).permute(2, 0, 1), kw.dim as number),
  softmax_dtype: ([x], kw) => softmax(T(x), kw.dim as number, { dtype: 'float64' }),
  log_softmax_dtype: ([x], kw) => logSoftmax(T(x), kw.dim as number, { dtype: 'float64' }),
};
for (const [name, fn] of Object.entries(ACTS)) {
  impls[name] = ([x], kw) => fn(T(x), kw);
  impls[`${name}_t`] = ([x], kw) => fn(T(x).t(), kw);
}

/** float64 leaf with values in (lo, hi), kept `gap` away from the given kinks. */
function f64(shape: number[], lo = -4, hi = 4, kinks: number[] = []): Tensor {
  const t = randn(shape, { dtype: 'float64' })
    .sigmoid()
    .mul(hi - lo)
    .add(lo);
  const d = Float64Array.from(t.dataSync());
  for (let i = 0; i < d.length; i++) {
    for (const k of kinks) if (Math.abs(d[i]! - k) < 1e-3) d[i] = k + 0.01;
  }
  return tensor(d, { shape, dtype: 'float64', requiresGrad: true });
}

const POINTWISE: [string, (x: Tensor) => Tensor, number[]][] = [
  ['leakyRelu', (x) => leakyRelu(x, { negativeSlope: 0.2 }), [0]],
  ['elu', (x) => elu(x, { alpha: 0.7 }), [0]],
  ['selu', selu, [0]],
  ['gelu', gelu, []],
  ['gelu tanh', (x) => gelu(x, { approximate: 'tanh' }), []],
  ['silu', silu, []],
  ['softplus', softplus, []],
  ['softplus beta/threshold', (x) => softplus(x, { beta: 2, threshold: 3 }), [1.5]],
  ['mish', mish, []],
  ['hardtanh', (x) => hardtanh(x, { minVal: -0.5, maxVal: 2 }), [-0.5, 2]],
  ['relu6', relu6, [0, 6]],
  ['hardsigmoid', hardsigmoid, [-3, 3]],
  ['hardswish', hardswish, [-3, 3]],
  ['logSigmoid', logSigmoid, []],
];

describe('activations: PyTorch reference', () => {
  it('matches forward values and gradients (float64 and float32)', () => {
    const n = checkReference('activation', impls, { checkDtype: true });
    expect(n).toBeGreaterThan(150);
  });
});

describe('activations: gradcheck', () => {
  for (const [name, fn, kinks] of POINTWISE) {
    it(`${name} (plain, transposed, 0-d, size-0)`, () => {
      expect(gradcheck(fn, [f64([3, 5], -7, 7, kinks)])).toBe(true);
      expect(gradcheck((x) => fn(x.t()), [f64([5, 3], -7, 7, kinks)])).toBe(true);
      expect(gradcheck(fn, [f64([], -2, 2, kinks)])).toBe(true);
      expect(gradcheck((x) => fn(x).sum(), [f64([2, 0])])).toBe(true);
    });
  }
  for (const [name, fn] of [
    ['softmax', softmax],
    ['logSoftmax', logSoftmax],
  ] as const) {
    it(`${name} over each dim, negative dims, non-contiguous, 0-d and size-0`, () => {
      const x = f64([2, 3, 4]);
      for (const d of [0, 1, 2, -1, -3]) expect(gradcheck((t) => fn(t, d), [x])).toBe(true);
      expect(gradcheck((t) => fn(t.permute(2, 0, 1), 1), [x])).toBe(true);
      expect(gradcheck((t) => fn(t.t(), 0), [f64([4, 3])])).toBe(true);
      expect(gradcheck((t) => fn(t, 0), [f64([])])).toBe(true);
      expect(gradcheck((t) => fn(t, 1).sum(), [f64([3, 0])])).toBe(true);
      expect(gradcheck((t) => fn(t, 1), [f64([2, 1])])).toBe(true);
      expect(gradcheck((t) => fn(t.mul(300), 1), [f64([2, 3])])).toBe(true);
    });
  }
  it('second order (gradgradcheck)', () => {
    for (const [, fn, kinks] of POINTWISE) {
      expect(gradgradcheck(fn, [f64([2, 3], -5, 5, kinks)])).toBe(true);
    }
    expect(gradgradcheck((t) => softmax(t, 1), [f64([2, 3])])).toBe(true);
    expect(gradgradcheck((t) => logSoftmax(t, 0), [f64([3, 2])])).toBe(true);
  });
});

describe('activations: semantics', () => {
  it('softmax and logSoftmax stay finite for huge inputs', () => {
    const x = tensor([1000, 1001, -1000], { dtype: 'float32', requiresGrad: true });
    const y = softmax(x, 0);
    for (const v of y.dataSync()) expect(Number.isFinite(v)).toBe(true);
    const ly = logSoftmax(x, 0);
    for (const v of ly.dataSync()) expect(Number.isFinite(v)).toBe(true);
    expect(ly.dataSync()[2]).toBeCloseTo(-2001.3133, 3);
    ly.sum().backward();
    for (const v of x.grad!.dataSync()) expect(Number.isFinite(v)).toBe(true);
  });
  it('softmax rows sum to one, and exp(logSoftmax) is softmax', () => {
    const x = randn([4, 7], { dtype: 'float64' });
    const s = softmax(x, -1).sum(-1).dataSync();
    for (const v of s) expect(v).toBeCloseTo(1, 12);
    const a = softmax(x, 0).dataSync();
    const b = logSoftmax(x, 0).exp().dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 12);
  });
  it('forms no Inf in unused branches (anomaly mode stays quiet)', () => {
    const x = tensor([-1000, 1000], { dtype: 'float64', requiresGrad: true });
    const y = detectAnomaly(() => elu(x).add(selu(x)).add(softplus(x)).add(mish(x)).add(logSigmoid(x)).sum());
    expect(Number.isFinite(y!.item())).toBe(true);
  });
  it('softmax records one node with the efficient backward', () => {
    const x = randn([2, 3], { requiresGrad: true });
    expect(softmax(x, 1).gradFn!.name).toBe('Softmax');
    expect(logSoftmax(x, 1).gradFn!.name).toBe('LogSoftmax');
    expect(gelu(x).gradFn!.name).toBe('Gelu');
  });
  it('softplus and logSigmoid are stable far from zero', () => {
    const x = tensor([-1000, -30, 30, 1000], { dtype: 'float64' });
    expect(softplus(x, { threshold: 1e9 }).toArray()).toEqual([
      0,
      Math.log1p(Math.exp(-30)),
      30 + Math.log1p(Math.exp(-30)),
      1000,
    ]);
    expect(logSigmoid(x).toArray()).toEqual([
      -1000,
      -30 - Math.log1p(Math.exp(-30)),
      -Math.log1p(Math.exp(-30)),
      -0,
    ]);
    expect(mish(x).dataSync()[3]).toBe(1000);
  });
  it('tensor methods and nn.functional', () => {
    const x = tensor([-2, -0.5, 0.5, 2], { dtype: 'float64' });
    expect(x.relu6().toArray()).toEqual(relu6(x).toArray());
    expect(x.leakyRelu({ negativeSlope: 0.1 }).toArray()).toEqual([-0.2, -0.05, 0.5, 2]);
    expect(x.hardtanh({ minVal: -1, maxVal: 1 }).toArray()).toEqual([-1, -0.5, 0.5, 1]);
    expect(x.softmax(0).toArray()).toEqual(softmax(x, 0).toArray());
    expect(x.logSoftmax(0).toArray()).toEqual(logSoftmax(x, 0).toArray());
    expect(x.gelu({ approximate: 'tanh' }).toArray()).toEqual(gelu(x, { approximate: 'tanh' }).toArray());
    for (const m of [
      'elu',
      'selu',
      'silu',
      'softplus',
      'mish',
      'hardsigmoid',
      'hardswish',
      'logSigmoid',
    ] as const) {
      expect(x[m]().toArray()).toEqual(nn.functional[m](x).toArray());
    }
  });
});

describe('activations: errors', () => {
  it('refuses integer inputs, naming the op', () => {
    expect(() => gelu(tensor([1, 2]))).toThrow(DTypeError);
    expect(() => gelu(tensor([1, 2]))).toThrow(/gelu: expected a floating tensor .* got int32/);
    expect(() => softmax(tensor([1, 2]), 0)).toThrow(/softmax: expected a floating tensor/);
    expect(() => logSoftmax(tensor([true]), 0)).toThrow(/logSoftmax: expected a floating tensor .* got bool/);
  });
  it('softmax dtype option casts integer inputs', () => {
    expect(softmax(tensor([0, 0]), 0, { dtype: 'float32' }).toArray()).toEqual([0.5, 0.5]);
  });
  it('bad dims and options', () => {
    expect(() => softmax(zeros([2, 3]), 2)).toThrow(IndexError);
    expect(() => softmax(zeros([2, 3]), 2)).toThrow(/softmax: dim 2 out of range for a 2-d tensor/);
    expect(() => logSoftmax(zeros([2, 3]), -3)).toThrow(/logSoftmax: dim -3 out of range/);
    expect(() => gelu(zeros([2]), { approximate: 'fast' as 'tanh' })).toThrow(ValueError);
    expect(() => gelu(zeros([2]), { approximate: 'fast' as 'tanh' })).toThrow(/gelu: approximate must be/);
    expect(() => hardtanh(zeros([2]), { minVal: 2, maxVal: 1 })).toThrow(
      /hardtanh: minVal \(2\) must not be greater/,
    );
    expect(() => softplus(zeros([2]), { beta: 0 })).toThrow(/softplus: beta must be non-zero/);
  });
});
