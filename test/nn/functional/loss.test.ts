import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  detectAnomaly,
  gradcheck,
  gradgradcheck,
  IndexError,
  nn,
  randint,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../../src/index.js';
import { checkReference, type RefImpl } from '../../helpers/reference.js';

const F = nn.functional;
const T = (v: unknown): Tensor => v as Tensor;
const OT = (v: unknown): Tensor | undefined => (v === undefined ? undefined : (v as Tensor));
type Kw = Record<string, unknown>;
type Red = 'mean' | 'sum' | 'none';
const red = (kw: Kw): Red | undefined => kw.reduction as Red | undefined;

type Reg = (a: Tensor, b: Tensor, kw: Kw) => Tensor;
const REG: Record<string, Reg> = {
  mse_loss: (a, b, kw) => F.mseLoss(a, b, { reduction: red(kw) }),
  l1_loss: (a, b, kw) => F.l1Loss(a, b, { reduction: red(kw) }),
  smooth_l1_loss: (a, b, kw) =>
    F.smoothL1Loss(a, b, { reduction: red(kw), beta: kw.beta as number | undefined }),
  huber_loss: (a, b, kw) => F.huberLoss(a, b, { reduction: red(kw), delta: kw.delta as number | undefined }),
};

const clsOpts = (kw: Kw, w: unknown) => ({
  reduction: red(kw),
  weight: OT(w),
  ignoreIndex: kw.ignore_index as number | undefined,
  labelSmoothing: kw.label_smoothing as number | undefined,
});

const impls: Record<string, RefImpl> = {
  nll_loss: ([a, t, w], kw) => F.nllLoss(T(a), T(t), clsOpts(kw, w)),
  nll_loss_t: ([a, t, w], kw) => F.nllLoss(T(a).t(), T(t), clsOpts(kw, w)),
  cross_entropy: ([a, t, w], kw) => F.crossEntropy(T(a), T(t), clsOpts(kw, w)),
  cross_entropy_t: ([a, t, w], kw) => F.crossEntropy(T(a).t(), T(t), clsOpts(kw, w)),
  bce: ([a, t, w], kw) => F.binaryCrossEntropy(T(a), T(t), { reduction: red(kw), weight: OT(w) }),
  bce_t: ([a, t], kw) => F.binaryCrossEntropy(T(a).t(), T(t), { reduction: red(kw) }),
  bce_logits: ([a, t, w], kw) =>
    F.binaryCrossEntropyWithLogits(T(a), T(t), { reduction: red(kw), weight: OT(w) }),
  bce_logits_t: ([a, t], kw) => F.binaryCrossEntropyWithLogits(T(a).t(), T(t), { reduction: red(kw) }),
  bce_logits_pw: ([a, t, p], kw) =>
    F.binaryCrossEntropyWithLogits(T(a), T(t), { reduction: red(kw), posWeight: T(p) }),
  bce_logits_wpw: ([a, t, w, p], kw) =>
    F.binaryCrossEntropyWithLogits(T(a), T(t), { reduction: red(kw), weight: T(w), posWeight: T(p) }),
  kl_div: ([a, t], kw) =>
    F.klDiv(T(a), T(t), {
      reduction: kw.reduction as Red | 'batchmean' | undefined,
      logTarget: kw.log_target as boolean | undefined,
    }),
  kl_div_nt: ([a, t], kw) => F.klDiv(T(a), T(t), { reduction: kw.reduction as 'batchmean' }),
  cosine: ([a, b], kw) =>
    F.cosineSimilarity(T(a), T(b), { dim: kw.dim as number | undefined, eps: kw.eps as number | undefined }),
  cosine_t: ([a, b], kw) => F.cosineSimilarity(T(a).t(), T(b), { dim: kw.dim as number | undefined }),
};
for (const [name, fn] of Object.entries(REG)) {
  impls[name] = ([a, b], kw) => fn(T(a), T(b), kw);
  impls[`${name}_t`] = ([a, b], kw) => fn(T(a).t(), T(b), kw);
}

const f64 = (shape: number[], scale = 1): Tensor =>
  randn(shape, { dtype: 'float64' }).mul(scale).requiresGrad_();
const probs = (shape: number[]): Tensor =>
  randn(shape, { dtype: 'float64' }).sigmoid().mul(0.9).add(0.05).requiresGrad_();
const REDS: Red[] = ['mean', 'sum', 'none'];

describe('losses: PyTorch reference', () => {
  it('match forward values and gradients (float64 and float32)', () => {
    const n = checkReference('loss', impls, { checkDtype: true });
    expect(n).toBeGreaterThan(150);
  });
});

describe('losses: gradcheck', () => {
  it('regression losses, every reduction, 0-d and transposed inputs', () => {
    for (const [name, fn] of Object.entries(REG)) {
      for (const reduction of REDS) {
        for (const kw of [{}, { beta: 0.7, delta: 0.7 }]) {
          const ok = gradcheck((a, b) => fn(a, b, { reduction, ...kw }), [f64([3, 4]), f64([3, 4])]);
          expect(ok, name).toBe(true);
        }
      }
      expect(gradcheck((a, b) => fn(a, b, {}), [f64([]), f64([])])).toBe(true);
      expect(gradcheck((a, b) => fn(a.t(), b, {}), [f64([4, 3]), f64([3, 4])])).toBe(true);
    }
  });
  it('nllLoss and crossEntropy with weight, ignoreIndex, labelSmoothing, k-d inputs', () => {
    const w = randn([4], { dtype: 'float64' }).abs().add(0.2);
    const t = tensor([0, 3, -100, 1, 2]);
    const t3 = randint(0, 4, [2, 3, 2]);
    for (const reduction of REDS) {
      const opts = { reduction, weight: w };
      expect(gradcheck((x) => F.nllLoss(x, t, opts), [f64([5, 4])])).toBe(true);
      expect(gradcheck((x) => F.crossEntropy(x, t, opts), [f64([5, 4])])).toBe(true);
      expect(gradcheck((x) => F.crossEntropy(x, t, { ...opts, labelSmoothing: 0.2 }), [f64([5, 4])])).toBe(
        true,
      );
      expect(gradcheck((x) => F.crossEntropy(x, t3, { reduction }), [f64([2, 4, 3, 2])])).toBe(true);
      expect(gradcheck((x, p) => F.crossEntropy(x, p.softmax(1), opts), [f64([5, 4]), f64([5, 4])])).toBe(
        true,
      );
    }
    expect(gradcheck((x) => F.crossEntropy(x.t(), t), [f64([4, 5])])).toBe(true);
    expect(gradcheck((x) => F.crossEntropy(x, tensor(2)), [f64([4])])).toBe(true);
    expect(gradcheck((x) => F.crossEntropy(x, tensor([1, 0]), { weight: w }), [f64([2, 4], 300)])).toBe(true);
  });
  it('binary cross entropy (probabilities and logits)', () => {
    const bw = randn([4], { dtype: 'float64' }).abs();
    for (const reduction of REDS) {
      expect(
        gradcheck(
          (x, t) => F.binaryCrossEntropy(x, t, { reduction, weight: bw }),
          [probs([3, 4]), probs([3, 4])],
        ),
      ).toBe(true);
      const opts = { reduction, weight: bw, posWeight: bw.add(0.5) };
      expect(
        gradcheck((x, t) => F.binaryCrossEntropyWithLogits(x, t, opts), [f64([3, 4], 3), probs([3, 4])]),
      ).toBe(true);
    }
    const target = probs([3, 4]).detach();
    const pw = f64([4]);
    const withPw = (x: Tensor, p: Tensor) => F.binaryCrossEntropyWithLogits(x, target, { posWeight: p });
    expect(gradcheck(withPw, [f64([3, 4]), pw])).toBe(true);
  });
  it('klDiv and cosineSimilarity', () => {
    for (const reduction of ['mean', 'batchmean', 'sum', 'none'] as const) {
      expect(
        gradcheck(
          (x, t) => F.klDiv(x.logSoftmax(1), t.softmax(1), { reduction }),
          [f64([3, 4]), f64([3, 4])],
        ),
      ).toBe(true);
      expect(
        gradcheck((x, t) => F.klDiv(x, t, { reduction, logTarget: true }), [f64([3, 4]), f64([3, 4])]),
      ).toBe(true);
    }
    for (const dim of [0, 1, -1]) {
      expect(gradcheck((a, b) => F.cosineSimilarity(a, b, { dim }), [f64([3, 4]), f64([3, 4])])).toBe(true);
    }
    expect(gradcheck((a, b) => F.cosineSimilarity(a, b), [f64([3, 4]), f64([1, 4])])).toBe(true);
    expect(gradcheck((a, b) => F.cosineSimilarity(a.t(), b, { dim: 0 }), [f64([4, 3]), f64([3, 1])])).toBe(
      true,
    );
  });
  it('second order (gradgradcheck)', () => {
    const t = tensor([0, 3, -100, 1]);
    expect(gradgradcheck((x) => F.crossEntropy(x, t, { labelSmoothing: 0.1 }), [f64([4, 4])])).toBe(true);
    expect(gradgradcheck((x, y) => F.mseLoss(x, y), [f64([2, 3]), f64([2, 3])])).toBe(true);
    expect(gradgradcheck((x, y) => F.huberLoss(x, y, { delta: 0.5 }), [f64([2, 3]), f64([2, 3])])).toBe(true);
    expect(gradgradcheck((x, y) => F.binaryCrossEntropy(x, y), [probs([2, 3]), probs([2, 3])])).toBe(true);
    expect(gradgradcheck((x, y) => F.binaryCrossEntropyWithLogits(x, y), [f64([2, 3]), probs([2, 3])])).toBe(
      true,
    );
    expect(gradgradcheck((a, b) => F.cosineSimilarity(a, b), [f64([2, 3]), f64([2, 3])])).toBe(true);
  });
});

describe('losses: semantics', () => {
  it('crossEntropy is stable for huge logits (float32)', () => {
    const x = tensor(
      [
        [1000, -1000, 0],
        [1e4, 0, 0],
      ],
      { dtype: 'float32', requiresGrad: true },
    );
    const l = F.crossEntropy(x, tensor([1, 0]), { reduction: 'none' });
    expect(Array.from(l.dataSync(), (v) => v + 0)).toEqual([2000, 0]);
    l.sum().backward();
    for (const v of x.grad!.dataSync()) expect(Number.isFinite(v)).toBe(true);
  });
  it('weighted nllLoss mean divides by the sum of the target weights', () => {
    const logp = tensor(
      [
        [-1, -2],
        [-3, -4],
        [-5, -6],
      ],
      { dtype: 'float64' },
    );
    const w = tensor([2, 0.5], { dtype: 'float64' });
    const l = F.nllLoss(logp, tensor([0, 1, -100]), { weight: w });
    expect(l.item()).toBeCloseTo((2 * 1 + 0.5 * 4) / 2.5, 12);
  });
  it('mean over all-ignored targets is NaN (0/0), like PyTorch', () => {
    const l = F.nllLoss(zeros([2, 3]), tensor([-100, -100]));
    expect(Number.isNaN(l.item())).toBe(true);
  });
  it('binaryCrossEntropy clamps log at -100', () => {
    const l = F.binaryCrossEntropy(
      tensor([0, 1], { dtype: 'float32' }),
      tensor([1, 0], { dtype: 'float32' }),
      {
        reduction: 'none',
      },
    );
    expect(l.toArray()).toEqual([100, 100]);
    const x = tensor([0, 1], { dtype: 'float64', requiresGrad: true });
    F.binaryCrossEntropy(x, tensor([1, 0], { dtype: 'float64' })).backward();
    for (const v of x.grad!.dataSync()) expect(Number.isFinite(v)).toBe(true);
  });
  it('binaryCrossEntropy at exactly 0 and 1 passes anomaly mode', () => {
    const x = tensor([0, 1, 0.5], { dtype: 'float64', requiresGrad: true });
    const t = tensor([1, 0, 1], { dtype: 'float64' });
    const l = detectAnomaly(() => F.binaryCrossEntropy(x, t, { reduction: 'sum' }));
    expect(l!.item()).toBeCloseTo(200 + Math.log(2), 12);
  });
  it('binaryCrossEntropyWithLogits is stable for huge logits', () => {
    const l = F.binaryCrossEntropyWithLogits(
      tensor([-1000, 1000], { dtype: 'float32' }),
      tensor([1, 0], { dtype: 'float32' }),
      {
        reduction: 'none',
      },
    );
    expect(l.toArray()).toEqual([1000, 1000]);
  });
  it('klDiv batchmean is the KL divergence per row', () => {
    const p = tensor([[0.5, 0.5]], { dtype: 'float64' });
    const q = tensor([[0.25, 0.75]], { dtype: 'float64' });
    const kl = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75);
    expect(F.klDiv(q.log(), p, { reduction: 'batchmean' }).item()).toBeCloseTo(kl, 12);
  });
  it('cosineSimilarity of a zero vector is 0', () => {
    expect(F.cosineSimilarity(zeros([1, 3]), tensor([[1, 2, 3]], { dtype: 'float32' })).toArray()).toEqual([
      0,
    ]);
  });
  it('crossEntropy over size-0 batches', () => {
    expect(F.crossEntropy(zeros([0, 3]), zeros([0], { dtype: 'int32' }), { reduction: 'sum' }).item()).toBe(
      0,
    );
    expect(
      F.crossEntropy(zeros([0, 3]), zeros([0], { dtype: 'int32' }), { reduction: 'none' }).shape,
    ).toEqual([0]);
  });
});

describe('crossEntropy with class indices (fused op)', () => {
  /** The composite formula: -w[t] * logSoftmax(x)[t], 0 for ignored rows, reduced like PyTorch. */
  function reference(x: Tensor, t: number[], w: Tensor | undefined, ignore: number, reduction: Red): Tensor {
    const logp = x.logSoftmax(1);
    const C = x.shape[1]!;
    const N = x.shape[0]!;
    const oh = zeros([N, C], { dtype: x.dtype });
    const od = oh.dataSync();
    const rw = zeros([N], { dtype: x.dtype });
    const rd = rw.dataSync();
    const wd = w?.dataSync();
    for (let i = 0; i < N; i++) {
      if (t[i] === ignore) continue;
      od[i * C + t[i]!] = 1;
      rd[i] = wd ? wd[t[i]!]! : 1;
    }
    const per = logp.mul(oh).sum(1).mul(rw).neg();
    if (reduction === 'none') return per;
    return reduction === 'sum' ? per.sum() : per.sum().div(rw.sum());
  }

  it('matches the composite formula (weights, ignoreIndex, reductions, strided input, both dtypes)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const tol = dtype === 'float32' ? 1e-5 : 1e-12;
      const t = [2, 0, 4, 1, 4, 3];
      const w = randn([5], { dtype }).abs().add(0.1);
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        for (const [weight, ignore] of [
          [undefined, -100],
          [w, -100],
          [w, 4],
          [undefined, 0],
        ] as const) {
          for (const strided of [false, true]) {
            const x0 = randn(strided ? [5, 6] : [6, 5], { dtype }).mul(3);
            const xa = x0.clone().requiresGrad_();
            const xb = x0.clone().requiresGrad_();
            const va = strided ? xa.t() : xa;
            const vb = strided ? xb.t() : xb;
            const la = F.crossEntropy(va, tensor(t), { weight, ignoreIndex: ignore, reduction });
            const lb = reference(vb, t, weight, ignore, reduction);
            expect(la.shape).toEqual(lb.shape);
            const g = randn(la.shape, { dtype });
            la.backward(g);
            lb.backward(g);
            const pairs: [Tensor, Tensor][] = [
              [la, lb],
              [xa.grad!, xb.grad!],
            ];
            for (const [a, b] of pairs) {
              const da = a.dataSync();
              const db = b.dataSync();
              for (let i = 0; i < da.length; i++) {
                expect(Math.abs(da[i]! - db[i]!)).toBeLessThan(tol * (1 + Math.abs(db[i]!)));
              }
            }
          }
        }
      }
    }
  });

  it('second order through the fused op (gradgradcheck, float64)', () => {
    const t = tensor([0, 3, -100, 1]);
    const w = randn([4], { dtype: 'float64' }).abs().add(0.2);
    for (const reduction of REDS) {
      expect(gradgradcheck((x) => F.crossEntropy(x, t, { reduction }), [f64([4, 4])])).toBe(true);
      expect(gradgradcheck((x) => F.crossEntropy(x, t, { reduction, weight: w }), [f64([4, 4])])).toBe(true);
    }
    expect(gradgradcheck((x) => F.crossEntropy(x, tensor(1)), [f64([3])])).toBe(true);
  });

  it('all targets ignored: mean is NaN like PyTorch, sum is 0', () => {
    const x = randn([2, 3]);
    expect(F.crossEntropy(x, tensor([-100, -100])).item()).toBeNaN();
    expect(F.crossEntropy(x, tensor([-100, -100]), { reduction: 'sum' }).item()).toBe(0);
  });
});

describe('losses: errors', () => {
  it('target class out of range names the value and the number of classes', () => {
    expect(() => F.crossEntropy(zeros([2, 3]), tensor([0, 3]))).toThrow(IndexError);
    expect(() => F.crossEntropy(zeros([2, 3]), tensor([0, 3]))).toThrow(
      /crossEntropy: target 3 is out of bounds for 3 classes/,
    );
    expect(() => F.nllLoss(zeros([2, 3]), tensor([-1, 0]))).toThrow(
      /nllLoss: target -1 is out of bounds for 3 classes/,
    );
  });
  it('shape mismatches name both shapes', () => {
    expect(() => F.mseLoss(zeros([2, 3]), zeros([3]))).toThrow(ShapeError);
    expect(() => F.mseLoss(zeros([2, 3]), zeros([3]))).toThrow(
      /mseLoss: input shape \[2,3\] and target shape \[3\]/,
    );
    expect(() => F.l1Loss(zeros([2]), zeros([2, 1]))).toThrow(
      /l1Loss: input shape \[2\] and target shape \[2,1\]/,
    );
    expect(() => F.binaryCrossEntropy(zeros([2]), zeros([3]))).toThrow(
      /binaryCrossEntropy: input shape \[2\] and target shape \[3\]/,
    );
    expect(() => F.binaryCrossEntropyWithLogits(zeros([2]), zeros([3]))).toThrow(
      /input shape \[2\] and target shape \[3\]/,
    );
    expect(() => F.klDiv(zeros([2]), zeros([3]))).toThrow(/klDiv: input shape \[2\] and target shape \[3\]/);
    expect(() => F.crossEntropy(zeros([2, 3]), tensor([0, 1, 2]))).toThrow(
      /crossEntropy: input shape \[2,3\] expects a target of shape \[2\], got target shape \[3\]/,
    );
    expect(() => F.nllLoss(zeros([3]), tensor([0]))).toThrow(
      /nllLoss: input shape \[3\] expects a target of shape \[\]/,
    );
    expect(() => F.crossEntropy(zeros([2, 3]), zeros([2, 4]))).toThrow(
      /crossEntropy: input shape \[2,3\] and target shape \[2,4\] do not match/,
    );
    expect(() => F.crossEntropy(zeros([]), tensor(0))).toThrow(/crossEntropy: input must have a class dim/);
  });
  it('float targets where class indices are expected', () => {
    expect(() => F.crossEntropy(zeros([2, 3]), zeros([2]))).toThrow(DTypeError);
    expect(() => F.crossEntropy(zeros([2, 3]), zeros([2]))).toThrow(
      /crossEntropy: target must hold class indices as an int32 tensor, got float32 of shape \[2\]/,
    );
    expect(() => F.nllLoss(zeros([2, 3]), zeros([2]))).toThrow(
      /nllLoss: target must hold class indices .* got float32/,
    );
    expect(() => F.crossEntropy(zeros([2, 3]), tensor([true, false]))).toThrow(/got bool/);
    expect(() => F.mseLoss(zeros([2]), tensor([1, 2]))).toThrow(
      /mseLoss: target must be a floating tensor .* got int32/,
    );
    expect(() => F.mseLoss(tensor([1, 2]), zeros([2]))).toThrow(
      /mseLoss: expected a floating tensor .* got int32/,
    );
  });
  it('bad weights and options', () => {
    expect(() => F.crossEntropy(zeros([2, 3]), tensor([0, 1]), { weight: zeros([4]) })).toThrow(
      /crossEntropy: weight must have shape \[3\] \(one entry per class\), got \[4\]/,
    );
    expect(() => F.mseLoss(zeros([2]), zeros([2]), { reduction: 'avg' as 'mean' })).toThrow(ValueError);
    expect(() => F.mseLoss(zeros([2]), zeros([2]), { reduction: 'avg' as 'mean' })).toThrow(
      /mseLoss: unknown reduction 'avg' \(expected 'mean', 'sum', 'none'\)/,
    );
    expect(() => F.klDiv(zeros([2]), zeros([2]), { reduction: 'batch' as 'sum' })).toThrow(/'batchmean'/);
    expect(() => F.crossEntropy(zeros([2, 3]), tensor([0, 1]), { labelSmoothing: 1.5 })).toThrow(
      /crossEntropy: labelSmoothing must be in \[0, 1\], got 1.5/,
    );
    expect(() => F.crossEntropy(zeros([2, 3]), zeros([2, 3]), { ignoreIndex: 1 })).toThrow(
      /crossEntropy: ignoreIndex is not supported for class-probability/,
    );
    expect(() => F.smoothL1Loss(zeros([2]), zeros([2]), { beta: -1 })).toThrow(
      /smoothL1Loss: beta must be non-negative/,
    );
    expect(() => F.huberLoss(zeros([2]), zeros([2]), { delta: 0 })).toThrow(
      /huberLoss: delta must be positive, got 0/,
    );
    expect(() => F.binaryCrossEntropy(tensor([0.5, 1.5]), zeros([2]))).toThrow(
      /binaryCrossEntropy: input values must be between 0 and 1 \(got 1.5 at element 1\)/,
    );
    expect(() => F.binaryCrossEntropy(zeros([2]), zeros([2]), { weight: zeros([3]) })).toThrow(ShapeError);
    expect(() =>
      F.binaryCrossEntropyWithLogits(zeros([2, 3]), zeros([2, 3]), { posWeight: zeros([2]) }),
    ).toThrow(/binaryCrossEntropyWithLogits: shapes \[2\] and \[2,3\] cannot be broadcast/);
    expect(() => F.cosineSimilarity(zeros([2, 3]), zeros([2, 3]), { dim: 2 })).toThrow(
      /cosineSimilarity: dim 2 out of range/,
    );
  });
});
