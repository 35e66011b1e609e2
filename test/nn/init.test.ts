import { describe, expect, it } from 'vitest';
import { empty, Generator, manualSeed, nn, type Tensor, zeros } from '../../src/index.js';
import { loadCases } from '../helpers/reference.js';

const { init } = nn;

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const d = Array.from(t.dataSync());
  const mean = d.reduce((a, v) => a + v, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, v) => a + (v - mean) ** 2, 0) / d.length);
  return { mean, std, min: Math.min(...d), max: Math.max(...d) };
}

interface GainCase {
  op: string;
  gains?: { nonlinearity: string; param: number | null; gain: number }[];
}

describe('nn.init', () => {
  it('calculateGain matches PyTorch', () => {
    const gains = loadCases<GainCase>('nn_utils').find((c) => c.op === 'calculateGain')!.gains!;
    expect(gains.length).toBeGreaterThan(5);
    for (const g of gains) {
      expect(init.calculateGain(g.nonlinearity as nn.init.Nonlinearity, g.param ?? undefined)).toBeCloseTo(
        g.gain,
        12,
      );
    }
    expect(init.calculateGain('leakyRelu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 12);
    expect(() => init.calculateGain('swish' as nn.init.Nonlinearity)).toThrow(
      /unsupported nonlinearity 'swish'/,
    );
  });

  it('fan in / fan out', () => {
    expect(init.calculateFanInAndFanOut(empty([16, 4, 3, 3]))).toEqual({ fanIn: 36, fanOut: 144 });
    expect(() => init.calculateFanInAndFanOut(empty([5]))).toThrow(/at least 2 dims, got shape \[5\]/);
  });

  it('uniform_, normal_, constant_, zeros_, ones_, eye_', () => {
    manualSeed(0);
    const u = stats(init.uniform_(empty([200, 100]), -2, 3));
    expect(u.min).toBeGreaterThanOrEqual(-2);
    expect(u.max).toBeLessThan(3);
    expect(u.mean).toBeCloseTo(0.5, 1);
    const n = stats(init.normal_(empty([200, 100]), 1, 0.5));
    expect(n.mean).toBeCloseTo(1, 1);
    expect(Math.abs(n.std - 0.5)).toBeLessThan(0.01);
    expect(init.constant_(empty([2]), 3.5).toArray()).toEqual([3.5, 3.5]);
    expect(init.zeros_(empty([2])).toArray()).toEqual([0, 0]);
    expect(init.ones_(empty([2])).toArray()).toEqual([1, 1]);
    expect(init.eye_(empty([2, 3])).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
  });

  it('works on parameters that require grad (no autograd error) and keeps them leaves', () => {
    const p = new nn.Parameter(zeros([10, 10]));
    init.kaimingNormal_(p);
    init.xavierUniform_(p);
    init.orthogonal_(p);
    expect(p.isLeaf).toBe(true);
    expect(p.requiresGrad).toBe(true);
  });

  it('xavierUniform_ / xavierNormal_: bound and std from fan in + fan out, with gain', () => {
    manualSeed(1);
    const t = empty([300, 200]);
    const a = 2 * Math.sqrt(6 / 500);
    const u = stats(init.xavierUniform_(t, { gain: 2 }));
    expect(u.min).toBeGreaterThanOrEqual(-a);
    expect(u.max).toBeLessThanOrEqual(a);
    expect(u.max).toBeGreaterThan(a * 0.99);
    expect(Math.abs(u.std - a / Math.sqrt(3)) / (a / Math.sqrt(3))).toBeLessThan(0.02);
    const n = stats(init.xavierNormal_(t));
    expect(Math.abs(n.std - Math.sqrt(2 / 500)) / Math.sqrt(2 / 500)).toBeLessThan(0.02);
  });

  it('kaimingUniform_ / kaimingNormal_: modes, nonlinearities and a', () => {
    manualSeed(2);
    const t = empty([400, 100, 2]); // fanIn 200, fanOut 800
    const u = stats(init.kaimingUniform_(t));
    const b = Math.sqrt(2) * Math.sqrt(3 / 200);
    expect(u.min).toBeGreaterThanOrEqual(-b);
    expect(u.max).toBeLessThanOrEqual(b);
    expect(u.max).toBeGreaterThan(b * 0.99);
    const n = stats(init.kaimingNormal_(t, { mode: 'fanOut', nonlinearity: 'relu' }));
    expect(Math.abs(n.std - Math.sqrt(2 / 800)) / Math.sqrt(2 / 800)).toBeLessThan(0.02);
    const l = stats(init.kaimingNormal_(t, { a: 0.5, nonlinearity: 'leaky_relu' }));
    const s = Math.sqrt(2 / 1.25) / Math.sqrt(200);
    expect(Math.abs(l.std - s) / s).toBeLessThan(0.02);
    const tanh = stats(init.kaimingUniform_(t, { nonlinearity: 'tanh', mode: 'fanOut' }));
    expect(tanh.max).toBeLessThanOrEqual((5 / 3) * Math.sqrt(3 / 800));
    expect(() => init.kaimingUniform_(t, { mode: 'fan_in' as 'fanIn' })).toThrow(
      /mode must be 'fanIn' or 'fanOut'/,
    );
  });

  it('orthogonal_: WᵀW = I (tall), WWᵀ = I (wide), with gain; conv weights are flattened', () => {
    for (const shape of [
      [8, 5],
      [5, 8],
      [6, 6],
      [4, 2, 3],
    ]) {
      const t = empty(shape, { dtype: 'float64' });
      init.orthogonal_(t, { gain: 2 });
      const m = t.reshape([shape[0]!, -1]);
      const g = m.shape[0]! >= m.shape[1]! ? m.t().matmul(m) : m.matmul(m.t());
      const k = g.shape[0]!;
      const a = g.dataSync();
      for (let i = 0; i < k; i++)
        for (let j = 0; j < k; j++) expect(a[i * k + j]!).toBeCloseTo(i === j ? 4 : 0, 10);
    }
    const f32 = init.orthogonal_(empty([64, 32]));
    const g = f32
      .t()
      .matmul(f32)
      .sub(nn.init.eye_(empty([32, 32])))
      .abs()
      .max()
      .item();
    expect(g).toBeLessThan(1e-5);
    expect(() => init.orthogonal_(empty([3]))).toThrow(/only tensors with 2 or more dims/);
  });

  it('orthogonal_ and the random inits are reproducible with a generator', () => {
    const a = init.orthogonal_(empty([4, 3]), { generator: new Generator(7) }).toArray();
    const b = init.orthogonal_(empty([4, 3]), { generator: new Generator(7) }).toArray();
    expect(a).toEqual(b);
    const c = init.kaimingUniform_(empty([4, 3]), { generator: new Generator(7) }).toArray();
    const d = init.kaimingUniform_(empty([4, 3]), { generator: new Generator(7) }).toArray();
    expect(c).toEqual(d);
  });

  it('truncNormal_: inside [a, b] with the truncated distribution’s moments', () => {
    manualSeed(3);
    const t = init.truncNormal_(empty([200, 200], { dtype: 'float64' }), { std: 1, a: -1, b: 2 });
    const s = stats(t);
    expect(s.min).toBeGreaterThanOrEqual(-1);
    expect(s.max).toBeLessThanOrEqual(2);
    // moments of N(0,1) truncated to [-1, 2]: mean 0.2296, std 0.7209 (closed form)
    expect(s.mean).toBeCloseTo(0.2296, 2);
    expect(Math.abs(s.std - 0.7209)).toBeLessThan(0.01);
    const narrow = stats(init.truncNormal_(empty([1000]), { mean: 5, std: 0.1, a: 4.9, b: 5.1 }));
    expect(narrow.min).toBeGreaterThanOrEqual(4.9 - 1e-6);
    expect(narrow.max).toBeLessThanOrEqual(5.1 + 1e-6);
    expect(() => init.truncNormal_(empty([2]), { a: 1, b: 0 })).toThrow(/a < b/);
  });
});
