/**
 * The fused CPU training kernels (conv2d and its gradients, batch norm, ReLU backward, 2x2 max
 * pooling, float32 exp) against the differentiable compositions they replace, and the autograd
 * engine's adoption of fresh leaf gradients (never aliasing a tensor someone else holds).
 */
import { describe, expect, it } from 'vitest';
import {
  autogradGrad,
  customOp,
  exp,
  gradcheck,
  gradgradcheck,
  nn,
  noGrad,
  randn,
  type Tensor,
  tensor,
  zeros,
} from '../../../src/index.js';
import type { ConvOptions } from '../../../src/nn/functional/conv.js';

const F = nn.functional;

/** Gradients of sum(out * gOut) w.r.t. `inputs`, via the fused path (plain) or the recorded path (createGraph). */
function grads(f: () => Tensor, inputs: Tensor[], gOut: Tensor | null, createGraph: boolean): Tensor[] {
  const out = f();
  const g = gOut ?? randn(out.shape, { dtype: out.dtype });
  return autogradGrad([out], inputs, { gradOutputs: [g], createGraph }).map((t) => t!.detach());
}

function expectClose(a: Tensor, b: Tensor, tol: number): void {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / (1 + Math.abs(y[i]!)));
  expect(worst).toBeLessThanOrEqual(tol);
}

/** Both backward paths of f agree (same output gradient). */
function samePaths(f: () => Tensor, inputs: Tensor[], tol: number): void {
  const out = f();
  const g = randn(out.shape, { dtype: out.dtype });
  const plain = grads(f, inputs, g, false);
  const recorded = grads(f, inputs, g, true);
  for (let i = 0; i < plain.length; i++) expectClose(plain[i]!, recorded[i]!, tol);
}

describe('fused conv2d kernels', () => {
  const cases: [string, number[], number[], ConvOptions][] = [
    ['plain', [2, 3, 7, 6], [4, 3, 3, 3], { padding: 1 }],
    ['stride+dilation', [2, 2, 9, 8], [3, 2, 3, 2], { stride: [2, 1], dilation: [1, 2], padding: [2, 1] }],
    ['groups', [3, 4, 5, 5], [6, 2, 3, 3], { groups: 2, padding: 1 }],
    ['5x5 same', [2, 1, 8, 8], [4, 1, 5, 5], { padding: 'same' }],
    ['big padding', [1, 2, 3, 3], [2, 2, 2, 2], { padding: 3, stride: 2 }],
  ];
  for (const [name, xs, ws, o] of cases) {
    it(`matches the recorded path and gradcheck (${name})`, () => {
      for (const dtype of ['float64', 'float32'] as const) {
        const x = randn(xs, { dtype, requiresGrad: true });
        const w = randn(ws, { dtype, requiresGrad: true });
        const b = randn([ws[0]!], { dtype, requiresGrad: true });
        samePaths(() => F.conv2d(x, w, b, o), [x, w, b], dtype === 'float64' ? 1e-12 : 1e-5);
      }
      const x = randn(xs, { dtype: 'float64', requiresGrad: true });
      const w = randn(ws, { dtype: 'float64', requiresGrad: true });
      expect(gradcheck((a, c) => F.conv2d(a!, c!, null, o), [x, w])).toBe(true);
    });
  }
  it('reads non-contiguous input, weight, bias and output gradient', () => {
    const xb = randn([5, 2, 3, 4], { dtype: 'float64', requiresGrad: true });
    const wb = randn([3, 3, 4, 2], { dtype: 'float64', requiresGrad: true });
    const bb = randn([8], { dtype: 'float64', requiresGrad: true });
    const g = (): Tensor => {
      const x = xb.permute([1, 2, 0, 3]); // [2, 3, 5, 4]
      const w = wb.permute([2, 1, 0, 3]); // [4, 3, 3, 2]
      const b = bb.slice(0, 0, 8, 2); // [4], stride 2
      return F.conv2d(x, w, b, { padding: 1 }).transpose(2, 3);
    };
    samePaths(g, [xb, wb, bb], 1e-12);
    const y = F.conv2d(xb.permute([1, 2, 0, 3]), wb.permute([2, 1, 0, 3]), null, { padding: 1 });
    const yc = F.conv2d(xb.permute([1, 2, 0, 3]).contiguous(), wb.permute([2, 1, 0, 3]).contiguous(), null, {
      padding: 1,
    });
    expectClose(y, yc, 1e-14);
  });
  it('conv1d and zero-size batches go through the fused kernels too', () => {
    const x = randn([2, 3, 9], { dtype: 'float64', requiresGrad: true });
    const w = randn([4, 3, 3], { dtype: 'float64', requiresGrad: true });
    samePaths(() => F.conv1d(x, w, null, { stride: 2 }), [x, w], 1e-12);
    const z = randn([0, 3, 5, 5], { requiresGrad: true });
    const wz = randn([2, 3, 3, 3], { requiresGrad: true });
    const y = F.conv2d(z, wz, null, { padding: 1 });
    expect(y.shape).toEqual([0, 2, 5, 5]);
    y.sum().backward();
    expect(wz.grad!.dataSync().every((v) => v === 0)).toBe(true);
    expect(z.grad!.shape).toEqual([0, 3, 5, 5]);
  });
});

describe('fused batch norm', () => {
  it('matches the recorded path, with and without affine parameters', () => {
    for (const shape of [
      [4, 3],
      [3, 2, 5],
      [2, 3, 4, 3],
    ]) {
      const x = randn(shape, { dtype: 'float64', requiresGrad: true });
      const w = randn([shape[1]!], { dtype: 'float64', requiresGrad: true });
      const b = randn([shape[1]!], { dtype: 'float64', requiresGrad: true });
      samePaths(() => F.batchNorm(x, null, null, w, b, { training: true }), [x, w, b], 1e-10);
      samePaths(() => F.batchNorm(x, null, null, null, b, { training: true }), [x, b], 1e-10);
      samePaths(() => F.batchNorm(x, null, null, w, null, { training: true }), [x, w], 1e-10);
    }
  });
  it('gradcheck and gradgradcheck with weight and bias, non-contiguous input', () => {
    const x = randn([3, 4, 2], { dtype: 'float64', requiresGrad: true });
    const w = randn([3], { dtype: 'float64', requiresGrad: true });
    const b = randn([3], { dtype: 'float64', requiresGrad: true });
    const f = (a?: Tensor, c?: Tensor, d?: Tensor): Tensor =>
      F.batchNorm(a!.transpose(0, 1), null, null, c!, d!, { training: true }).mul(2).sin();
    expect(gradcheck(f, [x, w, b])).toBe(true);
    expect(gradgradcheck(f, [x, w, b])).toBe(true);
  });
  it('normalises float32 input like float64 and only w/b that need grads get them', () => {
    const x = randn([8, 3, 4, 4]).mul(3).add(5);
    const y32 = F.batchNorm(x, null, null, null, null, { training: true });
    const y64 = F.batchNorm(x.to('float64'), null, null, null, null, { training: true });
    expectClose(y32.to('float64'), y64, 1e-5);
    const w = randn([3], { requiresGrad: true });
    const xr = x.clone().requiresGrad_();
    F.batchNorm(xr, null, null, w, randn([3]), { training: true })
      .sum()
      .backward();
    expect(w.grad!.shape).toEqual([3]);
    expect(xr.grad!.shape).toEqual([8, 3, 4, 4]);
  });
});

describe('fused relu backward and 2x2 max pooling', () => {
  it('relu gradient is grad where out > 0 (NaN and 0 give 0), on strided gradients too', () => {
    const x = tensor([-1, 0, 2, Number.NaN, 3], { dtype: 'float64', requiresGrad: true });
    const [g] = autogradGrad([x.relu()], [x], {
      gradOutputs: [tensor([5], { dtype: 'float64' }).expand([5])],
    });
    expect(g!.toArray()).toEqual([0, 0, 5, 0, 5]);
    // float32 (branch-free kernels): every special value, NaN of both signs included
    const negNaN = new Float32Array(new Int32Array([0xffc00000 | 0]).buffer)[0]!;
    const specials = [
      1,
      -1,
      0,
      -0,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      negNaN,
      1e-45,
      -1e-45,
    ];
    const xf = tensor(specials, { requiresGrad: true });
    const yf = xf.relu();
    const yd = yf.dataSync();
    for (let i = 0; i < specials.length; i++) {
      expect(Object.is(yd[i], Math.max(Math.fround(specials[i]!), 0))).toBe(true);
    }
    const gv = specials.map((_, i) => [5, Number.NaN, Number.POSITIVE_INFINITY, -2][i % 4]!);
    const [gf] = autogradGrad([yf], [xf], { gradOutputs: [tensor(gv)] });
    const gd = gf!.dataSync();
    for (let i = 0; i < specials.length; i++) {
      expect(Object.is(gd[i], Math.fround(specials[i]!) > 0 ? gv[i]! : 0)).toBe(true);
    }
    const a = randn([4, 5], { dtype: 'float64', requiresGrad: true });
    samePaths(() => a.transpose(0, 1).relu(), [a], 0);
  });
  it('2x2 pooling matches a reference, NaN (last NaN wins) and -Infinity included, strided input', () => {
    const v = [
      [1, 5, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 2],
      [3, 5, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 9],
      [Number.NaN, 0, 7, 7, 1],
      [2, Number.NaN, 7, 8, 1],
    ];
    const x = tensor(v, { dtype: 'float64' }).reshape([1, 1, 4, 5]);
    const [y, idx] = F.maxPool2d(x, 2, { returnIndices: true });
    expect(y.toArray()).toEqual([
      [
        [
          [5, Number.NEGATIVE_INFINITY],
          [Number.NaN, 8],
        ],
      ],
    ]);
    expect(idx.toArray()).toEqual([
      [
        [
          [1, 2],
          [16, 18],
        ],
      ],
    ]);
    // Overlapping 2x2 windows with stride 1, and a transposed input.
    const z = randn([2, 3, 6, 5], { dtype: 'float64', requiresGrad: true });
    const zt = z.transpose(2, 3);
    const fast = F.maxPool2d(zt, 2, { stride: 1 });
    // Padding 1 sends it through the general loop; the inner windows are the same.
    const general = F.maxPool2d(zt, 2, { stride: 1, padding: 1 }).slice(2, 1, -1).slice(3, 1, -1);
    expectClose(fast, general, 0);
    expect(gradcheck((a) => F.maxPool2d(a!.transpose(2, 3), 2), [z])).toBe(true);
    // Ties, NaN and -Infinity in every position: same values and indices as the general loop.
    const pick = [0, 1, 1, 2, Number.NaN, Number.NEGATIVE_INFINITY];
    const data = Array.from({ length: 2 * 3 * 8 * 6 }, (_, i) => pick[(i * 7919 + (i >> 3)) % pick.length]!);
    for (const dtype of ['float32', 'float64'] as const) {
      const t = tensor(data, { dtype }).reshape([2, 3, 8, 6]);
      const [fv, fi] = F.maxPool2d(t, 2, { returnIndices: true });
      const ref = (k: number, oy: number, ox: number): [number, number] => {
        let best = Number.NEGATIVE_INFINITY;
        let bi = 2 * oy * 6 + 2 * ox;
        for (let iy = 2 * oy; iy < 2 * oy + 2; iy++)
          for (let ix = 2 * ox; ix < 2 * ox + 2; ix++) {
            const v = Math.fround(data[k * 48 + iy * 6 + ix]!);
            if (v > best || Number.isNaN(v)) {
              best = v;
              bi = iy * 6 + ix;
            }
          }
        return [best, bi];
      };
      const vals = fv.dataSync();
      const idx = fi.dataSync();
      for (let k = 0; k < 6; k++)
        for (let oy = 0; oy < 4; oy++)
          for (let ox = 0; ox < 3; ox++) {
            const [v, i] = ref(k, oy, ox);
            const o = k * 12 + oy * 3 + ox;
            expect(Object.is(vals[o], v)).toBe(true);
            expect(idx[o]).toBe(i);
          }
    }
  });
});

describe('float32 exp', () => {
  it('is within one float32 ulp of the correctly rounded value and handles the specials', () => {
    const n = 20001;
    const xs = new Float32Array(n);
    for (let i = 0; i < n; i++) xs[i] = -110 + (205 * i) / (n - 1);
    const y = exp(tensor(xs)).dataSync();
    const ulps = new Int32Array(2);
    const f = new Float32Array(ulps.buffer);
    for (let i = 0; i < n; i++) {
      f[0] = Math.exp(xs[i]!);
      f[1] = y[i]!;
      expect(Math.abs(ulps[0]! - ulps[1]!)).toBeLessThanOrEqual(1);
    }
    const s = [
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      0,
      -0,
      88.7,
      89,
      1000,
      -104,
      -1000,
    ];
    expect(Array.from(exp(tensor(s)).dataSync())).toEqual(
      s.map((v) => Math.fround(Math.exp(Math.fround(v)))),
    );
    // float64 keeps Math.exp exactly
    expect(exp(tensor([0.3], { dtype: 'float64' })).item()).toBe(Math.exp(0.3));
  });
});

describe('leaf gradients adopted without a copy never alias other tensors', () => {
  it('a gradient passed to two leaves is not shared', () => {
    const a = randn([3], { requiresGrad: true });
    const b = randn([3], { requiresGrad: true });
    a.add(b).sum().backward();
    noGrad(() => a.grad!.mul_(5));
    expect(b.grad!.toArray()).toEqual([1, 1, 1]);
  });
  it('the seed of a leaf and a hook result stay the caller’s', () => {
    const x = randn([2], { requiresGrad: true });
    const seed = tensor([1, 2]);
    x.backward(seed);
    noGrad(() => x.grad!.zero_());
    expect(seed.toArray()).toEqual([1, 2]);
    const y = randn([2], { requiresGrad: true });
    const mine = tensor([3, 4]);
    y.registerHook(() => mine);
    y.mul(2).sum().backward();
    noGrad(() => y.grad!.zero_());
    expect(mine.toArray()).toEqual([3, 4]);
  });
  it('retained intermediate gradients and custom-op results are not shared', () => {
    const x = randn([2], { requiresGrad: true });
    const h = x.mul(3);
    h.retainGrad();
    const out = h.add(1);
    out.backward(tensor([1, 1]).mul(2));
    noGrad(() => x.grad!.zero_());
    expect(h.grad!.toArray()).toEqual([2, 2]);
    const kept = tensor([7, 7]);
    const op = customOp({
      name: 'Kept',
      forward: (_ctx, t) => t.clone(),
      backward: () => [kept],
    });
    const z = zeros([2]).requiresGrad_();
    op(z).sum().backward();
    noGrad(() => z.grad!.zero_());
    expect(kept.toArray()).toEqual([7, 7]);
  });
  it('fresh gradients are adopted and accumulate correctly over several backward calls', () => {
    const w = randn([3, 4], { requiresGrad: true });
    const x = randn([5, 3]);
    x.matmul(w).sum().backward();
    const first = w.grad!.clone();
    x.matmul(w).sum().backward();
    expectClose(w.grad!, first.mul(2), 1e-6);
  });
});
